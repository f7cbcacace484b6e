// The SIP gateway's Opus encoding threads (src/sip/media/opus-encode-pool.ts) with both Opus implementations:
// six calls' voices (8 kHz tones of their own pitch, narrowband as meeting-link.ts codes a G.711 caller's, and
// 48 kHz wideband as an Opus caller's) given frame by frame as the frame clock gives them, interleaved, on two
// threads: each call's packets come back in order and decode to its own tone at its level. A closed encoder
// answers nothing more; after a thread dies, its calls go on encoding in this thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/log.ts';
import { createOpusDecoder, nativeOpus, type OpusImplementation } from '../../src/sip/media/opus-codec.ts';
import { localEncoder, OpusEncodePool, type FrameEncoder } from '../../src/sip/media/opus-encode-pool.ts';
import { phoneVoiceSpec } from '../../src/sip/meeting-link.ts';
import { pitch, rms, tone } from '../helpers/audio-tone.ts';

const impls: OpusImplementation[] = nativeOpus() !== null ? ['native', 'wasm'] : ['wasm'];

interface Voice {
  rate: 8000 | 48_000;
  hz: number;
  wave: Int16Array;
  encoder: FrameEncoder;
  packets: Uint8Array[];
  failed: number;
}

/** One tick: each voice's next frame, all given in one callback, as the frame clock does. */
function tick(voices: Voice[], n: number): void {
  for (const v of voices) {
    const len = v.rate / 50;
    v.encoder.encode(v.wave.slice(n * len, (n + 1) * len), (p) => (p ? v.packets.push(p.slice()) : v.failed++));
  }
}

/** Decodes a voice's packets at its rate; asserts the tone's pitch and level. */
function checkVoice(v: Voice, impl: OpusImplementation, frames: number): void {
  assert.equal(v.failed, 0);
  assert.equal(v.packets.length, frames, `${v.hz} Hz: ${v.packets.length} packets`);
  const dec = createOpusDecoder(v.rate, 1, impl);
  const len = v.rate / 50;
  const out = new Int16Array(frames * len);
  const pcm = new Int16Array(5760);
  v.packets.forEach((p, i) => {
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

for (const impl of impls) {
  test(`${impl}: six calls encoded on two threads come back in order, each its own tone`, async () => {
    const pool = OpusEncodePool.start(2, createLogger('silent'));
    try {
      const voices: Voice[] = [400, 700, 1000, 1300, 600, 900].map((hz, i) => {
        const rate = i < 4 ? 8000 : 48_000;
        return { rate, hz, wave: tone(rate, 1, hz, 8000), encoder: pool.encoder(phoneVoiceSpec(rate, impl)), packets: [], failed: 0 };
      });
      for (let n = 0; n < 50; n++) {
        tick(voices, n);
        await new Promise((r) => setTimeout(r, 5));
      }
      const done = () => voices.every((v) => v.packets.length + v.failed === 50);
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
      for (const v of voices) checkVoice(v, impl, 50);
      // closed: nothing more comes back
      const v0 = voices[0]!;
      v0.encoder.close();
      v0.encoder.encode(v0.wave.slice(0, 160), () => assert.fail('a closed encoder answered'));
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await pool.close();
    }
  });
}

test('a thread that dies: its calls encode in this thread from then on', async () => {
  const pool = OpusEncodePool.start(1, createLogger('silent'));
  try {
    const v: Voice = { rate: 8000, hz: 500, wave: tone(8000, 1, 500, 8000), encoder: pool.encoder(phoneVoiceSpec(8000)), packets: [], failed: 0 };
    for (let n = 0; n < 10; n++) {
      tick([v], n);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < 100 && v.packets.length < 10; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(v.packets.length, 10);
    // the thread goes away (as a crash would)
    await (pool as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads[0]!.worker.terminate();
    await new Promise((r) => setTimeout(r, 50)); // its exit event
    for (let n = 10; n < 50; n++) tick([v], n);
    assert.equal(v.packets.length, 50, 'encoded at once in this thread');
    // the encoder in this thread keeps its own state: the packets after the switch still decode to the tone
    checkVoice({ ...v, packets: v.packets.slice(10), wave: v.wave.subarray(10 * 160) }, impls[0]!, 40);
    // a new call after that encodes here too
    const w: Voice = { rate: 8000, hz: 800, wave: tone(8000, 1, 800, 8000), encoder: pool.encoder(phoneVoiceSpec(8000)), packets: [], failed: 0 };
    for (let n = 0; n < 50; n++) tick([w], n);
    checkVoice(w, impls[0]!, 50);
  } finally {
    await pool.close();
  }
});

test('an encoder in this thread answers at once', () => {
  const v: Voice = { rate: 8000, hz: 700, wave: tone(8000, 1, 700, 8000), encoder: localEncoder(phoneVoiceSpec(8000)), packets: [], failed: 0 };
  for (let n = 0; n < 50; n++) tick([v], n);
  checkVoice(v, impls[0]!, 50);
  v.encoder.close();
});
