// One step of the recording benchmark: a fresh server process (focus, bridge, recorder), N rooms of k plain-RTP
// senders, N recordings started at once (the bus call signal makes), a warm-up, a measured window, the stop, and
// then each file checked for real time (file-check.ts). CPU and memory are read from /proc: the recordings'
// child processes (every child of the server process), the server process itself, the senders' ffmpeg.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callBus } from '../../src/bus/typed-calls.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { checkFile, type FileCheck } from './file-check.ts';
import { childrenOf, cpuSeconds, loadAverage, machineCpu, memory } from './proc.ts';
import { RoomSenders, SENDER_FPS, type Camera } from './senders.ts';
import { BENCH_RECORDER_ID, ServerProcess } from './server-control.ts';

export type RecordingMode = 'composed' | 'multitrack';

export interface StepOptions {
  mode: RecordingMode;
  /** Participants (senders) per recording. */
  participants: number;
  /** Recordings at once. */
  recordings: number;
  camera: Camera;
  clip: string;
  /** Measured seconds (after the warm-up). */
  seconds: number;
  warmupSeconds: number;
  /** Extra server settings, e.g. {recordingVideoBitrate: 2000}. */
  serverConfig: Record<string, unknown>;
  log: (line: string) => void;
}

/** A recording keeps real time when: no error decoding it, under DROP_LIMIT of its output frames missing, every
 * camera's picture new in at least FRESH_LIMIT of the output frames, and its length within LENGTH_LIMIT_S of the
 * time it ran. */
export const DROP_LIMIT = 0.01;
export const FRESH_LIMIT = 0.95;
export const LENGTH_LIMIT_S = 1.5;

export interface RecordingFigures {
  recordingId: string;
  /** Wall-clock seconds from the start's reply to the stop call. */
  ranSeconds: number;
  files: string[];
  check: FileCheck | null;
  /** Why it did not keep real time (empty: it did). */
  problems: string[];
}

export interface StepResult {
  mode: RecordingMode;
  participants: number;
  recordings: number;
  camera: Camera;
  seconds: number;
  /** CPU of the recordings' processes in the window, per recording, as a share of one core (mean, min, max). */
  recordingCpu: { mean: number; min: number; max: number };
  /** Peak resident memory of each recording's process (VmHWM), bytes (mean, max). */
  recordingPeakRss: { mean: number; max: number };
  recordingProcesses: number;
  /** The server process (focus, bridge, recorder part) and the senders' ffmpeg processes, shares of one core. */
  serverCpu: number;
  serverRss: number;
  sendersCpu: number;
  /** Everything on the machine (other users too), share of all its cores; load averages at the start and end. */
  machineBusy: number;
  load: { start: number[]; end: number[] };
  each: RecordingFigures[];
  /** recorder.ended events (a child that died). */
  ended: number;
  held: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function mediaFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => /\.(mkv|webm|mp4|ogg|opus|mka)$/.test(f)).map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** The real-time checks of one recording's files. */
async function judge(mode: RecordingMode, files: string[], participants: number, ranSeconds: number): Promise<{ check: FileCheck | null; problems: string[] }> {
  const problems: string[] = [];
  if (files.length === 0) return { check: null, problems: ['no file'] };
  if (mode === 'multitrack') {
    // one file per track: each must decode and last about as long as the recording (its first seconds may miss)
    for (const f of files) {
      const c = await checkFile(f, 0, SENDER_FPS).catch((e: Error) => ({ decodeErrors: e.message, duration: NaN }) as FileCheck);
      if (c.decodeErrors) problems.push(`${path.basename(f)}: ${c.decodeErrors}`);
      if (!(c.duration > ranSeconds - 3 * LENGTH_LIMIT_S)) problems.push(`${path.basename(f)}: ${c.duration} s of ${ranSeconds.toFixed(1)}`);
    }
    return { check: null, problems };
  }
  const c = await checkFile(files[0]!, participants, SENDER_FPS);
  if (c.video?.codec !== 'h264' || c.audioCodec !== 'aac') problems.push(`streams ${c.video?.codec}/${c.audioCodec}`);
  if (c.decodeErrors) problems.push(`decoding: ${c.decodeErrors}`);
  if (c.droppedFrames > DROP_LIMIT * c.expectedFrames) problems.push(`${c.droppedFrames} of ${c.expectedFrames} output frames dropped`);
  const fresh = Math.min(...c.tileFresh);
  if (!(fresh >= FRESH_LIMIT)) problems.push(`a camera new in only ${(fresh * 100).toFixed(1)}% of the frames`);
  if (Math.abs(c.duration - ranSeconds) > LENGTH_LIMIT_S) problems.push(`lasts ${c.duration.toFixed(1)} s, ran ${ranSeconds.toFixed(1)} s`);
  if (Math.abs(c.audioSeconds - c.duration) > LENGTH_LIMIT_S) problems.push(`${c.audioSeconds.toFixed(1)} s of audio in ${c.duration.toFixed(1)} s`);
  return { check: c, problems };
}

