// What a recording file shows about real time, read with ffprobe and one ffmpeg decoding pass:
// - the output's own frames: the compositor makes one per tick of its live clock, and frames waiting too long for
//   the encoder are dropped (compose.py's leaky queue): a busy machine leaves gaps in the video's timestamps;
// - each camera's tile: its picture changes every frame when the camera's 30 frames a second all got through
//   (the senders' clip moves in every frame); a tile that repeats its picture lost an input frame (late
//   packets dropped by the jitter buffer, late decoded frames dropped by the compositor, or a decoder behind);
// - the audio's length beside the video's, and whether the whole file decodes without an error.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where each camera's picture is in a grid of n tiles (layout.py's grid, the picture kept in aspect). */
export function gridPictures(n: number, width: number, height: number, aspect = 16 / 9): { x: number; y: number; w: number; h: number }[] {
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const cw = Math.floor(width / cols);
  const ch = Math.floor(height / rows);
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const inRow = r < rows - 1 ? cols : n - cols * (rows - 1);
    const x0 = r === rows - 1 ? Math.floor((width - inRow * cw) / 2) : 0;
    const w = Math.min(cw, Math.floor(ch * aspect));
    const h = Math.floor(w / aspect);
    // the picture inside its cell, a margin of 8 pixels off its edges (scaling blurs them)
    const x = x0 + c * cw + Math.floor((cw - w) / 2) + 8;
    const y = r * ch + Math.floor((ch - h) / 2) + 8;
    out.push({ x: x & ~1, y: y & ~1, w: (w - 16) & ~1, h: (h - 16) & ~1 });
  }
  return out;
}

export interface FileCheck {
  video: { codec: string; width: number; height: number } | null;
  audioCodec: string | null;
  /** The container's duration, s. */
  duration: number;
  /** Video frames in the file, and the frames its timestamps span (first to last, at the output rate). */
  frames: number;
  expectedFrames: number;
  /** Output frames missing from the timestamps (dropped before the encoder), and the longest gap, ms. */
  droppedFrames: number;
  longestGapMs: number;
  /** Seconds of audio (AAC frames × 1024 / 48000). */
  audioSeconds: number;
  /** Per camera tile: the share of output frames (after the first `skipSeconds`) whose picture changed. */
  tileFresh: number[];
  /** ffmpeg's errors while decoding the whole file ('' when none). */
  decodeErrors: string;
}

/** Checks a finished composed recording of `tiles` cameras in a grid at `fps` (0: a file without tiles, only decoded); skips the first seconds (first keyframes). */
export async function checkFile(file: string, tiles: number, fps: number, skipSeconds = 3): Promise<FileCheck> {
  const { stdout: info } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=index,codec_name,codec_type,width,height:format=duration', '-of', 'json', file]);
  const parsed = JSON.parse(info) as { streams: { index: number; codec_name: string; codec_type: string; width?: number; height?: number }[]; format: { duration?: string } };
  const v = parsed.streams.find((s) => s.codec_type === 'video');
  const a = parsed.streams.find((s) => s.codec_type === 'audio');
  const { stdout: packets } = await run('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,pts_time', '-of', 'csv=p=0', file], { maxBuffer: 256 << 20 });
  const vpts: number[] = [];
  let audioPackets = 0;
  for (const line of packets.split('\n')) {
    const [idx, pts] = line.split(',');
    if (pts === undefined || pts === 'N/A') continue;
    if (v && Number(idx) === v.index) vpts.push(Number(pts));
    else if (a && Number(idx) === a.index) audioPackets++;
  }
  vpts.sort((x, y) => x - y);
  const interval = 1 / fps;
  let dropped = 0;
  let longestGap = 0;
  for (let i = 1; i < vpts.length; i++) {
    const gap = vpts[i]! - vpts[i - 1]!;
    longestGap = Math.max(longestGap, gap);
    if (gap > 1.5 * interval) dropped += Math.round(gap / interval) - 1;
  }
  const span = vpts.length > 1 ? vpts.at(-1)! - vpts[0]! : 0;

  // one decoding pass: every tile's picture hashed frame by frame, the audio decoded too; errors on stderr
  const width = v?.width ?? 0;
  const height = v?.height ?? 0;
  const pics = gridPictures(tiles, width, height);
  const crops = pics.map((p, i) => `[t${i}]crop=${p.w}:${p.h}:${p.x}:${p.y}[o${i}]`).join(';');
  const graph = `[0:v]split=${tiles}${pics.map((_, i) => `[t${i}]`).join('')};${crops}`;
  // no tiles (a track of a multitrack recording): decoded only, each frame at its own time (a camera's frame rate
  // varies: without -enc_time_base -1 ffmpeg's null muxer complains of equal rounded times; see RECORDING.md)
  const args = ['-v', 'error', '-nostdin', '-i', file];
  if (tiles > 0 && v) args.push('-filter_complex', graph, ...pics.flatMap((_, i) => ['-map', `[o${i}]`]), '-f', 'framemd5', '-');
  else args.push('-enc_time_base', '-1', '-f', 'null', '/dev/null');
  if (a && tiles > 0 && v) args.push('-map', '0:a', '-f', 'null', '/dev/null');
  let hashes = '';
  let errors = '';
  try {
    const r = await run('ffmpeg', args, { maxBuffer: 256 << 20 });
    hashes = r.stdout;
    errors = r.stderr.trim();
  } catch (e) {
    const r = e as { stdout?: string; stderr?: string; message: string };
    hashes = r.stdout ?? '';
    errors = (r.stderr || r.message).trim();
  }
  const last: (string | undefined)[] = pics.map(() => undefined);
  const changed = pics.map(() => 0);
  const counted = pics.map(() => 0);
  const seen = pics.map(() => 0);
  // framemd5 lines: stream, dts, pts, duration, size, hash
  for (const line of hashes.split('\n')) {
    if (!/^\d/.test(line)) continue;
    const f = line.split(',').map((x) => x.trim());
    const s = Number(f[0]);
    if (!(s < pics.length)) continue;
    const hash = f[5]!;
    const frameIndex = seen[s]!++;
    if (frameIndex >= skipSeconds * fps && last[s] !== undefined) {
      counted[s]!++;
      if (hash !== last[s]) changed[s]!++;
    }
    last[s] = hash;
  }
  return {
    video: v ? { codec: v.codec_name, width, height } : null,
    audioCodec: a?.codec_name ?? null,
    duration: Number(parsed.format.duration ?? NaN),
    frames: vpts.length,
    expectedFrames: Math.round(span * fps) + 1,
    droppedFrames: dropped,
    longestGapMs: longestGap * 1000,
    audioSeconds: (audioPackets * 1024) / 48000,
    tileFresh: counted.map((n, i) => (n > 0 ? changed[i]! / n : 0)),
    decodeErrors: errors ? errors.split('\n').slice(0, 3).join(' | ').slice(0, 300) : '',
  };
}
