// Breakout rooms on the signal side, through the real WebSocket server (focus is the test helper's recorder of
// bus requests): the protocol's checks, moderators only (participants refused), the cap, moves (a new `joined`
// and a focus leave + join on the same socket), chat per room, joining by choice only when allowed, a reload
// back into its breakout room by ticket, closing and removing rooms, the main room kept while everyone is in a
// breakout room, "end meeting" ending the breakout rooms too, phone callers never moved, webhooks (breakout rooms as
// rooms with `breakoutOf`) and the admin API (main rooms only), and the main room's people kept up to date with
// or without breakout rooms (moderators only while there are none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BREAKOUT_NAME, MAX_BREAKOUT_ROOMS } from '../../src/protocol/breakout-messages.ts';
import { clientMessageSchema, roomKey } from '../../src/protocol/signal-messages.ts';
import { answerPlainAttach, startTestSignal, type TestSignal, type WsClient } from '../helpers/signal-client.ts';
import { adminRequest } from '../helpers/admin-api.ts';
import { callBus } from '../../src/bus/typed-calls.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

const ADMIN_TOKEN = 'breakout-admin-token-0123456789';

const isList = (m: any) => m.type === 'breakout-rooms';

/** Waits until the server has no room left (every room of the meeting let go). */
async function noRoomsLeft(s: TestSignal): Promise<void> {
  const until = Date.now() + 5000;
  while (s.server.resourceCounts()['signal.rooms'] !== 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.server.resourceCounts()['signal.rooms'], 0, 'no room left behind');
}

/** Drops what `c` received so far (the next waits see only what comes after). */
function drain(c: WsClient): void {
  c.received.length = 0;
}

test('the protocol checks breakout messages', () => {
  const ok = (m: unknown) => clientMessageSchema.safeParse(m).success;
  assert.equal((clientMessageSchema.parse({ type: 'breakout-add', name: ' \u202eRoom\u200b 1 ' }) as any).name, 'Room 1');
  assert.ok(!ok({ type: 'breakout-add', name: ' \u200b ' }), 'an empty name');
  assert.ok(ok({ type: 'breakout-add', name: 'x'.repeat(MAX_BREAKOUT_NAME) }));
  assert.ok(!ok({ type: 'breakout-add', name: 'x'.repeat(MAX_BREAKOUT_NAME + 1) }));
  assert.ok(!ok({ type: 'breakout-move', participantId: 'p', roomId: '../x' }));
  assert.ok(ok({ type: 'breakout-move', participantId: 'p', roomId: null }));
  assert.ok(!ok({ type: 'breakout-return', ticket: 'short' }));
  assert.ok(!ok({ type: 'breakout-allow-choice', allowed: 'yes' }));
});

