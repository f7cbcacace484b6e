// focus moving conferences off a lost bridge, over a MemoryBus with fake bridges (bus handlers that record what
// focus asks): a bridge whose heartbeat stops (dead: nothing more is asked of it), one that announces it is
// draining (moved at once, its endpoints expired there), one draining or dead with no other bridge (nothing
// moves until a bridge appears), a conference spanning bridges that loses one (the relay to it goes; its
// participant is relayed anew from a third), and a bridge restarted under the same id (its endpoints are made
// again on it). A moved participant gets a fresh offer with its new bridge's transport; its answer configures
// and subscribes it there. The plain-RTP endpoints of a lost home bridge (a recorder, a played file or phone
// caller) are made again on the new one, their owners told on `plain.<id>.moved`, with how long ago the old
// endpoint was lost (a dead bridge's last heartbeat, however long no bridge had room; the expiry on a draining
// one); a receiver is subscribed there only when its owner says it has the new key (focus.start-plain).
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startFocus, type FocusHandle } from '../../src/focus/index.ts';
import { createLogger } from '../../src/log.ts';
import { subjects, type PlainMoved, type SignalOffer } from '../../src/protocol/bus-messages.ts';
import { waitFor } from '../helpers/fake-browser.ts';
import { fakeBridge, type Call } from '../helpers/fake-bridge.ts';
import { answerFor, type OwnSsrcs } from '../helpers/sdp-answer.ts';

const log = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');
const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent', renegotiationBurst: 1000 } });
const CONF = 'sala';
const OWN: Record<string, OwnSsrcs> = { A: { audio: 1111, video: 1112 }, B: { audio: 2221, video: 2222 } };

