// A meeting across two bridges of two regions (cascading): two bridge processes with `region` eu and us, a
// web/signal/focus process of region eu that reads the participant's region from the load balancer's header
// (`regionHeader`), all over a real nats-server. Sol (eu, no header, a talking microphone, a 720p simulcast
// camera) lands on the eu bridge; Rafa and Pita, whose requests carry `X-Tertulia-Region: us`, on the us bridge.
// The camera's layers cross the relay as they are, only those the us bridge's receivers want: Rafa's large
// tile gets the 1280-wide layer while Pita's small one gets the 320-wide one at the same time; when Pita's
// window grows, the us bridge asks the eu bridge for the larger layer and a keyframe of it (Sol's browser makes
// it) and Pita's video goes on at the larger size. Both bridges hear Sol's voice through the relay and name
// the same dominant speaker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { createLogger } from '../../src/log.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { joinThroughUi, launchBrowser, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useTalkingBrowser } from '../helpers/e2e.ts';
import { videoFrom } from '../helpers/video-stats.ts';

describe('a meeting across bridges of two regions', () => {
  let nats: NatsServer;
  let bus: NatsBus;
  let web: RunningServer;
  let eu: RunningServer;
  let us: RunningServer;
  let browser: Browser;
  const talkers = useTalkingBrowser();
  const room = 'Dos orillas';
  /** The latest dominant speaker each bridge published. */
  const speakerBy = new Map<string, string>();

  before(async () => {
    nats = await startNatsServer();
    const common = { TERTULIA_NATS_URL: nats.url, TERTULIA_LOG_LEVEL: 'info' };
    eu = await startServer({ ...common, TERTULIA_PARTS: 'bridge', TERTULIA_BRIDGE_ID: 'bridge-eu', TERTULIA_REGION: 'eu', TERTULIA_PLAIN_RTP_PORT_MIN: '45000', TERTULIA_PLAIN_RTP_PORT_MAX: '45499' });
    us = await startServer({ ...common, TERTULIA_PARTS: 'bridge', TERTULIA_BRIDGE_ID: 'bridge-us', TERTULIA_REGION: 'us', TERTULIA_PLAIN_RTP_PORT_MIN: '45500', TERTULIA_PLAIN_RTP_PORT_MAX: '45999' });
    web = await startServer({ ...common, TERTULIA_PARTS: 'web,signal,focus', TERTULIA_REGION: 'eu', TERTULIA_REGION_HEADER: 'X-Tertulia-Region' });
    bus = await NatsBus.connect({ url: nats.url, log: createLogger('warn'), name: 'cascade test' });
    bus.subscribe(subjects.bridgeDominantSpeaker, (p) => {
      const { bridgeId, endpointId } = p as { bridgeId: string; endpointId: string };
      speakerBy.set(bridgeId, endpointId);
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await bus?.close();
    for (const p of [web, eu, us]) await p?.stop();
    await nats?.stop();
  });

  /** Participant endpoints (not relays) the bridge's log says it allocated (each media worker logs it too). */
  const participantsOn = (bridge: RunningServer) =>
    [...new Set([...bridge.output().matchAll(/"endpointId":"([^"~]+)","replaced":false,"msg":"endpoint allocated"/g)].map((m) => m[1]))];

  /** A participant whose requests the load balancer marked as coming from the us region. */
  async function fromUs(name: string, width: number, height: number): Promise<Participant> {
    const p = await newParticipant(browser, name);
    await p.context.setExtraHTTPHeaders({ 'X-Tertulia-Region': 'us' });
    await p.page.setViewportSize({ width, height });
    return p;
  }

  /** Sol's participant id, as another participant's page knows it. */
  const idOf = async (page: Participant['page'], name: string) =>
    await page.evaluate((n) => ((window as any).__tertulia?.participants ?? []).find((p: any) => p.displayName === n)?.id as string | undefined, name);

  test('each on the bridge of their region; layers by tile size over the relay; a switch gets its keyframe; one dominant speaker', async () => {
    const sol = await newParticipant(talkers.browser, 'Sol');
    await joinThroughUi(sol, web.baseUrl, room, { hash: '#config.resolution=720' });
    const rafa = await fromUs('Rafa', 1600, 1000);
    await joinThroughUi(rafa, web.baseUrl, room, { stopCamera: true, muteMic: true });
    const pita = await fromUs('Pita', 360, 640);
    await joinThroughUi(pita, web.baseUrl, room, { stopCamera: true, muteMic: true });

    // (the bridges allocate after signal said `joined`: wait for their logs)
    await waitUntil('Rafa and Pita on the us bridge', async () => participantsOn(us).length, (n) => n >= 2, 20_000);
    assert.equal(participantsOn(us).length, 2, `Rafa and Pita on the us bridge: ${participantsOn(us)}`);
    assert.equal(participantsOn(eu).length, 1, `Sol alone on the eu bridge: ${participantsOn(eu)}`);
    assert.match(web.output(), /the conference spans another bridge/);

    // a large tile (Sol pinned in speaker view) and a small one, at the same time, from one camera over one relay
    await rafa.page.getByRole('button', { name: 'Speaker view' }).click();
    await rafa.page.getByRole('group', { name: 'Sol', exact: true }).getByRole('button', { name: 'Pin' }).click();
    await waitUntil('Rafa (us) to get the 1280-wide layer', () => videoFrom(rafa.page, 'Sol'), (v) => v?.width === 1280 && v.framesDecoded > 30, 90_000);
    const low = await waitUntil('Pita (us) to get the 320-wide layer', () => videoFrom(pita.page, 'Sol'), (v) => v?.width === 320 && v.framesDecoded > 30, 60_000);
    assert.equal((await videoFrom(rafa.page, 'Sol'))?.width, 1280, 'Rafa keeps the top layer');

    // Pita's window grows: a larger layer, which starts at a keyframe asked of Sol's browser through the eu bridge
    await pita.page.setViewportSize({ width: 1280, height: 800 });
    const up = await waitUntil('Pita to get a larger layer', () => videoFrom(pita.page, 'Sol'), (v) => (v?.width ?? 0) > 320, 60_000);
    await waitUntil('Pita’s video to go on at the larger size', () => videoFrom(pita.page, 'Sol'), (v) => (v?.width ?? 0) > 320 && v!.framesDecoded > up!.framesDecoded + 30, 30_000);
    assert.ok(up!.framesDecoded > low!.framesDecoded);

    // Sol talks (the others are muted): both bridges hear Sol through the relay and name Sol
    const solId = await idOf(rafa.page, 'Sol');
    assert.ok(solId, 'Rafa knows Sol');
    await waitUntil('both bridges to name Sol the dominant speaker', async () => new Map(speakerBy), (m) => m.get('bridge-eu') === solId && m.get('bridge-us') === solId, 45_000);

    for (const p of [sol, rafa, pita]) await p.context.close();
    for (const b of [eu, us]) assert.ok(b.alive(), 'no bridge crashed');
  });
});
