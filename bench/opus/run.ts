// `npm run bench -- opus` (bench/opus/run.ts): the SIP gateway's Opus work, native libopus against its
// WebAssembly build, interleaved in one process: CPU per 20 ms frame to encode (mono voice at 32 kbit/s: the
// phone's voice into the meeting, one per call; 48 kHz at complexity 5, full band as a browser's and wideband as
// an Opus phone's, and 8 kHz narrowband at complexity 5 and 3 as a G.711 phone's) and to decode (a meeting speaker,
// once per room, at the encoder's rate), and what that means in calls per core for the encoding alone.
import { parseArgs } from 'node:util';
import { createOpusDecoder, createOpusEncoder, nativeOpus, type OpusImplementation, type OpusMaxBandwidth } from '../../src/sip/media/opus-codec.ts';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '3' } } });
const FRAMES = Number(values.frames);
const ROUNDS = Number(values.rounds);
const RATE = 48_000;
const FRAME = 960;
const NARROW = 6; // 48 kHz samples per 8 kHz one

// a voice-like signal: a few harmonics with a slow vibrato and noise, so the encoder does real work
const signal = new Int16Array(FRAME * 500);
for (let i = 0; i < signal.length; i++) {
  const t = i / RATE;
  const f = 140 + 20 * Math.sin(2 * Math.PI * 3 * t);
  let v = 0;
  for (let h = 1; h <= 8; h++) v += Math.sin(2 * Math.PI * f * h * t) / h;
  signal[i] = Math.round(3000 * v + (Math.random() - 0.5) * 400);
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

// the same voice at 8 kHz (its harmonics are below 1.2 kHz: every sixth sample is the signal, no aliasing)
const narrowSignal = new Int16Array(signal.length / NARROW);
for (let i = 0; i < narrowSignal.length; i++) narrowSignal[i] = signal[i * NARROW]!;

interface Variant {
  impl: OpusImplementation;
  band: OpusMaxBandwidth;
  rate: 48_000 | 8000;
  complexity: number;
  name: string;
}

function measure(v: Variant): { encodeUs: number; decodeUs: number } {
  const enc = createOpusEncoder(v.rate, 1, 32_000, v.impl, v.band, v.complexity);
  const dec = createOpusDecoder(v.rate, 1, v.impl);
  const packets: Uint8Array[] = [];
  const out = new Uint8Array(1500);
  const input = v.rate === RATE ? signal : narrowSignal;
  const frame = v.rate / 50;
  const frames = input.length / frame;
  let t0 = cpuUs();
  for (let i = 0; i < FRAMES; i++) {
    const f = i % frames;
    const n = enc.encode(input.subarray(f * frame, (f + 1) * frame), out);
    if (i < frames) packets.push(out.slice(0, n));
  }
  const encodeUs = (cpuUs() - t0) / FRAMES;
  const pcm = new Int16Array(5760);
  t0 = cpuUs();
  for (let i = 0; i < FRAMES; i++) dec.decode(packets[i % packets.length]!, pcm);
  const decodeUs = (cpuUs() - t0) / FRAMES;
  enc.close();
  dec.close();
  return { encodeUs, decodeUs };
}

const impls: OpusImplementation[] = nativeOpus() !== null ? ['native', 'wasm'] : ['wasm'];
if (impls.length === 1) console.log('the native module is not built (libopus-dev, scripts/build-native.sh): WebAssembly only');
// full band (a browser's microphone), wideband (an Opus phone's voice: meeting-link.ts) and narrowband from
// 8 kHz (a G.711 phone's voice: meeting-link.ts, at complexity 3; 5 for comparison)
const variants: Variant[] = impls.flatMap((impl) => [
  { impl, band: 'fullband' as const, rate: RATE, complexity: 5, name: `${impl}, fullband, 48 kHz, complexity 5` },
  { impl, band: 'wideband' as const, rate: RATE, complexity: 5, name: `${impl}, wideband, 48 kHz, complexity 5` },
  { impl, band: 'narrowband' as const, rate: 8000 as const, complexity: 5, name: `${impl}, narrowband, 8 kHz, complexity 5` },
  { impl, band: 'narrowband' as const, rate: 8000 as const, complexity: 3, name: `${impl}, narrowband, 8 kHz, complexity 3` },
]);
const results = new Map<string, { encodeUs: number[]; decodeUs: number[] }>();
for (const v of variants) measure(v); // warm-up (WebAssembly compiles, caches fill)
for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) {
    const m = measure(v);
    const e = results.get(v.name) ?? { encodeUs: [], decodeUs: [] };
    e.encodeUs.push(m.encodeUs);
    e.decodeUs.push(m.decodeUs);
    results.set(v.name, e);
  }
}
console.log(`${FRAMES} frames of 20 ms per round, ${ROUNDS} rounds interleaved; CPU µs per frame (each round)`);
console.log('| implementation, max bandwidth, input rate, complexity | encode µs/frame | decode µs/frame | calls one core encodes (50 frames/s each) |');
console.log('|---|---|---|---|');
for (const [name, r] of results) {
  const best = Math.min(...r.encodeUs);
  console.log(`| ${name} | ${r.encodeUs.map((v) => v.toFixed(1)).join(' / ')} | ${r.decodeUs.map((v) => v.toFixed(1)).join(' / ')} | ${Math.floor(1e6 / (best * 50))} |`);
}
