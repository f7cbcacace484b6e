// The layers a browser's camera should send, through signal (real HTTPS + WebSocket, the bus as bridges use
// it): a member gets `send-layers` only from the bridge of its current media session (focus's last offer names
// it) and, when the word names one, from its current media session (a late word of an endpoint it left on the same
// bridge), so a late word never pauses a layer the new endpoint needs; malformed ones are dropped. The cameras its
// bandwidth leaves out (`bridge.video-suspended`) pass under the same rule.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Json } from '../../src/bus/bus.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { roomKey } from '../../src/protocol/room-name.ts';
import { roomWithModerator, startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

let s: TestSignal;
before(async () => {
  s = await startTestSignal();
});
after(() => s.stop());

describe('send-layers at signal', () => {
  test('only the current bridge’s word passes; a late one from the old bridge after a move, and malformed ones, are dropped', async () => {
    const r = await roomWithModerator(s, 'send-layers-room', 1);
    const p = r.people[0]!;
    const conferenceId = roomKey(r.name);
    const offer = (bridgeId: string, version: number) =>
      s.bus.publish(subjects.signalOffer, { conferenceId, participantId: p.id, sdp: 'v=0', version, sources: [], bridgeId, session: String(version) });
    const layers = (bridgeId: string, rids: Json) => ({ bridgeId, conferenceId, endpointId: p.id, rids });

    // before any offer: no bridge is its own
    s.bus.publish(subjects.bridgeSendLayers, layers('b1', ['q']));
    offer('b1', 1);
    await p.c.nextOfType('offer');
    s.bus.publish(subjects.bridgeSendLayers, layers('b2', ['q'])); // a bridge it is not on
    s.bus.publish(subjects.bridgeSendLayers, layers('b1', ['q', 'f']));
    assert.deepEqual(await p.c.nextOfType('send-layers'), { type: 'send-layers', rids: ['q', 'f'] });

    // moved to b2: b1's late word is dropped, b2's passes
    offer('b2', 2);
    await p.c.nextOfType('offer');
    s.bus.publish(subjects.bridgeSendLayers, layers('b1', ['q']));
    for (const bad of [[], ['q;f'], ['q', 'h', 'f', 'x', 'y'], 'q', [7]] as Json[]) s.bus.publish(subjects.bridgeSendLayers, layers('b2', bad));
    s.bus.publish(subjects.bridgeSendLayers, { ...layers('b2', ['q']), endpointId: '' });
    s.bus.publish(subjects.bridgeSendLayers, layers('b2', ['q', 'h', 'f']));
    assert.deepEqual(await p.c.nextOfType('send-layers'), { type: 'send-layers', rids: ['q', 'h', 'f'] });
    assert.ok(await p.c.nothingLike((m) => m.type === 'send-layers'), 'nothing else: not the old bridge’s, not a malformed one');

    // a new media session on the same bridge (offer 3 names session "3"): the old session's late word is dropped
    offer('b2', 3);
    await p.c.nextOfType('offer');
    s.bus.publish(subjects.bridgeSendLayers, { ...layers('b2', ['q']), session: '2' });
    s.bus.publish(subjects.bridgeSendLayers, { ...layers('b2', ['q']), session: 'not a session' });
    s.bus.publish(subjects.bridgeSendLayers, { ...layers('b2', ['q', 'h']), session: '3' });
    assert.deepEqual(await p.c.nextOfType('send-layers'), { type: 'send-layers', rids: ['q', 'h'] });
    assert.ok(await p.c.nothingLike((m) => m.type === 'send-layers'), 'nothing else: not the old session’s, not a malformed one');
  });

  test('video-suspended: only the current bridge and media session; malformed ones dropped', async () => {
    const r = await roomWithModerator(s, 'suspended-room', 1);
    const p = r.people[0]!;
    const conferenceId = roomKey(r.name);
    const word = (bridgeId: string, participantIds: Json, session?: string) => ({ bridgeId, conferenceId, endpointId: p.id, participantIds, ...(session ? { session } : {}) });
    s.bus.publish(subjects.bridgeVideoSuspended, word('b1', ['x'])); // before any offer
    s.bus.publish(subjects.signalOffer, { conferenceId, participantId: p.id, sdp: 'v=0', version: 1, sources: [], bridgeId: 'b1', session: '7' });
    await p.c.nextOfType('offer');
    s.bus.publish(subjects.bridgeVideoSuspended, word('b2', ['x'])); // a bridge it is not on
    s.bus.publish(subjects.bridgeVideoSuspended, word('b1', ['x'], '6')); // an endpoint it left
    for (const bad of ['x', [''], [7], Array.from({ length: 257 }, (_, i) => `p${i}`)] as Json[]) s.bus.publish(subjects.bridgeVideoSuspended, word('b1', bad));
    s.bus.publish(subjects.bridgeVideoSuspended, word('b1', ['ana', 'ben'], '7'));
    assert.deepEqual(await p.c.nextOfType('video-suspended'), { type: 'video-suspended', participantIds: ['ana', 'ben'] });
    s.bus.publish(subjects.bridgeVideoSuspended, word('b1', []));
    assert.deepEqual(await p.c.nextOfType('video-suspended'), { type: 'video-suspended', participantIds: [] });
    assert.ok(await p.c.nothingLike((m) => m.type === 'video-suspended'), 'nothing else');
  });
});
