// TERTULIA_ variables of the environment that no setting reads: a misspelled one would otherwise be ignored
// silently (the admin's setting does not apply and nothing says so). `tertulia` warns of each at every command.
import { envNames } from './config.ts';

/** TERTULIA_ variables that are not settings but are read elsewhere (the launcher, the tests, the benchmarks). */
const OTHER_ENV_NAMES = new Set(['TERTULIA_CONFIG', 'TERTULIA_NODE', 'TERTULIA_TYPESCRIPT', 'TERTULIA_NATIVE_SRTP', 'TERTULIA_FUZZ_SEED']);

/** Edit distance of two short names (for a suggestion). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/**
 * TERTULIA_ variables of the environment that no setting reads (a misspelling is otherwise ignored silently), each
 * as a sentence with the nearest variable's name when one is close.
 */
export function strayEnvNames(env: NodeJS.ProcessEnv): string[] {
  const known = Object.values(envNames);
  const out: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('TERTULIA_') || name.startsWith('TERTULIA_TEST_') || OTHER_ENV_NAMES.has(name) || known.includes(name)) continue;
    let best = '';
    let bestDistance = 4;
    for (const k of known) {
      const d = distance(name, k);
      if (d < bestDistance) [best, bestDistance] = [k, d];
    }
    out.push(`${name} is not a setting's variable${best ? ` (did you mean ${best}?)` : ''}: it is ignored`);
  }
  return out;
}
