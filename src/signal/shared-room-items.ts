// Room items every signal instance sees and that outlive each of them (issue 17): the subject, the polls, the
// recording flags, the lobby knocks, the E2EE setting, the breakout rooms, follow me, the meeting's start. One abstraction for all: an item is one JSON value per room, kept in the room state's store
// (room-state.ts: a JetStream key-value bucket over NATS, MemoryKeyValue in one process) under
// `item.<name>.<hash of the room key>`, and cached here per Room object for the features' synchronous reads.
//
// - A change is a pure function of the old value (`change(old) -> new`). It is applied to the cache at once (the
//   feature answers its members without waiting) and to the store with a revision-checked update (key-value.ts:
//   the function runs again on the newest value when another instance wrote meanwhile), so concurrent writers on
//   several instances never lose each other's change (two votes, two polls).
// - After the store took it, the other instances are told the item's name (`signal.room-item`, never the value):
//   those that have the room re-read it into their cache and call the item's `loaded` hook.
// - A room made on an instance (its first member there, a stand-in, a takeover after a crash) reads every item, and
//   so does every join into a room the instance has: with reads that start after the join was asked (a read
//   already running may have been answered before the newest writes; joins meanwhile share one read after it).
// - Reads of one item apply in the order they started: a read answered after a newer read of the item started, or
//   after this instance changed the item, is dropped (its value is older than the cache's).
// - A member that joins here just after another instance told its news (the member was not in the room yet) but
//   whose join read the store before that instance's write landed would never hear of it: when the write is
//   announced and changes the value here, members that joined here within JOIN_READ_WINDOW_MS are told the item
//   as a joiner is (the item's `tell`; others got the news itself, a second "as it is" message changes nothing).
// - Values are checked with the item's schema on every read: a bad or foreign value reads as absent.
// - Store failures (unreachable, full) are logged; the cache keeps working for this instance's members.
import type { z } from 'zod';
import type { Json } from '../bus/bus.ts';
import { MemoryKeyValue, type KeyValue } from '../bus/key-value.ts';
import type { Logger } from '../log.ts';
import type { Member, Room } from './room-types.ts';
import { keyHash, STORE_TIMEOUT_MS, storeFailed, withTimeout } from './store-calls.ts';

/** How long after its join a member may have missed another instance's news of an item (that write takes up to STORE_TIMEOUT_MS). */
export const JOIN_READ_WINDOW_MS = 2 * STORE_TIMEOUT_MS;

export interface SharedItem<T> {
  /** Lower-case letters and dashes (part of the key). */
  name: string;
  schema: z.ZodType<T>;
  /** The cached value changed from the store (another instance's change, or a room made here): tell members. */
  loaded?: (room: Room, value: T | undefined) => void;
  /** Tells `member` (its socket here) the item as it is, as a joiner is told (for the rule on recent joiners above). */
  tell?: (member: Member, value: T | undefined) => void;
}

/** Items kept in this process only (a signal without a room state store: tests of one feature). */
export function localRoomItems(log: Logger): SharedRoomItems {
  return new SharedRoomItems(new MemoryKeyValue({ ttlSeconds: 0, maxValueBytes: 1024 * 1024 }), log);
}

/** Where item `name` of the room `roomKey` is kept. */
export function itemKey(name: string, roomKey: string): string {
  return `item.${name}.${keyHash(roomKey)}`;
}

/** The reads of one item of one room: started (a change here counts too), asked (`calls`), and the last asked. */
interface ItemReads {
  started: number;
  calls: number;
  newest: Promise<void>;
}

export class SharedRoomItems {
  private readonly store: KeyValue;
  private readonly log: Logger;
  private readonly items = new Map<string, SharedItem<unknown>>();
  private readonly cache = new WeakMap<Room, Map<string, unknown>>();
  /** Each room's read of every item: the one running and the one asked meanwhile (it starts when that one ends). */
  private readonly reads = new WeakMap<Room, { running?: Promise<void>; queued?: Promise<void> }>();
  /** Per room and item: how many reads (or local changes) started, and the newest read, for the order rule above. */
  private readonly itemReads = new WeakMap<Room, Map<string, ItemReads>>();
  /** Each room's store writes, one after another (this instance's changes reach the store in order). */
  private readonly writes = new WeakMap<Room, Promise<void>>();
  /** Items whose last write failed: the cache is newer than the store (a read must not roll it back). */
  private readonly unsaved = new WeakMap<Room, Set<string>>();
  /** Tells the other signal instances that `item` of `roomKey` changed (set by room-fanout.ts; none: alone). */
  announce: ((roomKey: string, item: string) => void) | undefined;

  constructor(store: KeyValue, log: Logger) {
    this.store = store;
    this.log = log;
  }

  define<T>(item: SharedItem<T>): void {
    if (!/^[a-z][a-z-]{0,31}$/.test(item.name) || this.items.has(item.name)) throw new Error(`bad or repeated shared item name "${item.name}"`);
    this.items.set(item.name, item as SharedItem<unknown>);
  }

  private itemOf<T>(name: string): SharedItem<T> {
    const item = this.items.get(name);
    if (!item) throw new Error(`no shared item "${name}"`);
    return item as SharedItem<T>;
  }

  /** The cached value of `name` in `room` (undefined: none). */
  get<T>(room: Room, name: string): T | undefined {
    return this.cache.get(room)?.get(name) as T | undefined;
  }

  private setCached(room: Room, name: string, value: unknown): void {
    let c = this.cache.get(room);
    if (!c) this.cache.set(room, (c = new Map()));
    if (value === undefined) c.delete(name);
    else c.set(name, value);
  }

