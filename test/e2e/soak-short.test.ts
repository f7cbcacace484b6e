// The soak in short (bench/soak/run.ts, `npm run soak`): one minute of the meeting the long soak runs, two
// headless Chromium participants, synthetic ones joining and leaving, network faults on one of them (a cut
// among them; without root, no faults), then everyone leaves: the server must not crash and its resource counts
// must come back to idle within the soak's stated bounds (it exits 1 otherwise). Never asserts timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { faultsUnavailable } from '../../bench/soak/network-faults.ts';
import { runNode } from '../helpers/node-child.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');

test('npm run soak -- --minutes 1: no crash, and back to idle after everyone left', { timeout: 180_000 }, async (t) => {
  const noFaults = faultsUnavailable();
  if (noFaults) t.diagnostic(`without network faults: ${noFaults}`);
  const args = ['bench/soak/run.ts', '--minutes', '1', '--synthetic', '2', '--report-seconds', '20', '--fault-seconds', '6'];
  const { code, output } = await runNode(noFaults ? [...args, '--no-faults'] : args, { cwd: ROOT });
  assert.equal(code, 0, output);
  assert.match(output, /PASS: no crash; back to idle/);
  const [, joins, leaves] = (/^ {2}joins (\d+), leaves (\d+)/m.exec(output) ?? []).map(Number);
  assert.ok(joins! >= 4, `joins: ${joins}\n${output}`);
  assert.equal(leaves, joins, 'everyone who joined left');
  if (!noFaults) assert.match(output, /faults injected: [1-9]\d* \(.*cut 6 s x1/, output);
});
