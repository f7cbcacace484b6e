// Asks the bridges to get their media workers ready (`bridge.warm`): someone is about to join (a room page opened,
// a phone call arrived, a recording is starting), so a bridge whose workers start on demand
// (`mediaWorkersOnDemand`) starts them now rather than with the join. One BridgeWarmUp per process part that asks
// (signal, the SIP gateway); each passes on at most one warm-up per WARM_UP_INTERVAL_MS, however many ask and
// however often: a stranger can never make the bus carry more (the bridge holds warmed workers 60 s anyway).
import type { Bus } from './bus.ts';
import { subjects } from '../protocol/bus-messages.ts';

/** Least time between two warm-ups one BridgeWarmUp passes on to the bridges. */
export const WARM_UP_INTERVAL_MS = 1000;

export class BridgeWarmUp {
  /** Warm-ups passed on to the bridges (tests). */
  published = 0;
  private readonly bus: Bus;
  private readonly now: () => number;
  private last = -Infinity;

  constructor(bus: Bus, now: () => number = () => performance.now()) {
    this.bus = bus;
    this.now = now;
  }

  /** Someone is about to join: passed on unless a warm-up went out less than WARM_UP_INTERVAL_MS ago. */
  request(): void {
    const t = this.now();
    if (t - this.last < WARM_UP_INTERVAL_MS) return;
    this.last = t;
    this.published++;
    this.bus.publish(subjects.bridgeWarm, {});
  }
}