  /** Applies `change` to the cached value now and to the stored one (revision-checked); then tells the other instances. */
  change<T>(room: Room, name: string, change: (old: T | undefined) => T | undefined): Promise<void> {
    const item = this.itemOf<T>(name);
    this.setCached(room, name, change(this.get<T>(room, name)));
    // a read of the item answered after this is older than the cache now: it is dropped
    this.readsOf(room, name).started++;
    const key = itemKey(name, room.key);
    const write = (this.writes.get(room) ?? Promise.resolve()).then(async () => {
      try {
        await withTimeout(
          this.store.update(key, (old) => {
            const parsed = item.schema.safeParse(old);
            return change(parsed.success ? parsed.data : undefined) as Json | undefined;
          }),
          `${name} save`,
        );
        this.unsaved.get(room)?.delete(name);
        this.announce?.(room.key, name);
      } catch (e) {
        let names = this.unsaved.get(room);
        if (!names) this.unsaved.set(room, (names = new Set()));
        names.add(name);
        storeFailed(this.log, `shared room item ${name} save (kept here only)`, e, { room: room.key });
      }
    });
    this.writes.set(room, write);
    return write;
  }

  private readsOf(room: Room, name: string): ItemReads {
    let m = this.itemReads.get(room);
    if (!m) this.itemReads.set(room, (m = new Map()));
    let r = m.get(name);
    if (!r) m.set(name, (r = { started: 0, calls: 0, newest: Promise.resolve() }));
    return r;
  }

  /** Reads `name` of `room` from the store into the cache (and tells its `loaded` hook); resolves once the cache has a value at least this new. */
  reload(room: Room, name: string, announced = false): Promise<void> {
    if (!this.items.has(name)) return Promise.resolve();
    const reads = this.readsOf(room, name);
    const p = this.readItem(room, name, reads, ++reads.calls, announced);
    reads.newest = p;
    return p;
  }

  private async readItem(room: Room, name: string, reads: ItemReads, call: number, announced: boolean): Promise<void> {
    const item = this.items.get(name)!;
    // after this instance's own writes to the room: never read back an older value over a newer cache
    await this.writes.get(room);
    if (this.unsaved.get(room)?.has(name)) {
      // its last write failed: this instance's value is written again (when the store answers), not read over
      const cached = this.get<unknown>(room, name);
      await this.change(room, name, () => cached);
      if (this.unsaved.get(room)?.has(name)) return;
    }
    const started = ++reads.started;
    let value: unknown;
    try {
      const e = await withTimeout(this.store.get(itemKey(name, room.key)), `${name} read`);
      const parsed = item.schema.safeParse(e?.value);
      value = parsed.success ? parsed.data : undefined;
    } catch (e) {
      this.log.warn({ room: room.key, item: name, err: (e as Error).message }, 'shared room item not read (the cached one stays)');
      return;
    }
    if (reads.started !== started) {
      // a newer read (or a change here) started meanwhile: its value is the newer one; done when that read is
      if (reads.calls !== call) await reads.newest;
      return;
    }
    const before = this.get<unknown>(room, name);
    this.setCached(room, name, value);
    try {
      item.loaded?.(room, value);
      if (announced && item.tell && JSON.stringify(before) !== JSON.stringify(value)) {
        const since = Date.now() - JOIN_READ_WINDOW_MS;
        for (const m of room.members.values()) if (!m.remote && m.joinedAt >= since) item.tell(m, value);
      }
    } catch (e) {
      this.log.error({ room: room.key, item: name, err: (e as Error).message }, 'shared room item hook failed');
    }
  }

  /** A room made here: every item from the store (once per Room object). */
  load(room: Room): Promise<void> {
    const r = this.reads.get(room);
    return r ? (r.queued ?? r.running ?? Promise.resolve()) : this.refresh(room);
  }

  /**
   * Reads every item of `room` again (a join into a room this instance already had, with a shared store): a
   * change whose announcement was lost (its instance died between its write and its announcement) is seen by the
   * joiner. The reads start after this call: while a read of the room runs, the calls meanwhile share one more
   * read that starts when it ends.
   */
  refresh(room: Room): Promise<void> {
    let r = this.reads.get(room);
    if (!r) this.reads.set(room, (r = {}));
    const reads = r;
    if (reads.queued) return reads.queued;
    if (reads.running) {
      const queued = reads.running.then(() => {
        reads.queued = undefined;
        return this.readAll(room, reads);
      });
      reads.queued = queued;
      return queued;
    }
    return this.readAll(room, reads);
  }

  private readAll(room: Room, reads: { running?: Promise<void> }): Promise<void> {
    const p = Promise.all([...this.items.keys()].map((name) => this.reload(room, name))).then(() => undefined);
    reads.running = p;
    void p.then(() => {
      if (reads.running === p) reads.running = undefined;
    });
    return p;
  }

  /** Runs `then` once the room's items are read from the store (the read asked last included): at once when none runs. */
  whenLoaded(room: Room, then: () => void): void {
    const r = this.reads.get(room);
    const p = r?.queued ?? r?.running;
    if (!p) then();
    else void p.then(then);
  }

  /** The meeting is over: its items go from the store. */
  forgetRoom(roomKey: string): void {
    for (const name of this.items.keys()) {
      withTimeout(this.store.delete(itemKey(name, roomKey)), `${name} forget`).catch((e: unknown) =>
        this.log.warn({ room: roomKey, item: name, err: (e as Error).message }, 'shared room item not forgotten'),
      );
    }
  }
}
