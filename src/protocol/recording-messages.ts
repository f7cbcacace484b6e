// Recording and live streaming in the browser <-> signal protocol (issue 14). A moderator starts and stops
// them (everyone else is refused with `not-moderator`); everyone in the room, late joiners too, is told whether
// the meeting is being recorded and whether it is live. Spread into the access unions (moderator actions) of
// access-messages.ts. The stream key goes from the moderator's browser to signal and the recorder only.
import { z } from 'zod';

// ---- browser -> server (moderators only) ----
export const recordingClientMessageSchemas = [
  z.object({ type: z.literal('start-recording') }),
  z.object({ type: z.literal('stop-recording') }),
  /** url: rtmp(s)://host/app; key: the stream key (both checked by signal: stream-url.ts, with a clear error). */
  z.object({ type: z.literal('start-live-stream'), url: z.string().max(4096), key: z.string().max(4096) }),
  z.object({ type: z.literal('stop-live-stream') }),
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
    /** The state as it is, sent to a joiner: no "started" notice for it. */
    current: z.boolean().optional(),
    /** The recorder's media process failed and was restarted: the recording goes on in a new part (file). */
    continued: z.boolean().optional(),
  }),
  /**
   * Whether the meeting is live-streamed (never where to): to everyone on each change and to each joiner.
   * `interrupted`: the streaming server refused or dropped the connection and the recorder is retrying;
   * `change` says what just happened, for the notice.
   */
  z.object({
    type: z.literal('live-stream'),
    active: z.boolean(),
    by: z.string().optional(),
    reason: z.enum(['failed']).optional(),
    interrupted: z.boolean().optional(),
    change: z.enum(['interrupted', 'resumed']).optional(),
    current: z.boolean().optional(),
  }),
] as const;
export type RecordingServerMessage = z.infer<(typeof recordingServerMessageSchemas)[number]>;

export type RecordingErrorCode =
  /** No recorder has room for another recording (or none runs): the moderator may try again later. */
  | 'recording-unavailable'
  /** A recorder took the request but could not start (the message says why). */
  | 'recording-failed'
  /** The live stream's address or key is not acceptable (the message says why). */
  | 'live-stream-bad-url'
  /** No recorder has room for a live stream. */
  | 'live-stream-unavailable'
  /** A recorder took the request but could not start the stream. */
  | 'live-stream-failed';
