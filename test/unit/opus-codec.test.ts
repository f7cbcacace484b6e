// Opus for the SIP gateway (src/sip/media/opus-codec.ts): libopus through the native module and through
// WebAssembly (opusscript). A 440 Hz tone, one second in 20 ms frames, encoded by one and decoded by the
// other (all four pairs): the tone comes back at its pitch and level. A lost packet is concealed (native) or
// silence (WebAssembly); a corrupt packet is an error, not a crash; bad arguments are clear errors. A maximum
// bandwidth holds (the TOC byte says what was coded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpusDecoder, createOpusEncoder, nativeOpus, type OpusImplementation } from '../../src/sip/media/opus-codec.ts';

const RATE = 48_000;
const FRAME = 960; // 20 ms

function tone(frames: number, hz = 440, amplitude = 8000): Int16Array {
  const pcm = new Int16Array(frames * FRAME);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / RATE));
  return pcm;
}

function rms(pcm: Int16Array): number {
  let s = 0;
  for (const v of pcm) s += v * v;
  return Math.sqrt(s / pcm.length);
}

/** The tone's frequency from zero crossings. */
function pitch(pcm: Int16Array): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if (pcm[i - 1]! < 0 && pcm[i]! >= 0) crossings++;
  return (crossings * RATE) / pcm.length;
}

const impls: OpusImplementation[] = nativeOpus() !== null ? ['native', 'wasm'] : ['wasm'];

test('the native module is built where libopus-dev is (scripts/build-native.sh)', { skip: process.platform !== 'linux' }, async () => {
  const { existsSync } = await import('node:fs');
  if (existsSync('/usr/include/opus/opus.h')) assert.notEqual(nativeOpus(), null, 'native/build/opus.node should load');
});

for (const from of impls) {
  for (const to of impls) {
    test(`a tone encoded by ${from} and decoded by ${to} keeps its pitch and level`, () => {
      const enc = createOpusEncoder(RATE, 1, 32_000, from);
      const dec = createOpusDecoder(RATE, 1, to);
      const input = tone(50);
      const output = new Int16Array(input.length);
      const packet = new Uint8Array(1500);
      const pcm = new Int16Array(5760);
      let bytes = 0;
      for (let f = 0; f < 50; f++) {
        const n = enc.encode(input.subarray(f * FRAME, (f + 1) * FRAME), packet);
        assert.ok(n > 0 && n < 400, `packet ${f}: ${n} bytes`);
        bytes += n;
        const samples = dec.decode(packet.subarray(0, n), pcm);
        assert.equal(samples, FRAME);
        output.set(pcm.subarray(0, FRAME), f * FRAME);
      }
      enc.close();
      dec.close();
      // skip the first 100 ms (the codec's start-up)
      const steady = output.subarray(5 * FRAME);
      const level = rms(steady) / rms(input.subarray(5 * FRAME));
      assert.ok(level > 0.8 && level < 1.25, `level ratio ${level.toFixed(2)}`);
      assert.ok(Math.abs(pitch(steady) - 440) < 10, `pitch ${pitch(steady).toFixed(1)} Hz`);
      assert.ok(bytes * 8 < 32_000 * 1.5, `about the bitrate asked: ${bytes * 8} bit in 1 s`);
    });
  }
}

for (const impl of impls) {
  test(`${impl}: a lost packet is concealed or silent; a corrupt packet is an error; bad arguments are errors`, () => {
    const enc = createOpusEncoder(RATE, 1, 32_000, impl);
    const dec = createOpusDecoder(RATE, 1, impl);
    const packet = new Uint8Array(1500);
    const pcm = new Int16Array(5760);
    const input = tone(10);
    for (let f = 0; f < 10; f++) dec.decode(packet.subarray(0, enc.encode(input.subarray(f * FRAME, (f + 1) * FRAME), packet)), pcm);
    const lost = dec.decode(null, pcm, FRAME);
    assert.equal(lost, FRAME);
    const concealed = rms(pcm.subarray(0, FRAME));
    if (impl === 'native') assert.ok(concealed > 100, `concealment continues the tone: rms ${concealed}`);
    else assert.equal(concealed, 0);
    // a TOC byte announcing a frame count code 3 with an impossible count
    assert.throws(() => dec.decode(new Uint8Array([0xff, 0xff, 0xff]), pcm));
    // a frame of a length Opus does not take
    assert.throws(() => enc.encode(new Int16Array(123), packet));
    // a complexity libopus does not have
    assert.throws(() => createOpusEncoder(RATE, 1, 32_000, impl, 'fullband', 11), RangeError);
    enc.close();
    dec.close();
  });
}

for (const impl of impls) {
  test(`${impl}: an encoder limited to wideband codes with SILK at most 8 kHz wide; a full-band one goes wider`, () => {
    // a bright signal (a 6 kHz and a 12 kHz tone): full band has something to code above 8 kHz
    const input = new Int16Array(25 * FRAME);
    for (let i = 0; i < input.length; i++) input[i] = Math.round(4000 * Math.sin((2 * Math.PI * 6000 * i) / RATE) + 4000 * Math.sin((2 * Math.PI * 12_000 * i) / RATE));
    const configs = (band: 'wideband' | 'fullband') => {
      const enc = createOpusEncoder(RATE, 1, 32_000, impl, band);
      const packet = new Uint8Array(1500);
      const seen = new Set<number>();
      for (let f = 0; f < 25; f++) if (enc.encode(input.subarray(f * FRAME, (f + 1) * FRAME), packet) > 0) seen.add(packet[0]! >> 3);
      enc.close();
      return [...seen];
    };
    // the TOC byte's configuration (RFC 6716 3.1): 0-11 SILK only up to wideband, 12-15 hybrid, 16-31 CELT
    assert.ok(configs('wideband').every((c) => c <= 11), `wideband: configurations ${configs('wideband')}`);
    assert.ok(configs('fullband').some((c) => c > 11), `full band: configurations ${configs('fullband')}`);
  });
}
