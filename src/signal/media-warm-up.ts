// POST /media/warm-up: the web app's room page says someone is about to join, so bridges whose media workers
// start on demand (`mediaWorkersOnDemand`) start them now and the join does not wait for them. Open like the rooms
// (whoever may open a room page may ask), answered 204 at once; the bus hears at most one warm-up a second from
// this signal instance (bus/bridge-warm-up.ts, shared with the recordings this instance starts), whoever asks and
// however often. Other methods on the path fall through (not ours).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BridgeWarmUp } from '../bus/bridge-warm-up.ts';
import { setSecurityHeaders } from './http.ts';

export const WARM_UP_PATH = '/media/warm-up';

export class MediaWarmUp {
  private readonly warmUp: BridgeWarmUp;

  constructor(warmUp: BridgeWarmUp) {
    this.warmUp = warmUp;
  }

  /** The HTTPS handler's part for POST /media/warm-up: true when it answered. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'POST' || (req.url ?? '').split('?', 1)[0] !== WARM_UP_PATH) return false;
    setSecurityHeaders(res, req);
    this.warmUp.request();
    // a body is never wanted: unread, the connection ends with the answer
    res.writeHead(204, { 'Cache-Control': 'no-store', ...(req.complete ? {} : { Connection: 'close' }) });
    res.end();
    return true;
  }
}
