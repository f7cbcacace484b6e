// Where a recording is written: <dataDir>/recordings/<room>-<UTC time>-<random>.mkv. The room's name is
// reduced to ASCII letters, digits, - and _ (at most 48), so no name can reach outside the folder; the random
// part keeps two recordings of one room in one second apart.
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Matroska: a crash or power loss leaves every cluster written so far playable. */
export const RECORDING_EXTENSION = '.mkv';

export function recordingFileName(room: string, now: Date = new Date()): string {
  const safe = room.normalize('NFKD').replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 48) || 'room';
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${safe}-${stamp}-${randomBytes(3).toString('hex')}${RECORDING_EXTENSION}`;
}

export function recordingsDir(dataDir: string): string {
  return path.resolve(dataDir, 'recordings');
}
