// Log lines about what strangers make the SIP gateway do (malformed messages, refused calls), bounded so a flood
// cannot fill the disk: per window (a minute), at most `perAddress` lines for one source address and `total` in
// all; what is held back is counted and said in one summary line at the window's end. Nothing here is on the
// media path. Memory: only addresses that got a line this window are kept (at most `total` of them).
import type { Logger } from '../log.ts';

export interface ThrottledLogOptions {
  level: 'info' | 'warn';
  /** Lines per source address per window. */
  perAddress: number;
  /** Lines per window from all addresses together. */
  total: number;
  /** What the summary line says was held back, e.g. "malformed SIP messages". */
  what: string;
  windowMs?: number;
}

export const THROTTLE_WINDOW_MS = 60_000;

export class ThrottledLog {
  private readonly log: Logger;
  private readonly opts: Required<ThrottledLogOptions>;
  private windowStart = 0;
  private lines = 0;
  private readonly byAddress = new Map<string, number>();
  private heldBack = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(log: Logger, opts: ThrottledLogOptions) {
    this.log = log;
    this.opts = { windowMs: THROTTLE_WINDOW_MS, ...opts };
  }

  /** One event from `address`: logged with `fields` (and `from`), or counted for the summary. True when logged. */
  note(address: string, fields: Record<string, unknown>, msg: string): boolean {
    const now = Date.now();
    if (now - this.windowStart >= this.opts.windowMs) this.roll(now);
    const n = this.byAddress.get(address) ?? 0;
    if (n >= this.opts.perAddress || this.lines >= this.opts.total) {
      this.heldBack++;
      // the summary comes at the window's end even if nothing else arrives
      this.timer ??= setTimeout(() => this.roll(Date.now()), Math.max(0, this.windowStart + this.opts.windowMs - now)).unref();
      return false;
    }
    this.byAddress.set(address, n + 1);
    this.lines++;
    this.log[this.opts.level]({ ...fields, from: address }, msg);
    return true;
  }

  /** Says what was held back, if anything; stops the timer. */
  close(): void {
    this.roll(Date.now());
  }

  private roll(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.heldBack > 0) {
      this.log[this.opts.level]({ notLogged: this.heldBack, seconds: Math.round(this.opts.windowMs / 1000) }, `${this.opts.what}: ${this.heldBack} more not logged one by one (too many from one address or in all)`);
    }
    this.heldBack = 0;
    this.lines = 0;
    this.byAddress.clear();
    this.windowStart = now;
  }
}
