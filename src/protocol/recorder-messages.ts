// signal <-> recorder over the bus: recorders announce how many more recordings they can take (like bridges
// announce their endpoints); signal starts and stops a recording on one of them and keeps it told who is in
// the room and by which name (focus knows sources, not names). Flow, one way per kind of fact: signal ->
// recorder (start, stop, names); recorder -> focus (attach as a receiver of the whole conference);
// focus -> recorder (`plain.<id>.sources`: whose streams arrive with which SSRC); recorder -> signal only as
// events (announce, a recording that ended by itself).
import { z } from 'zod';
import { isRtmpUrl } from './stream-url.ts';

const id = z.string().min(1).max(128);
/** One NATS subject token (it goes into `recorder.<id>.*`). */
export const recordingModeSchema = z.enum(['composed', 'multitrack']);
export type RecordingMode = z.infer<typeof recordingModeSchema>;
export const recordingLayoutSchema = z.enum(['grid', 'speaker']);
export type RecordingLayout = z.infer<typeof recordingLayoutSchema>;
export const recorderIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a recorder id is letters, digits, - and _');
/** A recording's id: also its plain-RTP endpoint id at focus (a subject token, never a participant's id). */
export const recordingIdSchema = z.string().regex(/^rec-[0-9a-f]{16}$/, 'a recording id is rec- and 16 hex digits');

export const recorderSubjects = {
  // recorder -> signal (events)
  announce: 'recorder.announce',
  /** A recording ended without being asked to (its media process failed, the meeting's media ended). */
  ended: 'recorder.ended',
  /** Something to tell the room while a job runs (a new segment after a restart, a stream live, interrupted, resumed). */
  notice: 'recorder.notice',
  // signal -> recorders (event): "announce yourselves now"
  discover: 'recorder.discover',
  // signal -> recorder <id> (requests)
  start: (recorderId: string) => `recorder.${recorderId}.start`,
  stop: (recorderId: string) => `recorder.${recorderId}.stop`,
  participants: (recorderId: string) => `recorder.${recorderId}.participants`,
  // signal -> recorder <id> (requests): the recordings on its disk (recording-library.ts)
  list: (recorderId: string) => `recorder.${recorderId}.list`,
  read: (recorderId: string) => `recorder.${recorderId}.read`,
  delete: (recorderId: string) => `recorder.${recorderId}.delete`,
  /** A moderator switches a composed recording's layout. */
  layout: (recorderId: string) => `recorder.${recorderId}.layout`,
} as const;

export const recorderAnnounceSchema = z.object({
  recorderId: recorderIdSchema,
  /** Recordings it can start now. */
  free: z.number().int().nonnegative(),
  max: z.number().int().nonnegative(),
  /** Random per process. */
  instance: z.string().min(1).max(64),
});
export type RecorderAnnounce = z.infer<typeof recorderAnnounceSchema>;

/**
 * A participant as the recording shows it: the name drawn on its tile (plain text, never markup), and whether
 * its microphone and camera are off (a multitrack recording's timeline).
 */
export const recordedParticipantSchema = z
  .object({ participantId: id, name: z.string().max(256), audioMuted: z.boolean().optional(), videoMuted: z.boolean().optional() })
  .strict();
export type RecordedParticipant = z.infer<typeof recordedParticipantSchema>;
const participants = z.array(recordedParticipantSchema).max(10_000);

export const recorderStartSchema = z
  .object({
    recordingId: recordingIdSchema,
    /** The conference at focus (signal's room key). */
    conferenceId: id,
    /** The room's name, for the file name (reduced to letters, digits, - and _). */
    room: z.string().min(1).max(256),
    participants,
    /** The active speaker (the bridge's dominant speaker), for the speaker layout. */
    speaker: id.optional(),
    /** A live stream instead of a file: where to push it (a secret: it holds the stream key; never logged). */
    stream: z
      .object({ rtmpUrl: z.string().refine(isRtmpUrl, 'rtmpUrl: an rtmp:// or rtmps:// address') })
      .strict()
      .optional(),
    /** One composed file, or each stream in its own file (multitrack); absent: the recorder's recordingMode. */
    mode: recordingModeSchema.optional(),
  })
  .strict();
