// `npm run bench -- recording`: what a recording costs and how many run at once in real time on this machine.
// For each number of participants per recording, steps through the numbers of recordings at once (each step:
// a fresh server, N rooms of k plain-RTP senders, N recordings; step.ts), `--repeat` times each, and stops
// climbing after the first number that did not keep real time in every repeat. Options: USAGE.
import { parseArgs } from 'node:util';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, median, table } from '../stats.ts';
import { loadAverage, machineCpu } from './proc.ts';
import { CAMERAS, haveFfmpeg, senderClip, type Camera } from './senders.ts';
import { DROP_LIMIT, FRESH_LIMIT, LENGTH_LIMIT_S, runStep, type RecordingMode, type StepResult } from './step.ts';

const USAGE = `usage: npm run bench -- recording [options]
  --short                    harness check: one recording of 2 participants for a few seconds; exits 1 when the
                             file is missing, not H.264 + AAC, does not decode, or a figure is missing (no timing)
  --participants K           participants per recording (repeatable; default 3 and 6)
  --recordings LIST          numbers of recordings at once to step through (default 1,2,3,4,5,6,7,8)
  --repeat N                 runs of each step (default 1); a step holds when every run kept real time
  --seconds N                measured seconds per step (default 30), after --warmup seconds (default 5)
  --camera 720p|360p         what each participant sends (default 720p: a browser's top simulcast layer)
  --mode composed|multitrack what the recorder makes (default composed)
  --server-config JSON       extra server settings, e.g. '{"recordingVideoBitrate":2000}'
  --wait-idle PCT            before each step wait (10 min at most) until the machine's CPU use over 5 s is at
                             most PCT% (a shared machine: other users' load spoils the real-time figures)
  --no-stop                  step through every number even after one that did not keep real time
  --write-doc                also rewrite a figures block of docs/BENCHMARKS.md
  --doc-section NAME         which block --write-doc replaces (default recording)
  --json FILE                save the results
  --doc-from FILE            write the doc block from a saved --json run instead of running`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        help: { type: 'boolean', default: false },
        short: { type: 'boolean', default: false },
        participants: { type: 'string', multiple: true },
        recordings: { type: 'string', default: '1,2,3,4,5,6,7,8' },
        repeat: { type: 'string', default: '1' },
        seconds: { type: 'string', default: '30' },
        warmup: { type: 'string', default: '5' },
        camera: { type: 'string', default: '720p' },
        mode: { type: 'string', default: 'composed' },
        'server-config': { type: 'string', default: '{}' },
        'no-stop': { type: 'boolean', default: false },
        'wait-idle': { type: 'string' },
        'write-doc': { type: 'boolean', default: false },
        'doc-section': { type: 'string', default: 'recording' },
        json: { type: 'string' },
        'doc-from': { type: 'string' },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

function positiveInts(text: string, what: string): number[] {
  const list = text.split(',').map((x) => Number(x.trim()));
  if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n > 0 && n <= 64)) {
    console.error(`--${what}: whole numbers from 1 to 64, comma-separated\n${USAGE}`);
    process.exit(2);
  }
  return list;
}

const DOC = path.join(import.meta.dirname, '..', '..', 'docs', 'BENCHMARKS.md');

export function machine(): string {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1]!.trim();
  } catch {
    // not Linux
  }
  return `${os.availableParallelism()} × ${model}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}`;
}

const pct = (share: number) => `${fmt(share * 100, 0)}%`;
const mib = (b: number) => fmt(b / 2 ** 20, 0);

function stepRow(s: StepResult, run: number): string[] {
  const checks = s.each.map((e) => e.check).filter((c) => c !== null);
  const dropped = Math.max(0, ...checks.map((c) => c.droppedFrames / Math.max(1, c.expectedFrames)));
  const fresh = checks.length ? Math.min(...checks.flatMap((c) => c.tileFresh)) : NaN;
  const lengthOff = Math.max(0, ...s.each.filter((e) => e.check).map((e) => Math.abs(e.check!.duration - e.ranSeconds)));
  const decodeErrors = s.each.filter((e) => e.check?.decodeErrors).length;
  return [
    `${s.participants}`,
    `${s.recordings}`,
    `${run}`,
    `${pct(s.recordingCpu.mean)} (${pct(s.recordingCpu.min)}–${pct(s.recordingCpu.max)})`,
    `${mib(s.recordingPeakRss.mean)} / ${mib(s.recordingPeakRss.max)}`,
    pct(s.serverCpu),
    pct(s.sendersCpu),
    pct(s.machineBusy),
    `${fmt(s.load.start[0]!, 1)} → ${fmt(s.load.end[0]!, 1)}`,
    `${fmt(dropped * 100, 1)}%`,
    `${fmt(fresh * 100, 1)}%`,
    `${fmt(lengthOff, 1)} s`,
    `${decodeErrors}`,
    s.held ? 'yes' : 'no',
  ];
}

