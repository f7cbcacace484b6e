// The attack: a participant toggles screen sharing (or its raised hand) in a loop, just under the socket's
// message cap, so that the server broadcasts participant-updated to everyone, and asks focus to renegotiate,
// for every toggle (up to 50 a second per attacker, each to every participant). Signal's
// per-participant limit (meeting.ts, the renegotiationBurst/renegotiationRate settings) lets a burst through,
// then one change per token, merged: everyone else receives a bounded number of updates and still learns the
// final state. The server is real (HTTPS, WebSocket); focus is a bus handler that counts.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { startTestSignal, type TestSignal, type WsClient } from '../helpers/signal-client.ts';

const BURST = 3;
const RATE = 2;
const TOGGLES = 150;
/** Under the socket's own cap (ws.ts MAX_MESSAGES_PER_SECOND, 50: beyond it the socket is closed): ~33 a second. */
const PACE_MS = 30;
const paced = () => new Promise((r) => setTimeout(r, PACE_MS));

let s: TestSignal | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

/** Most updates the limit lets through in `elapsedMs`: the burst, one per token since, and one merged at the end. */
const allowed = (elapsedMs: number) => BURST + Math.ceil((elapsedMs / 1000) * RATE) + 1;

async function meetingOfTwo(): Promise<{ attacker: WsClient; victim: WsClient; attackerId: string; renegotiations: () => number }> {
  s = await startTestSignal({ renegotiationBurst: BURST, renegotiationRate: RATE });
  let renegotiations = 0;
  s.bus.handle(subjects.focusRenegotiate, () => {
    renegotiations++;
    return { ok: true };
  });
  const attacker = s.client();
  const victim = s.client();
  const joined = await attacker.join('Sala', 'Mallory');
  await victim.join('Sala', 'Ana');
  return { attacker, victim, attackerId: joined.selfId, renegotiations: () => renegotiations };
}

/** Everything about `id` that `client` received until now (after a round trip to the server). */
async function updatesAbout(client: WsClient, id: string): Promise<any[]> {
  await client.nothingLike(() => false);
  return client.received.filter((m) => m.type === 'participant-updated' && m.participant.id === id);
}

/**
 * The latest update about `id`, read until it is `settled` (the merged toggle waits for a token; after the last
 * toggle, no later update can undo it), or up to 10 s: the assertion is on the state, never on the wait.
 */
async function latestOnceSettled(client: WsClient, id: string, settled: (m: any) => boolean): Promise<any> {
  const end = Date.now() + 10_000;
  for (;;) {
    const latest = (await updatesAbout(client, id)).at(-1);
    if ((latest !== undefined && settled(latest)) || Date.now() > end) return latest;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the attack: 150 screen-share toggles (as fast as the socket may send) reach the others as a bounded number of updates, and the last state arrives', async () => {
  const { attacker, victim, attackerId, renegotiations } = await meetingOfTwo();
  // only the attack's renegotiations count (joining may have asked for some already)
  const before = renegotiations();
  const start = Date.now();
  for (let i = 0; i < TOGGLES; i++) {
    await attacker.send({ type: 'screen-share', sharing: i % 2 === 0 });
    await paced();
  }
  await attacker.send({ type: 'screen-share', sharing: true }); // the final state: sharing
  await attacker.nothingLike(() => false); // the server read every toggle
  const elapsed = Date.now() - start;
  const during = await updatesAbout(victim, attackerId);
  assert.ok(during.length >= 1, 'the first toggles went through at once');
  assert.ok(during.length <= allowed(elapsed), `${during.length} updates for ${TOGGLES} toggles in ${elapsed} ms (at most ${allowed(elapsed)})`);
  // the merged last toggle is applied once a token is there: Mallory is sharing
  const final = await latestOnceSettled(victim, attackerId, (m) => m.participant.screenSharing === true);
  assert.equal(final?.participant.screenSharing, true, 'everyone learns the final state');
  const total = Date.now() - start;
  const asked = renegotiations() - before;
  assert.ok(asked <= allowed(total), `${asked} renegotiations asked of focus (at most ${allowed(total)})`);
  assert.ok(asked >= 1);
});

test('the same with a raised hand toggled in a loop', async () => {
  const { attacker, victim, attackerId } = await meetingOfTwo();
  const start = Date.now();
  for (let i = 0; i < TOGGLES; i++) {
    await attacker.send({ type: 'hand', raised: i % 2 === 0 });
    await paced();
  }
  await attacker.send({ type: 'hand', raised: true });
  await attacker.nothingLike(() => false);
  const elapsed = Date.now() - start;
  const during = await updatesAbout(victim, attackerId);
  assert.ok(during.length >= 1);
  assert.ok(during.length <= allowed(elapsed), `${during.length} updates for ${TOGGLES} toggles in ${elapsed} ms (at most ${allowed(elapsed)})`);
  const final = await latestOnceSettled(victim, attackerId, (m) => typeof m.participant.handRaisedAt === 'number');
  assert.equal(typeof final?.participant.handRaisedAt, 'number', 'everyone learns the hand is up');
});
