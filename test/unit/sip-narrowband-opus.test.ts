// A G.711 call's audio stays at 8 kHz through the gateway (src/sip/call-audio.ts): the caller's voice is coded as
// narrowband Opus straight from 8 kHz (media/voice-uplink.ts's phoneVoiceSpec), and the room is decoded at
// 8 kHz for G.711 callers (room-mix.ts). With both Opus implementations, all four pairs: an 8 kHz tone coded so
// keeps its frequency and level when the meeting decodes it at 48 kHz and when another G.711 caller's mix
// decodes it at 8 kHz, in SILK narrowband packets; a browser's full-band voice decoded at 8 kHz is band-limited
// (a 6 kHz tone does not fold back to 2 kHz).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpusDecoder, createOpusEncoder, nativeOpus, type OpusImplementation } from '../../src/sip/media/opus-codec.ts';
import { phoneVoiceSpec } from '../../src/sip/media/voice-uplink.ts';
import { pitch, rms, tone } from '../helpers/audio-tone.ts';

const impls: OpusImplementation[] = nativeOpus() !== null ? ['native', 'wasm'] : ['wasm'];

/** The power of `hz` in `pcm` (Goertzel), per sample. */
function powerAt(pcm: Int16Array, rate: number, hz: number): number {
  const c = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const v of pcm) {
    const s0 = v + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - c * s1 * s2) / pcm.length ** 2;
}

/** `input` in 20 ms frames through `encode`, each packet through `decode`; the decoded audio and the TOC configurations seen. */
function through(input: Int16Array, inRate: number, encode: (pcm: Int16Array, out: Uint8Array) => number, outRate: number, decode: (packet: Uint8Array, pcm: Int16Array) => number) {
  const inFrame = inRate / 50;
  const outFrame = outRate / 50;
  const frames = input.length / inFrame;
  const output = new Int16Array(frames * outFrame);
  const packet = new Uint8Array(1500);
  const pcm = new Int16Array(5760);
  const configs = new Set<number>();
  for (let f = 0; f < frames; f++) {
    const n = encode(input.subarray(f * inFrame, (f + 1) * inFrame), packet);
    assert.ok(n > 0 && n < 400, `packet ${f}: ${n} bytes`);
    configs.add(packet[0]! >> 3);
    assert.equal(decode(packet.subarray(0, n), pcm), outFrame);
    output.set(pcm.subarray(0, outFrame), f * outFrame);
  }
  return { output, configs: [...configs] };
}

for (const from of impls) {
  for (const to of impls) {
    test(`an 8 kHz tone coded narrowband by ${from}, decoded by ${to} at 48 kHz (the meeting) and 8 kHz (a G.711 caller): same pitch and level`, () => {
      const input = tone(8000, 1, 1000, 8000);
      for (const outRate of [48_000, 8000]) {
        const spec = phoneVoiceSpec(8000, from);
        const enc = createOpusEncoder(spec.rate, 1, spec.bitrate, spec.impl, spec.band, spec.complexity);
        const dec = createOpusDecoder(outRate, 1, to);
        const { output, configs } = through(input, 8000, (p, o) => enc.encode(p, o), outRate, (p, o) => dec.decode(p, o));
        enc.close();
        dec.close();
        // the TOC configuration (RFC 6716 3.1): 0-3 are SILK narrowband
        assert.ok(configs.every((c) => c <= 3), `narrowband SILK only: configurations ${configs}`);
        const steady = output.subarray(outRate / 10); // after the codec's first 100 ms
        const level = rms(steady) / rms(input);
        assert.ok(level > 0.8 && level < 1.25, `at ${outRate} Hz: level ratio ${level.toFixed(2)}`);
        const hz = pitch(steady, outRate);
        assert.ok(Math.abs(hz - 1000) < 10, `at ${outRate} Hz: pitch ${hz.toFixed(1)} Hz`);
      }
    });

    test(`a full-band voice coded by ${from}, decoded by ${to} at 8 kHz: the band below 4 kHz kept, nothing folded back`, () => {
      // 1 kHz and 6 kHz: at 8 kHz the 6 kHz tone would alias to 2 kHz if the decoder did not band-limit
      const input = new Int16Array(48_000);
      for (let i = 0; i < input.length; i++) input[i] = Math.round(6000 * Math.sin((2 * Math.PI * 1000 * i) / 48_000) + 6000 * Math.sin((2 * Math.PI * 6000 * i) / 48_000));
      const enc = createOpusEncoder(48_000, 1, 64_000, from, 'fullband');
      const dec = createOpusDecoder(8000, 1, to);
      const { output } = through(input, 48_000, (p, o) => enc.encode(p, o), 8000, (p, o) => dec.decode(p, o));
      enc.close();
      dec.close();
      const steady = output.subarray(800);
      const kept = powerAt(steady, 8000, 1000);
      const folded = powerAt(steady, 8000, 2000);
      const sent = powerAt(input, 48_000, 1000);
      assert.ok(kept > sent * 0.5 && kept < sent * 2, `1 kHz power ${kept.toExponential(2)} against ${sent.toExponential(2)} sent`);
      assert.ok(folded < kept / 1000, `2 kHz (6 kHz folded) ${folded.toExponential(2)} against 1 kHz ${kept.toExponential(2)}`);
    });
  }
}
