// Shared room items across signal processes (issue 17, shared-room-items.ts), end to end: a nats-server with
// JetStream, focus + bridge + recorder in one process, and two `--parts web` signal processes. A moderator on
// instance A sets the subject, creates a poll and starts a (multitrack) recording on the real recorder; a
// participant on instance B sees all three and votes; then instance A is killed (SIGKILL: nothing said, nothing
// cleaned up) and a late joiner on B still sees the subject, the poll with its vote and the recording indicator,
// and a moderator on B stops the recording A started, on its recorder. No browser: WebSocket clients.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../helpers/server.ts';
import { SignalProcesses } from '../helpers/signal-processes.ts';

const ROOM = 'Temas Compartidos';

describe('signal instances share the subject, polls and recording indicator, and they outlive a killed instance', () => {
  const all = new SignalProcesses();
  const signals = all.signals;
  const client = (s: RunningServer) => all.client(s);
  let media: RunningServer;

  before(async () => {
    await all.start('focus,bridge,recorder', 2);
    media = all.media;
  });

  after(() => all.stop());

  test('seen on the other instance, and after the first one is killed', async () => {
    const [a, b] = signals as [RunningServer, RunningServer];
    const mod = client(a);
    const jm = await mod.join(ROOM, 'Mod');
    await mod.send({ type: 'set-subject', subject: 'Presupuesto 2027' });
    await mod.nextOfType('subject');
    await mod.send({ type: 'create-poll', question: '¿Aprobado?', options: ['Sí', 'No'], key: 'm'.repeat(22) });
    const pollId = (await mod.nextOfType('poll')).poll.id;
    // the recorder announces itself every few seconds: asked again until instance A has heard it
    const deadline = Date.now() + 30_000;
    for (;;) {
      await mod.send({ type: 'start-recording', mode: 'multitrack' });
      const m = await mod.next((x) => (x.type === 'recording' && x.active) || x.type === 'error', 40_000);
      if (m.type === 'recording') break;
      assert.equal(m.code, 'recording-unavailable', JSON.stringify(m));
      if (Date.now() > deadline) throw new Error('no recorder became free');
      await new Promise((r) => setTimeout(r, 1000));
    }

    const ben = client(b);
    const jb = await ben.join(ROOM, 'Ben');
    assert.equal((await ben.nextOfType('subject')).subject, 'Presupuesto 2027');
    assert.deepEqual((await ben.nextOfType('polls')).polls.map((p: any) => p.question), ['¿Aprobado?']);
    assert.equal((await ben.nextOfType('recording')).active, true, 'the recording indicator, started through A');
    await ben.send({ type: 'answer-poll', pollId, option: 0, key: 'b'.repeat(22) });
    assert.equal((await mod.next((m) => m.type === 'poll' && m.poll.voters === 1)).poll.options[0].votes, 1, "B's vote counts at A");
    await mod.send({ type: 'grant-moderator', target: jb.selfId });
    await ben.next((m) => m.type === 'participant-updated' && m.participant.id === jb.selfId && m.participant.role === 'moderator');

    a.process.kill('SIGKILL');
    // B drops A's people once A is silent
    assert.equal((await ben.nextOfType('participant-left', 30_000)).id, jm.selfId);

    const late = client(b);
    await late.join(ROOM, 'Late');
    assert.equal((await late.nextOfType('subject')).subject, 'Presupuesto 2027');
    const polls = (await late.nextOfType('polls')).polls;
    assert.deepEqual(polls.map((p: any) => [p.question, p.voters, p.options[0].votes]), [['¿Aprobado?', 1, 1]]);
    assert.equal((await late.nextOfType('recording')).active, true, 'still recorded after A died');

    // the recording A started is stopped from B, on the recorder itself
    await ben.send({ type: 'stop-recording' });
    assert.equal((await late.next((m) => m.type === 'recording' && m.active === false)).active, false);
    const until = Date.now() + 30_000;
    while (!/recording stopped/.test(media.output()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    assert.match(media.output(), /recording stopped/, 'the recorder stopped the job');
  });
});
