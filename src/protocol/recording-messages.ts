// Recording in the browser <-> signal protocol (issue 14). A moderator starts and stops it (everyone else is
// refused with `not-moderator`); everyone in the room, late joiners too, is told whether the meeting is being
// recorded. Spread into the access unions (moderator actions) of access-messages.ts.
import { z } from 'zod';
import { recordingLayoutSchema, recordingModeSchema } from './recorder-messages.ts';

// ---- browser -> server (moderators only) ----
export const recordingClientMessageSchemas = [
  /** `mode`: one composed file or each stream in its own (multitrack); absent: the recorder's setting. */
  z.object({ type: z.literal('start-recording'), mode: recordingModeSchema.optional() }),
  z.object({ type: z.literal('stop-recording') }),
  /** A composed recording's layout, switched live. */
  z.object({ type: z.literal('recording-layout'), layout: recordingLayoutSchema }),
] as const;

// ---- server -> browser ----
export const recordingServerMessageSchemas = [
  /**
   * Whether the meeting is being recorded: sent to everyone when it starts or stops, and to each joiner.
   * `by`: who started or stopped it; `reason` when it stopped by itself ('failed': the recorder lost it).
   */
  z.object({
    type: z.literal('recording'),
    active: z.boolean(),
    by: z.string().optional(),
    reason: z.enum(['failed']).optional(),
    /** The state as it is, sent to a joiner (and after a layout switch): no "started" notice for it. */
    current: z.boolean().optional(),
    /** What is recorded and, for a composed recording, its layout (when the recorder said). */
    mode: recordingModeSchema.optional(),
    layout: recordingLayoutSchema.optional(),
  }),
] as const;
export type RecordingServerMessage = z.infer<(typeof recordingServerMessageSchemas)[number]>;

export type RecordingErrorCode =
  /** No recorder has room for another recording (or none runs): the moderator may try again later. */
  | 'recording-unavailable'
  /** A recorder took the request but could not start (the message says why). */
  | 'recording-failed';
