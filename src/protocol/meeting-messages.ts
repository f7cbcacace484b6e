// In-meeting features carried over the signalling WebSocket: chat, raised hands, reactions, renaming and
// screen sharing; polls, the board and follow me from their own files. Part of the browser <-> signal protocol (signal-messages.ts includes these schemas).
import { z } from 'zod';
import { displayNameSchema, stripInvisible } from './display-name.ts';
import { BOARD_CLIENT_TYPES, boardClientMessageSchemas, boardServerMessageSchemas, type BoardServerMessage } from './board-messages.ts';
import { FOLLOW_ME_CLIENT_TYPES, followMeClientMessageSchemas, followMeServerMessageSchemas, type FollowMeServerMessage } from './follow-me-messages.ts';
import { POLL_CLIENT_TYPES, pollClientMessageSchemas, pollServerMessageSchemas, type PollServerMessage } from './poll-messages.ts';

/** Characters in one chat message (after trimming). */
export const MAX_CHAT_TEXT = 2000;
/** Chat messages a room keeps for late joiners (room messages only, never private ones). */
export const CHAT_HISTORY_LIMIT = 200;

/** Characters in the meeting's subject (after taking out invisible characters, as in display names, and trimming). */
export const MAX_SUBJECT = 120;
/** A subject from the network: cleaned like a display name; empty clears it. */
export const subjectSchema = z
  .string()
  .max(MAX_SUBJECT * 4)
  .transform((s) => stripInvisible(s).trim())
  .pipe(z.string().max(MAX_SUBJECT, `a subject may have at most ${MAX_SUBJECT} characters`));

export const REACTIONS = ['thumbs-up', 'clap', 'laugh', 'surprised', 'heart', 'party'] as const;
export const reactionSchema = z.enum(REACTIONS);
export type Reaction = z.infer<typeof reactionSchema>;

const participantIdSchema = z.string().min(1).max(64);

// ---- browser -> server ----

export const meetingClientMessageSchemas = [
  /** A chat message to the room, or privately to one participant (`to`). */
  z.object({
    type: z.literal('chat'),
    text: z
      .string()
      .max(MAX_CHAT_TEXT * 2)
      .transform((s) => s.trim())
      .pipe(z.string().min(1, 'the message is empty').max(MAX_CHAT_TEXT, `a message may have at most ${MAX_CHAT_TEXT} characters`)),
    to: participantIdSchema.optional(),
  }),
  z.object({ type: z.literal('hand'), raised: z.boolean() }),
  z.object({ type: z.literal('reaction'), reaction: reactionSchema }),
  z.object({
    type: z.literal('rename'),
    displayName: displayNameSchema,
  }),
  /** Starts or stops this participant's screen share; the server renegotiates this participant's media. */
  z.object({ type: z.literal('screen-share'), sharing: z.boolean() }),
  /** Moderators: the meeting's subject, shown to everyone ('' clears it); refused with `not-moderator` for others. */
  z.object({ type: z.literal('set-subject'), subject: subjectSchema }),
  /** Asks for the room's speaker stats (answered with `speaker-stats`; the page asks again while it shows them). */
  z.object({ type: z.literal('speaker-stats') }),
  ...pollClientMessageSchemas,
  ...boardClientMessageSchemas,
  ...followMeClientMessageSchemas,
] as const;

export const MEETING_CLIENT_TYPES = [
  'chat',
  'hand',
  'reaction',
  'rename',
  'screen-share',
  'set-subject',
  'speaker-stats',
  ...POLL_CLIENT_TYPES,
  ...BOARD_CLIENT_TYPES,
  ...FOLLOW_ME_CLIENT_TYPES,
] as const;

// ---- server -> browser ----

export const chatMessageSchema = z.object({
  id: z.string(),
  from: z.string(),
  fromName: z.string(),
  text: z.string(),
  /** Server time, ms since the epoch. */
  at: z.number(),
  /** Set on private messages: the recipient's id and name. */
  to: z.string().optional(),
  toName: z.string().optional(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/** People a room's speaker stats list at most (everyone present, then who left, by speaking time). */
export const MAX_SPEAKER_STATS = 500;

/** One person's time as the room's dominant speaker. */
export const speakerStatSchema = z.object({
  participantId: z.string(),
  displayName: z.string(),
  /** As dominant speaker, speaking with the microphone on, since the room started on this server, ms. */
  speakingMs: z.number(),
  /** The dominant speaker now, microphone on: the time grows from `speakingMs` as the page shows it. */
  speaking: z.literal(true).optional(),
  /** No longer in the meeting. */
  left: z.literal(true).optional(),
  /** Not in this room but in another room of the meeting (a breakout room, or the main room). */
  elsewhere: z.literal(true).optional(),
});
export type SpeakerStat = z.infer<typeof speakerStatSchema>;

export const meetingServerMessageSchemas = [
  z.object({ type: z.literal('chat'), message: chatMessageSchema }),
  /** Sent right after `joined`: the room's chat since it started (at most CHAT_HISTORY_LIMIT messages). */
  z.object({ type: z.literal('chat-history'), messages: z.array(chatMessageSchema) }),
  z.object({ type: z.literal('reaction'), from: z.string(), reaction: reactionSchema }),
  /** Who speaks now (the bridge's dominant speaker); sent on every change and right after `joined`. */
  z.object({ type: z.literal('dominant-speaker'), participantId: z.string() }),
  /** The meeting's subject ('' when none): to everyone when a moderator changes it (`by`), to a joiner when set. */
  z.object({ type: z.literal('subject'), subject: z.string(), by: z.string().optional() }),
  /** How long the meeting has run by the server's clock (its timer): right after `joined`, and if its start changes. */
  z.object({ type: z.literal('meeting-clock'), elapsedMs: z.number().nonnegative() }),
  /** The answer to `speaker-stats`: everyone who is in the room or has spoken in it, most speaking time first. */
  z.object({ type: z.literal('speaker-stats'), speakers: z.array(speakerStatSchema).max(MAX_SPEAKER_STATS) }),
  ...pollServerMessageSchemas,
  ...boardServerMessageSchemas,
  ...followMeServerMessageSchemas,
] as const;

export type MeetingServerMessage =
  | { type: 'chat'; message: ChatMessage }
  | { type: 'chat-history'; messages: ChatMessage[] }
  | { type: 'reaction'; from: string; reaction: Reaction }
  | { type: 'dominant-speaker'; participantId: string }
  | { type: 'subject'; subject: string; by?: string }
  | { type: 'meeting-clock'; elapsedMs: number }
  | { type: 'speaker-stats'; speakers: SpeakerStat[] }
  | PollServerMessage
  | BoardServerMessage
  | FollowMeServerMessage;
