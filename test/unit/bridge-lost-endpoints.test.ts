// Browsers' endpoints that nobody expires (focus restarted without JetStream and forgot the meeting, or NATS was
// down when it ended): the bridge expires one that never connected, or lost its connection, after
// lostEndpointExpiryMs (5 minutes; short here). A connected one, and a plain-RTP one, stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { bridgeAllocateReplySchema, subjects } from '../../src/protocol/bus-messages.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { LostEndpoints } from '../../src/bridge/lost-endpoints.ts';
import { FakeBrowser, sleep, waitFor } from '../helpers/fake-browser.ts';

test('the watch: a browser\'s endpoint is due after the expiry without a connection; connected, it is not', () => {
  const lost = new LostEndpoints(1000);
  lost.allocated('c', 'never', 0);
  lost.allocated('c', 'ok', 0);
  lost.connected('c', 'ok');
  lost.allocated('c', 'dropped', 0);
  lost.connected('c', 'dropped');
  lost.disconnected('c', 'dropped', 500);
  lost.disconnected('c', 'plain', 0); // never allocated for a browser: not watched
  assert.deepEqual(lost.due(999), []);
  assert.deepEqual(lost.due(1000), [{ conferenceId: 'c', endpointId: 'never' }]);
  assert.deepEqual(lost.due(1500), [{ conferenceId: 'c', endpointId: 'dropped' }]);
  assert.equal(lost.size, 0);
  lost.allocated('c', 'left', 0);
  lost.gone('c', 'left');
  assert.deepEqual(lost.due(5000), []);
});

for (const mediaWorkers of [1, 2]) test(`a bridge expires the browsers' endpoints left without a connection; a connected one stays (mediaWorkers ${mediaWorkers})`, async (t) => {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers, mediaWorkersOnDemand: false });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: 'lost', consentTimeoutMs: 1000, lostEndpointExpiryMs: 2000 });
  const events: Array<{ endpointId: string; event: string }> = [];
  bus.subscribe(subjects.bridgeEvent, (p) => events.push(p as { endpointId: string; event: string }));
  const browsers: FakeBrowser[] = [];
  t.after(async () => {
    for (const b of browsers) b.close();
    await bridge.close();
    await bus.close();
  });
  const endpoints = async () => (await bridge.resourceCounts())['bridge.endpoints'] ?? 0;

  async function join(id: string): Promise<{ browser: FakeBrowser; ufrag: string; pwd: string }> {
    const b = await FakeBrowser.create(id, bridge.mediaPort);
    browsers.push(b);
    const alloc = bridgeAllocateReplySchema.parse(await bus.request(subjects.bridgeAllocate('lost'), { conferenceId: 'c', endpointId: id }));
    await b.iceCheck(alloc.ufrag, alloc.pwd, `${id}u`);
    await bus.request(subjects.bridgeConfigure('lost'), {
      conferenceId: 'c',
      endpointId: id,
      remoteUfrag: `${id}u`,
      remotePwd: 'p'.repeat(24),
      remoteFingerprint: { algorithm: 'sha-256', value: b.fingerprint },
      sources: [],
    });
    await b.connectDtls();
    await waitFor(`${id} connected`, () => events.some((e) => e.endpointId === id && e.event === 'connected'));
    return { browser: b, ufrag: alloc.ufrag, pwd: alloc.pwd };
  }

  const stays = await join('stays');
  const leaves = await join('leaves'); // its page goes away: no more consent checks
  await bus.request(subjects.bridgeAllocate('lost'), { conferenceId: 'c', endpointId: 'never' }); // never connects
  assert.equal(await endpoints(), 3);
  // `stays` keeps its consent fresh, as a browser does
  const keepAlive = setInterval(() => void stays.browser.iceCheck(stays.ufrag, stays.pwd, 'staysu').catch(() => {}), 300);
  t.after(() => clearInterval(keepAlive));
  leaves.browser.close();
  browsers.splice(browsers.indexOf(leaves.browser), 1);

  await waitFor('leaves disconnected', () => events.some((e) => e.endpointId === 'leaves' && e.event === 'disconnected'), 5000);
  const deadline = Date.now() + 10_000;
  while ((await endpoints()) > 1) {
    assert.ok(Date.now() < deadline, `endpoints left: ${await endpoints()}`);
    await sleep(200);
  }
  assert.equal(await endpoints(), 1, 'the connected one stays');
  assert.ok(!events.some((e) => e.endpointId === 'stays' && e.event === 'disconnected'));
  // the expired ones are gone for real: a configure for one is refused as unknown
  await assert.rejects(
    bus.request(subjects.bridgeConfigure('lost'), { conferenceId: 'c', endpointId: 'never', remoteUfrag: 'x', remotePwd: 'p'.repeat(24), remoteFingerprint: { algorithm: 'sha-256', value: stays.browser.fingerprint }, sources: [] }),
    /unknown endpoint/,
  );
});
