// One conference over two bridges joined by a relay: two bridge processes (each taking one participant:
// maxEndpointsPerBridge 1) and a web/signal/focus process, linked by a real nats-server. Ana lands on one
// bridge, Ben on the other (focus spans the conference over both and joins them by an SRTP relay); each
// decodes the other's video and audio, which crossed from bridge to bridge. When one leaves and comes back,
// the relay carries the new session too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, waitUntil, type Participant } from '../helpers/browser.ts';

describe('a conference relayed between two bridges', () => {
  let nats: NatsServer;
  let web: RunningServer;
  let bridgeA: RunningServer;
  let bridgeB: RunningServer;
  let browser: Browser;
  const room = 'Puente';

  before(async () => {
    nats = await startNatsServer();
    const common = { TERTULIA_NATS_URL: nats.url, TERTULIA_LOG_LEVEL: 'info', TERTULIA_MAX_ENDPOINTS_PER_BRIDGE: '1' };
    bridgeA = await startServer({ ...common, TERTULIA_PARTS: 'bridge', TERTULIA_BRIDGE_ID: 'bridge-a', TERTULIA_PLAIN_RTP_PORT_MIN: '41000', TERTULIA_PLAIN_RTP_PORT_MAX: '41499' });
    bridgeB = await startServer({ ...common, TERTULIA_PARTS: 'bridge', TERTULIA_BRIDGE_ID: 'bridge-b', TERTULIA_PLAIN_RTP_PORT_MIN: '41500', TERTULIA_PLAIN_RTP_PORT_MAX: '41999' });
    web = await startServer({ ...common, TERTULIA_PARTS: 'web,signal,focus' });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const p of [web, bridgeA, bridgeB]) await p?.stop();
    await nats?.stop();
  });

  /** Waits until each of `people` decodes video and audio from each other one. */
  async function everyoneGetsEveryone(people: Participant[]): Promise<void> {
    for (const p of people) {
      for (const o of people) {
        if (o === p) continue;
        await waitUntil(
          `${p.name} to get media from ${o.name}`,
          () => remoteStats(p.page),
          (s) => (s[o.name]?.framesDecoded ?? 0) > 10 && (s[o.name]?.audioPackets ?? 0) > 50,
          45_000,
        );
      }
    }
  }

  /** Participant endpoints (not relays) the bridge's log says it allocated (each media worker logs it too). */
  const participantsOn = (bridge: RunningServer) =>
    [...new Set([...bridge.output().matchAll(/"endpointId":"([^"~]+)","replaced":false,"msg":"endpoint allocated"/g)].map((m) => m[1]))];

  test('a participant on each bridge: both decode each other, over the relay', async () => {
    const ana = await newParticipant(browser, 'Ana');
    const ben = await newParticipant(browser, 'Ben');
    await joinThroughUi(ana, web.baseUrl, room);
    await joinThroughUi(ben, web.baseUrl, room);
    await everyoneGetsEveryone([ana, ben]);
    assert.equal(participantsOn(bridgeA).length, 1, `bridge A has one participant:\n${participantsOn(bridgeA)}`);
    assert.equal(participantsOn(bridgeB).length, 1, 'bridge B has the other');
    assert.match(web.output(), /the conference spans another bridge/);
    for (const b of [bridgeA, bridgeB]) assert.match(b.output(), /"msg":"plain RTP transport open"/, 'each bridge opened its end of the relay');

    // Ben leaves and joins again (a new endpoint on the bridge with room): the relay carries his new sources
    await ben.page.getByRole('button', { name: 'Leave meeting' }).click();
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).waitFor({ state: 'detached', timeout: 15_000 });
    const again = await newParticipant(browser, 'Ben');
    await joinThroughUi(again, web.baseUrl, room);
    await everyoneGetsEveryone([ana, again]);
    await ana.context.close();
    await again.context.close();
    await ben.context.close();
    for (const b of [bridgeA, bridgeB]) assert.ok(b.alive(), 'no bridge crashed');
  });
});
