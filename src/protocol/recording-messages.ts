// Recording and live streaming in the browser <-> signal protocol (issue 14). A moderator starts and stops
// them (everyone else is refused with `not-moderator`); everyone in the room, late joiners too, is told whether
// the meeting is being recorded and whether it is live. Spread into the access unions (moderator actions) of
// access-messages.ts. The stream key goes from the moderator's browser to signal and the recorder only.
import { z } from 'zod';
import { recordingLayoutSchema, recordingModeSchema } from './recorder-messages.ts';

const recordingId = z.string().regex(/^rec-[0-9a-f]{16}$/);

// ---- browser -> server (moderators only) ----
export const recordingClientMessageSchemas = [
  /** `mode`: one composed file or each stream in its own (multitrack); absent: the recorder's setting. */
  z.object({ type: z.literal('start-recording'), mode: recordingModeSchema.optional() }),
  z.object({ type: z.literal('stop-recording') }),
  /** A composed recording's layout, switched live. */
  z.object({ type: z.literal('recording-layout'), layout: recordingLayoutSchema }),
  /** This room's recordings (answered by `recordings`). */
  z.object({ type: z.literal('list-recordings') }),
  /** Deletes one of this room's recordings (answered by `recording-deleted`, or an error). */
  z.object({ type: z.literal('delete-recording'), recordingId }),
  // admins (an account named in adminAccounts, signed in with `login`): every room's recordings, from the
  // /recordings page; `session` is the sign-in session from `login-ok`
  z.object({ type: z.literal('admin-list-recordings'), session: z.string().min(1).max(128) }),
  z.object({ type: z.literal('admin-delete-recording'), session: z.string().min(1).max(128), recordingId }),
  /** url: rtmp(s)://host/app; key: the stream key (both checked by signal: stream-url.ts, with a clear error). */
  z.object({ type: z.literal('start-live-stream'), url: z.string().max(4096), key: z.string().max(4096) }),
  z.object({ type: z.literal('stop-live-stream') }),
] as const;
/** The admin requests (not bound to a meeting: Access answers them, not Moderation). */
export const ADMIN_RECORDING_TYPES = ['admin-list-recordings', 'admin-delete-recording'] as const;

/** A recording as a moderator sees it in the Recordings dialog: each file with its download link (valid one hour). */
export const recordingEntrySchema = z.object({
  recordingId: z.string(),
  room: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  endReason: z.string().optional(),
  running: z.boolean(),
  /** Bytes, all files together. */
  size: z.number(),
  files: z.array(z.object({ name: z.string(), size: z.number(), url: z.string() })),
});
export type RecordingEntry = z.infer<typeof recordingEntrySchema>;

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
    /** 'disk-full': the recorder's free space fell below its minimum, so it finished the file. */
    reason: z.enum(['failed', 'disk-full']).optional(),
    /** The state as it is, sent to a joiner (and after a layout switch): no "started" notice for it. */
    current: z.boolean().optional(),
    /** The recorder's media process failed and was restarted: the recording goes on in a new part (file). */
    continued: z.boolean().optional(),
    /** What is recorded and, for a composed recording, its layout (when the recorder said). */
    mode: recordingModeSchema.optional(),
    layout: recordingLayoutSchema.optional(),
  }),
  /**
   * Whether the meeting is live-streamed (never where to): to everyone on each change and to each joiner.
   * `connecting`: started, but the streaming server has not taken any of it yet (the meeting is not live yet);
   * `interrupted`: the streaming server refused or dropped the connection and the recorder is retrying;
   * `change` says what just happened, for the notice ('connected': the stream is live for the first time).
   */
  z.object({
    type: z.literal('live-stream'),
    active: z.boolean(),
    by: z.string().optional(),
    reason: z.enum(['failed']).optional(),
    connecting: z.boolean().optional(),
    interrupted: z.boolean().optional(),
    change: z.enum(['connected', 'interrupted', 'resumed']).optional(),
    current: z.boolean().optional(),
  }),
  /** To a moderator who asked: the room's recordings, the newest first. */
  z.object({ type: z.literal('recordings'), recordings: z.array(recordingEntrySchema) }),
  z.object({ type: z.literal('recording-deleted'), recordingId: z.string() }),
] as const;
export type RecordingServerMessage = z.infer<(typeof recordingServerMessageSchemas)[number]>;

export type RecordingErrorCode =
  /** No recorder has room for another recording (or none runs): the moderator may try again later. */
  | 'recording-unavailable'
  /** A recorder took the request but could not start (the message says why). */
  | 'recording-failed'
  /** The recorder's disk has less free space than its recordingMinFreeMb: the recording did not start. */
  | 'recording-no-space'
  /** No such recording of this room (deleted already, or its recorder is not running). */
  | 'recording-not-found'
  /** An admin request without a signed-in session of an account named in adminAccounts. */
  | 'not-admin'
  /** The live stream's address or key is not acceptable (the message says why). */
  | 'live-stream-bad-url'
  /** No recorder has room for a live stream. */
  | 'live-stream-unavailable'
  /** A recorder took the request but could not start the stream. */
  | 'live-stream-failed';