export async function runStep(o: StepOptions): Promise<StepResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-bench-rec-'));
  const server = await ServerProcess.start({ dataDir, maxRecordingsPerRecorder: 64, ...o.serverConfig }).catch((e: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  });
  const rooms: RoomSenders[] = [];
  try {
    for (let r = 0; r < o.recordings; r++) rooms.push(await RoomSenders.start(server.bus, `bench-rec-${r}`, o.participants, o.clip));
    await sleep(2000); // media flows before the recordings start, as in a meeting
    const started = await Promise.all(
      rooms.map(async (room, r) => {
        const recordingId = `rec-${randomBytes(8).toString('hex')}`;
        const req = { recordingId, conferenceId: room.conferenceId, room: `bench-${r}`, participants: room.participants };
        // multitrack: the mode rides on the start request (the field its schema takes)
        await callBus(server.bus, busCalls.recorderStart, BENCH_RECORDER_ID, { ...req, mode: o.mode }, 30_000);
        return { recordingId, at: performance.now() };
      }),
    );
    o.log(`    ${o.recordings} × ${o.participants}: recordings started; warm-up ${o.warmupSeconds} s, then ${o.seconds} s measured`);
    await sleep(o.warmupSeconds * 1000);

    const children = childrenOf(server.pid, '');
    const senderPids = rooms.map((r) => r.pid).filter((p): p is number => p !== undefined);
    const cpuOf = (pids: number[]) => pids.map((p) => cpuSeconds(p) ?? NaN);
    const loadStart = loadAverage();
    const m0 = machineCpu();
    const s0 = await server.stats();
    const c0 = cpuOf(children.map((c) => c.pid));
    const f0 = cpuOf(senderPids);
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    const c1 = cpuOf(children.map((c) => c.pid));
    const f1 = cpuOf(senderPids);
    const s1 = await server.stats();
    const m1 = machineCpu();
    const window = (performance.now() - t0) / 1000;
    const loadEnd = loadAverage();
    const mem = children.map((c) => memory(c.pid)?.peak ?? NaN);
    const ended = server.ended.length;

    const stopped = await Promise.all(
      started.map(async (s) => {
        const at = performance.now();
        await callBus(server.bus, busCalls.recorderStop, BENCH_RECORDER_ID, { recordingId: s.recordingId }, 30_000).catch((e: Error) => o.log(`    stop ${s.recordingId}: ${e.message}`));
        return { ...s, ranSeconds: (at - s.at) / 1000 };
      }),
    );
    for (const room of rooms) await room.stop(server.bus);
    rooms.length = 0;
    await server.close();

    // per recording: its child's CPU when the child names the recording (compose.py's output path), else an even share
    const perChild = children.map((c, i) => ({ cmdline: c.cmdline, cpu: (c1[i]! - c0[i]!) / window, peak: mem[i]! }));
    const cpus = stopped.map((s) => {
      const mine = perChild.filter((c) => c.cmdline.includes(s.recordingId));
      return mine.length > 0 ? mine.reduce((a, c) => a + c.cpu, 0) : NaN;
    });
    const total = perChild.reduce((a, c) => a + (Number.isFinite(c.cpu) ? c.cpu : 0), 0);
    const perRecording = cpus.every(Number.isFinite) ? cpus : stopped.map(() => total / o.recordings);
    const peaks = perChild.map((c) => c.peak).filter(Number.isFinite);

    const each: RecordingFigures[] = [];
    for (const s of stopped) {
      const files = mediaFiles(path.join(dataDir, 'recordings', s.recordingId));
      const { check, problems } = await judge(o.mode, files, o.participants, s.ranSeconds);
      each.push({ recordingId: s.recordingId, ranSeconds: s.ranSeconds, files: files.map((f) => path.basename(f)), check, problems });
    }
    if (ended > 0) each[0]?.problems.push(`${ended} recording(s) ended by themselves`);
    const sum = (a: number[]) => a.reduce((x, y) => x + (Number.isFinite(y) ? y : 0), 0);
    return {
      mode: o.mode,
      participants: o.participants,
      recordings: o.recordings,
      camera: o.camera,
      seconds: window,
      recordingCpu: { mean: sum(perRecording) / perRecording.length, min: Math.min(...perRecording), max: Math.max(...perRecording) },
      recordingPeakRss: { mean: sum(peaks) / Math.max(1, peaks.length), max: Math.max(0, ...peaks) },
      recordingProcesses: children.length,
      serverCpu: (s1.cpuUserUs - s0.cpuUserUs + s1.cpuSystemUs - s0.cpuSystemUs) / 1e6 / window,
      serverRss: s1.rss,
      sendersCpu: sum(f1.map((v, i) => v - f0[i]!)) / window,
      machineBusy: m1.total > m0.total ? (m1.busy - m0.busy) / (m1.total - m0.total) : NaN,
      load: { start: loadStart, end: loadEnd },
      each,
      ended,
      held: each.every((e) => e.problems.length === 0),
    };
  } finally {
    for (const room of rooms) await room.stop(server.bus).catch(() => {});
    await server.close().catch(() => {});
    if (!process.env.BENCH_KEEP) rmSync(dataDir, { recursive: true, force: true });
    else o.log(`    files kept in ${dataDir}`);
  }
}
