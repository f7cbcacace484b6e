// Session timers (RFC 4028) for calls to the gateway: the INVITE's Supported: timer and Session-Expires read
// into a plan (how long the session lasts without a refresh, and who refreshes), the headers of our 2xx, and the
// 422 for an interval below our minimum. A caller that does not support timers gets none (RFC 4028 9: the UAS
// may then leave them out). The refresh itself is a re-INVITE or an UPDATE (dialogs.ts restarts the timer).
import type { SipHeaders, SipRequest } from './message.ts';

/** Our Min-SE: the shortest session interval we take, seconds (RFC 4028's default minimum). */
export const MIN_SESSION_EXPIRES = 90;
/** The interval when the caller supports timers but asked none: 30 minutes (RFC 4028's recommendation). */
const DEFAULT_SESSION_EXPIRES = 1800;
/** The longest we accept: a day (a larger value is taken down to it). */
const MAX_SESSION_EXPIRES = 86_400;

export interface SessionTimer {
  /** Seconds the session lasts without a refresh. */
  interval: number;
  /** 'uac': the caller refreshes (we hang up when it does not); 'uas': we refresh (UPDATE at half the interval). */
  refresher: 'uac' | 'uas';
}

/** The plan for an INVITE (or a refresh); `{tooSmall}` -> 422 with Min-SE; null: no session timer. */
export function sessionTimerOf(req: SipRequest, minimum = MIN_SESSION_EXPIRES): SessionTimer | { tooSmall: true; minimum: number } | null {
  const supported = req.headers
    .getAll('supported')
    .flatMap((v) => v.split(','))
    .some((t) => t.trim().toLowerCase() === 'timer');
  if (!supported) return null;
  const header = req.headers.get('session-expires');
  const m = header === undefined ? null : /^\s*(\d{1,10})\s*(?:;(.*))?$/.exec(header);
  const asked = m ? Number(m[1]) : DEFAULT_SESSION_EXPIRES;
  if (asked < minimum) return { tooSmall: true, minimum };
  const refresher = /(?:^|;)\s*refresher\s*=\s*uas\s*(?:;|$)/i.test(m?.[2] ?? '') ? 'uas' : 'uac';
  return { interval: Math.min(asked, MAX_SESSION_EXPIRES), refresher };
}

/** The headers of our 2xx (to the INVITE and to each refresh). */
export function addSessionTimerHeaders(h: SipHeaders, t: SessionTimer): void {
  h.add('session-expires', `${t.interval};refresher=${t.refresher}`);
  h.add('require', 'timer');
}

/** When the session is over without a refresh (RFC 4028 10: the interval less a third, at most 32 s), ms. */
export function expiryMs(t: SessionTimer): number {
  return (t.interval - Math.min(32, t.interval / 3)) * 1000;
}
