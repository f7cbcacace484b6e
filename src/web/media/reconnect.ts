// When to try the signalling server again after the socket dropped in a meeting: soon at first (a signal
// process restarting, or a load balancer sending us to another instance, takes a second or two), then less
// often, with jitter so that a whole meeting does not knock at the same instant; given up after a few minutes.

/** Waits before attempts 1, 2, 3...; the last one repeats. */
const DELAYS_MS = [250, 1000, 2000, 3000, 5000];
/** Stop trying this long after the connection dropped (then the page says the connection was lost). */
export const GIVE_UP_AFTER_MS = 3 * 60_000;
/** Close codes that mean "do not come back": the join timed out (4001), a cap or policy refused us (1008). */
const FINAL_CLOSE_CODES = new Set([1008, 4001]);

export function shouldReconnect(closeCode: number): boolean {
  return !FINAL_CLOSE_CODES.has(closeCode);
}

export class ReconnectSchedule {
  #attempt = 0;
  #since: number | null = null;

  /** The wait before the next attempt (ms), or null when it is time to give up. */
  next(now = Date.now()): number | null {
    this.#since ??= now;
    if (now - this.#since > GIVE_UP_AFTER_MS) return null;
    const base = DELAYS_MS[Math.min(this.#attempt, DELAYS_MS.length - 1)];
    this.#attempt++;
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** Back in: the next drop starts from the shortest wait again. */
  reset(): void {
    this.#attempt = 0;
    this.#since = null;
  }
}
