// The phone voice menu's prompts as a call plays them: 20 ms frames (960 samples, 48 kHz mono 16-bit), read once
// from the WAV files the build made (scripts/build-prompts.ts: dist/sip-prompts/<language>/<name>.wav) and
// cached. A missing or malformed file is a PromptError that says how to build the prompts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRAME_SAMPLES, SAMPLE_RATE } from './call-audio.ts';
import { PROMPT_NAMES, type PromptLanguage, type PromptName } from './prompt-texts.ts';

/** <repo>/dist/sip-prompts, relative to this file (src/sip/prompts.ts). */
export const DEFAULT_PROMPTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/sip-prompts');

/** A prompt: its frames in order (the last one padded with silence). */
export type Prompt = readonly Int16Array[];
export type PromptSet = Readonly<Record<PromptName, Prompt>>;

export class PromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptError';
  }
}

const HOW_TO_BUILD = 'the phone prompts are built by ./tertulia start or ./scripts/test (scripts/build-prompts.ts, which needs Debian\'s espeak-ng and ffmpeg)';

/** The samples of a canonical PCM WAV file: 16-bit, mono, 48 kHz; anything else is a PromptError. */
export function wavSamples(file: string, data: Buffer): Int16Array {
  const bad = (why: string) => new PromptError(`${file}: ${why}; ${HOW_TO_BUILD}`);
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'RIFF' || data.toString('latin1', 8, 12) !== 'WAVE') throw bad('not a WAV file');
  let format: { channels: number; rate: number; bits: number; pcm: boolean } | undefined;
  for (let at = 12; at + 8 <= data.length; ) {
    const id = data.toString('latin1', at, at + 4);
    const size = data.readUInt32LE(at + 4);
    const body = at + 8;
    if (body + size > data.length) throw bad(`its ${id} chunk is cut short`);
    if (id === 'fmt ' && size >= 16) {
      format = { pcm: data.readUInt16LE(body) === 1, channels: data.readUInt16LE(body + 2), rate: data.readUInt32LE(body + 4), bits: data.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!format) throw bad('no format chunk before the samples');
      if (!format.pcm || format.channels !== 1 || format.rate !== SAMPLE_RATE || format.bits !== 16) {
        throw bad(`${format.bits}-bit, ${format.channels} channel(s), ${format.rate} Hz; a prompt must be 16-bit PCM, mono, ${SAMPLE_RATE} Hz`);
      }
      const samples = new Int16Array(size >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(body + 2 * i);
      return samples;
    }
    at = body + size + (size & 1);
  }
  throw bad('no samples');
}

/** `samples` cut into 20 ms frames, the last one padded with silence. */
export function toFrames(samples: Int16Array): Int16Array[] {
  const frames: Int16Array[] = [];
  for (let at = 0; at < samples.length; at += FRAME_SAMPLES) {
    const frame = new Int16Array(FRAME_SAMPLES);
    frame.set(samples.subarray(at, Math.min(at + FRAME_SAMPLES, samples.length)));
    frames.push(frame);
  }
  return frames;
}

const cache = new Map<string, PromptSet>();

/** Every prompt of `language`, read once per directory and language; a PromptError when one is missing or malformed. */
export function loadPrompts(language: PromptLanguage, dir = DEFAULT_PROMPTS_DIR): PromptSet {
  const key = `${path.resolve(dir)}\0${language}`;
  let set = cache.get(key);
  if (set) return set;
  const prompts = {} as Record<PromptName, Prompt>;
  for (const name of PROMPT_NAMES) {
    const file = path.join(dir, language, `${name}.wav`);
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new PromptError(`the phone prompt ${file} is ${code === 'ENOENT' ? 'missing' : `unreadable (${code ?? (e as Error).message})`}; ${HOW_TO_BUILD}`);
    }
    const frames = toFrames(wavSamples(file, data));
    if (frames.length === 0) throw new PromptError(`the phone prompt ${file} is empty; ${HOW_TO_BUILD}`);
    prompts[name] = Object.freeze(frames);
  }
  set = Object.freeze(prompts);
  cache.set(key, set);
  return set;
}
