// Slot maps through signal (real HTTPS + WebSocket, the bus as focus and bridges use it): a member's `slot-map`
// comes only from the bridge of its current media session (focus's last offer names it), tagged with that session,
// so a late map from the bridge it was moved off (failover, drain) never reaches the browser; a member not on
// slots gets none; malformed maps are dropped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { roomKey } from '../../src/protocol/room-name.ts';
import { roomWithModerator, startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

let s: TestSignal;
before(async () => {
  s = await startTestSignal();
});
after(() => s.stop());

let roomCounter = 0;

describe('slot maps at signal', () => {
  test('only the current bridge’s maps pass, tagged with the session; a late map from the old bridge after a move is dropped', async () => {
    const r = await roomWithModerator(s, `slot-map-room-${++roomCounter}`, 1);
    const p = r.people[0]!;
    const conferenceId = roomKey(r.name);
    const offer = (bridgeId: string, session: string, version: number) =>
      s.bus.publish(subjects.signalOffer, { conferenceId, participantId: p.id, sdp: 'v=0', version, sources: [], slots: true, bridgeId, session });
    const map = (bridgeId: string, version: number, participantId: string) => ({
      bridgeId,
      conferenceId,
      endpointId: p.id,
      version,
      slots: [{ mid: '5', participantId, kind: 'video' as const, role: 'video' as const }],
    });

    offer('b1', '111', 1);
    assert.deepEqual(await p.c.nextOfType('offer'), { type: 'offer', sdp: 'v=0', version: 1, sources: [], slots: true, session: '111' });
    s.bus.publish(subjects.bridgeSlotMap, map('b2', 50, 'from-b2')); // a bridge it is not on
    s.bus.publish(subjects.bridgeSlotMap, map('b1', 3, r.modId));
    assert.deepEqual(await p.c.nextOfType('slot-map'), { type: 'slot-map', session: '111', version: 3, sources: map('b1', 3, r.modId).slots });

    // focus moves it to b2 (b1 died or drains): a new session there; b1's late map is dropped, b2's passes
    offer('b2', '222', 2);
    assert.equal((await p.c.nextOfType('offer')).session, '222');
    s.bus.publish(subjects.bridgeSlotMap, map('b1', 9, 'late-from-b1'));
    s.bus.publish(subjects.bridgeSlotMap, map('b2', 1, r.modId));
    assert.deepEqual(await p.c.nextOfType('slot-map'), { type: 'slot-map', session: '222', version: 1, sources: map('b2', 1, r.modId).slots });
    assert.ok(
      await p.c.nothingLike((m) => m.type === 'slot-map' && m.sources.some((x: { participantId: string }) => x.participantId !== r.modId)),
      'no map of a bridge it is not on',
    );

    // a new endpoint on the same bridge (b2 restarted under its id, or a new allocation): maps name their session,
    // and a late one of the endpoint it left is dropped however high its version
    offer('b2', '333', 3);
    assert.equal((await p.c.nextOfType('offer')).session, '333');
    s.bus.publish(subjects.bridgeSlotMap, { ...map('b2', 40, 'late-from-old-endpoint'), session: '222' });
    s.bus.publish(subjects.bridgeSlotMap, { ...map('b2', 1, r.modId), session: '333' });
    assert.deepEqual(await p.c.nextOfType('slot-map'), { type: 'slot-map', session: '333', version: 1, sources: map('b2', 1, r.modId).slots });
    assert.ok(await p.c.nothingLike((m) => m.type === 'slot-map' && m.version === 40), 'the old endpoint’s late map is dropped');
  });

  test('a member not on slots gets no map, even from its own bridge; a malformed map is dropped', async () => {
    const r = await roomWithModerator(s, `slot-map-room-${++roomCounter}`, 1);
    const p = r.people[0]!;
    const conferenceId = roomKey(r.name);
    s.bus.publish(subjects.signalOffer, { conferenceId, participantId: p.id, sdp: 'v=0', version: 1, sources: [], bridgeId: 'b1', session: '5' });
    assert.deepEqual(await p.c.nextOfType('offer'), { type: 'offer', sdp: 'v=0', version: 1, sources: [] });
    const good = { bridgeId: 'b1', conferenceId, endpointId: p.id, version: 1, slots: [] };
    s.bus.publish(subjects.bridgeSlotMap, good);
    s.bus.publish(subjects.bridgeSlotMap, { ...good, version: -1 });
    s.bus.publish(subjects.bridgeSlotMap, { ...good, bridgeId: '' });
    assert.ok(await p.c.nothingLike((m) => m.type === 'slot-map'));
  });
});
