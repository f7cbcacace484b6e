// `tertulia play` after its meeting moved to another bridge: it goes on from the point of the file it had reached
// when its old endpoint was lost (the `moved` event's lostMsAgo), not from where ffmpeg is when the move comes —
// an admin trial saw a file skip everything it played while its bridge was dead and no other had room. A loop
// goes round the file; a file that had played to its end before the loss is not started again. The event's
// lostMsAgo is validated at the boundary: optional, a non-negative whole number of ms, at most a day.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { playArguments, resumePosition } from '../../src/cli/commands/play.ts';
import { MAX_LOST_MS_AGO } from '../../src/protocol/bus-messages.ts';
import { controlPlayMovedSchema } from '../../src/protocol/control-messages.ts';

const T0 = 1_000_000;

test('a long outage: the file goes on from where it was when the endpoint was lost, not from the wall clock', () => {
  // ffmpeg started 40 s into the file at T0; the bridge was lost 10 s later; the move came 3 minutes after that
  const now = T0 + 10_000 + 180_000;
  assert.equal(resumePosition({ position: 40, startedAt: T0, now, lostMsAgo: 180_000, loop: false, duration: 600 }), 50);
  // without lostMsAgo (an older server): where ffmpeg is now, as before
  assert.equal(resumePosition({ position: 40, startedAt: T0, now, loop: false, duration: 600 }), 230);
});

test('a loop goes round the file; a file that ended before the loss is not started again', () => {
  const now = T0 + 25_000 + 60_000;
  // 25 s played of a 10 s loop when lost: 5 s into it
  assert.equal(resumePosition({ position: 0, startedAt: T0, now, lostMsAgo: 60_000, loop: true, duration: 10 }), 5);
  assert.equal(resumePosition({ position: 0, startedAt: T0, now, lostMsAgo: 60_000, loop: false, duration: 20 }), undefined);
  // the function alone (the command never gets there: ffmpeg reaches the end and exits first): lost before the
  // end, it goes on there though the move came after the end
  assert.equal(resumePosition({ position: 0, startedAt: T0, now, lostMsAgo: 60_000, loop: false, duration: 30 }), 25);
  // a file whose length ffprobe does not say: no end rule
  assert.equal(resumePosition({ position: 0, startedAt: T0, now, lostMsAgo: 60_000, loop: false }), 25);
});

test('a loss before this ffmpeg started (two moves close together): it goes on from where this one started', () => {
  assert.equal(resumePosition({ position: 12.5, startedAt: T0, now: T0 + 2000, lostMsAgo: 5000, loop: false, duration: 60 }), 12.5);
  // and ffmpeg starts there
  const args = playArguments('f.webm', false, { address: '127.0.0.1', ports: { audio: 40000 }, ssrcs: { audio: 1 }, srtpKey: 'k' }, 12.5);
  assert.deepEqual(args.slice(args.indexOf('-ss'), args.indexOf('-ss') + 2), ['-ss', '12.500']);
});

test("the moved event's lostMsAgo: optional, a whole non-negative number of ms, at most a day", () => {
  const moved = { event: 'moved', address: '127.0.0.1', legs: [{ kind: 'audio', port: 40000, rtcpPort: 40001 }], srtpKey: 'k' };
  assert.ok(controlPlayMovedSchema.safeParse(moved).success, 'absent: an older server');
  assert.equal(controlPlayMovedSchema.parse({ ...moved, lostMsAgo: 3000 }).lostMsAgo, 3000);
  assert.ok(controlPlayMovedSchema.safeParse({ ...moved, lostMsAgo: 0 }).success);
  assert.ok(controlPlayMovedSchema.safeParse({ ...moved, lostMsAgo: MAX_LOST_MS_AGO }).success);
  for (const bad of [-1, 1.5, MAX_LOST_MS_AGO + 1, '3000', null, Infinity]) {
    assert.equal(controlPlayMovedSchema.safeParse({ ...moved, lostMsAgo: bad }).success, false, `lostMsAgo ${String(bad)} is refused`);
  }
});
