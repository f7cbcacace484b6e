// Where recordings live and what is known about each: one folder per recording,
// <dataDir>/recordings/<recordingId>/, holding its media files and `recording.json` (room, kind, times, files).
// The recording id is random (rec- and 16 hex digits), so the folder's name is not guessable and no room name
// reaches the file system except reduced to ASCII letters, digits, - and _ in the media files' names.
// recording.json is written whole each time (a temporary file renamed over it), so a crash leaves the old or
// the new one, never half of one.
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { recordingIdSchema } from '../protocol/recorder-messages.ts';

export const META_FILE = 'recording.json';

const isoTime = z.string().datetime();
export const recordingFileSchema = z
  .object({
    /** A plain file name inside the recording's folder. */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
    startedAt: isoTime,
    endedAt: isoTime.optional(),
    /** multitrack: whose track this is and what it holds */
    participantId: z.string().max(128).optional(),
    kind: z.enum(['audio', 'video', 'composed', 'timeline']).optional(),
  })
  .strict();
export type RecordingFile = z.infer<typeof recordingFileSchema>;

export const recordingMetaSchema = z
  .object({
    version: z.literal(1),
    recordingId: recordingIdSchema,
    /** The room's name as people typed it (escape it wherever it is shown). */
    room: z.string().min(1).max(256),
    /** The conference at focus (signal's room key): moderators of this room may see the recording. */
    conferenceId: z.string().min(1).max(256),
    kind: z.enum(['composed', 'multitrack']),
    startedAt: isoTime,
    endedAt: isoTime.optional(),
    /** Why it ended, when it did not end by a stop (failed, meeting-ended, disk-full). */
    endReason: z.string().max(500).optional(),
    files: z.array(recordingFileSchema).max(10_000),
  })
  .strict();
export type RecordingMeta = z.infer<typeof recordingMetaSchema>;

export function recordingsDir(dataDir: string): string {
  return path.resolve(dataDir, 'recordings');
}

/** The folder of one recording; the id is checked, so nothing outside recordingsDir can be named. */
export function recordingDir(dataDir: string, recordingId: string): string {
  return path.join(recordingsDir(dataDir), recordingIdSchema.parse(recordingId));
}

/** Makes the folder (owner and group only). */
export function createRecordingDir(dataDir: string, recordingId: string): string {
  const dir = recordingDir(dataDir, recordingId);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  return dir;
}

/**
 * `files` without those that hold nothing (a media process that died before it wrote its first bytes): such a
 * file is deleted, and never listed or offered for download. A file that cannot be read is kept listed.
 */
export function withoutEmptyFiles(dir: string, files: readonly RecordingFile[]): RecordingFile[] {
  return files.filter((f) => {
    const file = path.join(dir, f.name);
    let size: number;
    try {
      size = statSync(file).size;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code !== 'ENOENT';
    }
    if (size > 0) return true;
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
    return false;
  });
}

export function writeRecordingMeta(dir: string, meta: RecordingMeta): void {
  const checked = recordingMetaSchema.parse(meta);
  const tmp = path.join(dir, `.${META_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(checked, null, 2) + '\n', { mode: 0o640 });
  renameSync(tmp, path.join(dir, META_FILE));
}

/** The recording's metadata, or null when the folder has none or it does not parse. */
export function readRecordingMeta(dir: string): RecordingMeta | null {
  try {
    const r = recordingMetaSchema.safeParse(JSON.parse(readFileSync(path.join(dir, META_FILE), 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
