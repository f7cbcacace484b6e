// Room names as people type them ("Team standup", "Reunión de equipo", "会议室") and the one canonical room they
// lead to. As jitsi-meet's getBackendSafeRoomName does, the key is the name in Unicode NFKC, lower-cased, so
// "Team Standup", "team standup" and "ｔｅａｍ ｓｔａｎｄｕｐ" (full-width) are one room; unlike Jitsi, runs of spaces
// count as one and leading/trailing spaces none, and the key stays decoded (Jitsi percent-encodes it for XMPP;
// `jitsiRoomName` gives that form where Jitsi's clients expect it). The page shows the name as typed; the
// server, PINs, recordings, tokens (`room` claim), webhooks and the admin API work with the key.
// Refused (with the reason): more than 128 characters (typed or as a key), "/", "\", "?", "#" and "%" (they are
// parts of a URL path, and "%" would make a name mean two things once decoded), control and invisible
// formatting characters (Cc, Cf, line/paragraph separators: CR/LF, bidi overrides, zero-width spaces; a
// zero-width joiner inside an emoji stays), a name of spaces only, and "." and "..".
// A key is itself a valid room name. Every name the old rules accepted (letters, digits, marks, "-", "_", ".")
// but "." and ".." (no browser sends them as a path) is still valid and keeps its room: its old key (NFC,
// lower-cased) is its new one unless it holds a compatibility character (ﬁ, ², full-width).
import { z } from 'zod';
import { stripInvisible } from './display-name.ts';
import { safeDecodeURIComponent } from './uri-decode.ts';

export const MAX_ROOM_NAME = 128;

const URL_CHARACTERS = /[/\\?#%]/;
const LONE_SURROGATE = /\p{Cs}/u;

/** The canonical form of a room name: NFKC, lower-cased, spaces collapsed and trimmed. Same key, same room. */
export function roomKey(name: string): string {
  return name.normalize('NFKC').toLocaleLowerCase('und').replace(/\s+/gu, ' ').trim();
}

/** Which rule a name breaks (the first of them); the page says it in its own language. */
export type RoomNameFault = 'empty' | 'too-long' | 'url-character' | 'invisible' | 'spaces-only' | 'dots';

/** The rule `name` breaks; undefined when it is a room name. */
export function roomNameFault(name: string): RoomNameFault | undefined {
  if (name.length === 0) return 'empty';
  if (name.length > MAX_ROOM_NAME) return 'too-long';
  const key = roomKey(name);
  // the key too: NFKC makes "/" of a full-width "／"
  if (URL_CHARACTERS.test(name) || URL_CHARACTERS.test(key)) return 'url-character';
  if (LONE_SURROGATE.test(name) || stripInvisible(name) !== name || stripInvisible(key) !== key) return 'invisible';
  if (key === '') return 'spaces-only';
  if (key === '.' || key === '..') return 'dots';
  if (key.length > MAX_ROOM_NAME) return 'too-long';
  return undefined;
}

const REFUSALS: Record<RoomNameFault, string> = {
  empty: 'the room name is empty',
  'too-long': `a room name has at most ${MAX_ROOM_NAME} characters (once normalised too)`,
  'url-character': 'a room name may not contain "/", "\\", "?", "#" or "%"',
  invisible: 'a room name may not contain control or invisible formatting characters',
  'spaces-only': 'a room name needs more than spaces',
  dots: '"." and ".." are not room names',
};

/** Why `name` is not a room name, in English; undefined when it is one. */
export function roomNameRefusal(name: string): string | undefined {
  const fault = roomNameFault(name);
  return fault === undefined ? undefined : REFUSALS[fault];
}

/** A room name from the network: kept as typed (the display), checked by roomNameRefusal. */
export const roomNameSchema = z.string().superRefine((name, ctx) => {
  const refusal = roomNameRefusal(name);
  if (refusal) ctx.addIssue({ code: 'custom', message: refusal });
});

/** Jitsi's backend-safe form of a key (percent-encoded, lower-case), as in its conference JIDs. */
export function jitsiRoomName(key: string): string {
  return encodeURIComponent(key).toLowerCase();
}

/** A room as a Jitsi client or token may spell it, percent-encoded or not, to its key (names never hold "%"). */
export function roomKeyOfJitsiName(name: string): string {
  return roomKey(safeDecodeURIComponent(name));
}
