// focus alone over a MemoryBus: a fake bridge (bus handlers that record what focus asks) and fake browsers
// that answer focus's offers the way Chrome does (send on mids 0/1, and 2 while sharing a screen; receive on the rest).
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sdpTransform from 'sdp-transform';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startFocus } from '../../src/focus/index.ts';
import { createLogger } from '../../src/log.ts';
import { subjects, type SignalOffer } from '../../src/protocol/bus-messages.ts';
import { waitFor } from '../helpers/fake-browser.ts';
import { fakeBridge, type Call } from '../helpers/fake-bridge.ts';
import { ANSWER_FINGERPRINT, ANSWER_ICE_PWD, answerFor, type OwnSsrcs } from '../helpers/sdp-answer.ts';

const log = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');
// renegotiation limits out of the way, except where a test is about them
const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent', renegotiationBurst: 1000 } });
const CONF = 'sala';
const tick = () => new Promise((r) => setTimeout(r, 10));

function offeredMlines(sdp: string): { mid: string; direction: string; ssrcs: number[] }[] {
  return sdpTransform.parse(sdp).media.map((m) => ({
    mid: String(m.mid),
    direction: m.direction ?? '',
    ssrcs: [...new Set((m.ssrcs ?? []).map((s) => Number(s.id)))],
  }));
}

