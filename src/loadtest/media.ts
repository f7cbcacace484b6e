// The media the synthetic publishers send: VP8 rid simulcast in three layers (320x180 ~150 kbit/s, 640x360
// ~500 kbit/s, 1280x720 ~1.2 Mbit/s; 30 fps) and Opus (20 ms frames), encoded once with ffmpeg and cached
// under dist/media-cache/, then cut into RTP payloads (RFC 7741 for VP8). Without ffmpeg, generated payloads of
// realistic sizes stand in (the report says which was used).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';

/** Where the encoded clips are kept (a build output: made again when missing). */
export const CACHE_DIR = path.join(import.meta.dirname, '..', '..', 'dist', 'media-cache');
/** Largest VP8 payload chunk per RTP packet (plus the 6-byte payload descriptor). */
export const VP8_CHUNK = 1100;
export const VIDEO_FPS = 30;
export const AUDIO_FRAME_MS = 20;
const SECONDS = 10;
/** Frames between the clips' own keyframes (a keyframe request jumps to the next one of that layer). */
const GOP = 90;

/** The simulcast layers, lowest first: rid, size and target bitrate. */
export const LAYERS = [
  { rid: 'q', width: 320, height: 180, kbps: 150 },
  { rid: 'h', width: 640, height: 360, kbps: 500 },
  { rid: 'f', width: 1280, height: 720, kbps: 1200 },
] as const;

export interface VideoFrame {
  /** Payload chunks (without the VP8 payload descriptor); the last one carries the RTP marker. */
  chunks: Buffer[];
  keyframe: boolean;
}

export interface VideoLayer {
  rid: string;
  /** Frame size (from the clip's first keyframe). */
  width: number;
  height: number;
  frames: VideoFrame[];
  /** nextKeyframe[i]: the first keyframe at or after frame i (wrapping around the clip). */
  nextKeyframe: Int32Array;
  /** Mean bitrate of the clip (payload bits per second). */
  bps: number;
}

export interface BenchMedia {
  source: 'ffmpeg' | 'generated';
  /** Simulcast layers, lowest first (rids q, h, f). */
  layers: VideoLayer[];
  audio: Buffer[];
  /** Mean video bitrate of all layers together (payload bits per second): what one publisher sends. */
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
  const tmp = `${out}.${process.pid}.tmp`; // several processes may make the same clip at once
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

/** A layer from its encoded frames (VP8 frame tag: P bit 0 = keyframe; RFC 6386 §9.1 for the size). */
function layerOf(rid: string, frames: Buffer[]): VideoLayer {
  const video = frames.map((f) => ({ chunks: chunk(f), keyframe: (f[0] & 1) === 0 }));
  const first = frames.find((f) => (f[0] & 1) === 0 && f.length >= 10 && f[3] === 0x9d && f[4] === 0x01 && f[5] === 0x2a);
  if (first === undefined) throw new Error(`layer ${rid}: no keyframe`);
  const nextKeyframe = new Int32Array(video.length);
  let next = video.findIndex((f) => f.keyframe);
  for (let i = video.length - 1; i >= 0; i--) {
    if (video[i].keyframe) next = i;
    nextKeyframe[i] = next;
  }
  const bytes = frames.reduce((s, f) => s + f.length, 0);
  return {
    rid,
    width: first.readUInt16LE(6) & 0x3fff,
    height: first.readUInt16LE(8) & 0x3fff,
    frames: video,
    nextKeyframe,
    bps: (bytes * 8 * VIDEO_FPS) / frames.length,
  };
}

function fromFfmpeg(): BenchMedia {
  const layers = LAYERS.map((l) => {
    const file = path.join(CACHE_DIR, `video-${l.height}p-${l.kbps}k.ivf`);
    const rate = `${l.kbps}k`;
    encode(file, [
      '-f', 'lavfi', '-i', `testsrc2=size=${l.width}x${l.height}:rate=${VIDEO_FPS}`, '-t', String(SECONDS),
      '-c:v', 'libvpx', '-b:v', rate, '-minrate', rate, '-maxrate', rate, '-g', String(GOP),
      '-deadline', 'realtime', '-cpu-used', '8', '-f', 'ivf',
    ]);
    return layerOf(l.rid, ivfFrames(readFileSync(file)));
  });
  const audioFile = path.join(CACHE_DIR, 'audio-opus-32k.ogg');
  encode(audioFile, [
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(SECONDS),
    '-c:a', 'libopus', '-b:a', '32k', '-frame_duration', String(AUDIO_FRAME_MS), '-application', 'voip', '-f', 'ogg',
  ]);
  return { source: 'ffmpeg', layers, audio: oggOpusPackets(readFileSync(audioFile)), videoBps: layers.reduce((s, l) => s + l.bps, 0) };
}

/**
 * Stand-in media: per layer a keyframe (3x a delta frame, with a VP8 keyframe header naming the size) every
 * GOP frames and deltas of the layer's bitrate; 80-byte Opus frames.
 */
function generated(): BenchMedia {
  const layers = LAYERS.map((l, li) => {
    const delta = Math.round((l.kbps * 1000) / 8 / VIDEO_FPS / 1.07);
    const frames: Buffer[] = [];
    for (let i = 0; i < SECONDS * VIDEO_FPS; i++) {
      const keyframe = i % GOP === 0;
      const size = keyframe ? 3 * delta : Math.round(delta * (0.9 + ((i * 7919 + li * 104729) % 200) / 1000));
      const f = Buffer.alloc(size, i & 0xff);
      f[0] = keyframe ? 0x10 : 0x11;
      if (keyframe) {
        f[3] = 0x9d;
        f[4] = 0x01;
        f[5] = 0x2a;
        f.writeUInt16LE(l.width, 6);
        f.writeUInt16LE(l.height, 8);
      }
      frames.push(f);
    }
    return layerOf(l.rid, frames);
  });
  const audio: Buffer[] = [];
  for (let i = 0; i < (SECONDS * 1000) / AUDIO_FRAME_MS; i++) audio.push(Buffer.alloc(70 + (i % 20), 0x78));
  return { source: 'generated', layers, audio, videoBps: layers.reduce((s, l) => s + l.bps, 0) };
}

/** "q 320x180 0.15, h 640x360 0.50, f 1280x720 1.21 Mbit/s" */
export function describeLayers(media: BenchMedia): string {
  return media.layers.map((l) => `${l.rid} ${l.width}x${l.height} ${(l.bps / 1e6).toFixed(2)}`).join(', ') + ' Mbit/s';
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
