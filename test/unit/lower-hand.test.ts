// A moderator lowers raised hands (as Jitsi's "Lower hand" / "Lower all hands"): the page whose hand it is is told
// (`hand-lowered`, by whom) and lowers it itself, so it works wherever its socket is; only raised hands are told;
// anyone else is refused with `not-moderator`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSignal } from '../helpers/signal-client.ts';

test('a moderator lowers one raised hand, or all of them; a participant may not', async () => {
  const s = await startTestSignal();
  try {
    const ana = s.client();
    const ben = s.client();
    const cai = s.client();
    const dan = s.client();
    await ana.join('Manos', 'Ana');
    const jb = await ben.join('Manos', 'Ben');
    await cai.join('Manos', 'Cai');
    await dan.join('Manos', 'Dan');
    for (const c of [ben, cai]) await c.send({ type: 'hand', raised: true });
    await ana.next((m) => m.type === 'participant-updated' && m.participant.displayName === 'Cai' && m.participant.handRaisedAt !== undefined);
    assert.equal((await dan.expectError({ type: 'lower-hand', target: jb.selfId })).code, 'not-moderator');

    await ana.send({ type: 'lower-hand', target: jb.selfId });
    assert.deepEqual(await ben.nextOfType('hand-lowered'), { type: 'hand-lowered', by: 'Ana' });
    await ben.send({ type: 'hand', raised: false });
    await ana.next((m) => m.type === 'participant-updated' && m.participant.id === jb.selfId && m.participant.handRaisedAt === undefined);

    // all hands: Cai's (raised) is told, Dan's (not raised) and Ben's (lowered) are not
    await ana.send({ type: 'lower-hand' });
    assert.deepEqual(await cai.nextOfType('hand-lowered'), { type: 'hand-lowered', by: 'Ana' });
    await ana.send({ type: 'speaker-stats' }); // a round trip: whatever Ana's lowering sent is out by its answer
    await ana.nextOfType('speaker-stats');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(dan.received.filter((m) => m.type === 'hand-lowered').length, 0, 'a hand not raised');
    assert.equal(ben.received.filter((m) => m.type === 'hand-lowered').length, 0, 'a hand lowered already');
    assert.equal((await ana.expectError({ type: 'lower-hand', target: 'nobody' })).code, 'no-such-participant');
  } finally {
    await s.stop();
  }
});