describe('focus renegotiation', () => {
  let bus: MemoryBus;
  let focus: { close(): Promise<void> };
  let calls: Call[];
  let offers: SignalOffer[];

  const join = (id: string) => bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: id });
  const leave = (id: string) => bus.request(subjects.focusLeave, { conferenceId: CONF, participantId: id });
  const answer = (id: string, offer: SignalOffer, own: OwnSsrcs) =>
    bus.request(subjects.focusAnswer, { conferenceId: CONF, participantId: id, sdp: answerFor(offer.sdp, own), version: offer.version });
  const offersFor = (id: string) => offers.filter((o) => o.participantId === id);
  const lastOffer = (id: string) => offersFor(id).at(-1)!;
  const callsOf = (subject: string, endpointId?: string) =>
    calls.filter((c) => c.subject === subject && (endpointId === undefined || c.payload.endpointId === endpointId));

  beforeEach(() => {
    bus = new MemoryBus();
    calls = [];
    offers = [];
    bus.subscribe(subjects.signalOffer, (o) => offers.push(o as SignalOffer));
    focus = startFocus({ bus, config, log, bridgeWaitMs: 300 });
    fakeBridge(bus, 'b1', calls);
    bus.publish(subjects.bridgeAnnounce, { bridgeId: 'b1', endpoints: 0 });
  });
  afterEach(() => focus.close());

  test('two participants: offers, configure, subscribe, and the first one renegotiated', async () => {
    await join('A');
    await tick();
    assert.deepEqual(callsOf('allocate'), [{ subject: 'allocate', payload: { conferenceId: CONF, endpointId: 'A' } }]);
    const a1 = lastOffer('A');
    assert.equal(a1.version, 1);
    assert.deepEqual(a1.sources, []);
    assert.deepEqual(offeredMlines(a1.sdp).map((m) => m.mid), ['0', '1', '2']);
    assert.match(a1.sdp, /a=ice-ufrag:u-b1-A/);

    await answer('A', a1, { audio: 1001, video: 1002 });
    assert.deepEqual(callsOf('configure', 'A').map((c) => c.payload), [
      {
        conferenceId: CONF,
        endpointId: 'A',
        remoteUfrag: 'brwsr',
        remotePwd: ANSWER_ICE_PWD,
        remoteFingerprint: { algorithm: 'sha-256', value: ANSWER_FINGERPRINT },
        sources: [
          { ssrc: 1001, kind: 'audio' },
          { ssrc: 1002, kind: 'video', role: 'video' },
        ],
      },
    ]);
    // the bridge gets the role: a screen is never left out by last-N
    assert.deepEqual(callsOf('subscribe', 'A').map((c) => c.payload.ssrcs), [[]]);

    await join('B');
    await tick();
    const b1 = lastOffer('B');
    assert.equal(b1.version, 1);
    assert.deepEqual(b1.sources, [
      { mid: '3', participantId: 'A', kind: 'audio' },
      { mid: '4', participantId: 'A', kind: 'video', role: 'video' },
    ]);
    assert.deepEqual(offeredMlines(b1.sdp), [
      { mid: '0', direction: 'recvonly', ssrcs: [] },
      { mid: '1', direction: 'recvonly', ssrcs: [] },
      { mid: '2', direction: 'recvonly', ssrcs: [] },
      { mid: '3', direction: 'sendonly', ssrcs: [1001] },
      { mid: '4', direction: 'sendonly', ssrcs: [1002] },
    ]);
    assert.equal(offersFor('A').length, 1, 'A has nothing new until B answers');

    await answer('B', b1, { audio: 2001, video: 2002 });
    await tick();
    assert.deepEqual(callsOf('subscribe', 'B').map((c) => c.payload.ssrcs), [[1001, 1002]]);
    const a2 = lastOffer('A');
    assert.equal(a2.version, 2);
    assert.deepEqual(a2.sources, [
      { mid: '3', participantId: 'B', kind: 'audio' },
      { mid: '4', participantId: 'B', kind: 'video', role: 'video' },
    ]);
    await answer('A', a2, { audio: 1001, video: 1002 });
    await tick();
    assert.equal(callsOf('configure', 'A').length, 1, 'same sources: no second configure');
    assert.deepEqual(callsOf('subscribe', 'A').map((c) => c.payload.ssrcs), [[], [2001, 2002]]);
    assert.equal(offersFor('B').length, 1, "A's sources did not change: B gets no new offer");

    // a stale answer is ignored
    const before = calls.length;
    assert.deepEqual(await answer('A', a1, { audio: 1001, video: 1002 }), { ok: true });
    assert.equal(calls.length, before);
  });

  test("a participant moved in from another room (versionsAfter) gets offers numbered after its old room's", async () => {
    await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'M', versionsAfter: 41 });
    await tick();
    assert.equal(lastOffer('M').version, 42);
    // an answer to the old room's offer 1 (in flight during the move) is stale here, not taken
    const before = calls.length;
    assert.deepEqual(await answer('M', { ...lastOffer('M'), version: 1 }, { audio: 51, video: 52 }), { ok: true });
    assert.equal(calls.length, before, 'nothing configured from the old answer');
    await leave('M');
  });

  test('at most one outstanding offer per participant; changes meanwhile give exactly one more', async () => {
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    await join('B');
    await tick();
    await answer('B', lastOffer('B'), { audio: 21, video: 22 });
    await tick();
    const aPending = lastOffer('A'); // v2 with B, not answered yet
    assert.equal(aPending.version, 2);
    await join('C');
    await tick();
    await answer('C', lastOffer('C'), { audio: 31, video: 32 });
    await join('D');
    await tick();
    await answer('D', lastOffer('D'), { audio: 41 }); // D has no camera
    await tick();
    assert.equal(offersFor('A').length, 2, 'no new offer to A while v2 is outstanding');
    await answer('A', aPending, { audio: 11, video: 12 });
    await tick();
    assert.equal(offersFor('A').length, 3, 'one catch-up offer');
    const a3 = lastOffer('A');
    assert.equal(a3.version, 3);
    assert.deepEqual(
      a3.sources.map((s) => `${s.mid}:${s.participantId}:${s.kind}`),
      ['3:B:audio', '4:B:video', '5:C:audio', '6:C:video', '7:D:audio'],
    );
    // answering v2 subscribed A to what v2 carried
    assert.deepEqual(callsOf('subscribe', 'A').at(-1)!.payload.ssrcs, [21, 22]);
    await answer('A', a3, { audio: 11, video: 12 });
    assert.deepEqual(callsOf('subscribe', 'A').at(-1)!.payload.ssrcs, [21, 22, 31, 32, 41]);
    await tick();
    assert.equal(offersFor('A').length, 3, 'nothing left to offer');
  });

  test('leave: expire on the bridge, m-lines stay but go inactive, then are recycled for a newcomer', async () => {
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    await join('B');
    await tick();
    await answer('B', lastOffer('B'), { audio: 21, video: 22 });
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    await leave('B');
    await tick();
    assert.deepEqual(callsOf('expire').map((c) => c.payload), [{ conferenceId: CONF, endpointId: 'B' }]);
    const a3 = lastOffer('A');
    assert.equal(a3.version, 3);
    assert.deepEqual(a3.sources, []);
    assert.deepEqual(offeredMlines(a3.sdp), [
      { mid: '0', direction: 'recvonly', ssrcs: [] },
      { mid: '1', direction: 'recvonly', ssrcs: [] },
      { mid: '2', direction: 'recvonly', ssrcs: [] },
      { mid: '3', direction: 'inactive', ssrcs: [] },
      { mid: '4', direction: 'inactive', ssrcs: [] },
    ]);
    assert.doesNotMatch(a3.sdp.split('m=')[4]!, /a=msid/);
    await answer('A', a3, { audio: 11, video: 12 });
    assert.deepEqual(callsOf('subscribe', 'A').at(-1)!.payload.ssrcs, []);
    // a newcomer gets the m-lines A answered as inactive: same mids, same kinds, now C's
    await join('C');
    await tick();
    await answer('C', lastOffer('C'), { audio: 31, video: 32 });
    await tick();
    const a4 = lastOffer('A');
    assert.deepEqual(a4.sources, [
      { mid: '3', participantId: 'C', kind: 'audio' },
      { mid: '4', participantId: 'C', kind: 'video', role: 'video' },
    ]);
    assert.deepEqual(offeredMlines(a4.sdp).map((m) => `${m.mid}:${m.direction}:${m.ssrcs.join('/')}`), [
      '0:recvonly:',
      '1:recvonly:',
      '2:recvonly:',
      '3:sendonly:31',
      '4:sendonly:32',
    ]);
    assert.match(a4.sdp, /a=msid:C C-audio/);
    assert.doesNotMatch(a4.sdp, /a=msid:B /);
    await answer('A', a4, { audio: 11, video: 12 });
    assert.deepEqual(callsOf('subscribe', 'A').at(-1)!.payload.ssrcs, [31, 32]);
    // leaving twice, or a stranger leaving, is fine
    assert.deepEqual(await leave('B'), { ok: true });
    assert.deepEqual(await leave('nobody'), { ok: true });
  });

  test('leave while an offer is outstanding: subscribe skips the gone source, then one more offer', async () => {
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    await join('B');
    await tick();
    await answer('B', lastOffer('B'), { audio: 21, video: 22 });
    await tick();
    const a2 = lastOffer('A');
    await leave('B');
    await tick();
    assert.equal(offersFor('A').length, 2);
    await answer('A', a2, { audio: 11, video: 12 });
    assert.deepEqual(callsOf('subscribe', 'A').at(-1)!.payload.ssrcs, []);
    await tick();
    assert.equal(lastOffer('A').version, 3);
    assert.deepEqual(lastOffer('A').sources, []);
  });

  test('a changed source (new SSRC) reconfigures and gets a new m-line at the others', async () => {
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 11 });
    await join('B');
    await tick();
    await answer('B', lastOffer('B'), { audio: 21 });
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 }); // A turned the camera on
    assert.equal(callsOf('configure', 'A').length, 2);
    assert.deepEqual(callsOf('configure', 'A').at(-1)!.payload.sources, [
      { ssrc: 11, kind: 'audio' },
      { ssrc: 12, kind: 'video', role: 'video' },
    ]);
    await tick();
    const b2 = lastOffer('B');
    assert.deepEqual(b2.sources.map((s) => `${s.mid}:${s.participantId}:${s.kind}`), ['3:A:audio', '4:A:video']);
  });

  test('screen share: renegotiate on request, the screen reaches the others with role "screen", and goes away', async () => {
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    await join('B');
    await tick();
    await answer('B', lastOffer('B'), { audio: 21, video: 22 });
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    const offersToA = offersFor('A').length;
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    assert.equal(offersFor('A').length, offersToA + 1, 'a fresh offer even though nothing changed');
    await answer('A', lastOffer('A'), { audio: 11, video: 12, screen: 13 });
    assert.deepEqual(callsOf('configure', 'A').at(-1)!.payload.sources, [
      { ssrc: 11, kind: 'audio' },
      { ssrc: 12, kind: 'video', role: 'video' },
      { ssrc: 13, kind: 'video', role: 'screen' },
    ]);
    await tick();
    const b = lastOffer('B');
    assert.deepEqual(b.sources.map((s) => `${s.mid}:${s.participantId}:${s.kind}:${s.role ?? ''}`), ['3:A:audio:', '4:A:video:video', '5:A:video:screen']);
    assert.match(b.sdp, /a=msid:A A-screen/);
    await answer('B', b, { audio: 21, video: 22 });
    assert.deepEqual(callsOf('subscribe', 'B').at(-1)!.payload.ssrcs, [11, 12, 13]);
    // sharing stops: A answers mid 2 inactive; B's screen m-line goes inactive
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    await tick();
    assert.deepEqual(lastOffer('B').sources.map((s) => s.mid), ['3', '4']);
    // a renegotiate request while an offer is outstanding still gets its own offer after the answer
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    const pending = lastOffer('A');
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    assert.equal(lastOffer('A'), pending, 'one outstanding offer at a time');
    await answer('A', pending, { audio: 11, video: 12, screen: 13 });
    assert.equal(lastOffer('A').version, pending.version + 1, 'the owed offer went out');
    await assert.rejects(bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'Z' }), /not in conference/);
    await assert.rejects(bus.request(subjects.focusRenegotiate, { conferenceId: CONF }), /bad focus\.renegotiate/);
  });

  test('a screen shared and stopped again and again reuses one m-line at the others', async () => {
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    await join('B');
    await tick();
    await answer('B', lastOffer('B'), { audio: 21, video: 22 });
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    for (let i = 0; i < 5; i++) {
      await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
      await answer('A', lastOffer('A'), { audio: 11, video: 12, screen: 13 });
      await tick();
      const on = lastOffer('B');
      assert.deepEqual(on.sources.map((s) => `${s.mid}:${s.role ?? s.kind}`), ['3:audio', '4:video', '5:screen']);
      await answer('B', on, { audio: 21, video: 22 });
      assert.deepEqual(callsOf('subscribe', 'B').at(-1)!.payload.ssrcs, [11, 12, 13]);
      await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
      await answer('A', lastOffer('A'), { audio: 11, video: 12 });
      await tick();
      const off = lastOffer('B');
      assert.deepEqual(offeredMlines(off.sdp).map((m) => `${m.mid}:${m.direction}`).slice(3), ['3:sendonly', '4:sendonly', '5:inactive']);
      await answer('B', off, { audio: 21, video: 22 });
      assert.deepEqual(callsOf('subscribe', 'B').at(-1)!.payload.ssrcs, [11, 12]);
    }
    // a new participant's screen takes the free video m-line at B, and C's audio/camera get new ones
    await join('C');
    await tick();
    await answer('C', lastOffer('C'), { audio: 31, screen: 33 });
    await tick();
    assert.deepEqual(lastOffer('B').sources.map((s) => `${s.mid}:${s.participantId}:${s.role ?? s.kind}`), ['3:A:audio', '4:A:video', '5:C:screen', '6:C:audio']);
  });

  test('an m-line is not recycled before the browser answered it inactive', async () => {
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 11 });
    await join('B');
    await tick();
    await answer('B', lastOffer('B'), { audio: 21 });
    await tick();
    await answer('A', lastOffer('A'), { audio: 11 });
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    const a3 = lastOffer('A'); // still B's audio on mid 3
    await leave('B');
    await join('C');
    await tick();
    await answer('C', lastOffer('C'), { audio: 31 });
    await answer('A', a3, { audio: 11 });
    await tick();
    // B's mid 3 went inactive in this very update: C's audio may not take it over in the same offer
    const a4 = lastOffer('A');
    assert.deepEqual(offeredMlines(a4.sdp).map((m) => `${m.mid}:${m.direction}:${m.ssrcs.join('/')}`).slice(3), ['3:inactive:', '4:sendonly:31']);
    await answer('A', a4, { audio: 11 });
    // once A answered it inactive, the next audio source takes it
    await join('D');
    await tick();
    await answer('D', lastOffer('D'), { audio: 41 });
    await tick();
    assert.deepEqual(lastOffer('A').sources.map((s) => `${s.mid}:${s.participantId}`), ['3:D', '4:C']);
  });

  test("a participant's SSRCs stay fixed for its session; only an ICE restart (new ufrag) may change them", async () => {
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    await join('B');
    await tick();
    await answer('B', lastOffer('B'), { audio: 21, video: 22 });
    await tick();
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    const offersToB = offersFor('B').length;
    const configures = callsOf('configure', 'A').length;
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    const pending = lastOffer('A');
    await assert.rejects(answer('A', pending, { audio: 111, video: 12 }), /audio with ssrc 111 instead of 11: .*SSRCs stay fixed/);
    await assert.rejects(answer('A', pending, { audio: 11, video: 112 }), /camera with ssrc 112 instead of 12/);
    assert.equal(callsOf('configure', 'A').length, configures, 'the bridge is not reconfigured');
    await tick();
    assert.equal(offersFor('B').length, offersToB, 'nobody else renegotiates');
    // a screen, once shared, comes back with the same SSRC only
    await answer('A', pending, { audio: 11, video: 12, screen: 13 });
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    await answer('A', lastOffer('A'), { audio: 11, video: 12 });
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    await assert.rejects(answer('A', lastOffer('A'), { audio: 11, video: 12, screen: 14 }), /screen with ssrc 14 instead of 13/);
    await answer('A', lastOffer('A'), { audio: 11, video: 12, screen: 13 });
    // an ICE restart: new SSRCs are taken, the bridge reconfigured, and B gets them
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    const restart = lastOffer('A');
    await bus.request(subjects.focusAnswer, {
      conferenceId: CONF,
      participantId: 'A',
      sdp: answerFor(restart.sdp, { audio: 51, video: 52 }, 'restarted'),
      version: restart.version,
    });
    assert.deepEqual(callsOf('configure', 'A').at(-1)!.payload.remoteUfrag, 'restarted');
    assert.deepEqual(callsOf('configure', 'A').at(-1)!.payload.sources.map((x: any) => x.ssrc), [51, 52]);
    await tick();
    // B answered none of its offers meanwhile: the one outstanding, then the one that catches up
    await answer('B', lastOffer('B'), { audio: 21, video: 22 });
    await tick();
    const b = lastOffer('B');
    const lines = offeredMlines(b.sdp).slice(3);
    // the old SSRCs' m-lines went inactive in the same update, so the new ones could not take them yet
    assert.ok(lines.length <= 5, `B has ${lines.length} remote m-lines`);
    assert.deepEqual(lines.filter((m) => m.direction === 'sendonly').flatMap((m) => m.ssrcs), [51, 52]);
  });

  test('mute: audio and video go to the bridge (it drops what the server has off)', async () => {
    await join('A');
    await bus.request(subjects.focusMute, { conferenceId: CONF, participantId: 'A', kind: 'audio', muted: true });
    await bus.request(subjects.focusMute, { conferenceId: CONF, participantId: 'A', kind: 'video', muted: true });
    assert.deepEqual(callsOf('mute').map((c) => c.payload), [
      { conferenceId: CONF, endpointId: 'A', kind: 'audio', muted: true },
      { conferenceId: CONF, endpointId: 'A', kind: 'video', muted: true },
    ]);
    await assert.rejects(bus.request(subjects.focusMute, { conferenceId: CONF, participantId: 'Z', kind: 'audio', muted: true }), /not in conference/);
  });

  test("an answer claiming another participant's SSRC is refused and changes nothing", async () => {
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 1001, video: 1002 });
    await join('B');
    await tick();
    const b1 = lastOffer('B');
    await assert.rejects(answer('B', b1, { audio: 1001, video: 2002 }), /ssrc 1001, which another participant/);
    assert.equal(callsOf('configure', 'B').length, 0, 'the bridge is not asked to take the stolen SSRC');
    await tick();
    assert.equal(offersFor('A').length, 1, 'nobody is offered the claimed source');
    // a late joiner sees each SSRC once, with its real owner
    await join('C');
    await tick();
    const c1 = lastOffer('C');
    const ssrcs = offeredMlines(c1.sdp).flatMap((m) => m.ssrcs);
    assert.deepEqual(ssrcs.sort((x, y) => x - y), [1001, 1002]);
    assert.deepEqual(c1.sources.map((x) => x.participantId), ['A', 'A']);
    // B's honest answer to the same offer still works
    await answer('B', b1, { audio: 2001, video: 2002 });
    assert.deepEqual(callsOf('configure', 'B').at(-1)!.payload.sources.map((x: any) => x.ssrc), [2001, 2002]);
  });

  test('a whole-conference receiver (a recorder) is told every source and subscribed as people come, share and go', async () => {
    const events: any[] = [];
    bus.subscribe(subjects.plainSources('rec-1'), (e) => events.push(e));
    await join('A');
    await tick();
    await answer('A', lastOffer('A'), { audio: 1001, video: 1002 });
    const attach = {
      conferenceId: CONF,
      endpointId: 'rec-1',
      legs: [
        { kind: 'audio', address: '127.0.0.1', port: 50000 },
        { kind: 'video', address: '127.0.0.1', port: 50002 },
      ],
      rtcpMux: false,
      comedia: false,
      srtp: false,
      sources: [],
      receiveAll: { deferred: true },
    };
    const reply = (await bus.request(subjects.focusAttachPlain, attach)) as any;
    assert.deepEqual(reply.receives, [
      { participantId: 'A', kind: 'audio', ssrc: 1001 },
      { participantId: 'A', kind: 'video', role: 'video', ssrc: 1002 },
    ]);
    assert.match(reply.sdp, /m=audio 50000 RTP\/AVP 111/);
    assert.equal(callsOf('subscribe', 'rec-1').length, 0, 'deferred: nothing sent before start-plain');
    await bus.request(subjects.focusStartPlain, { conferenceId: CONF, endpointId: 'rec-1' });
    assert.deepEqual(callsOf('subscribe', 'rec-1').map((c) => c.payload.ssrcs), [[1001, 1002]]);

    await join('B');
    await tick();
    await answer('B', lastOffer('B'), { audio: 2001, video: 2002, screen: 2003 });
    await tick();
    assert.deepEqual(events.at(-1).sources, [
      { participantId: 'A', kind: 'audio', ssrc: 1001 },
      { participantId: 'A', kind: 'video', role: 'video', ssrc: 1002 },
      { participantId: 'B', kind: 'audio', ssrc: 2001 },
      { participantId: 'B', kind: 'video', role: 'video', ssrc: 2002 },
      { participantId: 'B', kind: 'video', role: 'screen', ssrc: 2003 },
    ]);
    assert.deepEqual(callsOf('subscribe', 'rec-1').at(-1)!.payload.ssrcs, [1001, 1002, 2001, 2002, 2003]);

    await leave('B');
    await tick();
    assert.deepEqual(events.at(-1).sources.map((s: any) => s.ssrc), [1001, 1002]);
    assert.deepEqual(callsOf('subscribe', 'rec-1').at(-1)!.payload.ssrcs, [1001, 1002]);
    const told = events.length;
    await leave('A'); // the conference ends: the recorder's endpoint expires with it
    await tick();
    assert.ok(callsOf('expire', 'rec-1').length === 1);
    assert.ok(events.length > told);
    assert.deepEqual(events.at(-1), { conferenceId: CONF, endpointId: 'rec-1', sources: [], ended: true }, 'the recorder learns its media ended');

    // a receiver of everything has an id fit for a bus subject, and is not also a one-participant receiver
    await join('C');
    await tick();
    await assert.rejects(bus.request(subjects.focusAttachPlain, { ...attach, endpointId: 'rec.1' }), /letters, digits/);
    await assert.rejects(
      bus.request(subjects.focusAttachPlain, { ...attach, receiveFrom: { participantId: 'C', kinds: ['audio'] } }),
      /receiveFrom or receiveAll/,
    );
  });

  test('bad requests and bad answers are refused with a clear error; a good answer still works after', async () => {
    await assert.rejects(bus.request(subjects.focusJoin, { conferenceId: CONF }), /bad focus\.join request: participantId/);
    await assert.rejects(bus.request(subjects.focusAnswer, 'nonsense'), /bad focus\.answer request/);
    await assert.rejects(bus.request(subjects.focusMute, { conferenceId: CONF, participantId: 'A', kind: 'smell', muted: true }), /bad focus\.mute/);
    await join('A');
    await assert.rejects(join('A'), /already in conference/);
    await tick();
    const a1 = lastOffer('A');
    await assert.rejects(
      bus.request(subjects.focusAnswer, { conferenceId: CONF, participantId: 'A', sdp: 'v=0\r\nnonsense', version: a1.version }),
      /not a session description|media sections/,
    );
    const noIce = answerFor(a1.sdp, { audio: 1 }).replace(/a=ice-ufrag:[^\r]*\r\n/g, '');
    await assert.rejects(
      bus.request(subjects.focusAnswer, { conferenceId: CONF, participantId: 'A', sdp: noIce, version: a1.version }),
      /no ICE credentials/,
    );
    assert.equal(callsOf('configure').length, 0);
    await answer('A', a1, { audio: 1 });
    assert.equal(callsOf('configure').length, 1);
    await assert.rejects(
      bus.request(subjects.focusAnswer, { conferenceId: 'nope', participantId: 'A', sdp: 'x', version: 1 }),
      /no conference nope/,
    );
  });
});

