// The callers' voices into the meeting (src/sip/media/voice-uplink.ts) on the gateway's encoding threads
// (media-threads.ts), with both Opus implementations: six calls (8 kHz tones of their own pitch, as a G.711 caller's
// voice, and 48 kHz ones, as an Opus caller's), their frames given as the frame clock gives them, interleaved, on
// two threads, sent as SRTP to a UDP socket here standing in for the bridge: each call's packets authenticate
// with its key, carry its SSRC, a sequence without holes, the audio level, and decode to its own tone at its
// level. A closed uplink sends nothing more; when a thread dies, its calls are told (they hang up) and new calls
// send from this thread. The threads start with the first call; an uplink repointed (the meeting moved to another
// bridge) sends to the new address with the new key, its RTP sequence going on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { rtpHeaderLength, rtpPayloadEnd, rtpSeq, rtpSsrc } from '../../src/bridge/packet/rtp.ts';
import { SrtpSession } from '../../src/bridge/packet/srtp.ts';
import { createLogger } from '../../src/log.ts';
import { createOpusDecoder, nativeOpus, type OpusImplementation } from '../../src/sip/media/opus-codec.ts';
import { localUplink, MediaThreads, type Uplink } from '../../src/sip/media/media-threads.ts';
import type { UplinkSpec } from '../../src/sip/media/voice-uplink.ts';
import { pitch, rms, tone } from '../helpers/audio-tone.ts';

const impls: OpusImplementation[] = nativeOpus() !== null ? ['native', 'wasm'] : ['wasm'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Voice {
  rate: 8000 | 48_000;
  hz: number;
  wave: Int16Array;
  spec: UplinkSpec;
  srtp: SrtpSession;
  uplink: Uplink;
  /** Payloads received, and their sequence numbers and audio levels. */
  payloads: Buffer[];
  seqs: number[];
  levels: number[];
}

/** The bridge's side: one socket; each packet unprotected with its sender's key. */
async function bridge(voices: () => Voice[]): Promise<{ port: number; close: () => void; strangers: () => number }> {
  const socket = dgram.createSocket('udp4');
  let strangers = 0;
  socket.on('message', (msg) => {
    const v = voices().find((x) => x.spec.ssrc === rtpSsrc(msg));
    const len = v ? v.srtp.unprotectRtp(msg, msg.length) : -1;
    if (!v || len < 0) return void strangers++;
    v.seqs.push(rtpSeq(msg));
    v.levels.push(msg[17]! & 0x7f);
    v.payloads.push(Buffer.from(msg.subarray(rtpHeaderLength(msg, len), rtpPayloadEnd(msg, len))));
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: (socket.address() as AddressInfo).port, close: () => socket.close(), strangers: () => strangers };
}

function voice(rate: 8000 | 48_000, hz: number, port: number, impl: OpusImplementation | undefined, make: (spec: UplinkSpec) => Uplink): Voice {
  const key = randomBytes(30);
  const spec: UplinkSpec = { ssrc: randomBytes(4).readUInt32BE(0), srtpKey: key.toString('base64'), address: '127.0.0.1', port, ...(impl ? { impl } : {}) };
  return { rate, hz, wave: tone(rate, 1, hz, 8000), spec, srtp: new SrtpSession('AES_CM_128_HMAC_SHA1_80', key.subarray(0, 16), key.subarray(16)), uplink: make(spec), payloads: [], seqs: [], levels: [] };
}

/** Frames from..to of each voice, one tick (all voices in one callback) every 20 ms, as the frame clock does. */
async function speak(voices: Voice[], from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) {
    for (const v of voices) {
      const len = v.rate / 50;
      v.uplink.send(v.wave.slice(n * len, (n + 1) * len));
    }
    await sleep(20);
  }
}

/** The voice's packets (from `first` on) decode at its rate to its tone; sequence without holes; a level. */
function checkVoice(v: Voice, impl: OpusImplementation, frames: number, first = 0): void {
  const payloads = v.payloads.slice(first);
  assert.equal(payloads.length, frames, `${v.hz} Hz: ${payloads.length} packets`);
  const seqs = v.seqs.slice(first);
  for (let i = 1; i < seqs.length; i++) assert.equal((seqs[i]! - seqs[i - 1]!) & 0xffff, 1, 'in order, none missing');
  assert.ok(v.levels.slice(first + 5).every((l) => l > 0 && l < 30), `a tone of 8000 is about -12 dBov: ${v.levels.slice(0, 8)}`);
  const dec = createOpusDecoder(v.rate, 1, impl);
  const len = v.rate / 50;
  const out = new Int16Array(frames * len);
  const pcm = new Int16Array(5760);
  payloads.forEach((p, i) => {
    assert.equal(dec.decode(p, pcm), len);
    out.set(pcm.subarray(0, len), i * len);
  });
  dec.close();
  const steady = out.subarray(v.rate / 10);
  const hz = pitch(steady, v.rate);
  assert.ok(Math.abs(hz - v.hz) < 10, `${v.hz} Hz at ${v.rate}: pitch ${hz.toFixed(1)}`);
  const level = rms(steady) / rms(v.wave.subarray(0, steady.length));
  assert.ok(level > 0.8 && level < 1.25, `${v.hz} Hz at ${v.rate}: level ratio ${level.toFixed(2)}`);
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !ok(); i++) await sleep(20);
  assert.ok(ok(), what);
}

