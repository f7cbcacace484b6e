// The fuzz targets (test/fuzz/targets.ts: one per parser reachable from the network) in CI: each replays its
// corpus of inputs that once failed (test/fuzz/corpus/<target>/), then runs a short structure-aware fuzz of
// `ciRuns` inputs from a fresh seed. A failure prints the shrunk input and the command that replays it and keeps
// it in the corpus (`npm run fuzz -- --target NAME --seed S --path P --runs 1`). Longer runs: `npm run fuzz`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, replayCorpus } from '../fuzz/harness.ts';
import { TARGETS } from '../fuzz/targets.ts';

/** TERTULIA_FUZZ_SEED=<n> repeats a CI run's inputs. */
const seed = process.env.TERTULIA_FUZZ_SEED ? Number(process.env.TERTULIA_FUZZ_SEED) : undefined;

for (const target of TARGETS) {
  test(`fuzz ${target.name}: ${target.about}`, { timeout: 120_000 }, async () => {
    const session = await target.open();
    try {
      await replayCorpus(target, session);
      // a failing server target shrinks slowly: stop in time to report what was found
      const run = await fuzz(target, session, { seed, maxSeconds: 90 });
      if (run.failure !== null) {
        assert.fail(
          `${target.name} failed (seed ${run.seed}) on ${JSON.stringify(run.failure.input).slice(0, 4000)}\n` +
            `replay and keep it: npm run fuzz -- --target ${target.name} --seed ${run.seed} --path ${run.failure.path} --runs 1\n` +
            run.failure.error,
        );
      }
      assert.equal(run.runs, target.ciRuns, `${target.name} ran ${run.runs} of ${target.ciRuns} inputs in 90 s`);
    } finally {
      await session.close?.();
    }
  });
}
