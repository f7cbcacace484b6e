// Resuming a participant after its connection dropped (signal/room-state.ts, admission.ts, rooms.ts), over real
// WebSockets: a resume token in `joined`; a new connection with it is the same participant (same id and role,
// focus told to start it afresh); a token is spent once used, forgotten on a deliberate leave, valid in its own
// room only; the chat history stays while a room's people are only disconnected and goes when they leave.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { startTestSignal, type TestSignal, type WsClient } from '../helpers/signal-client.ts';

describe('signal: resume tokens', () => {
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal({ authMode: 'open' });
  });
  after(() => s.stop());

  /** A socket that dies without a close frame (a killed browser, a lost network), and its close seen by the server. */
  const drop = async (c: WsClient) => {
    c.ws.terminate();
    await c.closed;
  };

  test('a dropped participant comes back as itself with its token; the token is spent', async () => {
    const ana = s.client();
    const joined = await ana.join('Resume', 'Ana');
    assert.match(joined.resumeToken, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(joined.role, 'moderator');
    const ben = s.client();
    await ben.join('Resume', 'Ben');
    await drop(ana);
    assert.equal((await ben.nextOfType('participant-left')).id, joined.selfId);

    const back = s.client();
    const again = await back.join('Resume', 'Ana', { resume: joined.resumeToken });
    assert.equal(again.selfId, joined.selfId);
    assert.equal(again.role, 'moderator');
    assert.notEqual(again.resumeToken, joined.resumeToken, 'a new token each time');
    assert.deepEqual(again.participants.map((p: any) => p.displayName), ['Ben']);
    const seen = await ben.nextOfType('participant-joined');
    assert.equal(seen.participant.id, joined.selfId);
    // focus: joined, left when the socket dropped, then a fresh start (a leave before the join, in that order)
    const callsFor = () => s.focusCalls.filter((c) => c.payload.participantId === joined.selfId).map((c) => c.subject);
    await waitFor(() => callsFor().length >= 4);
    assert.deepEqual(callsFor(), [subjects.focusJoin, subjects.focusLeave, subjects.focusLeave, subjects.focusJoin]);

    // the spent token no longer resumes: a new participant
    const thief = s.client();
    const other = await thief.join('Resume', 'Ana', { resume: joined.resumeToken });
    assert.notEqual(other.selfId, joined.selfId);
    assert.equal(other.role, 'participant');
    for (const c of [back, ben, thief]) c.close();
  });

  test('a second connection with the token while the first is still open takes its place', async () => {
    const ana = s.client();
    const ben = s.client();
    const j = await ana.join('Twice', 'Ana');
    await ben.join('Twice', 'Ben');
    const second = s.client();
    const again = await second.join('Twice', 'Ana', { resume: j.resumeToken });
    assert.equal(again.selfId, j.selfId);
    assert.deepEqual(again.participants.map((p: any) => p.displayName), ['Ben'], 'no second Ana');
    assert.equal((await ben.nextOfType('participant-left')).id, j.selfId);
    assert.equal((await ben.nextOfType('participant-joined')).participant.id, j.selfId);
    for (const c of [ana, ben, second]) c.close();
  });

  test('a deliberate leave forgets the token; a token is only good in its own room', async () => {
    const ana = s.client();
    const j = await ana.join('Leaving', 'Ana');
    await ana.send({ type: 'leave' });
    const back = s.client();
    assert.notEqual((await back.join('Leaving', 'Ana', { resume: j.resumeToken })).selfId, j.selfId);

    const ben = s.client();
    const jb = await ben.join('Room-One', 'Ben');
    await drop(ben);
    const elsewhere = s.client();
    assert.notEqual((await elsewhere.join('Room-Two', 'Ben', { resume: jb.resumeToken })).selfId, jb.selfId);
    for (const c of [ana, back, elsewhere]) c.close();
  });

  test('a malformed token is refused with a reason', async () => {
    const c = s.client();
    const r = await c.tryJoin('Bad', 'Ana', { resume: 'not a token' });
    assert.equal(r.type, 'error');
    assert.equal(r.code, 'bad-message');
    assert.match(r.message, /resume token/);
    c.close();
  });

  test('chat history stays while everyone is only disconnected, and goes once they leave', async () => {
    const ana = s.client();
    const j = await ana.join('Charla', 'Ana');
    await ana.nextOfType('chat-history');
    await ana.send({ type: 'chat', text: 'hola' });
    await ana.nextOfType('chat');
    await drop(ana); // the room is empty now, but Ana may come back
    const back = s.client();
    assert.equal((await back.join('Charla', 'Ana', { resume: j.resumeToken })).selfId, j.selfId);
    assert.deepEqual((await back.nextOfType('chat-history')).messages.map((m: any) => m.text), ['hola']);
    await back.send({ type: 'leave' });
    assert.ok(await back.nothingLike(() => false)); // a round trip: the leave was handled
    const next = s.client();
    await next.join('Charla', 'Caro');
    assert.deepEqual((await next.nextOfType('chat-history')).messages, []);
    for (const c of [back, next]) c.close();
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}
