// How focus decides a bridge is lost and where its participants go, over a MemoryBus with fake bridges: a
// participant moved off a dead bridge goes to a bridge of its own region when one has room (not to the least
// loaded or the one the conference already spans elsewhere); a bridge whose heartbeats stop but that answers a
// ping (bridge.<id>.ping) is kept, and is counted dead once it answers no more.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startFocus, type FocusHandle } from '../../src/focus/index.ts';
import { createLogger } from '../../src/log.ts';
import { subjects, type SignalOffer } from '../../src/protocol/bus-messages.ts';
import { waitFor } from '../helpers/fake-browser.ts';
import { fakeBridge, type Call } from '../helpers/fake-bridge.ts';

const log = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');
const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent', renegotiationBurst: 1000 } });
const CONF = 'sala';
const EXPIRY_MS = 300;

describe('focus: a lost bridge', () => {
  let bus: MemoryBus;
  let focus: FocusHandle;
  let offers: SignalOffer[];
  const calls: Record<string, Call[]> = {};
  const beating = new Map<string, NodeJS.Timeout>();

  function heartbeat(bridgeId: string, endpoints: number, region: string): void {
    clearInterval(beating.get(bridgeId));
    const announce = () => bus.publish(subjects.bridgeAnnounce, { bridgeId, endpoints, instance: `i-${bridgeId}`, region });
    announce();
    beating.set(bridgeId, setInterval(announce, 30));
  }
  const allocated = (bridgeId: string) => calls[bridgeId]!.filter((c) => c.subject === 'allocate').map((c) => c.payload.endpointId as string);

  beforeEach(() => {
    bus = new MemoryBus();
    offers = [];
    bus.subscribe(subjects.signalOffer, (o) => offers.push(o as SignalOffer));
    focus = startFocus({ bus, config, log, bridgeWaitMs: 300, bridgeExpiryMs: EXPIRY_MS });
    for (const id of ['b1', 'b2', 'b3']) {
      calls[id] = [];
      fakeBridge(bus, id, calls[id]);
    }
  });
  afterEach(async () => {
    for (const t of beating.values()) clearInterval(t);
    beating.clear();
    await focus.close();
  });

  test("a participant moved off a dead bridge goes to a bridge of its region, not the least loaded one", async () => {
    heartbeat('b1', 0, 'eu');
    heartbeat('b2', 0, 'us');
    heartbeat('b3', 4, 'eu');
    await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'A', region: 'eu' });
    await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'B', region: 'us' });
    assert.deepEqual(allocated('b1'), ['A']);
    assert.deepEqual(allocated('b2'), ['B'], 'B is near its own bridge: the conference spans b1 and b2');
    clearInterval(beating.get('b1'));
    await waitFor('A allocated again', () => allocated('b3').includes('A') || allocated('b2').includes('A'), 5000);
    assert.deepEqual(allocated('b3'), ['A'], 'A moved to b3 (its region), though b2 is less loaded and already in the conference');
    await waitFor('a fresh offer to A on b3', () => offers.some((o) => o.participantId === 'A' && o.sdp.includes('a=ice-ufrag:u-b3-A')));
  });

  test('a bridge silent but answering pings is kept; once it answers no more it is dead', async () => {
    heartbeat('b1', 0, 'eu');
    heartbeat('b2', 3, 'eu');
    let pings = 0;
    const stopPing = bus.handle(subjects.bridgePing('b1'), () => (pings++, { ok: true }));
    await bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: 'A' });
    assert.deepEqual(allocated('b1'), ['A']);
    clearInterval(beating.get('b1'));
    await waitFor('focus pings the silent bridge', () => pings >= 2, 5000);
    assert.equal(allocated('b2').length, 0, 'nobody moved off a bridge that answers');
    assert.ok(focus.bridgeLoads().some((b) => b.bridgeId === 'b1'), 'it is still in the table');
    stopPing();
    await waitFor('A moved to b2', () => allocated('b2').includes('A'), 5000);
    assert.ok(!focus.bridgeLoads().some((b) => b.bridgeId === 'b1'), 'the bridge that stopped answering is dead');
  });
});
