// Where a room's whiteboard and notes outlive a signal process (board.ts): a key-value bucket of their own
// (JetStream over NATS, bus/key-value.ts), so boards filling up never stop resume tokens, chat or shared items
// being stored in `tertulia_signal` (room-state.ts). One entry per room: the Yjs state (base64) and when the board
// began, under the room key's hash.
//
// - A save merges (compare-and-set `update` with Y.mergeUpdates of the stored and the local state): two signal
//   instances with the same room never overwrite each other's edits.
// - Saves and forgets of one room run one after the other: a save under way when the meeting ends for good is
//   followed by the forget, never the other way round. A forgotten room's later saves are dropped until it is
//   used again (`revive`).
// - Failures are logged (store-calls.ts) and never stop the meeting.
import * as Y from 'yjs';
import { z } from 'zod';
import type { Bus, Json } from '../bus/bus.ts';
import type { KeyValue } from '../bus/key-value.ts';
import type { Logger } from '../log.ts';
import { keyHash, storeFailed, withTimeout } from './store-calls.ts';

export const BOARD_STORE_BUCKET = 'tertulia_boards';
/** A board not written for this long is dropped by the store (as the room state's entries). */
export const BOARD_STORE_TTL_SECONDS = 12 * 3600;
/** The largest entry: a room's encoded document (MAX_BOARD_DOC_BYTES) in base64, with room to spare. */
export const BOARD_STORE_MAX_VALUE_BYTES = 1024 * 1024;
/** The whole bucket's cap: past it, board saves are refused (logged); nothing else is kept here. */
export const BOARD_STORE_MAX_BYTES = 256 * 1024 * 1024;

/** A room's stored board: its Yjs state (base64) and when the board began (ms since the epoch). */
export const storedBoardSchema = z.object({ update: z.string().max(BOARD_STORE_MAX_VALUE_BYTES), startedAt: z.number() });
export type StoredBoard = z.infer<typeof storedBoardSchema>;

/** The store key of a room's board (the room key hashed: the store never holds the name). */
export const boardKey = (roomKey: string) => `board.${keyHash(roomKey)}`;

export class BoardStore {
  private readonly store: KeyValue;
  private readonly log: Logger;
  /** Per room key: the store calls under way, chained (a save and a forget never overtake each other). */
  private readonly chains = new Map<string, Promise<void>>();
  /** Rooms forgotten (their meeting ended for good) and not used since: their saves are dropped. */
  private readonly forgotten = new Set<string>();
  /** Called when a room is forgotten (board.ts drops its pending save). */
  onForget: ((roomKey: string) => void) | undefined;

  constructor(store: KeyValue, log: Logger) {
    this.store = store;
    this.log = log;
  }

  static async open(bus: Bus, log: Logger): Promise<BoardStore> {
    const { store } = await bus.keyValue(BOARD_STORE_BUCKET, { ttlSeconds: BOARD_STORE_TTL_SECONDS, maxValueBytes: BOARD_STORE_MAX_VALUE_BYTES, maxBytes: BOARD_STORE_MAX_BYTES });
    return new BoardStore(store, log);
  }

  /** The room's stored board, or undefined (none stored, malformed, or the store cannot be read). */
  async read(roomKey: string): Promise<StoredBoard | undefined> {
    await this.chains.get(roomKey);
    try {
      const e = await withTimeout(this.store.get(boardKey(roomKey)), 'board read');
      const parsed = storedBoardSchema.safeParse(e?.value);
      return parsed.success ? parsed.data : undefined;
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'board read failed');
      return undefined;
    }
  }

  /** The room is in use again (a new meeting of that name): its saves are kept again. */
  revive(roomKey: string): void {
    this.forgotten.delete(roomKey);
  }

  /** Merges `update` (a Yjs state) into the stored one; the stored `startedAt` stays when there is one. */
  save(roomKey: string, update: Uint8Array, startedAt: number): Promise<void> {
    if (this.forgotten.has(roomKey)) return Promise.resolve();
    return this.chain(roomKey, 'board save', () =>
      this.store.update(boardKey(roomKey), (old) => {
        const stored = storedBoardSchema.safeParse(old);
        if (!stored.success) return { update: Buffer.from(update).toString('base64'), startedAt };
        let merged: Uint8Array = update;
        try {
          merged = Y.mergeUpdates([Buffer.from(stored.data.update, 'base64'), update]);
        } catch (e) {
          this.log.warn({ err: (e as Error).message }, 'the stored board could not be merged; it is replaced');
        }
        return { update: Buffer.from(merged).toString('base64'), startedAt: stored.data.startedAt } as unknown as Json;
      }),
    );
  }

  /** The room's meeting ended for good: its stored board goes, and saves still coming are dropped. */
  forget(roomKey: string): void {
    this.forgotten.add(roomKey);
    // bounded: a room forgotten and never used again is remembered only until many others were
    if (this.forgotten.size > 10_000) this.forgotten.delete(this.forgotten.values().next().value as string);
    this.onForget?.(roomKey);
    void this.chain(roomKey, 'board forget', () => this.store.delete(boardKey(roomKey)));
  }

  /** Resolves once every store call under way is done. */
  async flush(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private chain(roomKey: string, what: string, call: () => Promise<void>): Promise<void> {
    const before = this.chains.get(roomKey) ?? Promise.resolve();
    const p = before.then(() => withTimeout(call(), what)).catch((e: unknown) => storeFailed(this.log, what, e));
    this.chains.set(roomKey, p);
    void p.finally(() => {
      if (this.chains.get(roomKey) === p) this.chains.delete(roomKey);
    });
    return p;
  }
}
