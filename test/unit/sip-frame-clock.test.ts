// The phone side's 20 ms clock (src/sip/media/frame-clock.ts): every listener is called each tick, one that
// throws is counted and stops no other, ticks never run ahead of the wall clock (late ones are caught up, not
// doubled), and once nobody listens the clock stops; a new listener starts it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameClock } from '../../src/sip/media/frame-clock.ts';

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('listeners tick together; one that throws stops no other; never ahead of the wall clock; stops when nobody listens', async () => {
  const clock = new FrameClock();
  const start = performance.now();
  let a = 0;
  const stopA = clock.add(() => a++);
  const stopBad = clock.add(() => {
    throw new Error('a broken call');
  });
  await until('ten ticks', () => a >= 10);
  assert.ok(clock.counters.errors >= 10);
  assert.ok(clock.counters.ticks <= (performance.now() - start) / 20 + 1, `${clock.counters.ticks} ticks in ${performance.now() - start} ms`);
  stopBad();
  stopA();
  const ticks = clock.counters.ticks;
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(clock.counters.ticks <= ticks + 1, 'nobody listens: no more ticks');
  assert.equal(clock.size, 0);
  let b = 0;
  const stopB = clock.add(() => b++);
  await until('ticks again', () => b >= 3);
  stopB();
});
