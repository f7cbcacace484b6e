// `npm run fuzz -- [--seconds S] [--runs N] [--target NAME]... [--seed N --path P]`: runs the fuzz targets for
// longer than CI does (default 60 s each), prints runs and time per target, and keeps every shrunk
// counterexample in test/fuzz/corpus/<target>/ (printing its path); exits 1 when one was found.
import path from 'node:path';
import { fuzz, keepCounterexample, replayCorpus, type FuzzOptions } from './harness.ts';
import { TARGETS } from './targets.ts';

function usage(): never {
  console.error(
    'usage: npm run fuzz -- [--seconds S] [--runs N] [--target NAME]... [--seed N] [--path P] [--list]\n' +
      `targets: ${TARGETS.map((t) => t.name).join(', ')}`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): { opts: FuzzOptions; names: string[]; list: boolean } {
  const opts: FuzzOptions = {};
  const names: string[] = [];
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => argv[++i] ?? usage();
    const number = (): number => {
      const n = Number(value());
      if (!Number.isFinite(n) || n < 0) usage();
      return n;
    };
    if (a === '--seconds') opts.seconds = number();
    else if (a === '--runs') opts.runs = number();
    else if (a === '--seed') opts.seed = number();
    else if (a === '--path') opts.path = value();
    else if (a === '--target') names.push(...value().split(','));
    else if (a === '--list') list = true;
    else usage();
  }
  if (opts.seconds === undefined && opts.runs === undefined) opts.seconds = 60;
  return { opts, names, list };
}

async function main(): Promise<number> {
  const { opts, names, list } = parseArgs(process.argv.slice(2));
  if (list) {
    for (const t of TARGETS) console.log(`${t.name.padEnd(16)} ${t.about}`);
    return 0;
  }
  const unknown = names.filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length > 0) {
    console.error(`unknown target(s): ${unknown.join(', ')}`);
    usage();
  }
  const chosen = names.length > 0 ? TARGETS.filter((t) => names.includes(t.name)) : TARGETS;
  let failed = 0;
  for (const target of chosen) {
    const session = await target.open();
    try {
      let replayed = 0;
      try {
        replayed = await replayCorpus(target, session);
      } catch (e) {
        failed++;
        console.log(`${target.name.padEnd(16)} ${(e as Error).message.split('\n').slice(0, 6).join('\n  ')}`);
      }
      const run = await fuzz(target, session, opts);
      const rate = run.runs / (run.ms / 1000);
      const line = `${target.name.padEnd(16)} ${String(run.runs).padStart(9)} runs in ${(run.ms / 1000).toFixed(1).padStart(6)} s (${rate.toFixed(0)}/s), corpus ${replayed}, seed ${run.seed}`;
      if (run.failure === null) {
        console.log(`${line}: ok`);
        continue;
      }
      failed++;
      const file = keepCounterexample(run);
      console.log(`${line}: FAILED after ${run.failure.shrinks} shrinks`);
      console.log(`  kept: ${path.relative(process.cwd(), file)}`);
      console.log(`  replay: npm run fuzz -- --target ${target.name} --seed ${run.seed} --path ${run.failure.path} --runs 1`);
      console.log(`  input: ${JSON.stringify(run.failure.input).slice(0, 2000)}`);
      console.log(`  ${run.failure.error.split('\n').slice(0, 12).join('\n  ')}`);
    } finally {
      await session.close?.();
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
