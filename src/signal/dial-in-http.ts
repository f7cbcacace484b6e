// Jitsi's dial-in HTTP APIs on the web port, as jitsi-meet's `dialInConfCodeUrl` and `dialInNumbersUrl` answer
// them (jitsi-meet resources/cloud-api.swagger), for the invite dialog:
//   GET /conferenceMapper?conference=<room>@conference.<domain>  -> {message, id: <PIN>, conference}, the PIN
//       made when the room has none;
//   GET /conferenceMapper?id=<PIN> -> the same for the room of that PIN, or {message: "No conference mapping
//       was found", id, conference: false} (status 200, as Jitsi's mappers answer);
//   GET /phoneNumberList -> {message, numbers: {<country>: [numbers]}, numbersEnabled} from `sipDialInNumbers`.
// Same origin only (no CORS headers). Per client address: new PINs count against maxRoomsPerAddressPerMinute
// and lookups of an unknown id are limited (guessing), both answered 429 with Retry-After.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { ConferenceMapping, DialInNumbers, PhoneNumberList } from '../protocol/dial-in-messages.ts';
import { pinSchema } from '../protocol/dial-in-messages.ts';
import { roomNameSchema } from '../protocol/signal-messages.ts';
import { jitsiRoomName, roomKey } from '../protocol/room-name.ts';
import { safeDecodeURIComponent } from '../protocol/uri-decode.ts';
import { FailureLimiter } from './auth/failure-limiter.ts';
import { rateLimitKey } from './client-address.ts';
import type { DialInPins } from './dial-in-pins.ts';
import { hostWithoutPort, sendText, setSecurityHeaders } from './http.ts';

/** Lookups of an id no room has, per client address and minute. */
export const MAX_PIN_MISSES_PER_MINUTE = 30;
const MAX_QUERY_CHARS = 1024;
/** The XMPP domain part Jitsi's conference names carry: `conference.<host>`. */
const MUC_HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

function sendJson(res: ServerResponse, req: IncomingMessage, status: number, body: unknown, extra: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(extra)) res.setHeader(name, value);
  sendText(res, req, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

export class DialInHttp {
  private readonly pins: DialInPins;
  private readonly numbers: DialInNumbers;
  /** The domain in the conference names of `?id=` answers; the request's host when empty. */
  private readonly domain: string;
  private readonly log: Logger;
  private readonly created: FailureLimiter;
  private readonly misses = new FailureLimiter({ maxFailures: MAX_PIN_MISSES_PER_MINUTE, windowMs: 60_000 });

  constructor(opts: { pins: DialInPins; numbers: DialInNumbers; domain: string; maxNewPinsPerMinute: number; log: Logger }) {
    this.pins = opts.pins;
    this.numbers = opts.numbers;
    this.domain = opts.domain;
    this.log = opts.log;
    this.created = new FailureLimiter({ maxFailures: opts.maxNewPinsPerMinute, windowMs: 60_000 });
  }

  /** Answers the request and returns true when it is one of the dial-in APIs; false leaves it to others. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    const pathPart = url.split('?', 1)[0];
    if (pathPart !== '/conferenceMapper' && pathPart !== '/phoneNumberList') return false;
    setSecurityHeaders(res, req);
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, req, 405, { message: 'Use GET' }, { Allow: 'GET, HEAD' });
      } else if (url.length > pathPart.length + 1 + MAX_QUERY_CHARS) {
        sendJson(res, req, 414, { message: 'The query is too long' });
      } else if (pathPart === '/phoneNumberList') {
        const enabled = Object.keys(this.numbers).length > 0;
        const body: PhoneNumberList = { message: enabled ? 'Phone numbers available.' : 'No phone numbers available.', numbers: this.numbers, numbersEnabled: enabled };
        sendJson(res, req, 200, body);
      } else {
        this.mapper(req, res, new URLSearchParams(url.slice(pathPart.length + 1)));
      }
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'dial-in API failed');
      if (!res.headersSent) sendJson(res, req, 500, { message: 'internal error' });
      else res.destroy();
    }
    return true;
  }

  private mapper(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const address = rateLimitKey(req.socket.remoteAddress);
    const conference = query.get('conference');
    const id = query.get('id');
    // `conference` is used in preference to `id`, as Jitsi's mapper does
    if (conference !== null && conference !== '') {
      const at = conference.lastIndexOf('@');
      // jitsi-meet sends its backend-safe (percent-encoded) name; our page the name as typed: both decode to it
      const room = roomNameSchema.safeParse(safeDecodeURIComponent(at > 0 ? conference.slice(0, at) : conference));
      const muc = at > 0 ? conference.slice(at + 1) : `conference.${this.domainOf(req)}`;
      if (!room.success || !MUC_HOST.test(muc)) {
        sendJson(res, req, 400, { message: 'conference must be <room>@conference.<domain> with a valid room name', id: false, conference: false } satisfies ConferenceMapping);
        return;
      }
      if (!this.pins.has(room.data)) {
        const wait = this.created.retryAfterSeconds(address);
        if (wait > 0) {
          sendJson(res, req, 429, { message: `Too many new conference mappings from your address; try again in ${wait} s`, id: false, conference: false }, { 'Retry-After': String(wait) });
          return;
        }
        this.created.fail(address);
      }
      const pin = this.pins.pinFor(room.data);
      sendJson(res, req, 200, { message: 'Successfully retrieved conference mapping', id: Number(pin), conference: `${jitsiRoomName(roomKey(room.data))}@${muc.toLowerCase()}` } satisfies ConferenceMapping);
      return;
    }
    if (id !== null && id !== '') {
      const pin = pinSchema.safeParse(id.trim());
      if (!pin.success) {
        sendJson(res, req, 400, { message: 'id must be a number', id: false, conference: false } satisfies ConferenceMapping);
        return;
      }
      const wait = this.misses.retryAfterSeconds(address);
      if (wait > 0) {
        sendJson(res, req, 429, { message: `Too many unknown ids asked from your address; try again in ${wait} s`, id: false, conference: false }, { 'Retry-After': String(wait) });
        return;
      }
      const room = this.pins.roomFor(pin.data);
      if (room === undefined) {
        this.misses.fail(address);
        sendJson(res, req, 200, { message: 'No conference mapping was found', id: Number(pin.data), conference: false } satisfies ConferenceMapping);
        return;
      }
      sendJson(res, req, 200, { message: 'Successfully retrieved conference mapping', id: Number(pin.data), conference: `${jitsiRoomName(room)}@conference.${this.domainOf(req)}` } satisfies ConferenceMapping);
      return;
    }
    sendJson(res, req, 400, { message: 'No conference or id provided', id: false, conference: false } satisfies ConferenceMapping);
  }

  /** The configured domain, else the request's host name (a well-formed one), else "tertulia". */
  private domainOf(req: IncomingMessage): string {
    if (this.domain) return this.domain;
    const host = hostWithoutPort(req.headers.host);
    return host !== null && MUC_HOST.test(host) ? host.toLowerCase() : 'tertulia';
  }
}

