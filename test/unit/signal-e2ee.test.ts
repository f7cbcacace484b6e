// End-to-end encryption on the signalling server (real HTTPS + WebSocket, open rooms): only a moderator turns it
// on or off and everyone (and every later joiner) learns it; the key-agreement relay reaches exactly the member it
// names, unread, and refuses strangers, oversize payloads and floods; while it is on, recording, live streaming and
// calling a phone are refused, and phone callers cannot join.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_E2EE_PARTICIPANTS, MAX_E2EE_RELAY_CHARS } from '../../src/protocol/e2ee-messages.ts';
import { RELAY_BURST } from '../../src/signal/e2ee.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { roomKey } from '../../src/protocol/room-name.ts';
import { callBus } from '../../src/bus/typed-calls.ts';
import { answerPlainAttach, roomWithModerator, startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

let s: TestSignal;
before(async () => {
  s = await startTestSignal();
});
after(() => s.stop());

let roomCounter = 0;
const room = (n: number) => roomWithModerator(s, `e2ee-room-${++roomCounter}`, n);

describe('end-to-end encryption on the server', () => {
  test('joiners learn it is off; a participant cannot turn it on; a moderator can, and everyone is told', async () => {
    const r = await room(1);
    const p = r.people[0]!;
    assert.deepEqual(await p.c.nextOfType('e2ee-state'), { type: 'e2ee-state', enabled: false });
    const e = await p.c.expectError({ type: 'set-e2ee', enabled: true });
    assert.equal(e.code, 'not-moderator');
    await r.mod.send({ type: 'set-e2ee', enabled: true });
    for (const c of [r.mod, p.c]) assert.deepEqual(await c.next((m) => m.type === 'e2ee-state' && m.enabled), { type: 'e2ee-state', enabled: true, by: 'Mod' });
    // a later joiner (a page reload comes back as one) is told at once
    const late = s.client();
    await late.join(r.name, 'Late');
    assert.deepEqual(await late.nextOfType('e2ee-state'), { type: 'e2ee-state', enabled: true, by: 'Mod' });
    await r.mod.send({ type: 'set-e2ee', enabled: false });
    assert.equal((await late.next((m) => m.type === 'e2ee-state' && !m.enabled)).by, 'Mod');
  });

  test('the relay reaches the named member of the same room, unread; others and bad payloads are refused', async () => {
    const r = await room(2);
    const [a, b] = r.people as [{ c: any; id: string }, { c: any; id: string }];
    // while it is off there is nothing to exchange: dropped (no private channel around chat)
    await a.c.send({ type: 'e2ee-relay', to: b.id, data: '{"kind":"hello","supported":true}' });
    assert.ok(await b.c.nothingLike((m: any) => m.type === 'e2ee-relay'), 'no relay while off');
    await r.mod.send({ type: 'set-e2ee', enabled: true });
    await b.c.next((m: any) => m.type === 'e2ee-state' && m.enabled);
    await a.c.send({ type: 'e2ee-relay', to: b.id, data: '{"kind":"hello","supported":false}' });
    assert.deepEqual(await b.c.nextOfType('e2ee-relay'), { type: 'e2ee-relay', from: a.id, data: '{"kind":"hello","supported":false}' });
    assert.ok(await r.mod.nothingLike((m) => m.type === 'e2ee-relay'), 'nobody else gets it');
    // someone in another room is not reachable
    const other = await room(0);
    assert.equal((await other.mod.expectError({ type: 'e2ee-relay', to: b.id, data: 'x' })).code, 'no-such-participant');
    assert.equal((await a.c.expectError({ type: 'e2ee-relay', to: a.id, data: 'x' })).code, 'no-such-participant');
    const big = await a.c.expectError({ type: 'e2ee-relay', to: b.id, data: 'x'.repeat(MAX_E2EE_RELAY_CHARS + 1) });
    assert.equal(big.code, 'bad-message');
    assert.match(big.message, /data/);
  });

  test('while it is on, the meeting holds at most MAX_E2EE_PARTICIPANTS: the next joiner is told, and may join once it is off', async () => {
    const r = await room(MAX_E2EE_PARTICIPANTS - 1);
    await r.mod.send({ type: 'set-e2ee', enabled: true });
    await r.mod.next((m) => m.type === 'e2ee-state' && m.enabled);
    const late = s.client();
    const e = await late.expectError({ type: 'join', room: r.name, displayName: 'Late', audioMuted: false, videoMuted: false });
    assert.equal(e.code, 'room-full');
    assert.match(e.message, /end-to-end encrypted/);
    await r.mod.send({ type: 'set-e2ee', enabled: false });
    await r.mod.next((m) => m.type === 'e2ee-state' && !m.enabled);
    const later = s.client();
    await later.join(r.name, 'Later');
  });

  test('breakout rooms follow the main room: told on entering, turned on or off only in the main room', async () => {
    const r = await room(1);
    const p = r.people[0]!;
    await r.mod.send({ type: 'set-e2ee', enabled: true });
    await p.c.next((m) => m.type === 'e2ee-state' && m.enabled);
    await r.mod.send({ type: 'breakout-add', name: 'Rincón' });
    await r.mod.next((m) => m.type === 'breakout-rooms' && m.rooms.length === 1);
    p.c.received.length = 0; // what it was told in the main room
    await r.mod.send({ type: 'breakout-move', participantId: p.id, roomId: '1' });
    await p.c.nextOfType('joined');
    assert.deepEqual(await p.c.nextOfType('e2ee-state'), { type: 'e2ee-state', enabled: true, by: 'Mod' }, 'still encrypted in the breakout room');
    await r.mod.send({ type: 'breakout-move', participantId: r.modId, roomId: '1' });
    await r.mod.next((m) => m.type === 'joined' && m.room === 'Rincón');
    assert.equal((await r.mod.expectError({ type: 'set-e2ee', enabled: false })).code, 'not-allowed');
    // while on, what cannot decrypt stays refused in the breakout room
    assert.equal((await r.mod.expectError({ type: 'start-recording' })).code, 'e2ee-on');
  });

  test('turned on or off in the main room while people are in a breakout room: they are told too', async () => {
    const r = await room(1);
    const p = r.people[0]!;
    await r.mod.send({ type: 'breakout-add', name: 'Aparte' });
    await r.mod.next((m) => m.type === 'breakout-rooms' && m.rooms.length === 1);
    await r.mod.send({ type: 'breakout-move', participantId: p.id, roomId: '1' });
    await p.c.next((m) => m.type === 'joined' && m.room === 'Aparte');
    await p.c.next((m) => m.type === 'e2ee-state' && !m.enabled);
    await r.mod.send({ type: 'set-e2ee', enabled: true });
    assert.deepEqual(await p.c.next((m) => m.type === 'e2ee-state' && m.enabled), { type: 'e2ee-state', enabled: true, by: 'Mod' }, 'the breakout room follows');
    await r.mod.send({ type: 'set-e2ee', enabled: false });
    await p.c.next((m) => m.type === 'e2ee-state' && !m.enabled && m.by === 'Mod');
  });

  test('a member on receive slots (a big room) gets its slot maps; turning encryption on is then refused', async () => {
    const r = await room(1);
    const p = r.people[0]!;
    // focus's offer of a slot session, and the bridge's map of who plays on its slots
    s.bus.publish(subjects.signalOffer, { conferenceId: roomKey(r.name), participantId: p.id, sdp: 'v=0', version: 1, sources: [], slots: true, bridgeId: 'b1', session: '7' });
    assert.deepEqual(await p.c.nextOfType('offer'), { type: 'offer', sdp: 'v=0', version: 1, sources: [], slots: true, session: '7' });
    const map = { bridgeId: 'b1', conferenceId: roomKey(r.name), endpointId: p.id, version: 3, slots: [{ mid: '5', participantId: r.modId, kind: 'video', role: 'video' }] };
    // malformed maps are dropped (an id of 129 characters, a mid that is no number), the good one arrives
    s.bus.publish(subjects.bridgeSlotMap, { ...map, slots: [{ mid: '5', participantId: 'x'.repeat(129), kind: 'video' }] });
    s.bus.publish(subjects.bridgeSlotMap, { ...map, slots: [{ mid: '<b>', participantId: r.modId, kind: 'video' }] });
    s.bus.publish(subjects.bridgeSlotMap, map);
    assert.deepEqual(await p.c.nextOfType('slot-map'), { type: 'slot-map', session: '7', version: 3, sources: map.slots });
    assert.ok(await r.mod.nothingLike((m) => m.type === 'slot-map'), 'only the session it is for');
    const e = await r.mod.expectError({ type: 'set-e2ee', enabled: true });
    assert.equal(e.code, 'e2ee-refused');
    assert.match(e.message, /slots/);
  });

  test('a flood of relayed messages is cut by the rate limit', async () => {
    const r = await room(1);
    const to = r.people[0]!.id;
    await r.mod.send({ type: 'set-e2ee', enabled: true });
    await r.mod.next((m) => m.type === 'e2ee-state' && m.enabled);
    for (let i = 0; i < RELAY_BURST + 3; i++) await r.mod.send({ type: 'e2ee-relay', to, data: `m${i}` });
    const e = await r.mod.nextOfType('error');
    assert.equal(e.code, 'rate-limited');
  });

  test('while on: recording, live streaming and calling a phone are refused; a phone caller cannot join', async () => {
    const r = await room(0);
    await r.mod.send({ type: 'set-e2ee', enabled: true });
    await r.mod.next((m) => m.type === 'e2ee-state' && m.enabled);
    for (const msg of [
      { type: 'start-recording' },
      { type: 'start-live-stream', url: 'rtmp://example.com/live', key: 'k' },
      { type: 'invite-by-phone', target: '+34600000000' },
    ]) {
      const e = await r.mod.expectError(msg);
      assert.equal(e.code, 'e2ee-on', msg.type);
      assert.match(e.message, /end-to-end encrypted/);
    }
    answerPlainAttach(s);
    await assert.rejects(
      callBus(s.bus, busCalls.signalPhoneJoin, '', { gatewayId: 'gw1', room: r.name, callerId: '+34911111111', ssrc: 1234 }),
      /end-to-end encrypted/,
    );
  });
});
