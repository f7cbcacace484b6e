// Builds the phone voice menu's prompts (src/sip/prompt-texts.ts) with Debian's espeak-ng, resampled by ffmpeg to
// what a call plays: 48 kHz mono 16-bit WAV, dist/sip-prompts/<language>/<name>.wav. Run by scripts/bootstrap.sh
// (so `./tertulia start` and `./scripts/test` have them); does nothing when the texts did not change since the last
// build (dist/sip-prompts/texts.json). Without espeak-ng or ffmpeg it says so and exits 0: the SIP part then
// refuses to start its PIN menu with a clear error (src/sip/prompts.ts).
// Usage: node scripts/build-prompts.ts [output directory]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROMPT_LANGUAGES, PROMPT_NAMES, PROMPT_TEXTS, PROMPT_VOICES } from '../src/sip/prompt-texts.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist/sip-prompts'));
/** Words per minute: a little slower than espeak-ng's 175, for a phone line. */
const SPEED = 150;
const stamp = JSON.stringify({ speed: SPEED, voices: PROMPT_VOICES, texts: PROMPT_TEXTS }, null, 1);
const stampFile = path.join(out, 'texts.json');
const files = PROMPT_LANGUAGES.flatMap((lang) => PROMPT_NAMES.map((name) => path.join(out, lang, `${name}.wav`)));

function have(command: string, versionFlag: string): boolean {
  try {
    execFileSync(command, [versionFlag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && files.every((f) => existsSync(f))) process.exit(0);
const missing = [['espeak-ng', '--version'], ['ffmpeg', '-version']].filter(([c, flag]) => !have(c!, flag!)).map(([c]) => c);
if (missing.length > 0) {
  console.error(`[tertulia] cannot build the phone prompts: ${missing.join(' and ')} missing (apt-get install espeak-ng ffmpeg); the SIP PIN menu needs them`);
  process.exit(0);
}
mkdirSync(out, { recursive: true });
// beside the output, so each finished file is renamed into place (one file system)
const tmp = mkdtempSync(path.join(out, '.build-'));
try {
  for (const lang of PROMPT_LANGUAGES) {
    mkdirSync(path.join(out, lang), { recursive: true });
    for (const name of PROMPT_NAMES) {
      const spoken = path.join(tmp, `${lang}-${name}.wav`);
      const resampled = path.join(tmp, `${lang}-${name}-48k.wav`);
      execFileSync('espeak-ng', ['-v', PROMPT_VOICES[lang], '-s', String(SPEED), '-w', spoken, PROMPT_TEXTS[lang][name]]);
      execFileSync('ffmpeg', ['-loglevel', 'error', '-nostdin', '-y', '-i', spoken, '-af', 'volume=-3dB', '-ar', '48000', '-ac', '1', '-c:a', 'pcm_s16le', '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:a', '+bitexact', resampled]);
      renameSync(resampled, path.join(out, lang, `${name}.wav`));
    }
  }
  writeFileSync(stampFile, stamp);
  console.error(`[tertulia] built the phone prompts (${PROMPT_LANGUAGES.join(', ')}) in ${path.relative(ROOT, out) || out}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
