// Free space where recordings are written, read with statfs (the space an unprivileged process may use). A
// recording does not start below recordingMinFreeMb, and a running one is finished when the space falls below
// it (recording.ts), so the file is whole and the disk keeps room for the rest of the system.
import { mkdirSync, statfsSync } from 'node:fs';

/** How often a running recording checks the free space. */
export const DISK_CHECK_MS = 5000;

/** Free megabytes (MiB) on the file system holding `dir` (made when missing). */
export function freeMegabytes(dir: string): number {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const s = statfsSync(dir);
  return (Number(s.bavail) * Number(s.bsize)) / (1024 * 1024);
}

/** True when `minFreeMb` is 0 (no check) or the file system has at least that much free. */
export function enoughSpace(dir: string, minFreeMb: number): { ok: boolean; freeMb: number } {
  if (minFreeMb <= 0) return { ok: true, freeMb: Infinity };
  const freeMb = freeMegabytes(dir);
  return { ok: freeMb >= minFreeMb, freeMb };
}
