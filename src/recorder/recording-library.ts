// The recordings this recorder keeps on its disk, as signal asks for them over the bus: list them (from each
// folder's recording.json, with the files' sizes now), read a file in chunks (signal streams a download from
// them: the recorder may be another machine with no disk shared), delete one, and delete those older than
// recordingRetentionDays. Only what recording.json lists can be read: the id is checked against its pattern
// and the file name must be one of the recording's files, so no path from a request reaches the file system.
// A folder without a readable recording.json is left alone (never listed, never deleted by the retention).
import { closeSync, fstatSync, openSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BusCallError } from '../bus/bus.ts';
import { MAX_LISTED_RECORDINGS, MAX_READ_BYTES, recordingIdSchema, type ListedRecording } from '../protocol/recorder-messages.ts';
import { readRecordingMeta, recordingDir, recordingsDir, type RecordingMeta } from './recording-store.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Every recording's folder id with its recording.json (unreadable ones skipped). */
function allMeta(dataDir: string): RecordingMeta[] {
  let names: string[];
  try {
    names = readdirSync(recordingsDir(dataDir));
  } catch {
    return [];
  }
  const out: RecordingMeta[] = [];
  for (const name of names) {
    if (!recordingIdSchema.safeParse(name).success) continue;
    const meta = readRecordingMeta(recordingDir(dataDir, name));
    if (meta && meta.recordingId === name) out.push(meta);
  }
  return out;
}

function fileSize(file: string): number | undefined {
  try {
    const st = statSync(file);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** The recordings (of one conference, when given), the newest first, each file with its size now. */
export function listRecordings(dataDir: string, recorderId: string, running: ReadonlySet<string>, conferenceId?: string): ListedRecording[] {
  const metas = allMeta(dataDir).filter((m) => conferenceId === undefined || m.conferenceId === conferenceId);
  metas.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return metas.slice(0, MAX_LISTED_RECORDINGS).map((m) => {
    const dir = recordingDir(dataDir, m.recordingId);
    const files: ListedRecording['files'] = [];
    for (const f of m.files) {
      const size = fileSize(path.join(dir, f.name));
      if (size !== undefined) files.push(f.kind ? { name: f.name, size, kind: f.kind } : { name: f.name, size });
    }
    const listed: ListedRecording = {
      recordingId: m.recordingId,
      recorderId,
      room: m.room,
      conferenceId: m.conferenceId,
      kind: m.kind,
      startedAt: m.startedAt,
      running: running.has(m.recordingId),
      files,
    };
    if (m.endedAt) listed.endedAt = m.endedAt;
    if (m.endReason) listed.endReason = m.endReason;
    return listed;
  });
}

/** Up to `length` bytes of one of the recording's files at `offset`, and the file's size now. */
export function readRecordingChunk(dataDir: string, recordingId: string, file: string, offset: number, length: number): { data: Buffer; size: number } {
  const dir = recordingDir(dataDir, recordingId);
  const meta = readRecordingMeta(dir);
  if (!meta || !meta.files.some((f) => f.name === file)) throw new BusCallError('not-found', `recording ${recordingId} has no file ${file}`);
  let fd: number;
  try {
    fd = openSync(path.join(dir, file), 'r');
  } catch {
    throw new BusCallError('not-found', `recording ${recordingId} has no file ${file} on disk`);
  }
  try {
    const size = fstatSync(fd).size;
    const n = Math.max(0, Math.min(length, MAX_READ_BYTES, size - offset));
    const data = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = readSync(fd, data, got, n - got, offset + got);
      if (r === 0) break;
      got += r;
    }
    return { data: data.subarray(0, got), size };
  } finally {
    closeSync(fd);
  }
}

/** Deletes a recording's folder (not a running one: the caller checks). */
export function deleteRecording(dataDir: string, recordingId: string): void {
  const dir = recordingDir(dataDir, recordingId);
  if (!readRecordingMeta(dir)) throw new BusCallError('not-found', `no recording ${recordingId} here`);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Deletes every recording that ended (or, for one that never wrote its end, started) more than `days` days
 * before `now`, except running ones; 0 days keeps everything. Returns the ids deleted.
 */
export function deleteExpiredRecordings(dataDir: string, days: number, running: ReadonlySet<string>, now: Date = new Date()): string[] {
  if (days <= 0) return [];
  const limit = now.getTime() - days * DAY_MS;
  const deleted: string[] = [];
  for (const m of allMeta(dataDir)) {
    if (running.has(m.recordingId)) continue;
    const at = Date.parse(m.endedAt ?? m.startedAt);
    if (!(at < limit)) continue;
    rmSync(recordingDir(dataDir, m.recordingId), { recursive: true, force: true });
    deleted.push(m.recordingId);
  }
  return deleted;
}
