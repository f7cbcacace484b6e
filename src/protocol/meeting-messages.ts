// In-meeting features carried over the signalling WebSocket: chat, raised hands, reactions, renaming and
// screen sharing. Part of the browser <-> signal protocol (signal-messages.ts includes these schemas).
import { z } from 'zod';
import { displayNameSchema } from './display-name.ts';

/** Characters in one chat message (after trimming). */
export const MAX_CHAT_TEXT = 2000;
/** Chat messages a room keeps for late joiners (room messages only, never private ones). */
export const CHAT_HISTORY_LIMIT = 200;

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
] as const;

export const MEETING_CLIENT_TYPES = ['chat', 'hand', 'reaction', 'rename', 'screen-share'] as const;

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

export const meetingServerMessageSchemas = [
  z.object({ type: z.literal('chat'), message: chatMessageSchema }),
  /** Sent right after `joined`: the room's chat since it started (at most CHAT_HISTORY_LIMIT messages). */
  z.object({ type: z.literal('chat-history'), messages: z.array(chatMessageSchema) }),
  z.object({ type: z.literal('reaction'), from: z.string(), reaction: reactionSchema }),
  /** Who speaks now (the bridge's dominant speaker); sent on every change and right after `joined`. */
  z.object({ type: z.literal('dominant-speaker'), participantId: z.string() }),
] as const;

export type MeetingServerMessage =
  | { type: 'chat'; message: ChatMessage }
  | { type: 'chat-history'; messages: ChatMessage[] }
  | { type: 'reaction'; from: string; reaction: Reaction }
  | { type: 'dominant-speaker'; participantId: string };
