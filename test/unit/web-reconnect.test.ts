// The web app's reconnect schedule (src/web/media/reconnect.ts): short waits first, growing, with jitter, given
// up after GIVE_UP_AFTER_MS; back to the shortest after a success; no reconnect after a policy or join-timeout close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GIVE_UP_AFTER_MS, ReconnectSchedule, shouldReconnect } from '../../src/web/media/reconnect.ts';

test('reconnect waits grow from a quarter second to five, with jitter, and stop after the limit', () => {
  const s = new ReconnectSchedule();
  const t0 = 1_000_000;
  const waits = Array.from({ length: 7 }, () => s.next(t0)!);
  const bounds = [250, 1000, 2000, 3000, 5000, 5000, 5000];
  waits.forEach((w, i) => assert.ok(w >= bounds[i]! * 0.8 && w <= bounds[i]! * 1.2, `attempt ${i + 1}: ${w} ms`));
  assert.notEqual(s.next(t0 + GIVE_UP_AFTER_MS), null, 'still trying at the limit');
  assert.equal(s.next(t0 + GIVE_UP_AFTER_MS + 1), null, 'given up after it');
  s.reset();
  const again = s.next(t0 + GIVE_UP_AFTER_MS + 2)!;
  assert.ok(again <= 300, 'after a success the next drop starts short again');
});

test('closes that mean "do not come back" end the meeting instead', () => {
  for (const code of [1000, 1001, 1006, 1011, 1012]) assert.equal(shouldReconnect(code), true, String(code));
  for (const code of [1008, 4001]) assert.equal(shouldReconnect(code), false, String(code));
});
