// Polls in the browser <-> signal protocol (issue 20), as in Jitsi Meet's polls pane: anyone creates one (a
// question and 2..10 options), everyone answers with one option and may change it while the poll is open
// (Jitsi's "Change vote"), everyone sees the counts live but never who chose what, and the creator or a
// moderator closes it; closed polls stay with their final counts. Spread into meeting-messages.ts.
// `key`: a random secret the browser keeps for its tab (sessionStorage) and sends with each poll action, so a
// reloaded page (a new participant id) is still the same voter and the same creator. The server never tells it.
import { z } from 'zod';
import { stripInvisible } from './display-name.ts';

export const MAX_POLL_QUESTION = 500;
export const MAX_POLL_OPTION = 200;
export const MIN_POLL_OPTIONS = 2;
export const MAX_POLL_OPTIONS = 10;
/** Polls a room keeps (open and closed); one more is refused with `poll-limit`. */
export const MAX_POLLS_PER_ROOM = 50;
/** Distinct voters one poll counts (each reload with a new tab key is one more). */
export const MAX_POLL_VOTERS = 1000;

/** Text from the network: trimmed, then 1..max characters. */
const text = (max: number, what: string) =>
  z
    .string()
    .max(max * 2)
    .transform((s) => s.trim())
    .pipe(z.string().min(1, `the ${what} is empty`).max(max, `the ${what} may have at most ${max} characters`));

/** The index of the first option that repeats an earlier one (compared without invisible characters, trimmed, ignoring case), or -1. */
export function repeatedPollOption(options: readonly string[]): number {
  const seen = new Set<string>();
  for (let i = 0; i < options.length; i++) {
    const key = stripInvisible(options[i]!).trim().normalize('NFC').toLowerCase();
    if (key === '') continue;
    if (seen.has(key)) return i;
    seen.add(key);
  }
  return -1;
}

export const pollKeySchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'a poll key is 16..64 letters, digits, "-" or "_"');
const pollId = z.string().min(1).max(64);

// ---- browser -> server ----
export const pollClientMessageSchemas = [
  z.object({
    type: z.literal('create-poll'),
    question: text(MAX_POLL_QUESTION, 'question'),
    options: z
      .array(text(MAX_POLL_OPTION, 'option'))
      .min(MIN_POLL_OPTIONS, `a poll needs at least ${MIN_POLL_OPTIONS} options`)
      .max(MAX_POLL_OPTIONS, `a poll has at most ${MAX_POLL_OPTIONS} options`)
      .refine((options) => repeatedPollOption(options) < 0, 'two options of the poll are the same'),
    key: pollKeySchema,
  }),
  /** Chooses option `option` (0-based); again with another option changes the answer while the poll is open. */
  z.object({ type: z.literal('answer-poll'), pollId, option: z.number().int().min(0).max(MAX_POLL_OPTIONS - 1), key: pollKeySchema }),
  /** Closes a poll: its creator (same key) or a moderator. */
  z.object({ type: z.literal('close-poll'), pollId, key: pollKeySchema }),
] as const;

export const POLL_CLIENT_TYPES = ['create-poll', 'answer-poll', 'close-poll'] as const;

// ---- server -> browser ----
export const pollSchema = z.object({
  id: z.string(),
  question: z.string(),
  options: z.array(z.object({ text: z.string(), votes: z.number().int().nonnegative() })),
  /** Everyone who answered (each once, whatever option). */
  voters: z.number().int().nonnegative(),
  creatorName: z.string(),
  /** Server time, ms since the epoch. */
  createdAt: z.number(),
  closed: z.boolean(),
});
export type Poll = z.infer<typeof pollSchema>;

export const pollServerMessageSchemas = [
  /** Sent right after `joined`: every poll of the room, oldest first. */
  z.object({ type: z.literal('polls'), polls: z.array(pollSchema) }),
  /**
   * A poll created, answered or closed, to everyone. To the one who acted also `answer` (the option now
   * theirs) or `mine` (they created it), so the browser remembers it for its tab.
   */
  z.object({ type: z.literal('poll'), poll: pollSchema, answer: z.number().int().optional(), mine: z.literal(true).optional() }),
] as const;

export type PollServerMessage =
  | { type: 'polls'; polls: Poll[] }
  | { type: 'poll'; poll: Poll; answer?: number; mine?: true };

export type PollErrorCode =
  /** No such poll in this meeting. */
  | 'poll-not-found'
  /** The poll is closed: no more answers. */
  | 'poll-closed'
  /** The option is not one of the poll's. */
  | 'poll-bad-option'
  /** That option is already this voter's answer. */
  | 'poll-already-answered'
  /** The room has MAX_POLLS_PER_ROOM polls, or the poll MAX_POLL_VOTERS voters. */
  | 'poll-limit';
