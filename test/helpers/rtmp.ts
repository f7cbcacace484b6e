// A real RTMP server for the live stream tests: ffmpeg listening for one publisher and copying what it sends.
import { spawn, type ChildProcess } from 'node:child_process';

/** An RTMP server: ffmpeg accepting one publisher at the URL and copying what it sends into `file`. */
export function rtmpServer(url: string, file: string): { process: ChildProcess; exited: Promise<void> } {
  const p = spawn('ffmpeg', ['-nostdin', '-v', 'error', '-listen', '1', '-i', url, '-c', 'copy', '-y', file], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  return { process: p, exited };
}
