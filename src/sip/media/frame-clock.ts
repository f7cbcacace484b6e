// The phone side's 20 ms clock: one timer for every call of the process (not one per call), run against
// performance.now() so it does not drift: a tick that comes late is caught up (a few at most, then the clock
// skips ahead: the jitter buffers absorb it), after the packets that came meanwhile are read (setImmediate: the
// event loop's check phase follows its I/O). A listener that throws is counted and never stops the others.
import { FRAME_MS } from '../call-audio.ts';

/** Ticks run back to back at most when the event loop was held up. */
const MAX_CATCH_UP = 5;

export class FrameClock {
  private readonly listeners = new Set<() => void>();
  /** A tick is scheduled (a timer, or the setImmediate after it): one chain at a time. */
  private pending = false;
  private due = 0;
  /** Ticks run and skipped, listeners that threw, time spent in the listeners (ms) and the longest tick. */
  readonly counters = { ticks: 0, skipped: 0, errors: 0, busyMs: 0, longestMs: 0 };

  /** Calls `listener` every 20 ms from now on; returns what stops it. */
  add(listener: () => void): () => void {
    // the first listener after a quiet time starts the count afresh
    if (this.listeners.size === 0) this.due = performance.now() + FRAME_MS;
    this.listeners.add(listener);
    if (!this.pending) this.schedule();
    return () => {
      this.listeners.delete(listener);
    };
  }

  get size(): number {
    return this.listeners.size;
  }

  private schedule(): void {
    this.pending = true;
    setTimeout(this.afterIo, Math.max(0, this.due - performance.now())).unref();
  }

  /** The ticks run after the event loop's I/O phase: packets that came while it was held up are read first. */
  private readonly afterIo = (): void => {
    setImmediate(this.run);
  };

  private readonly run = (): void => {
    this.pending = false;
    // nobody listens: the chain stops (the next add starts it again)
    if (this.listeners.size === 0) return;
    let now = performance.now();
    for (let n = 0; now >= this.due && n < MAX_CATCH_UP; n++) {
      this.counters.ticks++;
      const start = now;
      for (const listener of this.listeners) {
        try {
          listener();
        } catch {
          this.counters.errors++;
        }
      }
      this.due += FRAME_MS;
      now = performance.now();
      this.counters.busyMs += now - start;
      if (now - start > this.counters.longestMs) this.counters.longestMs = now - start;
    }
    if (now >= this.due) {
      const behind = Math.floor((now - this.due) / FRAME_MS) + 1;
      this.counters.skipped += behind;
      this.due += behind * FRAME_MS;
    }
    this.schedule();
  };
}

/** The clock every call of this process shares unless given another. */
export const sharedFrameClock = new FrameClock();
