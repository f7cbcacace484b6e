// The stall clock (src/signal/stall-clock.ts): how long this process did not run, seen from a periodic timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StallClock } from '../../src/signal/stall-clock.ts';

test('a timer on time or a little late is no stall; one more than a period late is, by how late it came', () => {
  const c = new StallClock(2000, 0);
  assert.equal(c.tick(2000), 0);
  assert.equal(c.tick(4100), 0, 'jitter');
  assert.equal(c.tick(8100), 0, 'one period of slack');
  assert.equal(c.tick(15_100), 5000, '7 s after the last: 5 s beyond its period');
  assert.equal(c.tick(17_100), 0, 'on time again');
});

test('a clock set back is no stall, and the next tick counts from it', () => {
  const c = new StallClock(1000, 50_000);
  assert.equal(c.tick(10_000), 0);
  assert.equal(c.tick(11_000), 0);
  assert.equal(c.tick(14_000), 2000);
});