describe('focus renegotiation limits', () => {
  test('renegotiations beyond the burst wait for the rate, merged into one, and the last state always arrives', async () => {
    const bus = new MemoryBus();
    const calls: Call[] = [];
    const offers: SignalOffer[] = [];
    bus.subscribe(subjects.signalOffer, (o) => {
      const offer = o as SignalOffer;
      offers.push(offer);
      // B is a browser that answers every offer at once
      if (offer.participantId === 'B' && offer.version > 1) {
        setTimeout(() => {
          bus
            .request(subjects.focusAnswer, { conferenceId: CONF, participantId: 'B', sdp: answerFor(offer.sdp, { audio: 21 }), version: offer.version })
            .catch(() => {}); // focus stopped meanwhile
        }, 1);
      }
    });
    const limited = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent', renegotiationBurst: 3, renegotiationRate: 4 } });
    const focus = startFocus({ bus, config: limited, log });
    fakeBridge(bus, 'b1', calls);
    bus.publish(subjects.bridgeAnnounce, { bridgeId: 'b1', endpoints: 0 });
    const last = (id: string) => offers.filter((o) => o.participantId === id).at(-1)!;
    const count = (id: string) => offers.filter((o) => o.participantId === id).length;
    const answerLast = (id: string, own: OwnSsrcs) =>
      bus.request(subjects.focusAnswer, { conferenceId: CONF, participantId: id, sdp: answerFor(last(id).sdp, own), version: last(id).version });
    const renegotiate = () => bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    try {
      await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'B' });
      await tick();
      await answerLast('B', { audio: 21 });
      await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'A' });
      await tick();
      await answerLast('A', { audio: 11 }); // 1 token: B is offered A's audio
      await tick();
      // A toggles its screen as fast as it can: each request answered at once, sharing every other time
      const start = Date.now();
      let sharing = false;
      for (let i = 0; i < 12; i++) {
        const before = count('A');
        await renegotiate();
        if (count('A') === before) continue; // deferred: the request is merged with what waits
        sharing = !sharing;
        await answerLast('A', sharing ? { audio: 11, screen: 13 } : { audio: 11 });
      }
      const toA = count('A') - 1;
      assert.ok(toA <= 3, `${toA} offers to A at once; the burst is 3 tokens (and each change of A's sources takes one)`);
      // what waited arrives: A gets its owed offer, and B ends with A's real state
      await waitFor('the deferred offer to A', () => count('A') - 1 > toA, 3000);
      await answerLast('A', sharing ? { audio: 11 } : { audio: 11, screen: 13 });
      sharing = !sharing;
      const expected = sharing ? ['A:audio', 'A:video'] : ['A:audio'];
      await tick();
      await waitFor("B's offer with A's last state", () => last('B').sources.map((x) => `${x.participantId}:${x.kind}`).join() === expected.join(), 3000);
      assert.ok(Date.now() - start >= 150, 'the rest waited for the rate (4 per second)');
      assert.ok(count('B') <= 6, `B was offered ${count('B')} times`);
    } finally {
      await focus.close();
    }
  });

  test('a leave cancels what the leaver still owed; focus stops with nothing pending', async () => {
    const bus = new MemoryBus();
    const offers: SignalOffer[] = [];
    bus.subscribe(subjects.signalOffer, (o) => offers.push(o as SignalOffer));
    const limited = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent', renegotiationBurst: 1, renegotiationRate: 5 } });
    const focus = startFocus({ bus, config: limited, log });
    fakeBridge(bus, 'b1', []);
    bus.publish(subjects.bridgeAnnounce, { bridgeId: 'b1', endpoints: 0 });
    await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'A' });
    await tick();
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' });
    await bus.request(subjects.focusRenegotiate, { conferenceId: CONF, participantId: 'A' }); // deferred
    await bus.request(subjects.focusLeave, { conferenceId: CONF, participantId: 'A' });
    const n = offers.length;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(offers.length, n, 'nothing is sent to a participant who left');
    await focus.close();
  });
});

