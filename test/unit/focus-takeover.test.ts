// Two focus instances on a real nats-server -js (each its own NATS connection, as two processes), one fake
// bridge that records what it is asked: one focus leads, the other stands by and answers nothing. The leader's
// connection is closed (what a killed process looks like to NATS): the standby takes the lease over, reads the
// conference back from the JetStream bucket and offers each participant afresh on the endpoint it already has (no
// new allocation, nothing expired: the media never stopped); later a join, an answer and a leave work on the
// conference it took over.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startFocus, type FocusHandle } from '../../src/focus/index.ts';
import { createLogger } from '../../src/log.ts';
import { subjects, type SignalOffer } from '../../src/protocol/bus-messages.ts';
import { waitFor } from '../helpers/fake-browser.ts';
import { fakeBridge, type Call } from '../helpers/fake-bridge.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { answerFor, type OwnSsrcs } from '../helpers/sdp-answer.ts';

const log = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');
const CONF = 'relevo';
const OWN: Record<string, OwnSsrcs> = { A: { audio: 1111, video: 1112 }, B: { audio: 2221, video: 2222 }, C: { audio: 3331, video: 3332 } };
const TTL = 600;

describe('a focus takes over from a dead one', () => {
  let nats: NatsServer;
  let driver: NatsBus;
  const buses: NatsBus[] = [];
  const focuses: FocusHandle[] = [];
  const offers: SignalOffer[] = [];
  const calls: Call[] = [];
  let beat: NodeJS.Timeout;

  const lastOffer = (id: string) => offers.filter((o) => o.participantId === id).at(-1)!;
  const allocated = () => calls.filter((c) => c.subject === 'allocate').map((c) => c.payload.endpointId as string);
  const answer = async (id: string, ufrag: string) => {
    const o = lastOffer(id);
    await driver.request(subjects.focusAnswer, { conferenceId: CONF, participantId: id, sdp: answerFor(o.sdp, OWN[id]!, ufrag), version: o.version });
  };
  const leaderCount = () => focuses.filter((f) => f.resourceCounts()['focus.leader'] === 1).length;

  async function focusProcess(): Promise<{ bus: NatsBus; focus: FocusHandle }> {
    const bus = await NatsBus.connect({ url: nats.url, log, reconnectWaitMs: 200 });
    buses.push(bus);
    const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent', natsUrl: nats.url, renegotiationBurst: 1000 } });
    const focus = startFocus({ bus, config, log, leaseTtlMs: TTL, bridgeWaitMs: 3000 });
    focuses.push(focus);
    return { bus, focus };
  }

  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    driver = await NatsBus.connect({ url: nats.url, log, reconnectWaitMs: 200 });
    driver.subscribe(subjects.signalOffer, (o) => offers.push(o as SignalOffer));
    fakeBridge(driver, 'b1', calls);
    const announce = () => driver.publish(subjects.bridgeAnnounce, { bridgeId: 'b1', endpoints: allocated().length, instance: 'i-b1' });
    announce();
    beat = setInterval(announce, 100);
  });
  after(async () => {
    clearInterval(beat);
    for (const f of focuses) await f.close().catch(() => {});
    for (const b of buses) await b.close().catch(() => {});
    await driver?.close();
    await nats?.stop();
  });

  test('the leader dies: the standby rebuilds the conference and later joins and leaves work', { timeout: 60_000 }, async () => {
    const first = await focusProcess();
    await waitFor('the first focus leads', () => leaderCount() === 1, 5000);
    const second = await focusProcess();
    await new Promise((r) => setTimeout(r, 3 * TTL));
    assert.equal(second.focus.resourceCounts()['focus.leader'], 0, 'the second focus stands by while the first renews');

    for (const id of ['A', 'B']) await driver.request(subjects.focusJoin, { conferenceId: CONF, participantId: id });
    await answer('A', 'ua1');
    await answer('B', 'ub1');
    await waitFor('A offered B', () => lastOffer('A').sources.length === 2);
    await answer('A', 'ua1');
    await waitFor('B offered A', () => lastOffer('B').sources.length === 2 && lastOffer('B').version > 1);
    await answer('B', 'ub1');
    const versions = { A: lastOffer('A').version, B: lastOffer('B').version };
    const before = calls.length;

    await first.bus.close(); // its NATS connection gone, as a killed process's
    await waitFor('the second focus leads', () => second.focus.resourceCounts()['focus.leader'] === 1, 10 * TTL);
    for (const id of ['A', 'B'] as const) {
      await waitFor(`a fresh offer to ${id}`, () => lastOffer(id).version > versions[id], 5000);
      const o = lastOffer(id);
      assert.match(o.sdp, new RegExp(`a=ice-ufrag:u-b1-${id}`), 'on the endpoint it already has');
      assert.equal(o.sources.length, 2, 'with the other one\'s sources where they were');
    }
    assert.equal(second.focus.resourceCounts()['focus.participants'], 2);
    const since = calls.slice(before);
    assert.deepEqual(since.filter((c) => c.subject === 'allocate' || c.subject === 'expire'), [], 'nothing allocated or expired: the media never stopped');
    await answer('A', 'ua1');
    await answer('B', 'ub1');

    // a third participant joins the conference the new focus took over
    await driver.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'C' });
    assert.deepEqual(allocated(), ['A', 'B', 'C']);
    await answer('C', 'uc1');
    for (const id of ['A', 'B']) {
      await waitFor(`${id} offered C`, () => lastOffer(id).sources.some((s) => s.participantId === 'C'));
      await answer(id, `u${id.toLowerCase()}1`);
    }
    await waitFor('C offered A and B', () => lastOffer('C').sources.filter((s) => s.participantId !== 'C').length === 4);
    // and a leave
    await driver.request(subjects.focusLeave, { conferenceId: CONF, participantId: 'B' });
    assert.ok(calls.some((c) => c.subject === 'expire' && c.payload.endpointId === 'B'), "B's endpoint expired");
    assert.equal(second.focus.resourceCounts()['focus.participants'], 2);
  });
});
