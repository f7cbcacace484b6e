// Sign-in sessions: after a good `login` the browser gets a random token it sends with `join` (so a rejoin or a
// reconnect needs no password). Kept in memory only; a restart signs everyone out. A session remembers the
// account's password stamp (UserStore.stamp) from its sign-in: whoever uses it compares that with the account's
// current stamp, so a password change or a removed user ends every session of that account, even when
// `tertulia users` changed the users file from another process.
import { randomBytes } from 'node:crypto';

export const LOGIN_SESSION_SECONDS = 12 * 60 * 60;
const MAX_SESSIONS = 10_000;

export interface LoginSession {
  username: string;
  /** The account's password stamp when the session was made. */
  stamp: string;
}

export class LoginSessions {
  private readonly sessions = new Map<string, LoginSession & { expires: number }>();

  create(username: string, stamp: string, now = Date.now()): string {
    if (this.sessions.size >= MAX_SESSIONS) this.prune(now);
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const token = randomBytes(24).toString('base64url');
    this.sessions.set(token, { username, stamp, expires: now + LOGIN_SESSION_SECONDS * 1000 });
    return token;
  }

  /** The session, or undefined for an unknown or expired token. */
  get(token: string, now = Date.now()): LoginSession | undefined {
    const s = this.sessions.get(token);
    if (!s) return undefined;
    if (s.expires <= now) {
      this.sessions.delete(token);
      return undefined;
    }
    return { username: s.username, stamp: s.stamp };
  }

  /** Ends one session (its account changed). */
  revoke(token: string): void {
    this.sessions.delete(token);
  }

  private prune(now: number): void {
    for (const [t, s] of this.sessions) if (s.expires <= now) this.sessions.delete(t);
  }
}