const STEP_HEADER = [
  'participants', 'recordings at once', 'run', 'CPU per recording (1 core = 100%): mean (min–max)', 'peak RSS per recording MiB: mean / max',
  'server process CPU', 'senders CPU', 'machine busy (2 cores = 100%)', 'load avg 1 min', 'output frames dropped (worst)',
  'camera frames shown (worst tile)', 'length vs wall clock (worst)', 'files with decode errors', 'real time',
];

interface Summary {
  participants: number;
  cpu: number;
  peakRss: number;
  most: number;
  tried: number;
  /** "1: 2/2, 2: 1/2": runs that kept real time, by number at once. */
  byCount: string;
}

function summarise(results: StepResult[]): Summary[] {
  const out: Summary[] = [];
  for (const k of [...new Set(results.map((r) => r.participants))]) {
    const mine = results.filter((r) => r.participants === k);
    const single = mine.filter((r) => r.recordings === 1);
    const base = single.length ? single : mine;
    const counts = [...new Set(mine.map((r) => r.recordings))].sort((a, b) => a - b);
    let most = 0;
    for (const n of counts) {
      if (mine.filter((r) => r.recordings === n).every((r) => r.held)) most = n;
      else break;
    }
    out.push({
      participants: k,
      cpu: median(base.map((r) => r.recordingCpu.mean)),
      peakRss: median(base.map((r) => r.recordingPeakRss.max)),
      most,
      tried: Math.max(...counts),
      byCount: counts.map((n) => {
        const runs = mine.filter((r) => r.recordings === n);
        return `${n}: ${runs.filter((r) => r.held).length}/${runs.length}`;
      }).join(', '),
    });
  }
  return out;
}

function report(results: StepResult[], command: string, when: string): string {
  const mode = results[0]?.mode ?? 'composed';
  const camera = (results[0]?.camera ?? '720p') as Camera;
  const cam = CAMERAS[camera];
  const runs = new Map<string, number>();
  const rows = results.map((r) => {
    const key = `${r.participants}x${r.recordings}`;
    runs.set(key, (runs.get(key) ?? 0) + 1);
    return stepRow(r, runs.get(key)!);
  });
  const summary = summarise(results);
  return [
    `Measured ${when} with \`${command}\` on ${machine()}; ${mode} recordings, ${results[0]?.seconds.toFixed(0) ?? '?'} s measured per step.`,
    `Each participant sends VP8 ${cam.width}x${cam.height} 30 fps ~${cam.kbps} kbit/s (a keyframe a second) and Opus over plain RTP ` +
      `(one ffmpeg per room copying a pre-encoded clip). A recording keeps real time when its file decodes without an error, ` +
      `under ${DROP_LIMIT * 100}% of its output frames are missing, every camera's picture is new in at least ${FRESH_LIMIT * 100}% of the output frames, ` +
      `and it lasts as long as it ran (±${LENGTH_LIMIT_S} s), audio too.`,
    '',
    table(
      ['participants per recording', 'CPU per recording (1 at once)', 'peak RSS per recording', 'most recordings at once in real time', 'runs in real time, by recordings at once'],
      summary.map((s) => [`${s.participants}`, pct(s.cpu), `${mib(s.peakRss)} MiB`, s.most === s.tried ? `${s.most} (the most tried)` : `${s.most}`, s.byCount]),
    ),
    '',
    'Every step (the server process runs focus, the bridge and the recorder part; the recordings are its child processes):',
    '',
    table(STEP_HEADER, rows),
  ].join('\n');
}

