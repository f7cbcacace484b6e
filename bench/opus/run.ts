// `npm run bench -- opus` (bench/opus/run.ts): the SIP gateway's Opus work, native libopus against its
// WebAssembly build, interleaved in one process: CPU per 20 ms frame to encode (48 kHz mono voice at 32 kbit/s,
// complexity 5: the phone's voice into the meeting, one per call) and to decode (a meeting speaker, once per
// room), and what that means in calls per core for the encoding alone.
import { parseArgs } from 'node:util';
import { createOpusDecoder, createOpusEncoder, nativeOpus, type OpusImplementation, type OpusMaxBandwidth } from '../../src/sip/media/opus-codec.ts';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '3' } } });
const FRAMES = Number(values.frames);
const ROUNDS = Number(values.rounds);
const RATE = 48_000;
const FRAME = 960;

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

function measure(impl: OpusImplementation, band: OpusMaxBandwidth): { encodeUs: number; decodeUs: number } {
  const enc = createOpusEncoder(RATE, 1, 32_000, impl, band);
  const dec = createOpusDecoder(RATE, 1, impl);
  const packets: Uint8Array[] = [];
  const out = new Uint8Array(1500);
  const frames = signal.length / FRAME;
  let t0 = cpuUs();
  for (let i = 0; i < FRAMES; i++) {
    const f = i % frames;
    const n = enc.encode(signal.subarray(f * FRAME, (f + 1) * FRAME), out);
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
// full band (a browser's microphone) and wideband (what the gateway codes a phone's voice as: meeting-link.ts)
const variants = impls.flatMap((impl) => (['fullband', 'wideband'] as const).map((band) => ({ impl, band, name: `${impl}, ${band}` })));
const results = new Map<string, { encodeUs: number[]; decodeUs: number[] }>();
for (const v of variants) measure(v.impl, v.band); // warm-up (WebAssembly compiles, caches fill)
for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) {
    const m = measure(v.impl, v.band);
    const e = results.get(v.name) ?? { encodeUs: [], decodeUs: [] };
    e.encodeUs.push(m.encodeUs);
    e.decodeUs.push(m.decodeUs);
    results.set(v.name, e);
  }
}
console.log(`${FRAMES} frames of 20 ms per round, ${ROUNDS} rounds interleaved; CPU µs per frame (each round)`);
console.log('| implementation, max bandwidth | encode µs/frame | decode µs/frame | calls one core encodes (50 frames/s each) |');
console.log('|---|---|---|---|');
for (const [name, r] of results) {
  const best = Math.min(...r.encodeUs);
  console.log(`| ${name} | ${r.encodeUs.map((v) => v.toFixed(1)).join(' / ')} | ${r.decodeUs.map((v) => v.toFixed(1)).join(' / ')} | ${Math.floor(1e6 / (best * 50))} |`);
}