/** `mode` and `layout` as the recording runs (a multitrack recording has no layout). */
export const recorderStartReplySchema = z.object({ file: z.string(), mode: recordingModeSchema.optional(), layout: recordingLayoutSchema.optional() });
export const recorderStopSchema = z.object({ recordingId: recordingIdSchema }).strict();
export const recorderStopReplySchema = z.object({ file: z.string() });
export const recorderParticipantsSchema = z.object({ recordingId: recordingIdSchema, participants, speaker: id.optional() }).strict();

/** Refused with not-found (no such recording here) or conflict (a multitrack recording has no layout). */
export const recorderLayoutSchema = z.object({ recordingId: recordingIdSchema, layout: recordingLayoutSchema }).strict();

export const recorderEndedSchema = z.object({
  recorderId: recorderIdSchema,
  recordingId: recordingIdSchema,
  conferenceId: id,
  /** disk-full: the recorder's free space fell below recordingMinFreeMb, so it finished the file. */
  reason: z.enum(['failed', 'meeting-ended', 'disk-full']),
  message: z.string().max(500),
});
export type RecorderEnded = z.infer<typeof recorderEndedSchema>;

// ---- the recordings a recorder keeps (list, read, delete) ----

/** A media file's name inside a recording's folder (as recording.json lists it). */
export const recordingFileNameSchema = z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/, 'a file name is letters, digits, -, _ and .');
/** Bytes one read returns at most: base64 of it stays far below NATS's 1 MB message cap. */
export const MAX_READ_BYTES = 256 * 1024;
/** Recordings one list reply holds at most (the newest first): with the longest names, still under NATS's 1 MB. */
export const MAX_LISTED_RECORDINGS = 500;

const isoTime = z.string().datetime();
export const listedRecordingSchema = z.object({
  recordingId: recordingIdSchema,
  recorderId: recorderIdSchema,
  room: z.string().max(256),
  conferenceId: id,
  /** 'meeting-notes': a meeting's whiteboard and notes, kept by signal (signal/board-archive.ts). */
  kind: z.enum(['composed', 'multitrack', 'meeting-notes']),
  startedAt: isoTime,
  endedAt: isoTime.optional(),
  endReason: z.string().max(500).optional(),
  /** Still being recorded (its files grow; it cannot be deleted). */
  running: z.boolean(),
  files: z.array(z.object({ name: recordingFileNameSchema, size: z.number().int().nonnegative(), kind: z.string().max(32).optional() })).max(10_000),
});
export type ListedRecording = z.infer<typeof listedRecordingSchema>;

export const recorderListSchema = z.object({ conferenceId: id.optional() }).strict();
export const recorderListReplySchema = z.object({ recordings: z.array(listedRecordingSchema).max(MAX_LISTED_RECORDINGS) });
export const recorderReadSchema = z
  .object({
    recordingId: recordingIdSchema,
    file: recordingFileNameSchema,
    offset: z.number().int().nonnegative(),
    length: z.number().int().min(1).max(MAX_READ_BYTES),
  })
  .strict();
/** `data`: base64 of the bytes at offset (fewer than asked at the end); `size`: the file's whole size now. */
export const recorderReadReplySchema = z.object({ data: z.string(), size: z.number().int().nonnegative() });
export const recorderDeleteSchema = z.object({ recordingId: recordingIdSchema }).strict();
export const recorderNoticeSchema = z.object({
  recorderId: recorderIdSchema,
  recordingId: recordingIdSchema,
  /**
   * segment: the media process was restarted, the recording goes on in file number `segment`; stream-live: the
   * streaming server took the live stream's first data; stream-interrupted / -resumed: its connection failed (it
   * is retried) / works again.
   */
  kind: z.enum(['segment', 'stream-live', 'stream-interrupted', 'stream-resumed']),
  segment: z.number().int().min(2).optional(),
});
export type RecorderNotice = z.infer<typeof recorderNoticeSchema>;
