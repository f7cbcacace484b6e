// Calls to the room state store (room-state.ts, shared-room-items.ts): each is bounded in time (a NATS outage
// must not hold a join), and a failed write is logged: a full store is an error an operator must see, said once a
// minute at most (every write fails while it is full); anything else (a timeout, an outage) a warning per write.
import { createHash } from 'node:crypto';
import { KeyValueFullError } from '../bus/key-value.ts';
import type { Logger } from '../log.ts';

/** User text (a token, a room key) as part of a store key: its SHA-256, base64url (the store never holds the text). */
export function keyHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 43);
}

/** How long a store call may take before it counts as failed. */
export const STORE_TIMEOUT_MS = 5000;

/** `p`, or a rejection naming `what` once STORE_TIMEOUT_MS passed. */
export function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer from the store within ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS);
    }),
  ]);
}

let lastFullLog = 0;

/** Logs a failed store write; a full store once a minute at most, as an error (an operator must look). */
export function storeFailed(log: Logger, what: string, e: unknown, fields: Record<string, unknown> = {}): void {
  if (e instanceof KeyValueFullError) {
    if (Date.now() - lastFullLog < 60_000) return;
    lastFullLog = Date.now();
    log.error({ ...fields, err: e.message }, `${what} failed: room state store full`);
    return;
  }
  log.warn({ ...fields, err: (e as Error).message }, `${what} failed`);
}
