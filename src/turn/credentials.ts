// TURN REST API credentials (draft-uberti-behave-turn-rest, what coturn's use-auth-secret checks): the username
// is `<expiry unix seconds>:<id>` and the password is base64(HMAC-SHA1(shared secret, username)). coturn
// recomputes the password from the username and refuses it once the expiry has passed, so nothing is stored
// per browser. The secret never leaves this process except into coturn's 0600 config file.
import { createHmac, randomBytes } from 'node:crypto';

export interface TurnCredentials {
  username: string;
  credential: string;
}

/** Credentials valid for `ttlSeconds` from `nowMs`; `id` names who they were given to (letters, digits, - _). */
export function turnCredentials(secret: string, ttlSeconds: number, id: string = randomBytes(6).toString('hex'), nowMs: number = Date.now()): TurnCredentials {
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64)}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}