describe('focus bridge selection', () => {
  test('a join waits for the first bridge announcement, and fails clearly when none comes', async () => {
    const bus = new MemoryBus();
    const focus = startFocus({ bus, config, log, bridgeWaitMs: 300 });
    try {
      await assert.rejects(bus.request(subjects.focusJoin, { conferenceId: 'x', participantId: 'A' }), /no media bridge is available/);
      const calls: Call[] = [];
      fakeBridge(bus, 'late', calls);
      const pending = bus.request(subjects.focusJoin, { conferenceId: 'x', participantId: 'A' });
      setTimeout(() => bus.publish(subjects.bridgeAnnounce, { bridgeId: 'late', endpoints: 0 }), 100);
      assert.deepEqual(await pending, { ok: true });
      assert.equal(calls[0]!.subject, 'allocate');
    } finally {
      await focus.close();
    }
  });

  test('a new conference goes to the least-loaded bridge; a conference stays on one bridge', async () => {
    const bus = new MemoryBus();
    const focus = startFocus({ bus, config, log });
    const c1: Call[] = [];
    const c2: Call[] = [];
    fakeBridge(bus, 'b1', c1);
    fakeBridge(bus, 'b2', c2);
    try {
      bus.publish(subjects.bridgeAnnounce, { bridgeId: 'b1', endpoints: 5 });
      bus.publish(subjects.bridgeAnnounce, { bridgeId: 'b2', endpoints: 1 });
      bus.publish(subjects.bridgeAnnounce, { bridgeId: 'bad' }); // ignored
      bus.publish(subjects.bridgeAnnounce, { bridgeId: 'no.dots>', endpoints: 0 }); // not a subject token: ignored
      await tick();
      await bus.request(subjects.focusJoin, { conferenceId: 'one', participantId: 'A' });
      assert.equal(c2.length, 1);
      bus.publish(subjects.bridgeAnnounce, { bridgeId: 'b2', endpoints: 9 });
      await tick();
      await bus.request(subjects.focusJoin, { conferenceId: 'one', participantId: 'B' });
      assert.equal(c2.length, 2, 'same conference, same bridge');
      await bus.request(subjects.focusJoin, { conferenceId: 'two', participantId: 'C' });
      assert.equal(c1.length, 1, 'a new conference goes to the now less-loaded b1');
    } finally {
      await focus.close();
    }
  });

  test('a bridge that stops announcing itself is no longer chosen; it is again once it announces', async () => {
    const bus = new MemoryBus();
    const focus = startFocus({ bus, config, log, bridgeExpiryMs: 200 });
    const quiet: Call[] = [];
    const busy: Call[] = [];
    fakeBridge(bus, 'quiet', quiet);
    fakeBridge(bus, 'busy', busy);
    // 'busy' keeps announcing (with more load); 'quiet' announced once, idle, then went silent
    const keepAlive = setInterval(() => bus.publish(subjects.bridgeAnnounce, { bridgeId: 'busy', endpoints: 7, instance: 'i-busy' }), 40);
    try {
      bus.publish(subjects.bridgeAnnounce, { bridgeId: 'quiet', endpoints: 0, instance: 'i-quiet' });
      await tick();
      await bus.request(subjects.focusJoin, { conferenceId: 'first', participantId: 'A' });
      assert.equal(quiet.length, 1, 'the idle bridge gets the first conference');
      await new Promise((r) => setTimeout(r, 500));
      await bus.request(subjects.focusJoin, { conferenceId: 'second', participantId: 'B' });
      const allocations = (calls: Call[]) => calls.filter((c) => c.subject === 'allocate').map((c) => c.payload.endpointId);
      assert.deepEqual(allocations(busy), ['A', 'B'], "the silent bridge is skipped although it is less loaded (and A moved off it)");
      assert.equal(quiet.length, 1);
      bus.publish(subjects.bridgeAnnounce, { bridgeId: 'quiet', endpoints: 0, instance: 'i-quiet' });
      await tick();
      await bus.request(subjects.focusJoin, { conferenceId: 'third', participantId: 'C' });
      assert.equal(quiet.length, 2, 'back in the choice after announcing again');
    } finally {
      clearInterval(keepAlive);
      await focus.close();
    }
  });

  test('a failed allocation fails the join and leaves no half conference', async () => {
    const bus = new MemoryBus();
    const focus = startFocus({ bus, config, log });
    bus.handle(subjects.bridgeAllocate('broken'), () => {
      throw new Error('out of ports');
    });
    bus.publish(subjects.bridgeAnnounce, { bridgeId: 'broken', endpoints: 0 });
    await tick();
    try {
      await assert.rejects(bus.request(subjects.focusJoin, { conferenceId: 'x', participantId: 'A' }), /out of ports/);
      // leave of someone who never made it is fine
      assert.deepEqual(await bus.request(subjects.focusLeave, { conferenceId: 'x', participantId: 'A' }), { ok: true });
    } finally {
      await focus.close();
    }
  });
});
