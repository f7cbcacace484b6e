// focus's slot mode (src/focus/slots.ts) over a MemoryBus with a fake bridge: a browser that joins a room of at
// least `receiveSlotsFrom` gets fixed slot m-lines once; joins, leaves and source changes of the others change
// only its bridge subscription (every other source, with the slots), never its session; tile sizes go to the
// bridge by the senders' SSRCs. Earlier participants keep one m-line per source.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sdpTransform from 'sdp-transform';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startFocus } from '../../src/focus/index.ts';
import { createLogger } from '../../src/log.ts';
import { subjects, type SignalOffer } from '../../src/protocol/bus-messages.ts';
import { fakeBridge, type Call } from '../helpers/fake-bridge.ts';
import { answerFor, type OwnSsrcs } from '../helpers/sdp-answer.ts';

const log = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');
const config = loadConfig({
  env: { TERTULIA_CONFIG: '' },
  overrides: { logLevel: 'silent', renegotiationBurst: 1000, receiveSlotsFrom: 21, receiveAudioSlots: 2, receiveVideoSlots: 3 },
});
const CONF = 'grande';
const tick = () => new Promise((r) => setTimeout(r, 10));

describe('focus slot mode', () => {
  let bus: MemoryBus;
  let focus: { close(): Promise<void> };
  let calls: Call[];
  let offers: SignalOffer[];
  let own: Map<string, OwnSsrcs>;
  let heartbeat: NodeJS.Timeout;

  const join = (id: string) => bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: id });
  const leave = (id: string) => bus.request(subjects.focusLeave, { conferenceId: CONF, participantId: id });
  const answer = (id: string, offer: SignalOffer, own: OwnSsrcs) =>
    bus.request(subjects.focusAnswer, { conferenceId: CONF, participantId: id, sdp: answerFor(offer.sdp, own), version: offer.version });
  const offersFor = (id: string) => offers.filter((o) => o.participantId === id);
  const lastSubscribe = (id: string) => calls.filter((c) => c.subject === 'subscribe' && c.payload.endpointId === id).at(-1)?.payload;

  beforeEach(() => {
    bus = new MemoryBus();
    calls = [];
    offers = [];
    own = new Map();
    bus.subscribe(subjects.signalOffer, (o) => {
      const offer = o as SignalOffer;
      offers.push(offer);
      setImmediate(() => void answer(offer.participantId, offer, own.get(offer.participantId)!).catch(() => {}));
    });
    focus = startFocus({ bus, config, log, bridgeWaitMs: 300 });
    fakeBridge(bus, 'b1', calls);
    // heard from as a live bridge is (these tests run longer than the failure timeout)
    const announce = () => bus.publish(subjects.bridgeAnnounce, { bridgeId: 'b1', endpoints: 0 });
    announce();
    heartbeat = setInterval(announce, 300);
  });
  afterEach(() => {
    clearInterval(heartbeat);
    return focus.close();
  });

  /** Joins `id` (participant number n, sending audio and a camera); every offer is answered as it comes, as a browser does. */
  async function joinAndAnswer(id: string, n: number): Promise<void> {
    own.set(id, { audio: 10_000 + n * 2, video: 10_001 + n * 2 });
    await join(id);
    for (let i = 0; i < 10; i++) await tick();
  }

  test('the 21st joins on slots: fixed m-lines once, no offer on later joins and leaves, the bridge told instead', async () => {
    for (let i = 1; i <= 20; i++) await joinAndAnswer(`p${i}`, i);
    // the first 20 are on one m-line per source
    const early = offersFor('p1').at(-1)!;
    assert.equal(early.slots, undefined);
    assert.equal(sdpTransform.parse(early.sdp).media.length, 3 + 2 * 19);

    await joinAndAnswer('big', 21);
    const first = offersFor('big');
    assert.equal(first.length, 1, 'one offer');
    const o = first[0];
    assert.equal(o.slots, true);
    assert.deepEqual(o.sources, []);
    const media = sdpTransform.parse(o.sdp).media;
    // own three + 2 audio + 3 video slots, each slot sendonly with its SSRC (and an FID group for video)
    assert.deepEqual(
      media.map((m) => `${m.mid}:${m.type}:${m.direction}`),
      ['0:audio:recvonly', '1:video:recvonly', '2:video:recvonly', '3:audio:sendonly', '4:audio:sendonly', '5:video:sendonly', '6:video:sendonly', '7:video:sendonly'],
    );
    assert.equal(media[5].ssrcGroups?.[0]?.semantics, 'FID');
    const sub = lastSubscribe('big');
    assert.equal(sub.ssrcs.length, 40, 'every other source');
    assert.deepEqual(
      sub.slots.map((s: any) => `${s.mid}:${s.kind}:${s.rtxSsrc === undefined ? 'no-rtx' : 'rtx'}`),
      ['3:audio:no-rtx', '4:audio:no-rtx', '5:video:rtx', '6:video:rtx', '7:video:rtx'],
    );
    for (const s of sub.slots) assert.ok(o.sdp.includes(`a=ssrc:${s.ssrc} `), 'the bridge gets the SSRCs the SDP announced');

    // another joins (slot mode too) and one leaves: no offer for `big`, its subscription follows
    await joinAndAnswer('late', 22);
    assert.equal(offersFor('big').length, 1);
    assert.equal(lastSubscribe('big').ssrcs.length, 42);
    assert.deepEqual(lastSubscribe('big').slots, sub.slots, 'the same slots');
    await leave('p3');
    await tick();
    assert.equal(offersFor('big').length, 1);
    assert.equal(lastSubscribe('big').ssrcs.length, 40);
    // a participant on per-source m-lines is offered the changes as before
    assert.ok(offersFor('p1').length > 20);
  });

  test('tile sizes of a slot session go to the bridge by the senders’ own SSRCs', async () => {
    for (let i = 1; i <= 21; i++) await joinAndAnswer(`p${i}`, i);
    await bus.request(subjects.focusConstraints, {
      conferenceId: CONF,
      participantId: 'p21',
      tiles: [
        { participantId: 'p2', source: 'camera', width: 640, height: 360 },
        { participantId: 'nobody', source: 'camera', width: 640, height: 360 },
      ],
    });
    const c = calls.filter((x) => x.subject === 'constraints' && x.payload.endpointId === 'p21').at(-1)!;
    assert.deepEqual(c.payload.constraints, [{ ssrc: 10_001 + 2 * 2, width: 640, height: 360 }]);
  });
});
