// Which room an incoming call is for: the `X-Room-Name` header (Jitsi's convention, set by a trunk or PBX that
// knows the room), else the request URI's user part (`sip:Llamada@gateway`), checked as a room name. A user part
// that is a phone number (at least one digit, maybe a leading + and the separators people write: - . ( ) and
// spaces) names no room: it is the number the caller dialled, and the PIN menu (pin-menu.ts) asks for the meeting.
// Punctuation alone (`..`, `-`, `+`) is no number: it is checked as a room name like any other (`..` is refused
// 404, `-` is the room "-"). Who is calling: From's display name and user part, for the name the others see
// (masked by signal).
import { roomNameSchema } from '../protocol/signal-messages.ts';
import { parseNameAddr, parseUri } from './headers.ts';
import type { SipRequest } from './message.ts';

export type DialInTarget =
  /** The call is for this room. */
  | { room: string }
  /** No room given (a dialled number, or no user part): the PIN menu decides. */
  | { menu: true }
  /** A room was given but is not a valid room name: refused (404, with this reason). */
  | { invalid: string };

export function dialInTarget(req: SipRequest): DialInTarget {
  const header = req.headers.get('x-room-name');
  if (header !== undefined && header.trim() !== '') return checked(header.trim());
  const user = parseUri(req.uri)?.user ?? '';
  if (user === '' || isPhoneNumber(user)) return { menu: true };
  return checked(user);
}

/** A dialled number: digits (one at least), maybe a leading +, and - . ( ) or spaces between them. */
export function isPhoneNumber(user: string): boolean {
  return /^\+?[\d\-.()\s]+$/.test(user) && /\d/.test(user);
}

function checked(name: string): DialInTarget {
  const r = roomNameSchema.safeParse(name);
  return r.success ? { room: r.data } : { invalid: `no such meeting: ${r.error.issues[0]?.message ?? 'not a room name'}` };
}

/** The caller as From names it: its number (user part) and display name, either may be absent. */
export function callerOf(req: SipRequest): { callerId?: string; callerName?: string } {
  const from = parseNameAddr(req.headers.get('from') ?? '');
  if (!from) return {};
  const user = parseUri(from.uri)?.user ?? '';
  const out: { callerId?: string; callerName?: string } = {};
  if (user) out.callerId = user.slice(0, 64);
  const display = from.display.replace(/^"|"$/g, '').trim();
  if (display) out.callerName = display.slice(0, 256);
  return out;
}
