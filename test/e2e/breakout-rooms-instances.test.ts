// Breakout rooms across signal processes (issue 17), end to end: a nats-server with JetStream, focus + bridge in
// one process, and two `--parts web` signal processes. A moderator on A moves a participant whose socket is on B
// into a breakout room (B makes the move; the real focus offers it the breakout room's media), and one on A too:
// they see each other there. Then B is killed (SIGKILL: nothing said, nothing cleaned up): once A notices, the
// participant's browser resumes through A and is back in its breakout room, with an offer for that room's media.
// Closing all rooms brings everyone back. No browser: WebSocket clients.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { createLogger } from '../../src/log.ts';
import { BREAKOUTS_ITEM, breakoutListSchema } from '../../src/signal/breakout-list.ts';
import type { RunningServer } from '../helpers/server.ts';
import { SignalProcesses } from '../helpers/signal-processes.ts';
import { storedItem, until } from '../helpers/signal-instances.ts';

const ROOM = 'Grupos Compartidos';
const WAIT = 30_000;
const isList = (m: any) => m.type === 'breakout-rooms';

describe('breakout rooms across signal processes, and after one is killed', () => {
  const all = new SignalProcesses();
  const signals = all.signals;
  const client = (s: RunningServer) => all.client(s);
  let bus: NatsBus;

  before(async () => {
    await all.start('focus,bridge', 2);
    bus = await NatsBus.connect({ url: all.nats.url, log: createLogger('silent'), reconnectWaitMs: 200 });
  });

  after(async () => {
    await bus?.close();
    await all.stop();
  });

  test('a move across processes, a breakout room over both, and back in it after a resume through the survivor', async () => {
    const [a, b] = signals as [RunningServer, RunningServer];
    const mod = client(a);
    await mod.join(ROOM, 'Mod');
    const ben = client(b);
    const jb = await ben.join(ROOM, 'Ben');
    const caro = client(a);
    const jc = await caro.join(ROOM, 'Caro');
    await mod.next((m) => m.type === 'participant-joined' && m.participant.id === jb.selfId, WAIT);

    await mod.send({ type: 'breakout-add', name: 'Mesa 1' });
    await ben.next((m) => isList(m) && m.rooms.length === 1, WAIT);
    // Ben's socket is on B: B moves him, and focus offers him the breakout room's media
    await mod.send({ type: 'breakout-move', participantId: jb.selfId, roomId: '1' });
    assert.equal((await ben.nextOfType('joined', WAIT)).room, 'Mesa 1');
    ben.received.length = 0;
    assert.equal((await ben.nextOfType('offer', WAIT)).type, 'offer');
    await mod.send({ type: 'breakout-move', participantId: jc.selfId, roomId: '1' });
    const caroIn = await caro.nextOfType('joined', WAIT);
    assert.deepEqual(caroIn.participants.map((p: any) => p.id), [jb.selfId], 'Ben, through B, is in the room');
    await caro.nextOfType('offer', WAIT);
    await ben.next((m) => m.type === 'participant-joined' && m.participant.id === jc.selfId, WAIT);
    await until(async () => {
      const s = breakoutListSchema.safeParse(await storedItem(bus, BREAKOUTS_ITEM, ROOM));
      return s.success && s.data.seats.some((seat) => seat.participantId === jb.selfId);
    }, "Ben's seat stored", WAIT);

    caro.received.length = 0; // only what comes after the kill
    b.process.kill('SIGKILL');
    ben.ws.terminate();
    // A drops B's people once B is silent: Caro sees Ben leave the breakout room
    assert.equal((await caro.next((m) => m.type === 'participant-left' && m.id === jb.selfId, WAIT)).id, jb.selfId);
    const back = client(a);
    const again = await back.join(ROOM, 'Ben', { resume: jb.resumeToken });
    assert.equal(again.selfId, jb.selfId);
    const inRoom = await back.nextOfType('joined', WAIT);
    assert.equal(inRoom.room, 'Mesa 1', 'back in his breakout room');
    assert.deepEqual(inRoom.participants.map((p: any) => p.id), [jc.selfId]);
    back.received.length = 0;
    await back.nextOfType('offer', WAIT);
    await mod.next((m) => isList(m) && m.rooms[0]?.participants.length === 2 && m.mainParticipants.length === 1, WAIT);

    await mod.send({ type: 'breakout-close-all' });
    for (const c of [back, caro]) assert.equal((await c.next((m) => m.type === 'joined' && m.room === ROOM, WAIT)).room, ROOM);
    await mod.next((m) => isList(m) && m.rooms.length === 0 && m.mainParticipants.length === 3, WAIT);
  });
});
