// The media keys a receiver holds: by key id (the 32-bit name in every frame's trailer, frame-crypto.ts), each at
// the ratchet step it was given at. A frame at a later step is opened with the key ratcheted forward here (at most
// MAX_RATCHET_STEPS, cached); an earlier step cannot be reached (a newcomer never decrypts what came before it).
// Bounded: at most MAX_KEYS ids (a meeting of MAX_E2EE_PARTICIPANTS, each with a current and a previous key).
import { importMediaKey, MAX_RATCHET_STEPS, ratchetKey } from './frame-crypto.ts';

const MAX_KEYS = 64;
/** Derived steps kept per key id. */
const MAX_STEPS_KEPT = 4;

interface Entry {
  ratchet: number;
  raw: Uint8Array;
  steps: Map<number, Promise<CryptoKey | null>>;
}

export class ReceiveKeyring {
  readonly #keys = new Map<number, Entry>();
  readonly #waiters = new Map<number, (() => void)[]>();

  get size(): number {
    return this.#keys.size;
  }

  has(keyId: number): boolean {
    return this.#keys.has(keyId);
  }

  /** A key (or a later step of one already held); the oldest id goes when there are too many. */
  add(keyId: number, ratchet: number, raw: Uint8Array): void {
    const had = this.#keys.get(keyId);
    if (had && had.ratchet > ratchet) return;
    this.#keys.delete(keyId);
    this.#keys.set(keyId, { ratchet, raw, steps: new Map() });
    while (this.#keys.size > MAX_KEYS) this.#keys.delete(this.#keys.keys().next().value!);
    for (const wake of this.#waiters.get(keyId) ?? []) wake();
    this.#waiters.delete(keyId);
  }

  remove(keyId: number): void {
    this.#keys.delete(keyId);
  }

  clear(): void {
    this.#keys.clear();
  }

  /** Resolves true once `keyId` is held, false after `ms` without it. */
  waitFor(keyId: number, ms: number): Promise<boolean> {
    if (this.#keys.has(keyId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const list = this.#waiters.get(keyId)?.filter((w) => w !== wake) ?? [];
        if (list.length) this.#waiters.set(keyId, list);
        else this.#waiters.delete(keyId);
        resolve(false);
      }, ms);
      this.#waiters.set(keyId, [...(this.#waiters.get(keyId) ?? []), wake]);
    });
  }

  /** The key for `keyId` at `ratchet`, or null when it is not held or that step cannot be reached. */
  key(keyId: number, ratchet: number): Promise<CryptoKey | null> {
    const e = this.#keys.get(keyId);
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
