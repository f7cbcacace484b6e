// How a failed write to the room state store (room-state.ts, shared-room-items.ts) is logged: a full store is
// an error an operator must see, said once a minute at most (every write fails while it is full); anything
// else (a timeout, a NATS outage) a warning per write.
import { KeyValueFullError } from '../bus/key-value.ts';
import type { Logger } from '../log.ts';

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
