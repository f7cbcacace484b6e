// The media keys a receiver holds: by sender (the participant who gave the key: the page only adds a key under the
// participant whose key exchange brought it) and key id (the 32-bit name in every frame's trailer, frame-crypto.ts),
// each at the ratchet step it was given at. A frame at a later step is opened with the key ratcheted forward here
// (at most MAX_RATCHET_STEPS, cached); an earlier step cannot be reached (a newcomer never decrypts what came before
// it). Keys of one sender never open another's frames: a participant that claims someone else's key id (it can read
// the ids from the frames it receives) only names a key of its own.
// Bounded: at most KEYS_PER_SENDER ids per sender (the oldest goes: a current and a previous key, with room to
// spare), and MAX_SENDERS senders (a meeting of MAX_E2EE_PARTICIPANTS).
import { importMediaKey, MAX_RATCHET_STEPS, ratchetKey } from './frame-crypto.ts';

const KEYS_PER_SENDER = 4;
const MAX_SENDERS = 128;
/** Derived steps kept per key id. */
const MAX_STEPS_KEPT = 4;

interface Entry {
  ratchet: number;
  raw: Uint8Array;
  steps: Map<number, Promise<CryptoKey | null>>;
}

const waiterKey = (sender: string, keyId: number) => `${keyId}/${sender}`;

export class ReceiveKeyring {
  readonly #senders = new Map<string, Map<number, Entry>>();
  readonly #waiters = new Map<string, (() => void)[]>();

  /** Key ids held, over all senders. */
  get size(): number {
    let n = 0;
    for (const keys of this.#senders.values()) n += keys.size;
    return n;
  }

  has(sender: string, keyId: number): boolean {
    return this.#senders.get(sender)?.has(keyId) ?? false;
  }

  /** A sender's key (or a later step of one already held); the sender's oldest id goes when it has too many. */
  add(sender: string, keyId: number, ratchet: number, raw: Uint8Array): void {
    let keys = this.#senders.get(sender);
    if (!keys) {
      keys = new Map();
      this.#senders.set(sender, keys);
      while (this.#senders.size > MAX_SENDERS) this.#senders.delete(this.#senders.keys().next().value!);
    }
    const had = keys.get(keyId);
    if (had && had.ratchet > ratchet) return;
    keys.delete(keyId);
    keys.set(keyId, { ratchet, raw, steps: new Map() });
    while (keys.size > KEYS_PER_SENDER) keys.delete(keys.keys().next().value!);
    const w = waiterKey(sender, keyId);
    for (const wake of this.#waiters.get(w) ?? []) wake();
    this.#waiters.delete(w);
  }

  /** Every key of `sender` (it left). */
  removeSender(sender: string): void {
    this.#senders.delete(sender);
  }

  clear(): void {
    this.#senders.clear();
  }

  /** Resolves true once `sender`'s `keyId` is held, false after `ms` without it. */
  waitFor(sender: string, keyId: number, ms: number): Promise<boolean> {
    if (this.has(sender, keyId)) return Promise.resolve(true);
    const w = waiterKey(sender, keyId);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const list = this.#waiters.get(w)?.filter((x) => x !== wake) ?? [];
        if (list.length) this.#waiters.set(w, list);
        else this.#waiters.delete(w);
        resolve(false);
      }, ms);
      this.#waiters.set(w, [...(this.#waiters.get(w) ?? []), wake]);
    });
  }

  /** `sender`'s key for `keyId` at `ratchet`, or null when it is not held or that step cannot be reached. */
  key(sender: string, keyId: number, ratchet: number): Promise<CryptoKey | null> {
    const e = this.#senders.get(sender)?.get(keyId);
    if (!e || ratchet < e.ratchet || ratchet - e.ratchet > MAX_RATCHET_STEPS) return Promise.resolve(null);
    let step = e.steps.get(ratchet);
    if (!step) {
      step = (async () => {
        let raw = e.raw;
        for (let r = e.ratchet; r < ratchet; r++) raw = await ratchetKey(raw);
        return importMediaKey(raw);
      })().catch(() => null);
      e.steps.set(ratchet, step);
      while (e.steps.size > MAX_STEPS_KEPT) e.steps.delete(e.steps.keys().next().value!);
    }
    return step;
  }
}
