// Breakout rooms across signal instances (issue 17): two (then three) signal instances over a real nats-server
// with JetStream and a fake focus. The list of a meeting's breakout rooms is a shared room item: members on every
// instance see the same list and its changes; a moderator on one instance moves a participant whose socket is on
// the other one (its instance makes the move) into a breakout room and back; members of a breakout room on
// different instances see each other and chat there; closing the rooms brings everyone back on every instance;
// ending the meeting on one instance ends it everywhere; an instance that dies leaves its people to reconnect
// (resume) through another one, back into their breakout room.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/log.ts';
import { BREAKOUTS_ITEM, breakoutListSchema } from '../../src/signal/breakout-list.ts';
import type { WsClient } from '../helpers/signal-client.ts';
import { participantsOn, SignalInstances, storedItem, until, type SignalInstance } from '../helpers/signal-instances.ts';

const log = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');
const WAIT = 20_000;
const isList = (m: any) => m.type === 'breakout-rooms';
const names = (people: any[]) => people.map((p: any) => p.displayName).sort();

describe('breakout rooms across signal instances', () => {
  const all = new SignalInstances(log);
  let one: SignalInstance;
  let two: SignalInstance;

  before(async () => {
    await all.start();
    one = await all.add('one');
    two = await all.add('two');
  });
  after(() => all.stop());

  /** A moderator on instance one and participants: on two (`remote`) and on one (`local`). */
  const meeting = async (room: string, remote: string[], local: string[] = []) => {
    const mod = one.client();
    await mod.join(room, 'Mod');
    await participantsOn(two, 1);
    const people = new Map<string, { c: WsClient; id: string }>();
    for (const [inst, who] of [[two, remote], [one, local]] as const) {
      for (const name of who) {
        const c = inst.client();
        people.set(name, { c, id: (await c.join(room, name)).selfId });
      }
    }
    await participantsOn(one, 1 + remote.length + local.length);
    await participantsOn(two, 1 + remote.length + local.length);
    return { mod, people };
  };

  test('the list is seen on both; a move across instances, into a breakout room and back; a breakout room spans instances', async () => {
    const { mod, people } = await meeting('Talleres', ['Ben'], ['Dora']);
    const ben = people.get('Ben')!;
    const dora = people.get('Dora')!;
    await mod.send({ type: 'breakout-add', name: 'Sala 1' });
    await mod.send({ type: 'breakout-add', name: 'Sala 2' });
    // Ben, on the other instance, sees the same list (read from the store after the change is announced)
    const seen = await ben.c.next((m) => isList(m) && m.rooms.length === 2, WAIT);
    assert.deepEqual(seen.rooms.map((r: any) => [r.id, r.name]), [['1', 'Sala 1'], ['2', 'Sala 2']]);
    assert.deepEqual(names(seen.mainParticipants), ['Ben', 'Dora', 'Mod']);

    // the moderator on one moves Ben, whose socket is on two: two makes the move
    await mod.send({ type: 'breakout-move', participantId: ben.id, roomId: '1' });
    const moved = await ben.c.nextOfType('joined', WAIT);
    assert.equal(moved.room, 'Sala 1');
    assert.equal(moved.selfId, ben.id);
    const benList = await ben.c.next((m) => isList(m) && m.current === '1', WAIT);
    assert.match(benList.ticket, /^[A-Za-z0-9_-]{16,64}$/);
    const modSees = await mod.next((m) => isList(m) && m.rooms[0]?.participants.length === 1, WAIT);
    assert.deepEqual(names(modSees.rooms[0].participants), ['Ben']);
    assert.deepEqual(names(modSees.mainParticipants), ['Dora', 'Mod']);

    // Dora (on one) into the same breakout room: she and Ben see each other, and their chat stays there
    await mod.send({ type: 'breakout-move', participantId: dora.id, roomId: '1' });
    const doraIn = await dora.c.nextOfType('joined', WAIT);
    assert.deepEqual(doraIn.participants.map((p: any) => p.id), [ben.id], 'Ben, on the other instance, is in the room');
    assert.equal((await ben.c.next((m) => m.type === 'participant-joined' && m.participant.id === dora.id, WAIT)).participant.displayName, 'Dora');
    await dora.c.send({ type: 'chat', text: 'hola, sala 1' });
    assert.equal((await ben.c.nextOfType('chat', WAIT)).message.text, 'hola, sala 1');
    await ben.c.send({ type: 'chat', text: 'hola desde dos' });
    assert.equal((await dora.c.next((m) => m.type === 'chat' && m.message.text === 'hola desde dos', WAIT)).message.from, ben.id);
    assert.ok(await mod.nothingLike((m) => m.type === 'chat'), 'not in the main room');

    // a rename on one reaches two; Ben back to the main room from one
    await mod.send({ type: 'breakout-rename', roomId: '2', name: 'Sala dos' });
    await ben.c.next((m) => isList(m) && m.rooms[1]?.name === 'Sala dos', WAIT);
    await mod.send({ type: 'breakout-move', participantId: ben.id, roomId: null });
    assert.equal((await ben.c.nextOfType('joined', WAIT)).room, 'Talleres');
    const back = await ben.c.next((m) => isList(m) && m.current === null, WAIT);
    assert.equal(back.ticket, undefined);
    await mod.next((m) => isList(m) && m.mainParticipants.length === 2 && m.rooms[0]?.participants.length === 1, WAIT);

    // a participant on two picks a room itself once allowed (on one), into a room Dora is in
    await mod.send({ type: 'breakout-allow-choice', allowed: true });
    await ben.c.next((m) => isList(m) && m.participantsCanChoose, WAIT);
    await ben.c.send({ type: 'breakout-join', roomId: '1' });
    assert.equal((await ben.c.nextOfType('joined', WAIT)).participants[0].id, dora.id);
    for (const c of [mod, ben.c, dora.c]) c.close();
    await participantsOn(one, 0);
    await participantsOn(two, 0);
  });

  test('closing the breakout rooms on one instance brings everyone back on every instance', async () => {
    const { mod, people } = await meeting('Cierre', ['Ben', 'Caro'], ['Dora']);
    await mod.send({ type: 'breakout-add', name: 'A' });
    await mod.send({ type: 'breakout-add', name: 'B' });
    await people.get('Ben')!.c.next((m) => isList(m) && m.rooms.length === 2, WAIT);
    // auto assign spreads the participants of both instances
    await mod.send({ type: 'breakout-auto-assign' });
    for (const p of people.values()) await p.c.next((m) => isList(m) && m.current !== null, WAIT);
    const spread = await mod.next((m) => isList(m) && m.mainParticipants.length === 1 && m.rooms.every((r: any) => r.participants.length > 0) && m.rooms.reduce((n: number, r: any) => n + r.participants.length, 0) === 3, WAIT);
    assert.deepEqual(spread.rooms.map((r: any) => r.participants.length).sort(), [1, 2]);

    await mod.send({ type: 'breakout-close-all' });
    for (const p of people.values()) {
      assert.equal((await p.c.next((m) => m.type === 'joined' && m.room === 'Cierre', WAIT)).room, 'Cierre');
      const l = await p.c.next((m) => isList(m) && m.rooms.length === 0 && m.mainParticipants.length === 4, WAIT);
      assert.equal(l.current, null);
    }
    await mod.next((m) => isList(m) && m.rooms.length === 0 && m.mainParticipants.length === 4, WAIT);
    // no breakout room left on either instance: only the main room
    await until(() => one.server.resourceCounts()['signal.rooms'] === 1 && two.server.resourceCounts()['signal.rooms'] === 1, 'one room per instance');
    for (const c of [mod, ...[...people.values()].map((p) => p.c)]) c.close();
    await participantsOn(one, 0);
    await participantsOn(two, 0);
  });

  test('ending the meeting on one instance ends it for those in breakout rooms on the other', async () => {
    const { mod, people } = await meeting('Final', ['Ben']);
    const ben = people.get('Ben')!;
    await mod.send({ type: 'breakout-add', name: 'Uno' });
    await ben.c.next((m) => isList(m) && m.rooms.length === 1, WAIT);
    await mod.send({ type: 'breakout-move', participantId: ben.id, roomId: '1' });
    await ben.c.next((m) => isList(m) && m.current === '1', WAIT);
    await mod.next((m) => isList(m) && m.rooms[0]?.participants.length === 1, WAIT);
    await mod.send({ type: 'end-meeting' });
    assert.equal((await ben.c.nextOfType('meeting-ended', WAIT)).type, 'meeting-ended');
    await mod.nextOfType('meeting-ended', WAIT);
    await participantsOn(one, 0);
    await participantsOn(two, 0);
    await until(() => one.server.resourceCounts()['signal.rooms'] === 0 && two.server.resourceCounts()['signal.rooms'] === 0, 'no room left on either instance');
    // a next meeting of that name starts without breakout rooms
    await until(async () => (await storedItem(all.focusBus, BREAKOUTS_ITEM, 'Final')) === undefined, 'the list forgotten');
  });

  test('an instance that dies: its people reconnect through another one, back into their breakout room', async () => {
    const three = await all.add('three');
    const mod = one.client();
    await mod.join('Refugio', 'Mod');
    await participantsOn(three, 1);
    const eva = three.client();
    const je = await eva.join('Refugio', 'Eva');
    const ben = two.client();
    await ben.join('Refugio', 'Ben');
    await participantsOn(one, 3);
    await mod.send({ type: 'breakout-add', name: 'Sala A' });
    await eva.next((m) => isList(m) && m.rooms.length === 1, WAIT);
    await mod.send({ type: 'breakout-move', participantId: je.selfId, roomId: '1' });
    assert.equal((await eva.nextOfType('joined', WAIT)).room, 'Sala A');
    await eva.next((m) => isList(m) && m.current === '1', WAIT);
    await ben.next((m) => isList(m) && m.rooms[0]?.participants.some((p: any) => p.id === je.selfId), WAIT);
    // Eva's seat is in the store (written by three) before three dies
    await until(async () => {
      const s = breakoutListSchema.safeParse(await storedItem(all.focusBus, BREAKOUTS_ITEM, 'Refugio'));
      return s.success && s.data.seats.some((seat) => seat.participantId === je.selfId && seat.roomId === '1');
    }, "Eva's seat stored");

    // three dies (its NATS connection cut, nothing said): once it is silent the others drop Eva from the room
    mod.received.length = 0; // only lists from now on
    await three.bus.close();
    eva.ws.terminate();
    await mod.next((m) => isList(m) && m.rooms[0]?.participants.length === 0, 30_000);
    // Eva's browser reconnects through one with its resume token
    const eva2 = one.client();
    const again = await eva2.join('Refugio', 'Eva', { resume: je.resumeToken });
    assert.equal(again.selfId, je.selfId, 'the same participant');
    const inRoom = await eva2.nextOfType('joined', WAIT);
    assert.equal(inRoom.room, 'Sala A', 'back in her breakout room');
    assert.equal((await eva2.next((m) => isList(m) && m.current === '1', WAIT)).rooms[0].participants.length, 1);
    // the others see her there (and only once), on both surviving instances
    const modList = await mod.next((m) => isList(m) && m.rooms[0]?.participants.length === 1 && m.mainParticipants.length === 2, WAIT);
    assert.deepEqual(modList.rooms[0].participants.map((p: any) => p.id), [je.selfId]);
    await ben.next((m) => isList(m) && m.rooms[0]?.participants.length === 1 && m.mainParticipants.length === 2, WAIT);
    // closing her room brings her back through the instance that holds her socket now
    await mod.send({ type: 'breakout-close', roomId: '1' });
    assert.equal((await eva2.nextOfType('joined', WAIT)).room, 'Refugio');
    for (const c of [mod, ben, eva2]) c.close();
    await participantsOn(one, 0);
    await participantsOn(two, 0);
    await three.server.close().catch(() => {});
    all.instances.splice(all.instances.indexOf(three), 1);
  });
});