test('breakout rooms: moderators create and move, participants choose when allowed, rooms close back to the main room', async () => {
  const s = await startTestSignal();
  try {
    const ana = s.client();
    const ben = s.client();
    const caro = s.client();
    await ana.join('Taller', 'Ana');
    assert.equal((await ana.nextOfType('room-state')).type, 'room-state');
    const benJoined = await ben.join('Taller', 'Ben');
    await caro.join('Taller', 'Caro');
    const benId = benJoined.selfId as string;

    // a participant may not create rooms nor move anyone
    assert.equal((await ben.expectError({ type: 'breakout-add', name: 'Mine' })).code, 'not-moderator');
    assert.equal((await ben.expectError({ type: 'breakout-move', participantId: benId, roomId: '1' })).code, 'not-moderator');
    assert.equal((await ben.expectError({ type: 'breakout-allow-choice', allowed: true })).code, 'not-moderator');

    // the moderator adds two; everyone sees the list, names escaped nowhere but cleaned
    await ana.send({ type: 'breakout-add', name: 'Sala <b>1</b>' });
    await ana.send({ type: 'breakout-add', name: 'Sala 2' });
    const list = await caro.next((m) => isList(m) && m.rooms.length === 2);
    assert.deepEqual(
      list.rooms.map((r: any) => [r.id, r.name, r.participants.length]),
      [
        ['1', 'Sala <b>1</b>', 0],
        ['2', 'Sala 2', 0],
      ],
    );
    assert.equal(list.current, null);
    assert.equal(list.mainParticipants.length, 3);
    assert.equal(list.participantsCanChoose, false);

    // the cap
    for (let i = 3; i <= MAX_BREAKOUT_ROOMS; i++) await ana.send({ type: 'breakout-add', name: `R${i}` });
    assert.equal((await ana.expectError({ type: 'breakout-add', name: 'one too many' })).code, 'breakout-limit');
    for (let i = 3; i <= MAX_BREAKOUT_ROOMS; i++) await ana.send({ type: 'breakout-remove', roomId: String(i) });
    await ana.next((m) => isList(m) && m.rooms.length === 2);
    assert.equal((await ana.expectError({ type: 'breakout-rename', roomId: '99', name: 'x' })).code, 'breakout-not-found');
    assert.equal((await ana.expectError({ type: 'breakout-move', participantId: 'nobody', roomId: '1' })).code, 'no-such-participant');

    // a move: Ben leaves the main room's media and joins room 1's, on the same socket
    drain(ana);
    drain(ben);
    s.focusCalls.length = 0;
    await ana.send({ type: 'breakout-move', participantId: benId, roomId: '1' });
    const rejoined = await ben.nextOfType('joined');
    assert.equal(rejoined.room, 'Sala <b>1</b>');
    assert.deepEqual(rejoined.participants, [], 'alone in room 1');
    assert.equal(rejoined.selfId, benId, 'the same id');
    const benList = await ben.next((m) => isList(m) && m.current === '1');
    assert.match(benList.ticket, /^[A-Za-z0-9_-]{16,64}$/);
    assert.equal((await ana.nextOfType('participant-left')).id, benId);
    await ana.next((m) => isList(m) && m.rooms[0].participants.some((p: any) => p.id === benId));
    const until = Date.now() + 5000;
    while (s.focusCalls.filter((c) => c.payload.participantId === benId).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const benCalls = s.focusCalls.filter((c) => c.payload.participantId === benId);
    assert.deepEqual(benCalls.map((c) => c.subject), ['focus.leave', 'focus.join']);
    assert.equal(benCalls[0]!.payload.conferenceId, roomKey('Taller'));
    const breakoutConference = benCalls[1]!.payload.conferenceId as string;
    assert.match(breakoutConference, /^BR-/);
    assert.notEqual(roomKey(breakoutConference), breakoutConference, 'no typed room name reaches a breakout room');

    // chat stays in its room
    drain(ana);
    await ben.send({ type: 'chat', text: 'only room 1' });
    assert.equal((await ben.nextOfType('chat')).message.text, 'only room 1');
    assert.ok(await ana.nothingLike((m) => m.type === 'chat'));

    // joining by choice: refused until the moderator allows it
    assert.equal((await caro.expectError({ type: 'breakout-join', roomId: '2' })).code, 'not-allowed');
    await ana.send({ type: 'breakout-allow-choice', allowed: true });
    await caro.next((m) => isList(m) && m.participantsCanChoose);
    await caro.send({ type: 'breakout-join', roomId: '2' });
    assert.equal((await caro.nextOfType('joined')).room, 'Sala 2');
    await caro.next((m) => isList(m) && m.current === '2');

    // Ben reloads: a new socket in the main room, then back to room 1 with the tab's ticket
    ben.close();
    await ana.next((m) => isList(m) && m.rooms[0].participants.length === 0);
    const ben2 = s.client();
    await ben2.join('Taller', 'Ben');
    await ben2.send({ type: 'breakout-return', ticket: benList.ticket });
    assert.equal((await ben2.nextOfType('joined')).room, 'Sala <b>1</b>');
    const ben2List = await ben2.next((m) => isList(m) && m.current === '1');
    assert.equal(ben2List.rooms[0].participants.length, 1);
    // a ticket is good once
    await ben2.send({ type: 'breakout-leave' });
    await ben2.next((m) => isList(m) && m.current === null);
    await ben2.send({ type: 'breakout-return', ticket: benList.ticket });
    assert.ok(await ben2.nothingLike((m) => isList(m) && m.current === '1'));
    await ben2.send({ type: 'breakout-join', roomId: '1' });
    await ben2.next((m) => isList(m) && m.current === '1');

    // the moderator visits room 1 and stays a moderator there; the main room (now empty) stays open
    await ana.send({ type: 'breakout-join', roomId: '1' });
    const anaInRoom = await ana.nextOfType('joined');
    assert.equal(anaInRoom.role, 'moderator');
    // what a joiner gets: the room's settings, and (a moderator) its lobby
    assert.equal((await ana.nextOfType('room-state')).locked, false);
    assert.deepEqual((await ana.nextOfType('lobby-list')).knocks, []);
    assert.equal(anaInRoom.participants.length, 1);
    const empty = await ana.next((m) => isList(m) && m.mainParticipants.length === 0 && m.current === '1');
    assert.equal(empty.rooms[1].participants.length, 1, 'Caro still in room 2');
    // a latecomer still finds the meeting (and its rooms) under the main room's name, and is no moderator
    const dora = s.client();
    const doraJoined = await dora.join('Taller', 'Dora');
    assert.equal(doraJoined.role, 'participant');
    assert.equal((await dora.next(isList)).rooms.length, 2);

    // close room 1: its people (Ben and the moderator) back in the main room; the room stays, empty
    await ana.send({ type: 'breakout-close', roomId: '1' });
    assert.equal((await ana.nextOfType('joined')).participants.length >= 1, true);
    await ben2.next((m) => m.type === 'joined' && m.room === 'Taller');
    const closed = await dora.next((m) => isList(m) && m.mainParticipants.length === 3);
    assert.deepEqual(closed.rooms.map((r: any) => r.participants.length), [0, 1]);

    // auto assign spreads the participants of the main room (Ben and Dora), the least full room first
    drain(ana);
    await ana.send({ type: 'breakout-auto-assign' });
    const assigned = await ana.next((m) => isList(m) && m.mainParticipants.length === 1);
    assert.deepEqual(assigned.rooms.map((r: any) => r.participants.length).sort(), [1, 2]);
    assert.ok(await ana.nothingLike(isList), 'the list once for the whole assignment, not once per move');

    // end meeting from the main room: everyone in a breakout room is told too
    await ana.send({ type: 'end-meeting' });
    for (const c of [ben2, caro, dora]) assert.equal((await c.nextOfType('meeting-ended')).type, 'meeting-ended');
    await ana.nextOfType('meeting-ended');
    await noRoomsLeft(s);
  } finally {
    await s.stop();
  }
});

test("the main room's people: a moderator's first list counts everyone; joins and leaves update it, also after a breakout room was added and removed", async () => {
  const s = await startTestSignal();
  const names = (m: any) => m.mainParticipants.map((p: any) => p.displayName).sort();
  const mainIs = (...want: string[]) => (m: any) => isList(m) && names(m).join() === [...want].sort().join();
  try {
    // no breakout rooms yet: the moderator's first list has the main room with everyone in it
    const ana = s.client();
    await ana.join('Lista', 'Ana');
    const first = await ana.next(isList);
    assert.deepEqual(first.rooms, []);
    assert.deepEqual(names(first), ['Ana']);
    const ben = s.client();
    await ben.join('Lista', 'Ben');
    await ana.next(mainIs('Ana', 'Ben'));
    const caro = s.client();
    await caro.join('Lista', 'Caro');
    await ana.next(mainIs('Ana', 'Ben', 'Caro'));
    // a leave
    caro.close();
    await ana.next(mainIs('Ana', 'Ben'));
    // participants are not shown the main room's people while there are no breakout rooms: they are not sent them
    assert.ok(await ben.nothingLike(isList));

    // a breakout room added (everyone sees it), then removed
    await ana.send({ type: 'breakout-add', name: 'Uno' });
    await ben.next((m) => mainIs('Ana', 'Ben')(m) && m.rooms.length === 1);
    await ana.send({ type: 'breakout-remove', roomId: '1' });
    await ben.next((m) => isList(m) && m.rooms.length === 0);
    await ana.next((m) => mainIs('Ana', 'Ben')(m) && m.rooms.length === 0);
    drain(ben);

    // after it: a newcomer, and someone leaving, still update the moderator's list
    const dora = s.client();
    const doraId = (await dora.join('Lista', 'Dora')).selfId;
    await ana.next(mainIs('Ana', 'Ben', 'Dora'));
    await ben.send({ type: 'leave' });
    await ana.next(mainIs('Ana', 'Dora'));
    assert.ok(await dora.nothingLike(isList), 'a participant joining a meeting without breakout rooms is not sent the list');

    // a new moderator gets the list as it is at once
    await ana.send({ type: 'grant-moderator', target: doraId });
    const promoted = await dora.next(isList);
    assert.deepEqual(names(promoted), ['Ana', 'Dora']);
    assert.deepEqual(promoted.rooms, []);
    // and from then on joins and leaves
    const eva = s.client();
    await eva.join('Lista', 'Eva');
    await dora.next(mainIs('Ana', 'Dora', 'Eva'));
  } finally {
    await s.stop();
  }
});

test('breakout rooms: closing all brings everyone back; the main room ends when the last person leaves; webhooks and the admin API', async () => {
  const receiver = await new WebhookReceiver().listen();
  const s = await startTestSignal({ webhookUrls: [receiver.url], webhookSecret: 'breakout-webhook-secret-0123456789', adminApiToken: ADMIN_TOKEN });
  const events = () => receiver.accepted().map((h) => h.event);
  try {
    const ana = s.client();
    const ben = s.client();
    await ana.join('Pausa', 'Ana');
    const benId = (await ben.join('Pausa', 'Ben')).selfId;
    await ana.send({ type: 'breakout-add', name: 'A' });
    await ana.send({ type: 'breakout-move', participantId: benId, roomId: '1' });
    await ben.next((m) => isList(m) && m.current === '1');
    await ana.send({ type: 'breakout-close-all' });
    await ben.next((m) => m.type === 'joined' && m.room === 'Pausa');
    const back = await ben.next((m) => isList(m) && m.rooms.length === 0);
    assert.equal(back.mainParticipants.length, 2);
    // everyone in a breakout room, then they leave: the main room goes with the last of them
    await ana.send({ type: 'breakout-add', name: 'B' });
    await ana.send({ type: 'breakout-join', roomId: '2' });
    await ana.send({ type: 'breakout-move', participantId: benId, roomId: '2' });
    await ben.next((m) => isList(m) && m.current === '2');
    assert.equal(s.server.resourceCounts()['signal.rooms'], 2, 'the main room (empty) and the breakout room');
    // the admin API lists main rooms only; the main room, empty now, is still there
    const listed = await adminRequest(s.server.httpsPort, 'GET', '/api/v1/rooms', { token: ADMIN_TOKEN });
    assert.deepEqual(listed.body.rooms.map((r: any) => [r.name, r.participants]), [['Pausa', 0]]);
    // a phone caller (its media attached over plain RTP, not by focus.join) is never moved
    answerPlainAttach(s);
    drain(ana);
    const phone = await callBus(s.bus, busCalls.signalPhoneJoin, '', { gatewayId: 'gw-test', room: 'Pausa', callerId: '+34600111234', ssrc: 1234 });
    const withPhone = await ana.next((m) => isList(m) && m.mainParticipants.length === 1);
    assert.equal(withPhone.mainParticipants[0].id, phone.participantId);
    assert.equal(withPhone.mainParticipants[0].staysInMain, true, 'listed as one that stays in the main room (no move offered)');
    assert.equal((await ana.expectError({ type: 'breakout-move', participantId: phone.participantId, roomId: '2' })).code, 'not-allowed');
    await callBus(s.bus, busCalls.signalPhoneLeave, '', { conferenceId: phone.conferenceId, participantId: phone.participantId, reason: 'hung up' });
    ana.close();
    ben.close();
    await noRoomsLeft(s);
    // webhooks: the breakout rooms are rooms of their own, named with their main room; the main room finishes last
    await receiver.waitFor('the main room to finish', () => events().some((e) => e.type === 'room.finished' && e.data.room === 'Pausa'));
    const rooms = events().filter((e) => e.type.startsWith('room.')).map((e) => `${e.type} ${e.data.room}${e.data.breakoutOf ? ` of ${e.data.breakoutOf}` : ''}`);
    assert.deepEqual(rooms, ['room.started Pausa', 'room.started A of Pausa', 'room.finished A of Pausa', 'room.started B of Pausa', 'room.finished B of Pausa', 'room.finished Pausa']);
    const benMoves = events().filter((e) => e.type.startsWith('participant.') && e.data.participantId === benId).map((e) => `${e.type} ${e.data.room}`);
    assert.deepEqual(benMoves.slice(0, 3), ['participant.joined Pausa', 'participant.left Pausa', 'participant.joined A']);
  } finally {
    await s.stop();
    await receiver.close();
  }
});

test('breakout rooms: "end meeting" from a breakout room ends the whole meeting', async () => {
  const s = await startTestSignal();
  try {
    const ana = s.client();
    const ben = s.client();
    const caro = s.client();
    await ana.join('Fin', 'Ana');
    await ben.join('Fin', 'Ben');
    const caroId = (await caro.join('Fin', 'Caro')).selfId;
    await ana.send({ type: 'breakout-add', name: 'Uno' });
    await ana.send({ type: 'breakout-move', participantId: caroId, roomId: '1' });
    await caro.next((m) => isList(m) && m.current === '1');
    await ana.send({ type: 'breakout-join', roomId: '1' });
    await ana.next((m) => isList(m) && m.current === '1');
    // a participant may not end it; the moderator may, from the breakout room
    assert.equal((await caro.expectError({ type: 'end-meeting' })).code, 'not-moderator');
    await ana.send({ type: 'end-meeting' });
    for (const c of [ana, ben, caro]) await c.nextOfType('meeting-ended');
    await noRoomsLeft(s);
    assert.equal(s.server.resourceCounts()['signal.participants'], 0);
  } finally {
    await s.stop();
  }
});

test("while everyone is in breakout rooms the main room's password holds; a move into a moderated room mutes", async () => {
  const s = await startTestSignal();
  try {
    const ana = s.client();
    const ben = s.client();
    const anaId = (await ana.join('Cerrada', 'Ana')).selfId as string;
    const benId = (await ben.join('Cerrada', 'Ben')).selfId as string;
    await ana.send({ type: 'lock-room', password: 'secreto-1' });
    await ana.send({ type: 'breakout-add', name: 'Sala' });
    await ana.next((m) => isList(m) && m.rooms.length === 1);
    // both move to the breakout room: nobody is left in the main room itself
    await ana.send({ type: 'breakout-move', participantId: benId, roomId: '1' });
    await ben.next((m) => m.type === 'joined' && m.room === 'Sala');
    await ana.send({ type: 'breakout-move', participantId: anaId, roomId: '1' });
    const anaThere = await ana.next((m) => m.type === 'joined' && m.room === 'Sala');
    // a stranger still needs the meeting's password
    const stranger = s.client();
    const refused = await stranger.tryJoin('Cerrada', 'Eve');
    assert.equal(refused.code, 'password-required', JSON.stringify(refused));
    assert.equal((await stranger.tryJoin('Cerrada', 'Eve', { password: 'secreto-1' })).type, 'joined');
    await stranger.send({ type: 'leave' });

    // the main room moderates microphones; Ben (unmuted in the breakout room) is moved back: muted by the server
    await ana.send({ type: 'breakout-move', participantId: anaThere.selfId, roomId: null });
    await ana.next((m) => m.type === 'joined' && m.room === 'Cerrada');
    await ana.send({ type: 'set-av-moderation', kind: 'audio', enabled: true });
    await ana.next((m) => m.type === 'av-moderation' && m.enabled.audio === true);
    drain(ben);
    await ana.send({ type: 'breakout-move', participantId: benId, roomId: null });
    await ben.next((m) => m.type === 'joined' && m.room === 'Cerrada');
    await ben.nextOfType('force-muted');
    assert.equal((await ben.next((m) => m.type === 'av-moderation')).enabled.audio, true);
    assert.equal((await ben.expectError({ type: 'mute', kind: 'audio', muted: false })).code, 'not-allowed');
  } finally {
    await s.stop();
  }
});

test('breakout rooms count toward the caps: a meeting with people in breakout rooms is as full as with them back; a move that opens a room past maxRooms is refused', async () => {
  const s = await startTestSignal({ maxRooms: 2, maxParticipantsPerRoom: 2 });
  try {
    const ana = s.client();
    const ben = s.client();
    await ana.join('Cupo', 'Ana');
    const benId = (await ben.join('Cupo', 'Ben')).selfId;
    await ana.send({ type: 'breakout-add', name: 'Uno' });
    await ana.send({ type: 'breakout-add', name: 'Dos' });
    await ana.send({ type: 'breakout-move', participantId: benId, roomId: '1' });
    await ben.next((m) => isList(m) && m.current === '1');
    // the main room has one member here, but the meeting two: a third person is refused
    const caro = s.client();
    assert.equal((await caro.tryJoin('Cupo', 'Caro')).code, 'room-full');
    // two rooms live (the main room and "Uno"): opening "Dos" would be a third
    const refused = await ana.expectError({ type: 'breakout-join', roomId: '2' });
    assert.equal(refused.code, 'server-full');
    assert.match(refused.message, /breakout rooms included/);
    // moving into a room already open is fine
    await ana.send({ type: 'breakout-join', roomId: '1' });
    await ana.next((m) => isList(m) && m.current === '1');
  } finally {
    await s.stop();
  }
});

test("a move numbers the new room's offers after the last one the socket was sent: an answer in flight for the old room is never taken for the new room's", async () => {
  const s = await startTestSignal();
  try {
    const ana = s.client();
    const ben = s.client();
    await ana.join('Versiones', 'Ana');
    const benId = (await ben.join('Versiones', 'Ben')).selfId;
    s.bus.publish(subjects.signalOffer, { conferenceId: roomKey('Versiones'), participantId: benId, sdp: 'v=0', version: 7, sources: [] });
    assert.equal((await ben.nextOfType('offer')).version, 7);
    await ana.send({ type: 'breakout-add', name: 'Uno' });
    s.focusCalls.length = 0;
    await ana.send({ type: 'breakout-move', participantId: benId, roomId: '1' });
    await ben.next((m) => isList(m) && m.current === '1');
    const until = Date.now() + 5000;
    const join = () => s.focusCalls.find((c) => c.subject === subjects.focusJoin && c.payload.participantId === benId);
    while (!join() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.notEqual(join()!.payload.conferenceId, roomKey('Versiones'));
    assert.equal(join()!.payload.versionsAfter, 7);
  } finally {
    await s.stop();
  }
});

test('a reconnect whose old connection is still in a breakout room takes its place there at once (no ghost left)', async () => {
  const s = await startTestSignal();
  try {
    const ana = s.client();
    const ben = s.client();
    await ana.join('Fantasma', 'Ana');
    const jb = await ben.join('Fantasma', 'Ben');
    await ana.send({ type: 'breakout-add', name: 'Uno' });
    await ana.send({ type: 'breakout-move', participantId: jb.selfId, roomId: '1' });
    await ben.next((m) => isList(m) && m.current === '1');
    await ana.next((m) => isList(m) && m.rooms[0]?.participants.length === 1);
    // Ben's network changed: a new connection resumes while the old one still looks open here
    const again = s.client();
    const back = await again.join('Fantasma', 'Ben', { resume: jb.resumeToken });
    assert.equal(back.selfId, jb.selfId);
    // in the main room first (its resume record's room), then back in its breakout room (its seat there)
    const inRoom = await again.nextOfType('joined');
    assert.equal(inRoom.room, 'Uno');
    assert.equal(inRoom.selfId, jb.selfId);
    await again.next((m) => isList(m) && m.current === '1');
    const list = await ana.next((m) => isList(m) && m.rooms[0]?.participants.length === 1 && m.mainParticipants.length === 1);
    assert.deepEqual(list.rooms[0].participants.map((p: any) => p.id), [jb.selfId]);
    assert.equal(s.server.resourceCounts()['signal.participants'], 2, 'no ghost of Ben in the breakout room');
    assert.equal(s.server.resourceCounts()['signal.rooms'], 2, 'the main room and the breakout room');
  } finally {
    await s.stop();
  }
});

test('a knock on a main room emptied into breakout rooms reaches the moderators there, who admit it', async () => {
  const s = await startTestSignal();
  try {
    const ana = s.client();
    const ben = s.client();
    await ana.join('Portero', 'Ana');
    const jb = await ben.join('Portero', 'Ben');
    await ana.send({ type: 'set-lobby', enabled: true });
    await ana.send({ type: 'breakout-add', name: 'Uno' });
    await ana.send({ type: 'breakout-move', participantId: jb.selfId, roomId: '1' });
    await ana.send({ type: 'breakout-join', roomId: '1' });
    await ana.next((m) => isList(m) && m.current === '1' && m.mainParticipants.length === 0);
    // the main room is empty; Caro knocks: Ana, in the breakout room, sees her
    const caro = s.client();
    await caro.send({ type: 'join', room: 'Portero', displayName: 'Caro', audioMuted: true, videoMuted: true });
    await caro.nextOfType('lobby-wait');
    const list = await ana.next((m) => m.type === 'lobby-list' && m.knocks.length === 1);
    assert.equal(list.knocks[0].displayName, 'Caro');
    await ana.send({ type: 'lobby-admit', id: list.knocks[0].id });
    const joined = await caro.nextOfType('joined');
    assert.equal(joined.room, 'Portero', 'into the main room');
    assert.deepEqual((await ana.next((m) => m.type === 'lobby-list')).knocks, []);
  } finally {
    await s.stop();
  }
});
