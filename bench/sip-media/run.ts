// `npm run bench -- sip-media` (bench/sip-media/run.ts): the CPU one phone call's media costs the SIP gateway,
// G.711 (or Opus) both ways. N calls (PhoneMedia, in a process of their own: bench/sip-media/calls-process.ts) each get a
// 1 kHz tone as PCMU (PCMA, Opus) RTP in real time (50 packets/s) from this process, over UDP on 127.0.0.1, and send back as
// RTP what they take out of it (each frame the jitter buffer gives goes to play()). Measured over a window after
// a warm-up: the calls' process CPU, and whether the audio kept up (frames given and packets back against 50 per
// second per call, concealed frames, ticks of the 20 ms clock skipped). The Opus toward the meeting is not in it
// (`npm run bench -- opus`); with `--codec opus` the phone's own Opus is (a decoder and an encoder per call).
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { g711Encode } from '../../src/sip/media/g711.ts';
import { createOpusEncoder } from '../../src/sip/media/opus-codec.ts';
import { IpcChild } from '../ipc-child.ts';
import { fmt, table } from '../stats.ts';
import type { CallsConfig, CallsStats } from './calls-process.ts';

const USAGE = `usage: npm run bench -- sip-media [--calls 50,100,200] [--seconds 10] [--codec pcmu|pcma|opus]`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', default: false },
    calls: { type: 'string', default: '50,100,200' },
    seconds: { type: 'string', default: '10' },
    codec: { type: 'string', default: 'pcmu' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const counts = values.calls.split(',').map(Number);
const seconds = Number(values.seconds);
const codec = values.codec as 'pcmu' | 'pcma' | 'opus';
if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > 450) || !(seconds > 0) || !['pcmu', 'pcma', 'opus'].includes(codec)) {
  console.error(USAGE);
  process.exit(2);
}
const WARMUP_MS = 2000;
const PORT_MIN = 44000;
const PORT_MAX = 44999;

/** One second of a 1 kHz tone, as 50 payloads of 20 ms (G.711 at 8 kHz, or Opus at 48 kHz, 32 kbit/s). */
function tonePayloads(): Buffer[] {
  const rate = codec === 'opus' ? 48000 : 8000;
  const frame = rate / 50;
  const pcm = new Int16Array(rate);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / rate));
  const encoder = codec === 'opus' ? createOpusEncoder(48000, 1, 32_000) : null;
  const out: Buffer[] = [];
  for (let f = 0; f < 50; f++) {
    const b = Buffer.alloc(1500);
    const samples = pcm.subarray(f * frame, (f + 1) * frame);
    const n = encoder !== null ? encoder.encode(samples, b) : g711Encode(codec as 'pcmu' | 'pcma', samples, b);
    out.push(b.subarray(0, n));
  }
  encoder?.close();
  return out;
}

interface Row {
  calls: number;
  cpuPercent: number;
  perCallPercent: number;
  frames: number;
  back: number;
  concealed: number;
  skipped: number;
  tickMs: number;
  longestTickMs: number;
  driverLate: number;
  rssMb: number;
}

async function run(calls: number): Promise<Row> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  let back = 0;
  socket.on('message', () => back++);
  const config: CallsConfig = { calls, codec, phonePort: socket.address().port, portMin: PORT_MIN, portMax: PORT_MAX };
  const child = new IpcChild(path.join(import.meta.dirname, 'calls-process.ts'), {
    what: 'the calls process',
    execArgv: ['--disable-warning=ExperimentalWarning'],
    env: { ...process.env, BENCH_SIP_MEDIA: JSON.stringify(config) },
  });
  const { ports } = (await child.ready) as { ports: number[] };
  const payloads = tonePayloads();
  const ticksPerFrame = codec === 'opus' ? 960 : 160;
  const packets = ports.map((_, i) => {
    const b = Buffer.alloc(12 + 1500);
    b[0] = 0x80;
    b[1] = { pcmu: 0, pcma: 8, opus: 111 }[codec];
    b.writeUInt32BE(0x10000 + i, 8);
    return b;
  });
  // real-time pacing against the clock: a late timer sends the frames it owes at once
  let frame = 0;
  let driverLate = 0;
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    const due = Math.floor((performance.now() - start) / 20);
    if (due - frame > 1) driverLate += due - frame - 1;
    for (; frame <= due; frame++) {
      for (let i = 0; i < ports.length; i++) {
        const b = packets[i]!;
        const payload = payloads[frame % 50]!;
        b.writeUInt16BE(frame & 0xffff, 2);
        b.writeUInt32BE((frame * ticksPerFrame) >>> 0, 4);
        payload.copy(b, 12);
        socket.send(b, 0, 12 + payload.length, ports[i]!, '127.0.0.1');
      }
    }
    timer = setTimeout(send, Math.max(0, start + frame * 20 - performance.now()));
  };
  send();
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const s0 = (await child.request({ op: 'stats' })) as unknown as CallsStats;
  const back0 = back;
  const late0 = driverLate;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const s1 = (await child.request({ op: 'stats' })) as unknown as CallsStats;
  const back1 = back;
  clearTimeout(timer);
  await child.request({ op: 'close' }).catch(() => {});
  socket.close();
  const wallUs = (s1.wallMs - s0.wallMs) * 1000;
  const expected = (calls * 50 * (s1.wallMs - s0.wallMs)) / 1000;
  const cpuPercent = ((s1.cpuUs - s0.cpuUs) / wallUs) * 100;
  return {
    calls,
    cpuPercent,
    perCallPercent: cpuPercent / calls,
    frames: (s1.frames - s0.frames) / expected,
    back: (back1 - back0) / expected,
    concealed: s1.concealed - s0.concealed,
    skipped: s1.clockSkipped - s0.clockSkipped,
    tickMs: (s1.clockBusyMs - s0.clockBusyMs) / ((s1.wallMs - s0.wallMs) / 20),
    longestTickMs: s1.clockLongestMs,
    driverLate: driverLate - late0,
    rssMb: s1.rss / 2 ** 20,
  };
}

const rows: Row[] = [];
for (const n of counts) rows.push(await run(n));
console.log(`${codec === 'opus' ? 'Opus' : codec.toUpperCase()} both ways, ${seconds} s windows after ${WARMUP_MS / 1000} s of warm-up; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
console.log(
  table(
    ['calls', 'calls process CPU (1 core = 100%)', 'per call (% of a core)', 'calls one core holds', 'frames given / due', 'RTP back / due', 'concealed frames', '20 ms tick: mean / longest ms', 'ticks skipped', 'driver late sends', 'RSS MiB'],
    rows.map((r) => [String(r.calls), fmt(r.cpuPercent), fmt(r.perCallPercent, 3), String(Math.floor(100 / r.perCallPercent)), fmt(r.frames, 3), fmt(r.back, 3), String(r.concealed), `${fmt(r.tickMs, 2)} / ${fmt(r.longestTickMs, 1)}`, String(r.skipped), String(r.driverLate), fmt(r.rssMb, 0)]),
  ),
);
