// The benchmark's short mode as a sanity check: a bridge process driven by synthetic participants (real ICE,
// DTLS, SRTP) at light load must forward with under 1% loss and no errors; the recording benchmark's short mode
// (a real server, plain-RTP senders, one GStreamer recording) must make a valid file and measure every figure.
// Never asserts timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runNode } from '../helpers/node-child.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');

async function benchShort(...args: string[]): Promise<void> {
  const { code, output } = await runNode(['bench/run.ts', '--short', ...args], { cwd: ROOT });
  assert.equal(code, 0, output);
  assert.match(output, /\| meeting-3 \| 3 \|/);
  assert.match(output, /\| webinar-10 \| 10 \|/);
}

test('npm run bench -- --short: light load forwards without loss or errors (bridge on one thread)', { timeout: 180_000 }, async () => {
  await benchShort('--bridge-config', '{"mediaWorkers":1}');
});

test('the same with two media workers (packets cross between workers)', { timeout: 180_000 }, async () => {
  await benchShort('--bridge-config', '{"mediaWorkers":2}');
});

test('npm run bench -- recording --short: the recording harness makes a real file and measures every figure', { timeout: 180_000 }, async () => {
  const { code, output } = await runNode(['bench/recording/cli.ts', '--short'], { cwd: ROOT });
  assert.equal(code, 0, output);
  assert.match(output, /bench recording --short: ok/);
  // the summary row and the step row, with figures (not a dash) in every column
  assert.match(output, /\| 2 \| \d+% \| \d+ MiB \| (1 \(the most tried\)|0) \| 1: [01]\/1 \|/);
  const step = output.split('\n').find((l) => l.startsWith('| 2 | 1 | 1 |'));
  assert.ok(step, output);
  assert.ok(!step.split('|').slice(1, -1).some((c) => c.trim() === '–'), `a figure is missing: ${step}`);
});
