// State that must outlive one process (who is in which room, resume tokens, chat history): a key-value store
// reached through the bus. Over NATS it is a JetStream key-value bucket (jetstream-key-value.ts: every signal
// instance sees the same values, and they survive a signal process); in one process it is this file's
// MemoryKeyValue (nothing outlives the process, and nothing needs to: every part stops with it).
//
// Keys are ASCII `[A-Za-z0-9_=.-]` (JetStream's rule; callers hash user text into keys). Values are JSON.
// `update` is compare-and-set on the entry's revision, retried a few times: two instances appending to the
// same chat history do not lose each other's message.
import type { Json } from './bus.ts';

export interface KeyValueEntry {
  value: Json;
  revision: number;
}

export interface KeyValueOptions {
  /** Entries not written for this long are dropped (0: kept until deleted). */
  ttlSeconds: number;
  /** The largest value in bytes (JSON); a larger put is refused. */
  maxValueBytes: number;
  /**
   * The most the whole store holds, in bytes (absent: unbounded). JetStream refuses writes past it
   * (KeyValueFullError) until entries expire or are deleted; one process's map drops its oldest entries instead.
   */
  maxBytes?: number;
}

/** A write refused because the store holds its `maxBytes` already. */
export class KeyValueFullError extends Error {
  constructor(detail: string) {
    super(`the key-value store is full (${detail}); older entries must expire or be deleted first`);
    this.name = 'KeyValueFullError';
  }
}

export interface KeyValue {
  get(key: string): Promise<KeyValueEntry | undefined>;
  put(key: string, value: Json): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix` (a whole dotted token prefix: `chat.` lists every `chat.<x>`). */
  keys(prefix: string): Promise<string[]>;
  /** Reads, applies `change` and writes back only when nobody wrote in between (else retries); undefined deletes. */
  update(key: string, change: (old: Json | undefined) => Json | undefined): Promise<void>;
}

const KEY_RE = /^[A-Za-z0-9_=.-]{1,255}$/;
const UPDATE_TRIES = 8;

export function checkKey(key: string): void {
  if (!KEY_RE.test(key) || key.startsWith('.') || key.endsWith('.') || key.includes('..')) throw new Error(`bad key-value key "${key.slice(0, 80)}"`);
}

export function checkValueSize(value: Json, maxBytes: number): string {
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) > maxBytes) throw new Error(`value of ${Buffer.byteLength(text)} bytes is over the store's ${maxBytes}`);
  return text;
}

/** Runs a compare-and-set loop over `read`/`write` (write returns false when the revision moved meanwhile). */
export async function casLoop(
  key: string,
  read: () => Promise<KeyValueEntry | undefined>,
  write: (value: Json | undefined, revision: number) => Promise<boolean>,
  change: (old: Json | undefined) => Json | undefined,
): Promise<void> {
  for (let i = 0; i < UPDATE_TRIES; i++) {
    const old = await read();
    if (await write(change(old?.value), old?.revision ?? 0)) return;
  }
  throw new Error(`key-value update of ${key} kept racing with other writers`);
}

/** Entries one process's store keeps at most: past it, the oldest written go (a stranger's join-and-drop loop stays bounded). */
export const MEMORY_KEY_VALUE_MAX_ENTRIES = 50_000;
/** Writes between two sweeps of expired entries. */
const SWEEP_EVERY_WRITES = 512;

/** One process's store: a Map with the same rules (keys, sizes, time to live) as the JetStream bucket. */
export class MemoryKeyValue implements KeyValue {
  private readonly entries = new Map<string, { text: string; revision: number; writtenAt: number }>();
  private revision = 0;
  /** Bytes of keys and values held (against `maxBytes`). */
  private bytes = 0;
  private writesSinceSweep = 0;
  private readonly opts: KeyValueOptions;
  constructor(opts: KeyValueOptions) {
    this.opts = opts;
  }

  private live(key: string): { text: string; revision: number; writtenAt: number } | undefined {
    const e = this.entries.get(key);
    if (e && this.opts.ttlSeconds > 0 && Date.now() - e.writtenAt > this.opts.ttlSeconds * 1000) {
      this.remove(key);
      return undefined;
    }
    return e;
  }

  async get(key: string): Promise<KeyValueEntry | undefined> {
    checkKey(key);
    const e = this.live(key);
    return e && { value: JSON.parse(e.text) as Json, revision: e.revision };
  }

  async put(key: string, value: Json): Promise<void> {
    checkKey(key);
    this.write(key, checkValueSize(value, this.opts.maxValueBytes));
  }

  /** Stores (re-inserted: the Map's order is the order of writing), then keeps the store within its bounds. */
  private write(key: string, text: string): void {
    this.remove(key);
    this.entries.set(key, { text, revision: ++this.revision, writtenAt: Date.now() });
    this.bytes += key.length + text.length;
    if (++this.writesSinceSweep >= SWEEP_EVERY_WRITES) {
      this.writesSinceSweep = 0;
      for (const k of [...this.entries.keys()]) this.live(k);
    }
    const maxBytes = this.opts.maxBytes ?? Infinity;
    for (const k of this.entries.keys()) {
      if (this.entries.size <= MEMORY_KEY_VALUE_MAX_ENTRIES && this.bytes <= maxBytes) break;
      if (k !== key) this.remove(k);
    }
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.bytes -= key.length + e.text.length;
    this.entries.delete(key);
  }

  /** Bytes of keys and values held (about what JetStream would count). */
  size(): number {
    return this.bytes;
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.remove(key);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.entries.keys()].filter((k) => k.startsWith(prefix) && this.live(k));
  }

  async update(key: string, change: (old: Json | undefined) => Json | undefined): Promise<void> {
    checkKey(key);
    // read and write with no await between: nobody can write in between in one process
    const e = this.live(key);
    const next = change(e ? (JSON.parse(e.text) as Json) : undefined);
    if (next === undefined) this.remove(key);
    else this.write(key, checkValueSize(next, this.opts.maxValueBytes));
  }
}
