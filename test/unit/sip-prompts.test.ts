// The phone prompts the build speaks with espeak-ng (scripts/build-prompts.ts, run by bootstrap): every one in
// English and Spanish exists as 48 kHz mono 16-bit WAV, lasts as long as a spoken sentence, and is speech-loud
// (ffmpeg's volumedetect); the loader cuts them into 20 ms frames and names what is wrong with a bad file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FRAME_SAMPLES } from '../../src/sip/call-audio.ts';
import { PROMPT_LANGUAGES, PROMPT_NAMES, PROMPT_TEXTS } from '../../src/sip/prompt-texts.ts';
import { DEFAULT_PROMPTS_DIR, loadPrompts, PromptError } from '../../src/sip/prompts.ts';

function probe(file: string): { duration: number; rate: string; channels: string; codec: string } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=sample_rate,channels,codec_name:format=duration', '-of', 'json', file], { encoding: 'utf8' });
  const j = JSON.parse(out);
  return { duration: Number(j.format.duration), rate: j.streams[0].sample_rate, channels: String(j.streams[0].channels), codec: j.streams[0].codec_name };
}

function volume(file: string): { mean: number; max: number } {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-i', file, '-af', 'volumedetect', '-f', 'null', '-'], { encoding: 'utf8' });
  const mean = /mean_volume: (-?[\d.]+) dB/.exec(r.stderr);
  const max = /max_volume: (-?[\d.]+) dB/.exec(r.stderr);
  assert.ok(mean && max, `volumedetect said nothing for ${file}:\n${r.stderr}`);
  return { mean: Number(mean[1]), max: Number(max[1]) };
}

test('every prompt is built, in English and Spanish, as speech of a sensible length', () => {
  for (const lang of PROMPT_LANGUAGES) {
    for (const name of PROMPT_NAMES) {
      const file = path.join(DEFAULT_PROMPTS_DIR, lang, `${name}.wav`);
      const p = probe(file);
      assert.deepEqual([p.codec, p.rate, p.channels], ['pcm_s16le', '48000', '1'], file);
      // espeak-ng at 150 words a minute: a short word or two is half a second, the longest sentence a few seconds
      const words = PROMPT_TEXTS[lang][name].split(/\s+/).length;
      assert.ok(p.duration > 0.25 * words && p.duration < 1.0 * words + 1, `${file}: ${p.duration} s for ${words} words`);
      const v = volume(file);
      // speech, not silence: loud peaks and a mean level well above a quiet line's (silence is -91 dB)
      assert.ok(v.max > -12 && v.mean > -35, `${file}: mean ${v.mean} dB, max ${v.max} dB`);
      assert.ok(v.max < 0, `${file} clips (max ${v.max} dB)`);
    }
  }
});

test('the loader cuts prompts into 20 ms frames, once', () => {
  const en = loadPrompts('en');
  assert.equal(loadPrompts('en'), en);
  for (const name of PROMPT_NAMES) {
    const frames = en[name];
    const seconds = probe(path.join(DEFAULT_PROMPTS_DIR, 'en', `${name}.wav`)).duration;
    assert.equal(frames.length, Math.ceil((seconds * 48_000) / FRAME_SAMPLES - 1e-6), name);
    assert.ok(frames.every((f) => f.length === FRAME_SAMPLES));
  }
  assert.notEqual(loadPrompts('es')['enter-pin'].length, en['enter-pin'].length);
});

test('a missing or malformed prompt is a PromptError that says how to build them', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-prompts-'));
  try {
    assert.throws(() => loadPrompts('en', dir), (e: Error) => e instanceof PromptError && /enter-pin\.wav is missing/.test(e.message) && /espeak-ng/.test(e.message));
    mkdirSync(path.join(dir, 'es'));
    // every prompt present but at the phone's 8 kHz
    for (const name of PROMPT_NAMES) {
      execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.5', '-ar', '8000', '-ac', '1', '-c:a', 'pcm_s16le', '-y', path.join(dir, 'es', `${name}.wav`)]);
    }
    assert.throws(() => loadPrompts('es', dir), (e: Error) => e instanceof PromptError && /8000 Hz; a prompt must be 16-bit PCM, mono, 48000 Hz/.test(e.message));
    writeFileSync(path.join(dir, 'es', 'enter-pin.wav'), 'RIFF....WAVEjunk');
    assert.throws(() => loadPrompts('es', dir), (e: Error) => e instanceof PromptError && /enter-pin\.wav/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