function writeDoc(text: string, section: string): void {
  const BEGIN = `<!-- bench:${section}:begin -->`;
  const END = `<!-- bench:${section}:end -->`;
  const block = `${BEGIN}\n${text}\n${END}`;
  const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Benchmarks\n`;
  const i = doc.indexOf(BEGIN);
  const j = doc.indexOf(END);
  writeFileSync(DOC, i >= 0 && j > i ? doc.slice(0, i) + block + doc.slice(j + END.length) : `${doc}\n${block}\n`);
  console.log(`bench: recording figures written to ${path.relative(process.cwd(), DOC)}`);
}

/** Waits until the machine's CPU use over 5 s is at most `share` (10 minutes at most). */
async function waitIdle(share: number): Promise<void> {
  const t0 = Date.now();
  for (let i = 0; ; i++) {
    const a = machineCpu();
    await new Promise((r) => setTimeout(r, 5000));
    const b = machineCpu();
    const busy = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
    if (busy <= share) return;
    if (Date.now() - t0 > 600_000) {
      console.log(`  the machine is still ${pct(busy)} busy after 10 minutes: measuring anyway`);
      return;
    }
    if (i % 6 === 0) console.log(`  the machine is ${pct(busy)} busy (load ${loadAverage()[0]!.toFixed(1)}): waiting`);
  }
}

interface SavedRun {
  command: string;
  date: string;
  results: StepResult[];
}

async function main(): Promise<void> {
  const { values } = parseOptions();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const quote = (a: string) => (/^[\w./=,-]*$/.test(a) ? a : `'${a}'`);
  const command = ['npm run bench -- recording', ...process.argv.slice(2).filter((a) => a !== '--write-doc').map(quote)]
    .join(' ')
    .replace(/ --json \S+/, '')
    .replace(/ --doc-section \S+/, '');
  if (values['doc-from']) {
    const saved = JSON.parse(readFileSync(values['doc-from'], 'utf8')) as SavedRun;
    writeDoc(report(saved.results, saved.command, saved.date), values['doc-section']);
    return;
  }
  if (!haveFfmpeg()) {
    console.error('bench recording: ffmpeg and ffprobe are needed (./scripts/bench installs them)');
    process.exit(1);
  }
  const camera = values.camera as Camera;
  if (!(camera in CAMERAS)) {
    console.error(`--camera: ${Object.keys(CAMERAS).join(' or ')}\n${USAGE}`);
    process.exit(2);
  }
  const mode = values.mode as RecordingMode;
  if (mode !== 'composed' && mode !== 'multitrack') {
    console.error(`--mode: composed or multitrack\n${USAGE}`);
    process.exit(2);
  }
  let serverConfig: Record<string, unknown>;
  try {
    serverConfig = JSON.parse(values['server-config']) as Record<string, unknown>;
  } catch {
    console.error(`--server-config: not JSON\n${USAGE}`);
    process.exit(2);
  }
  const short = values.short;
  const participants = short ? [2] : positiveInts((values.participants ?? ['3', '6']).join(','), 'participants');
  const counts = short ? [1] : positiveInts(values.recordings, 'recordings');
  const repeat = short ? 1 : positiveInts(values.repeat, 'repeat')[0]!;
  const seconds = short ? 4 : positiveInts(values.seconds, 'seconds')[0]!;
  const warmupSeconds = short ? 3 : Number(values.warmup);
  const clip = senderClip(camera);
  console.log(`bench recording: ${machine()}; ${mode}, cameras ${camera}, ${participants.join(' and ')} participants, ${counts.join(',')} at once, ${repeat} run(s) each`);

  const results: StepResult[] = [];
  for (const k of participants) {
    for (const n of counts) {
      let held = true;
      for (let run = 1; run <= repeat; run++) {
        if (values['wait-idle'] !== undefined) await waitIdle(Number(values['wait-idle']) / 100);
        const r = await runStep({ mode, participants: k, recordings: n, camera, clip, seconds, warmupSeconds, serverConfig, log: (l) => console.log(l) });
        results.push(r);
        held &&= r.held;
        console.log(`  ${k} participants × ${n} at once, run ${run}: ${r.held ? 'real time' : 'NOT real time'}; ` +
          `CPU per recording ${pct(r.recordingCpu.mean)}, peak RSS ${mib(r.recordingPeakRss.max)} MiB, server ${pct(r.serverCpu)}, senders ${pct(r.sendersCpu)}, ` +
          `machine ${pct(r.machineBusy)}, load ${r.load.end.map((x) => x.toFixed(2)).join(' ')}`);
        for (const e of r.each) {
          const c = e.check;
          const detail = c
            ? `${c.frames} frames (${c.droppedFrames} dropped, longest gap ${c.longestGapMs.toFixed(0)} ms), cameras new in ${c.tileFresh.map((f) => (f * 100).toFixed(1) + '%').join(' ')}, ` +
              `${c.duration.toFixed(1)} s (ran ${e.ranSeconds.toFixed(1)} s, audio ${c.audioSeconds.toFixed(1)} s)`
            : e.files.join(', ');
          console.log(`    ${e.recordingId}: ${detail}${e.problems.length ? ` — ${e.problems.join('; ')}` : ''}`);
        }
      }
      if (!held && !values['no-stop'] && !short) break;
    }
  }
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const text = report(results, command, date);
  console.log('');
  console.log(text);
  if (values.json) writeFileSync(values.json, JSON.stringify({ command, date, results } satisfies SavedRun, null, 2));
  if (values['write-doc']) writeDoc(text, values['doc-section']);
  if (short) {
    // the harness works: a file of the right kind, decodable, and every figure measured (never a timing threshold)
    const r = results[0]!;
    const c = r.each[0]?.check;
    const figures = [r.recordingCpu.mean, r.recordingPeakRss.max, r.serverCpu, r.sendersCpu, r.machineBusy];
    const broken =
      !c || c.video?.codec !== 'h264' || c.audioCodec !== 'aac' || c.decodeErrors !== '' || c.frames === 0 || !figures.every((x) => Number.isFinite(x) && x > 0) || r.recordingProcesses !== 1;
    if (broken) {
      console.error(`bench recording --short: FAILED (${c ? `${c.video?.codec}/${c.audioCodec}, ${c.frames} frames, errors: ${c.decodeErrors || 'none'}` : 'no file'}; figures ${figures.join(' ')}; ${r.recordingProcesses} recording processes)`);
      process.exit(1);
    }
    console.log('bench recording --short: ok');
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
