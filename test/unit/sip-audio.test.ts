// The SIP gateway's audio building blocks: G.711 (src/sip/media/g711.ts) checked against ffmpeg's own μ-law
// and A-law encoders (A-law byte for byte; μ-law but for one decision level ffmpeg places a step apart) and by round trips; the 8 <-> 48 kHz resamplers
// (src/sip/media/resample.ts): a tone keeps its pitch and level both ways, what lies above the phone band is
// filtered out before it could fold back, and 20 ms frames join exactly as one long run would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { g711Decode, g711Encode, type G711Law } from '../../src/sip/media/g711.ts';
import { Downsampler, Upsampler } from '../../src/sip/media/resample.ts';
import { hasFfmpeg, pitch, rms, tone } from '../helpers/audio-tone.ts';

test('G.711 encodes as ffmpeg does (or nearer), μ-law and A-law, over the whole 16-bit range', { skip: hasFfmpeg() ? false : 'no ffmpeg' }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-g711-'));
  try {
    // every 16-bit value once, then a loud tone
    const pcm = new Int16Array(65536 + 8000);
    for (let i = 0; i < 65536; i++) pcm[i] = i - 32768;
    pcm.set(tone(8000, 1, 440, 30000), 65536);
    writeFileSync(path.join(dir, 'in.raw'), Buffer.from(pcm.buffer));
    for (const [law, format] of [['pcmu', 'mulaw'], ['pcma', 'alaw']] as [G711Law, string][]) {
      execFileSync('ffmpeg', ['-v', 'error', '-f', 's16le', '-ar', '8000', '-ac', '1', '-i', path.join(dir, 'in.raw'), '-f', format, '-y', path.join(dir, `${law}.raw`)]);
      const theirs = readFileSync(path.join(dir, `${law}.raw`));
      const ours = new Uint8Array(pcm.length);
      g711Encode(law, pcm, ours);
      assert.equal(theirs.length, ours.length);
      const decoded = new Int16Array(256);
      g711Decode(law, new Uint8Array(256).map((_, i) => i), decoded);
      let differ = 0;
      for (let i = 0; i < ours.length; i++) {
        if (ours[i] === theirs[i]) continue;
        differ++;
        // ours picks the nearest level: never a larger error than ffmpeg's choice
        const x = pcm[i]!;
        const ourError = Math.abs(decoded[ours[i]!]! - x);
        const theirError = Math.abs(decoded[theirs[i]!]! - x);
        assert.ok(ourError <= theirError, `${law} at ${x}: error ${ourError} against ffmpeg's ${theirError}`);
      }
      // where they differ, ffmpeg's level is the farther one (its decision levels sit a little off the midpoints)
      assert.ok(differ < ours.length / 20, `${law}: ${differ} of ${ours.length} bytes differ from ffmpeg's`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('G.711 round trips: every code decodes to a value that encodes back to it; a tone keeps its level', () => {
  for (const law of ['pcmu', 'pcma'] as G711Law[]) {
    const codes = new Uint8Array(256).map((_, i) => i);
    const pcm = new Int16Array(256);
    g711Decode(law, codes, pcm);
    const back = new Uint8Array(256);
    g711Encode(law, pcm, back);
    for (let i = 0; i < 256; i++) {
      // μ-law has two zeros (0x7f and 0xff): zero encodes as 0xff
      if (law === 'pcmu' && i === 0x7f) assert.equal(back[i], 0xff);
      else assert.equal(back[i], i, `${law} code ${i}`);
    }
    const t = tone(8000, 1, 1000, 10000);
    const bytes = new Uint8Array(t.length);
    const out = new Int16Array(t.length);
    g711Decode(law, bytes.subarray(0, g711Encode(law, t, bytes)), out);
    let noise = 0;
    for (let i = 0; i < t.length; i++) noise += (out[i]! - t[i]!) ** 2;
    const snr = 10 * Math.log10(t.reduce((s, v) => s + v * v, 0) / noise);
    assert.ok(snr > 30, `${law}: SNR ${snr.toFixed(1)} dB`);
  }
});

test('8 -> 48 kHz: a 1 kHz tone keeps its pitch and level; frames join as one run', () => {
  const input = tone(8000, 1, 1000, 10000);
  const whole = new Int16Array(input.length * 6);
  new Upsampler().process(input, whole);
  const framed = new Int16Array(input.length * 6);
  const up = new Upsampler();
  for (let f = 0; f < input.length / 160; f++) up.process(input.subarray(f * 160, (f + 1) * 160), framed.subarray(f * 960));
  assert.deepEqual(framed, whole);
  const steady = whole.subarray(4800);
  assert.ok(Math.abs(pitch(steady, 48000) - 1000) < 5, `pitch ${pitch(steady, 48000)}`);
  const ratio = rms(steady) / rms(input.subarray(800));
  assert.ok(ratio > 0.9 && ratio < 1.1, `level ratio ${ratio.toFixed(3)}`);
});

test('48 -> 8 kHz: a 1 kHz tone passes, a 6 kHz one (above the phone band) is filtered out; frames join as one run', () => {
  const pass = tone(48000, 1, 1000, 10000);
  const whole = new Int16Array(8000);
  new Downsampler().process(pass, whole);
  const framed = new Int16Array(8000);
  const down = new Downsampler();
  for (let f = 0; f < 50; f++) down.process(pass.subarray(f * 960, (f + 1) * 960), framed.subarray(f * 160));
  assert.deepEqual(framed, whole);
  const steady = whole.subarray(800);
  assert.ok(Math.abs(pitch(steady, 8000) - 1000) < 5, `pitch ${pitch(steady, 8000)}`);
  const ratio = rms(steady) / rms(pass.subarray(4800));
  assert.ok(ratio > 0.9 && ratio < 1.1, `level ratio ${ratio.toFixed(3)}`);
  const high = new Int16Array(8000);
  new Downsampler().process(tone(48000, 1, 6000, 10000), high);
  const db = 20 * Math.log10(rms(high.subarray(800)) / rms(tone(48000, 1, 6000, 10000)));
  assert.ok(db < -40, `a 6 kHz tone is ${db.toFixed(1)} dB after the filter`);
  assert.throws(() => new Downsampler().process(new Int16Array(1000), new Int16Array(200)), /multiple of 6/);
});
