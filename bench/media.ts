// The media the synthetic publishers send: VP8 (1280x720, 30 fps, about 1 Mbit/s) and Opus (20 ms frames),
// encoded once with ffmpeg and cached under bench/.cache/, then cut into RTP payloads (RFC 7741 for VP8).
// Without ffmpeg, generated payloads of realistic sizes stand in (the report says which was used).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';

export const CACHE_DIR = path.join(import.meta.dirname, '.cache');
/** Largest VP8 payload chunk per RTP packet (plus the 4-byte payload descriptor). */
export const VP8_CHUNK = 1100;
export const VIDEO_FPS = 30;
export const AUDIO_FRAME_MS = 20;
const SECONDS = 10;

export interface VideoFrame {
  /** Payload chunks (without the VP8 payload descriptor); the last one carries the RTP marker. */
  chunks: Buffer[];
  keyframe: boolean;
}

export interface BenchMedia {
  source: 'ffmpeg' | 'generated';
  video: VideoFrame[];
  audio: Buffer[];
  /** Mean video bitrate of the clip (payload bits per second). */
  videoBps: number;
}

function hasFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function encode(out: string, args: string[]): void {
  if (existsSync(out)) return;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${out}.tmp`;
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, tmp], { stdio: 'inherit' });
  renameSync(tmp, out);
}

/** Frames of an IVF file (32-byte file header; per frame a 12-byte header: size LE32, pts LE64). */
export function ivfFrames(file: Buffer): Buffer[] {
  if (file.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  const frames: Buffer[] = [];
  let o = file.readUInt16LE(6);
  while (o + 12 <= file.length) {
    const size = file.readUInt32LE(o);
    o += 12;
    if (o + size > file.length) break;
    frames.push(file.subarray(o, o + size));
    o += size;
  }
  return frames;
}

/** Packets of an Ogg stream (one logical stream), OpusHead and OpusTags left out. */
export function oggOpusPackets(file: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let o = 0;
  while (o + 27 <= file.length) {
    if (file.toString('latin1', o, o + 4) !== 'OggS') throw new Error('bad Ogg page');
    const segments = file[o + 26];
    let data = o + 27 + segments;
    for (let i = 0; i < segments; i++) {
      const lace = file[o + 27 + i];
      pending.push(file.subarray(data, data + lace));
      data += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    o = data;
  }
  return packets.filter((p) => !p.toString('latin1', 0, 8).startsWith('Opus'));
}

function chunk(frame: Buffer): Buffer[] {
  const n = Math.max(1, Math.ceil(frame.length / VP8_CHUNK));
  const size = Math.ceil(frame.length / n);
  const chunks: Buffer[] = [];
  for (let i = 0; i < n; i++) chunks.push(frame.subarray(i * size, Math.min(frame.length, (i + 1) * size)));
  return chunks;
}

function fromFfmpeg(): BenchMedia {
  const videoFile = path.join(CACHE_DIR, 'video-720p-1m.ivf');
  const audioFile = path.join(CACHE_DIR, 'audio-opus-32k.ogg');
  encode(videoFile, [
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${VIDEO_FPS}`, '-t', String(SECONDS),
    '-c:v', 'libvpx', '-b:v', '1M', '-minrate', '1M', '-maxrate', '1M', '-g', '90',
    '-deadline', 'realtime', '-cpu-used', '8', '-f', 'ivf',
  ]);
  encode(audioFile, [
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(SECONDS),
    '-c:a', 'libopus', '-b:a', '32k', '-frame_duration', String(AUDIO_FRAME_MS), '-application', 'voip', '-f', 'ogg',
  ]);
  const frames = ivfFrames(readFileSync(videoFile));
  const video = frames.map((f) => ({ chunks: chunk(f), keyframe: (f[0] & 1) === 0 }));
  const bytes = frames.reduce((s, f) => s + f.length, 0);
  return { source: 'ffmpeg', video, audio: oggOpusPackets(readFileSync(audioFile)), videoBps: (bytes * 8 * VIDEO_FPS) / frames.length };
}

/** Stand-in media: a 3x keyframe every 90 frames, deltas around 4 KB (1 Mbit/s), 80-byte Opus frames. */
function generated(): BenchMedia {
  const video: VideoFrame[] = [];
  let bytes = 0;
  for (let i = 0; i < SECONDS * VIDEO_FPS; i++) {
    const keyframe = i % 90 === 0;
    const size = keyframe ? 12_000 : 3_800 + ((i * 7919) % 700);
    const f = Buffer.alloc(size, i & 0xff);
    f[0] = keyframe ? 0x10 : 0x11;
    bytes += size;
    video.push({ chunks: chunk(f), keyframe });
  }
  const audio: Buffer[] = [];
  for (let i = 0; i < (SECONDS * 1000) / AUDIO_FRAME_MS; i++) audio.push(Buffer.alloc(70 + (i % 20), 0x78));
  return { source: 'generated', video, audio, videoBps: (bytes * 8 * VIDEO_FPS) / video.length };
}

export function loadMedia(): BenchMedia {
  if (process.env.BENCH_MEDIA !== 'generated' && hasFfmpeg()) {
    try {
      return fromFfmpeg();
    } catch (e) {
      console.error(`ffmpeg media failed (${(e as Error).message}); using generated payloads`);
    }
  }
  return generated();
}