for (const impl of impls) {
  test(`${impl}: six calls' voices sent from two threads arrive in order, each its own tone, with its key`, async () => {
    const pool = new MediaThreads(2, createLogger('silent'));
    let voices: Voice[] = [];
    const b = await bridge(() => voices);
    try {
      voices = [400, 700, 1000, 1300, 600, 900].map((hz, i) => voice(i < 4 ? 8000 : 48_000, hz, b.port, impl, (s) => pool.uplink(s, () => assert.fail('no thread died'))));
      await speak(voices, 0, 50);
      await until('every packet', () => voices.every((v) => v.payloads.length >= 50));
      for (const v of voices) checkVoice(v, impl, 50);
      assert.equal(b.strangers(), 0);
      // closed: nothing more is sent
      const v0 = voices[0]!;
      v0.uplink.close();
      v0.uplink.send(v0.wave.slice(0, 160));
      await sleep(200);
      assert.equal(v0.payloads.length, 50);
    } finally {
      await pool.close();
      b.close();
    }
  });
}

test('the threads start with the first call, not before', async () => {
  const pool = new MediaThreads(2, createLogger('silent'));
  let voices: Voice[] = [];
  const b = await bridge(() => voices);
  try {
    assert.equal(pool.threadCount, 0, 'a gateway with no calls runs no encoding thread');
    const v = voice(8000, 500, b.port, undefined, (s) => pool.uplink(s, () => assert.fail('no thread died')));
    voices = [v];
    assert.equal(pool.threadCount, 2);
    await speak([v], 0, 20);
    await until('twenty packets', () => v.payloads.length >= 20);
  } finally {
    await pool.close();
    b.close();
  }
});

for (const where of ['thread', 'local'] as const) {
  test(`${where}: a repointed uplink sends its next frames to the new bridge with the new key`, async () => {
    const pool = new MediaThreads(1, createLogger('silent'));
    let first: Voice[] = [];
    let second: Voice[] = [];
    const a = await bridge(() => first);
    const b = await bridge(() => second);
    try {
      const v = voice(8000, 500, a.port, undefined, (s) => (where === 'thread' ? pool.uplink(s, () => assert.fail('no thread died')) : localUplink(s)));
      first = [v];
      await speak([v], 0, 20);
      await until('twenty packets at the first bridge', () => v.payloads.length >= 20);
      // the new bridge: its port and its own key
      const key = randomBytes(30);
      const moved: Voice = { ...v, spec: { ...v.spec, port: b.port, srtpKey: key.toString('base64') }, srtp: new SrtpSession('AES_CM_128_HMAC_SHA1_80', key.subarray(0, 16), key.subarray(16)), payloads: [], seqs: [], levels: [] };
      second = [moved];
      v.uplink.repoint({ srtpKey: moved.spec.srtpKey, address: '127.0.0.1', port: b.port });
      await speak([moved], 20, 50);
      await until('thirty packets at the second bridge', () => moved.payloads.length >= 30);
      assert.equal(v.payloads.length, 20, 'nothing more at the first bridge');
      assert.equal(b.strangers(), 0, 'every packet at the new bridge authenticates with its key');
      const seqs = moved.seqs;
      for (let i = 1; i < seqs.length; i++) assert.equal((seqs[i]! - seqs[i - 1]!) & 0xffff, 1, 'the RTP sequence goes on');
      v.uplink.close();
    } finally {
      await pool.close();
      a.close();
      b.close();
    }
  });
}

test('a thread that dies: its calls are told, once; new calls send from this thread', async () => {
  const pool = new MediaThreads(1, createLogger('silent'));
  let voices: Voice[] = [];
  const b = await bridge(() => voices);
  try {
    let failed = 0;
    const v = voice(8000, 500, b.port, undefined, (s) => pool.uplink(s, () => failed++));
    voices = [v];
    await speak([v], 0, 10);
    await until('ten packets', () => v.payloads.length >= 10);
    // the thread goes away (as a crash would)
    await (pool as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads[0]!.worker.terminate();
    await until('the call told', () => failed === 1);
    await speak([v], 10, 12);
    assert.equal(failed, 1, 'told once');
    const w = voice(8000, 800, b.port, undefined, (s) => pool.uplink(s, () => assert.fail('a thread died under a new call')));
    voices = [v, w];
    await speak([w], 0, 50);
    await until('the new call', () => w.payloads.length >= 50);
    checkVoice(w, impls[0]!, 50);
  } finally {
    await pool.close();
    b.close();
  }
});

test("an uplink in this thread (one core) sends at once from its own socket", async () => {
  let voices: Voice[] = [];
  const b = await bridge(() => voices);
  try {
    const v = voice(8000, 700, b.port, undefined, (s) => localUplink(s));
    voices = [v];
    await speak([v], 0, 50);
    await until('every packet', () => v.payloads.length >= 50);
    checkVoice(v, impls[0]!, 50);
    v.uplink.close();
  } finally {
    b.close();
  }
});
