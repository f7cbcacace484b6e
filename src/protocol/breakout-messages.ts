// Breakout rooms in the browser <-> signal protocol (issue 20), as in Jitsi Meet's participants pane: a
// moderator adds rooms, renames them, assigns people (one by one or "auto assign"), lets participants choose,
// and closes or removes rooms (their people go back to the main room). Each breakout room is a conference of
// its own (its own media, chat and participant list); a participant moves between the main room and a breakout
// room on the same socket: the server sends `joined` again for the room it is now in, then a new offer.
// Everyone in the meeting (the main room and every breakout room) gets `breakout-rooms` on every change; on a
// join, a leave or a new name it goes to everyone while the meeting has breakout rooms, else to its moderators.
import { z } from 'zod';
import { stripInvisible } from './display-name.ts';

/** Breakout rooms one meeting may have; one more is refused with `breakout-limit`. */
export const MAX_BREAKOUT_ROOMS = 20;
export const MAX_BREAKOUT_NAME = 64;

/** A breakout room's name from the network: invisible characters out, trimmed, then 1..64 characters. */
export const breakoutNameSchema = z
  .string()
  .max(MAX_BREAKOUT_NAME * 4)
  .transform((s) => stripInvisible(s).trim())
  .pipe(z.string().min(1, 'the name is empty').max(MAX_BREAKOUT_NAME, `a breakout room's name has at most ${MAX_BREAKOUT_NAME} characters`));

export const breakoutIdSchema = z.string().regex(/^[a-z0-9]{1,16}$/, 'a breakout room id is 1..16 lower-case letters or digits');
const participantId = z.string().min(1).max(64);

// ---- browser -> server ----
export const breakoutClientMessageSchemas = [
  /** Moderators: a new, empty breakout room. */
  z.object({ type: z.literal('breakout-add'), name: breakoutNameSchema }),
  z.object({ type: z.literal('breakout-rename'), roomId: breakoutIdSchema, name: breakoutNameSchema }),
  /** Moderators: its people go back to the main room; the room stays, empty. */
  z.object({ type: z.literal('breakout-close'), roomId: breakoutIdSchema }),
  /** Moderators: as close, and the room is gone from the list. */
  z.object({ type: z.literal('breakout-remove'), roomId: breakoutIdSchema }),
  /** Moderators: every breakout room closed and removed; everyone back in the main room. */
  z.object({ type: z.literal('breakout-close-all') }),
  /** Moderators: moves a participant into a breakout room, or back to the main room (`roomId` null). */
  z.object({ type: z.literal('breakout-move'), participantId, roomId: breakoutIdSchema.nullable() }),
  /** Moderators: the main room's participants who are not moderators, spread evenly over the breakout rooms. */
  z.object({ type: z.literal('breakout-auto-assign') }),
  /** Moderators: whether participants may join a breakout room of their choice. */
  z.object({ type: z.literal('breakout-allow-choice'), allowed: z.boolean() }),
  /** Oneself into a breakout room: moderators always, participants when the moderator lets them choose. */
  z.object({ type: z.literal('breakout-join'), roomId: breakoutIdSchema }),
  /** Oneself back to the main room (always allowed). */
  z.object({ type: z.literal('breakout-leave') }),
  /**
   * After a reload: back into the breakout room this tab was in (`ticket`, given in `breakout-rooms.ticket`),
   * when that room is still open. A stale ticket is ignored.
   */
  z.object({ type: z.literal('breakout-return'), ticket: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/) }),
] as const;

export const BREAKOUT_CLIENT_TYPES = [
  'breakout-add',
  'breakout-rename',
  'breakout-close',
  'breakout-remove',
  'breakout-close-all',
  'breakout-move',
  'breakout-auto-assign',
  'breakout-allow-choice',
  'breakout-join',
  'breakout-leave',
  'breakout-return',
] as const;

export type BreakoutClientMessage = z.infer<(typeof breakoutClientMessageSchemas)[number]>;

// ---- server -> browser ----
/** `staysInMain`: a phone caller or a file played in, which cannot be moved to a breakout room. */
const personSchema = z.object({ id: z.string(), displayName: z.string(), staysInMain: z.boolean().optional() });

export const breakoutRoomSchema = z.object({
  id: z.string(),
  name: z.string(),
  participants: z.array(personSchema),
});
export type BreakoutRoom = z.infer<typeof breakoutRoomSchema>;

export const breakoutServerMessageSchemas = [
  /**
   * The meeting's breakout rooms and who is where, to everyone in the meeting on each change (and after each
   * `joined`); with no breakout rooms, to moderators only when someone comes, goes or is made a moderator (they
   * alone are shown the main room's people then). `current`: the breakout room the receiver is in (null: the main
   * room). `ticket`: while in a breakout room, what `breakout-return` takes after a reload of this tab.
   */
  z.object({
    type: z.literal('breakout-rooms'),
    mainParticipants: z.array(personSchema),
    rooms: z.array(breakoutRoomSchema),
    participantsCanChoose: z.boolean(),
    current: z.string().nullable(),
    ticket: z.string().optional(),
  }),
] as const;

export type BreakoutServerMessage = z.infer<(typeof breakoutServerMessageSchemas)[number]>;

export type BreakoutErrorCode =
  /** The meeting has MAX_BREAKOUT_ROOMS breakout rooms already. */
  | 'breakout-limit'
  /** No breakout room with that id in this meeting. */
  | 'breakout-not-found';

const BREAKOUT_TYPE_SET: ReadonlySet<string> = new Set(BREAKOUT_CLIENT_TYPES);

export function isBreakoutClientMessage(m: { type: string }): m is BreakoutClientMessage {
  return BREAKOUT_TYPE_SET.has(m.type);
}
