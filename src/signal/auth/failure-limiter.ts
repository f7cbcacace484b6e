// Rate limits for guessing: counts failed attempts per key (an address, a username, address+room) in a
// sliding window. Once a key has `maxFailures` failures inside the window, every attempt for it is refused
// (right or wrong) until the oldest failure ages out. A check that awaits (a password hash) must count the
// attempt as failed before it starts and `forgive` it when it succeeds: counted afterwards, attempts sent at once
// would all pass the limit before the first one is counted.
export interface FailureLimit {
  maxFailures: number;
  windowMs: number;
}

/** Keys kept at most; beyond this the oldest keys are forgotten (bounded memory under a flood of addresses). */
const MAX_KEYS = 50_000;

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  readonly limit: FailureLimit;

  constructor(limit: FailureLimit) {
    this.limit = limit;
  }

  private recent(key: string, now: number): number[] {
    const list = this.failures.get(key);
    if (!list) return [];
    const cutoff = now - this.limit.windowMs;
    while (list.length > 0 && list[0]! <= cutoff) list.shift();
    if (list.length === 0) this.failures.delete(key);
    return list;
  }

  /** Seconds until `key` may try again; 0 when it may try now. */
  retryAfterSeconds(key: string, now = Date.now()): number {
    const list = this.recent(key, now);
    if (list.length < this.limit.maxFailures) return 0;
    const oldest = list[list.length - this.limit.maxFailures]!;
    return Math.max(1, Math.ceil((oldest + this.limit.windowMs - now) / 1000));
  }

  /** Counts a failure (or an attempt not yet known to be right) at `now`. */
  fail(key: string, now = Date.now()): void {
    let list = this.failures.get(key);
    if (!list) {
      if (this.failures.size >= MAX_KEYS) {
        const oldestKey = this.failures.keys().next().value;
        if (oldestKey !== undefined) this.failures.delete(oldestKey);
      }
      list = [];
      this.failures.set(key, list);
    }
    list.push(now);
    if (list.length > this.limit.maxFailures * 2) list.splice(0, list.length - this.limit.maxFailures * 2);
  }

  /** Takes back one failure counted at `at` (the attempt turned out right, or was never made). */
  forgive(key: string, at: number): void {
    const list = this.failures.get(key);
    if (!list) return;
    const i = list.lastIndexOf(at);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.failures.delete(key);
  }

  clear(key: string): void {
    this.failures.delete(key);
  }
}