describe('focus moves conferences off lost bridges', () => {
  let bus: MemoryBus;
  let focus: FocusHandle;
  let offers: SignalOffer[];
  const calls: Record<string, Call[]> = {};
  const beating = new Map<string, NodeJS.Timeout>();
  const instances: Record<string, string> = {};

  /** The bridge announces itself every 30 ms (its heartbeat) until stopped. */
  function heartbeat(bridgeId: string, endpoints: number, extra: { draining?: boolean } = {}): void {
    clearInterval(beating.get(bridgeId));
    const announce = () => bus.publish(subjects.bridgeAnnounce, { bridgeId, endpoints, instance: instances[bridgeId]!, ...extra });
    announce();
    beating.set(bridgeId, setInterval(announce, 30));
  }
  /** Follows b1's heartbeats from its next one on (awaited): the time of the last one. */
  async function b1Heard(): Promise<() => number> {
    let at = 0;
    bus.subscribe(subjects.bridgeAnnounce, (m) => {
      if ((m as { bridgeId: string }).bridgeId === 'b1') at = Date.now();
    });
    await waitFor("b1's next heartbeat", () => at > 0);
    return () => at;
  }
  const lastOffer = (id: string) => offers.filter((o) => o.participantId === id).at(-1)!;
  const allocated = (bridgeId: string) => calls[bridgeId]!.filter((c) => c.subject === 'allocate').map((c) => c.payload.endpointId as string);
  const callsOn = (bridgeId: string, subject: string, endpointId: string) => calls[bridgeId]!.filter((c) => c.subject === subject && c.payload.endpointId === endpointId);
  /** The browser answers its latest offer with a new ICE ufrag each session (as a fresh RTCPeerConnection does). */
  const answer = async (id: string, ufrag: string) => {
    const o = lastOffer(id);
    await bus.request(subjects.focusAnswer, { conferenceId: CONF, participantId: id, sdp: answerFor(o.sdp, OWN[id]!, ufrag), version: o.version });
  };

  /** A and B in one conference on b1 (b2 announces more load), each receiving the other. */
  async function meetingOnB1(): Promise<void> {
    for (const id of ['A', 'B']) await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: id });
    assert.deepEqual(allocated('b1'), ['A', 'B']);
    await answer('A', 'ua1');
    await answer('B', 'ub1');
    await waitFor('A offered B', () => lastOffer('A').sources.length === 2);
    await answer('A', 'ua1');
  }

  /** Both moved to `to`: a fresh offer with the new bridge's ICE credentials, answered, configured and subscribed there. */
  async function movedTo(to: string): Promise<void> {
    await waitFor(`A and B allocated on ${to}`, () => allocated(to).includes('A') && allocated(to).includes('B'), 5000);
    for (const id of ['A', 'B']) {
      await waitFor(`a fresh offer to ${id} on ${to}`, () => lastOffer(id).sdp.includes(`a=ice-ufrag:u-${to}-${id}`));
      await answer(id, `u${id.toLowerCase()}2`);
    }
    // the answers with new sources (same SSRCs here) make one more round for the other side
    for (const id of ['A', 'B']) {
      await waitFor(`${id} configured on ${to}`, () => callsOn(to, 'configure', id).length > 0);
      const other = id === 'A' ? 'B' : 'A';
      await waitFor(`${id} offered ${other}'s sources again`, () => lastOffer(id).sources.filter((s) => s.participantId === other).length === 2);
      await answer(id, `u${id.toLowerCase()}2`);
      await waitFor(`${id} subscribed on ${to} to ${other}`, () =>
        callsOn(to, 'subscribe', id).some((c) => (c.payload.ssrcs as number[]).includes(OWN[other]!.audio!)),
      );
    }
  }

  beforeEach(() => {
    bus = new MemoryBus();
    offers = [];
    bus.subscribe(subjects.signalOffer, (o) => offers.push(o as SignalOffer));
    focus = startFocus({ bus, config, log, bridgeWaitMs: 300, bridgeExpiryMs: 300 });
    for (const id of ['b1', 'b2']) {
      calls[id] = [];
      instances[id] = `i-${id}-1`;
      fakeBridge(bus, id, calls[id]);
    }
    heartbeat('b1', 0);
    heartbeat('b2', 5);
  });
  afterEach(async () => {
    for (const t of beating.values()) clearInterval(t);
    beating.clear();
    await focus.close();
  });

  test('a bridge whose heartbeat stops: its participants get endpoints and fresh offers on another bridge', async () => {
    await meetingOnB1();
    const before = calls.b1!.length;
    clearInterval(beating.get('b1'));
    await movedTo('b2');
    assert.equal(calls.b1!.length, before, 'nothing is asked of a dead bridge');
    assert.deepEqual(focus.bridgeLoads().map((b) => b.bridgeId), ['b2']);
    assert.equal(focus.resourceCounts()['focus.participants'], 2);
  });

  test('two bridges die together: nobody is moved onto the other silent one', async () => {
    calls.b3 = [];
    instances.b3 = 'i-b3-1';
    fakeBridge(bus, 'b3', calls.b3);
    heartbeat('b3', 50); // more loaded than b2: only b2's silence keeps them off it
    // b2's machine is going: its ping takes long to fail, so for a while it is silent but not yet known dead
    bus.handle(subjects.bridgePing('b2'), () => new Promise((resolve) => setTimeout(resolve, 5000)));
    await meetingOnB1();
    clearInterval(beating.get('b2'));
    await new Promise((r) => setTimeout(r, 400)); // b2 silent
    clearInterval(beating.get('b1'));
    await movedTo('b3');
    assert.deepEqual(allocated('b2'), [], 'nothing allocated on the silent bridge');
  });

  /** The offer's media session is the SDP's o= session id. */
  const sdpSession = (o: SignalOffer) => /^o=\S+ (\d+) /m.exec(o.sdp)?.[1];

  test('a draining bridge: its participants move at once and their old endpoints are expired there', async () => {
    await meetingOnB1();
    const before = { A: lastOffer('A'), B: lastOffer('B') };
    for (const o of Object.values(before)) {
      assert.equal(o.bridgeId, 'b1', 'an offer names the bridge of the media session');
      assert.equal(o.session, sdpSession(o));
    }
    heartbeat('b1', 2, { draining: true });
    await movedTo('b2');
    for (const id of ['A', 'B'] as const) {
      const o = lastOffer(id);
      assert.equal(o.bridgeId, 'b2', `${id}'s offers name its new bridge (signal passes on only that bridge's slot maps)`);
      assert.equal(o.session, sdpSession(o));
      assert.notEqual(o.session, before[id].session, 'a new media session');
    }
    for (const id of ['A', 'B']) assert.equal(callsOn('b1', 'expire', id).length, 1, `${id}'s endpoint on the draining bridge is expired`);
    await bus.request(subjects.focusJoin, { conferenceId: 'other', participantId: 'C' });
    assert.ok(allocated('b2').includes('C'), 'a draining bridge gets no new conference though less loaded');
  });

  test('an id two bridges shared: once the one that drained stopped, the other instance takes new conferences again', async () => {
    clearInterval(beating.get('b2'));
    await new Promise((r) => setTimeout(r, 500)); // b2 is gone: b1 is the only bridge
    // a second bridge announced b1's id (another instance), drained and stopped
    const real = instances.b1!;
    instances.b1 = 'i-b1-other';
    heartbeat('b1', 0, { draining: true });
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(bus.request(subjects.focusJoin, { conferenceId: 'while-draining', participantId: 'C' }), /stopping/);
    // the real instance goes on announcing, not draining: b1 takes conferences again
    instances.b1 = real;
    heartbeat('b1', 0);
    await new Promise((r) => setTimeout(r, 100));
    await bus.request(subjects.focusJoin, { conferenceId: 'after', participantId: 'D' });
    assert.ok(allocated('b1').includes('D'), 'placed on b1 again');
  });

  test('a draining bridge with no other bridge keeps its participants', async () => {
    clearInterval(beating.get('b2'));
    await new Promise((r) => setTimeout(r, 500)); // b2 is gone
    await meetingOnB1();
    heartbeat('b1', 2, { draining: true });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(calls.b1!.filter((c) => c.subject === 'expire').length, 0, 'nobody is expired');
    assert.equal(allocated('b1').length, 2, 'nobody is allocated again');
    // a bridge that appears takes them
    heartbeat('b2', 0);
    await movedTo('b2');
  });

  test('a dead bridge with no other bridge: nothing changes until a bridge appears, then they move to it', async () => {
    clearInterval(beating.get('b2'));
    await new Promise((r) => setTimeout(r, 500)); // b2 is gone
    await meetingOnB1();
    const before = calls.b1!.length;
    const offered = offers.length;
    clearInterval(beating.get('b1'));
    await waitFor('no bridge left', () => focus.bridgeLoads().length === 0, 3000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(offers.length, offered, 'no offer: nowhere to go');
    assert.equal(calls.b1!.length, before);
    heartbeat('b2', 0);
    await movedTo('b2');
    assert.equal(calls.b1!.length, before, 'nothing is asked of the dead bridge');
  });

  test('a dead home bridge and no room elsewhere for a while: the player is told how long ago its endpoint was lost', async () => {
    clearInterval(beating.get('b2'));
    await new Promise((r) => setTimeout(r, 500)); // b2 is gone
    await meetingOnB1();
    await bus.request(subjects.focusAttachPlain, { conferenceId: CONF, endpointId: 'P', legs: [{ kind: 'audio' }], rtcpMux: true, comedia: true, srtp: false, sources: [{ kind: 'audio', ssrc: 7777 }] });
    let told: PlainMoved | undefined;
    let toldAt = 0;
    bus.subscribe(subjects.plainMoved('P'), (m) => {
      told = m as PlainMoved;
      toldAt = Date.now();
    });
    const lastBeat = await b1Heard();
    clearInterval(beating.get('b1'));
    await waitFor('no bridge left', () => focus.bridgeLoads().length === 0, 3000);
    await new Promise((r) => setTimeout(r, 700)); // nowhere to go
    assert.equal(told, undefined);
    heartbeat('b2', 0);
    await waitFor('the player told where it is now', () => told !== undefined, 5000);
    const outage = toldAt - lastBeat();
    // the whole outage, from the last heartbeat (silent 300 ms before it counts as dead, then 700 ms with nowhere to go)
    assert.ok(told!.lostMsAgo! >= 1000, `the outage counted whole: ${told!.lostMsAgo} ms`);
    assert.ok(Math.abs(told!.lostMsAgo! - outage) <= 20, `lost at the last heartbeat: ${told!.lostMsAgo} ms ago, the last heartbeat ${outage} ms before`);
    await movedTo('b2');
  });

  test('a conference over two bridges loses one: the relay to it goes, its participant moves to a third bridge, relayed anew', async () => {
    calls.b3 = [];
    instances.b3 = 'i-b3-1';
    fakeBridge(bus, 'b3', calls.b3);
    // one participant per bridge on b1 and b2; b3 has room but more load
    for (const id of ['b1', 'b2']) clearInterval(beating.get(id));
    const beat = (bridgeId: string, endpoints: number, maxEndpoints: number) => {
      const announce = () => bus.publish(subjects.bridgeAnnounce, { bridgeId, endpoints, maxEndpoints, instance: instances[bridgeId]! });
      announce();
      beating.set(bridgeId, setInterval(announce, 30));
    };
    beat('b1', 0, 1);
    beat('b2', 0, 1);
    beat('b3', 3, 10);
    await new Promise((r) => setTimeout(r, 50));
    await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'A' });
    await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'B' });
    assert.deepEqual([allocated('b1'), allocated('b2')], [['A'], ['B']]);
    assert.equal(calls.b1!.filter((c) => c.subject === 'allocate-relay').length, 1, 'b1 and b2 relay the conference');
    const b2Calls = calls.b2!.length;
    clearInterval(beating.get('b2'));
    await waitFor('B allocated on b3', () => allocated('b3').includes('B'), 5000);
    assert.ok(callsOn('b1', 'expire', 'relay~b2').length === 1, "b1's end of the relay to the dead bridge is expired");
    assert.ok(callsOn('b1', 'allocate-relay', 'relay~b3').length === 1 && callsOn('b3', 'allocate-relay', 'relay~b1').length === 1, 'b1 and b3 relay it now');
    await waitFor('a fresh offer to B on b3', () => lastOffer('B').sdp.includes('a=ice-ufrag:u-b3-B'));
    assert.equal(calls.b2!.length, b2Calls, 'nothing is asked of the dead bridge');
    assert.deepEqual(allocated('b1'), ['A'], 'A stays where it is');
  });

  for (const how of ['dead', 'draining'] as const) {
    test(`a ${how} home bridge: its recorder and its played file are made again on the new bridge, their owners told where`, async () => {
      await meetingOnB1();
      const recorder = { conferenceId: CONF, endpointId: 'rec-1', legs: [{ kind: 'audio', address: '127.0.0.1', port: 5000 }, { kind: 'video', address: '127.0.0.1', port: 5002 }], rtcpMux: false, comedia: false, srtp: false, sources: [], receiveAll: { deferred: true } };
      const player = { conferenceId: CONF, endpointId: 'P', legs: [{ kind: 'audio' }], rtcpMux: true, comedia: true, srtp: false, sources: [{ kind: 'audio', ssrc: 7777 }] };
      await bus.request(subjects.focusAttachPlain, recorder);
      await bus.request(subjects.focusStartPlain, { conferenceId: CONF, endpointId: 'rec-1' });
      await bus.request(subjects.focusAttachPlain, player);
      await bus.request(subjects.focusMute, { conferenceId: CONF, participantId: 'P', kind: 'audio', muted: true });
      const moved: PlainMoved[] = [];
      let toldAt = 0;
      for (const id of ['rec-1', 'P']) {
        bus.subscribe(subjects.plainMoved(id), (m) => {
          moved.push(m as PlainMoved);
          toldAt = Date.now();
        });
      }
      const ended: unknown[] = [];
      bus.subscribe(subjects.plainSources('rec-1'), (m) => (m as { ended?: boolean }).ended && ended.push(m));
      const lastBeat = await b1Heard();
      const before = calls.b1!.length;
      const lostAt = Date.now();
      if (how === 'dead') clearInterval(beating.get('b1'));
      else heartbeat('b1', 2, { draining: true });
      await waitFor('both owners told', () => moved.length === 2, 5000);
      // how long nothing the player sent was heard: since the dead bridge's last heartbeat (at least the expiry,
      // 300 ms, before it counts as dead); on a draining bridge, since the expiry there (after the drain began)
      const lost = moved.find((m) => m.endpointId === 'P')!.lostMsAgo!;
      if (how === 'dead') {
        assert.ok(lost >= 300, `lost at the last heartbeat, at least the expiry ago: ${lost} ms`);
        assert.ok(Math.abs(lost - (toldAt - lastBeat())) <= 20, `lost at the last heartbeat: ${lost} ms, the last heartbeat ${toldAt - lastBeat()} ms before`);
      } else assert.ok(lost >= 0 && lost <= toldAt - lostAt, `lost when expired on the draining bridge, after the drain began: ${lost} ms ago, ${toldAt - lostAt} ms after the drain`);
      for (const id of ['rec-1', 'P']) assert.equal(callsOn('b2', 'allocate-plain', id).length, 1, `${id} made again on b2`);
      const rec = moved.find((m) => m.endpointId === 'rec-1')!;
      assert.equal(rec.bridgeId, 'b2');
      assert.deepEqual(rec.legs.map((l) => l.kind), ['audio', 'video']);
      assert.match(rec.sdp, /m=audio 5000 /, "a receiver's SDP: its own ports, as at attach");
      assert.deepEqual(callsOn('b2', 'allocate-plain', 'rec-1')[0]!.payload.legs, recorder.legs, 'the same legs (its ports) on the new bridge');
      assert.deepEqual(callsOn('b2', 'allocate-plain', 'P')[0]!.payload.sources, player.sources, 'the same SSRCs');
      assert.ok(callsOn('b2', 'mute', 'P').some((c) => c.payload.muted === true), 'a muted sender is muted on the new bridge too');
      await movedTo('b2');
      assert.equal(callsOn('b2', 'subscribe', 'rec-1').length, 0, 'the recorder gets nothing before it says it has the new key');
      await bus.request(subjects.focusStartPlain, { conferenceId: CONF, endpointId: 'rec-1' });
      const subscribed = callsOn('b2', 'subscribe', 'rec-1').at(-1)!.payload.ssrcs as number[];
      for (const ssrc of [OWN.A!.audio!, OWN.B!.video!, 7777]) assert.ok(subscribed.includes(ssrc), `the recorder receives ${ssrc} on b2: ${subscribed}`);
      assert.equal(ended.length, 0, 'the recording did not end');
      if (how === 'dead') assert.equal(calls.b1!.length, before, 'nothing is asked of a dead bridge');
      else for (const id of ['rec-1', 'P']) assert.equal(callsOn('b1', 'expire', id).length, 1, `${id} is expired on the draining bridge`);
      assert.equal(focus.resourceCounts()['focus.participants'], 3, 'A, B and the played file are still in');
    });
  }

  test('a bridge restarted under the same id: the endpoints it lost are made again on it', async () => {
    clearInterval(beating.get('b2'));
    await new Promise((r) => setTimeout(r, 500));
    await meetingOnB1();
    instances.b1 = 'i-b1-2';
    heartbeat('b1', 0);
    await waitFor('A and B allocated again on b1', () => allocated('b1').length === 4);
    for (const id of ['A', 'B']) await waitFor(`a fresh offer to ${id}`, () => offers.filter((o) => o.participantId === id && o.sdp.includes(`u-b1-${id}`)).length >= 3);
    // the same bridge, a new endpoint: a new media session (the browser takes no map of the old one)
    for (const id of ['A', 'B']) {
      const sessions = new Set(offers.filter((o) => o.participantId === id).map((o) => o.session));
      assert.equal(sessions.size, 2, `${id}: one session before the restart, one after`);
      assert.ok(offers.filter((o) => o.participantId === id).every((o) => o.bridgeId === 'b1'));
    }
  });
});
