// How long this process did not run, seen from a periodic timer. When the event loop stalls (a long
// synchronous task, a starved CPU, a paused VM), the timers run first once it goes on, before the pongs and
// messages that arrived meanwhile are read: a sweep that then judges peers by when it last heard from them
// would drop every one of them for its own silence. The liveness sweeps (ws.ts, room-fanout.ts) move their
// "last heard" times on by the stall, so that only time this process was running counts against a peer.

export class StallClock {
  private readonly everyMs: number;
  private last: number;

  /** `everyMs`: how often `tick` is meant to be called. */
  constructor(everyMs: number, now = Date.now()) {
    this.everyMs = everyMs;
    this.last = now;
  }

  /**
   * Called by the periodic timer: the time it came late beyond one period of slack (ms), else 0. A clock set back
   * counts as no stall.
   */
  tick(now = Date.now()): number {
    const late = now - this.last - this.everyMs;
    this.last = now;
    return late > this.everyMs ? late : 0;
  }
}
