// POST /media/warm-up: the web app's join screen says someone is about to join, so bridges whose media workers
// start on demand (`mediaWorkersOnDemand`) start them now and the join does not wait for them. Open like the rooms
// (whoever may open a join screen may ask), answered 204 at once; the bus hears at most one warm-up a second from
// this signal instance, whoever asks and however often. Other methods on the path fall through (not ours).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bus } from '../bus/bus.ts';
import { subjects } from '../protocol/bus-messages.ts';
import { setSecurityHeaders } from './http.ts';

export const WARM_UP_PATH = '/media/warm-up';
/** Least time between two warm-ups this instance passes on to the bridges. */
export const WARM_UP_INTERVAL_MS = 1000;

export class MediaWarmUp {
  /** Warm-ups passed on to the bridges (tests). */
  published = 0;
  private readonly bus: Bus;
  private readonly now: () => number;
  private last = -Infinity;

  constructor(bus: Bus, now: () => number = () => performance.now()) {
    this.bus = bus;
    this.now = now;
  }

  /** The HTTPS handler's part for POST /media/warm-up: true when it answered. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST' || (req.url ?? '').split('?', 1)[0] !== WARM_UP_PATH) return false;
    setSecurityHeaders(res, req);
    const t = this.now();
    if (t - this.last >= WARM_UP_INTERVAL_MS) {
      this.last = t;
      this.published++;
      this.bus.publish(subjects.bridgeWarm, {});
    }
    // a body is never wanted: unread, the connection ends with the answer
    res.writeHead(204, { 'Cache-Control': 'no-store', ...(req.complete ? {} : { Connection: 'close' }) });
    res.end();
    return true;
  }
}
