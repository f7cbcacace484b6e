// Recordings on disk as the recorder leaves them (one folder per recording with recording.json), for tests of
// what is done with them afterwards: a real small Matroska file made with ffmpeg (noise, so it is a few
// hundred KiB and a download takes several chunks), and recording.json through the recorder's own writer.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRecordingDir, writeRecordingMeta, type RecordingMeta } from '../../src/recorder/recording-store.ts';

let made: string | undefined;

/** A 2 s H.264 + AAC .mkv of noise (about 600 KiB), made once per process. */
export function smallMkv(): string {
  if (made && existsSync(made)) return made;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-mkv-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  made = path.join(dir, 'noise.mkv');
  execFileSync('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', "nullsrc=s=160x120:r=10,geq=lum='random(1)*255':cb=128:cr=128",
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', made,
  ]);
  return made;
}

/** A random recording id (rec- and 16 hex digits). */
export function newRecordingId(): string {
  return `rec-${Array.from({ length: 16 }, () => Math.floor(Math.random() * 16).toString(16)).join('')}`;
}

/** Writes a recording's folder: recording.json and, unless `media` is false, the small .mkv as its one file. */
export function makeRecording(
  dataDir: string,
  opts: { recordingId?: string; room?: string; conferenceId?: string; startedAt: Date; endedAt?: Date; media?: boolean },
): { recordingId: string; dir: string; file: string; meta: RecordingMeta } {
  const recordingId = opts.recordingId ?? newRecordingId();
  const dir = createRecordingDir(dataDir, recordingId);
  const room = opts.room ?? 'Room';
  const name = `${room}-${opts.startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.mkv`;
  const file = path.join(dir, name);
  if (opts.media !== false) copyFileSync(smallMkv(), file);
  const meta: RecordingMeta = {
    version: 1,
    recordingId,
    room,
    conferenceId: opts.conferenceId ?? room.toLowerCase(),
    kind: 'composed',
    startedAt: opts.startedAt.toISOString(),
    ...(opts.endedAt ? { endedAt: opts.endedAt.toISOString() } : {}),
    files: [{ name, startedAt: opts.startedAt.toISOString(), ...(opts.endedAt ? { endedAt: opts.endedAt.toISOString() } : {}), kind: 'composed' }],
  };
  writeRecordingMeta(dir, meta);
  return { recordingId, dir, file, meta };
}
