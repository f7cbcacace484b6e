// The meeting's time on the signal side: a joiner is told how long the meeting has run by the server's clock, the
// same start for everyone in the room, a new meeting (after everyone left) from zero. Across signal instances:
// test/unit/signal-fanout.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSignal } from '../helpers/signal-client.ts';

test('a joiner is told how long the meeting has run; a meeting after the last one left starts afresh', async () => {
  const s = await startTestSignal();
  try {
    const ana = s.client();
    await ana.join('Reloj', 'Ana');
    const first = await ana.nextOfType('meeting-clock');
    assert.ok(first.elapsedMs >= 0 && first.elapsedMs < 5_000, `${first.elapsedMs}`);
    await new Promise((r) => setTimeout(r, 1_200));
    const ben = s.client();
    await ben.join('Reloj', 'Ben');
    const second = await ben.nextOfType('meeting-clock');
    assert.ok(second.elapsedMs >= first.elapsedMs + 1_000, `${second.elapsedMs} after ${first.elapsedMs}`);
    await ana.send({ type: 'leave' });
    await ben.send({ type: 'leave' });
    await new Promise((r) => setTimeout(r, 200));
    const caro = s.client();
    await caro.join('Reloj', 'Caro');
    assert.ok((await caro.nextOfType('meeting-clock')).elapsedMs < 1_000, 'a new meeting');
  } finally {
    await s.stop();
  }
});
