// The fuzz harness: what a target is, how one is run (a few runs in CI, for minutes on demand), and the corpus
// of inputs that once failed (test/fuzz/corpus/<target>/*.json), replayed by every CI run.
//
// A target is one parser reachable from the network with a structure-aware input (fast-check arbitraries
// that build mostly-valid packets, messages or requests, then damage them) and a check that throws when a
// property does not hold: not only "does not throw", but bounds, round trips and authentication. Inputs are
// plain JSON (byte strings as hex), so a shrunk counterexample is kept in the corpus as it is.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

/** What a target's checks run against: nothing (pure parsers) or a server started on loopback. */
export interface FuzzSession<T> {
  /** Throws (or rejects) when a property does not hold for this input. */
  check(input: T): void | Promise<void>;
  close?(): void | Promise<void>;
}

export interface FuzzTarget<T = unknown> {
  readonly name: string;
  /** One line: the parser and what is checked. */
  readonly about: string;
  readonly input: fc.Arbitrary<T>;
  /** Runs of the CI test (the whole suite of targets stays well under a minute). */
  readonly ciRuns: number;
  /** check returns a promise (a server is involved). */
  readonly async: boolean;
  open(): FuzzSession<T> | Promise<FuzzSession<T>>;
}

/** A target whose check needs nothing started. */
export function pureTarget<T>(t: { name: string; about: string; input: fc.Arbitrary<T>; ciRuns: number; check(input: T): void }): FuzzTarget<T> {
  return { name: t.name, about: t.about, input: t.input, ciRuns: t.ciRuns, async: false, open: () => ({ check: t.check }) };
}

/** A target whose checks talk to something started once per run (a server on loopback). */
export function serverTarget<T>(t: {
  name: string;
  about: string;
  input: fc.Arbitrary<T>;
  ciRuns: number;
  open(): Promise<FuzzSession<T>>;
}): FuzzTarget<T> {
  return { ...t, async: true };
}

export interface FuzzFailure {
  /** The shrunk input. */
  input: unknown;
  /** The error's message on one line. */
  message: string;
  /** The error with its stack. */
  error: string;
  /** fast-check's path to the counterexample (replay with the same seed). */
  path: string;
  shrinks: number;
}

export interface FuzzRun {
  target: string;
  runs: number;
  ms: number;
  seed: number;
  failure: FuzzFailure | null;
}

export interface FuzzOptions {
  /** Stop after this many runs (default: the target's ciRuns, or unbounded with `seconds`). */
  runs?: number;
  /** Stop after this long. */
  seconds?: number;
  /** Stop after this long even with runs left (a failure then keeps the smallest input shrinking found so far). */
  maxSeconds?: number;
  seed?: number;
  /** Replay one counterexample path of a failed run (with its seed). */
  path?: string;
}

/** String(e), which itself throws for some objects. */
function text(e: unknown): string {
  try {
    return String(e);
  } catch {
    return '(a thrown value with no text)';
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return text(e);
}

function oneLine(e: unknown): string {
  const line = (e instanceof Error ? `${e.name}: ${e.message}` : text(e)).replace(/\s+/g, ' ').trim();
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}

/** Runs a target in an open session: fast-check generates, checks and shrinks. */
export async function fuzz<T>(target: FuzzTarget<T>, session: FuzzSession<T>, opts: FuzzOptions = {}): Promise<FuzzRun> {
  const runs = opts.runs ?? (opts.seconds !== undefined ? Number.MAX_SAFE_INTEGER : target.ciRuns);
  const limit = Math.min(opts.seconds ?? Infinity, opts.maxSeconds ?? Infinity);
  const params: fc.Parameters<[T]> = {
    numRuns: runs,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.path !== undefined ? { path: opts.path } : {}),
    ...(limit < Infinity ? { plugins: [fc.interruptAfterTimeLimit(limit * 1000)] } : {}),
  };
  const start = performance.now();
  const details = target.async
    ? await fc.check(
        fc.asyncProperty(target.input, async (input) => {
          await session.check(input);
        }),
        params,
      )
    : fc.check(
        fc.property(target.input, (input) => {
          session.check(input) as void;
        }),
        params,
      );
  const ms = performance.now() - start;
  const failure: FuzzFailure | null =
    details.failed && details.counterexample !== null
      ? {
          input: details.counterexample[0],
          message: oneLine(details.errorInstance),
          error: describeError(details.errorInstance),
          path: details.counterexamplePath ?? '',
          shrinks: details.numShrinks,
        }
      : details.failed
        ? { input: null, message: 'no counterexample', error: 'fast-check gave up without a counterexample', path: '', shrinks: 0 }
        : null;
  return { target: target.name, runs: details.numRuns, ms, seed: details.seed, failure };
}

// ---- the corpus ----

export const CORPUS_ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus');

export interface CorpusCase {
  file: string;
  input: unknown;
}

/** Every kept input of a target, by file name (a regression case each). */
export function corpusCases(target: string): CorpusCase[] {
  const dir = path.join(CORPUS_ROOT, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const kept = JSON.parse(readFileSync(file, 'utf8')) as { input: unknown };
      return { file, input: kept.input };
    });
}

/** Writes a failed run's shrunk input into the target's corpus; returns the file's path. */
export function keepCounterexample(run: FuzzRun): string {
  if (!run.failure) throw new Error(`${run.target}: nothing to keep, the run passed`);
  const text = JSON.stringify(run.failure.input);
  const name = createHash('sha256').update(text).digest('hex').slice(0, 16) + '.json';
  const dir = path.join(CORPUS_ROOT, run.target);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  const kept = {
    target: run.target,
    found: new Date().toISOString().slice(0, 10),
    seed: run.seed,
    path: run.failure.path,
    error: run.failure.message,
    input: run.failure.input,
  };
  writeFileSync(file, JSON.stringify(kept, null, 2) + '\n');
  return file;
}

/** Replays the corpus of a target in a session: the first failing case throws, naming its file. */
export async function replayCorpus<T>(target: FuzzTarget<T>, session: FuzzSession<T>): Promise<number> {
  const cases = corpusCases(target.name);
  for (const c of cases) {
    try {
      await session.check(c.input as T);
    } catch (e) {
      throw new Error(`${target.name}: corpus case ${path.relative(process.cwd(), c.file)} fails again: ${describeError(e)}`);
    }
  }
  return cases.length;
}
