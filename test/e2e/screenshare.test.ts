// End to end: screen sharing — the screen reaches everyone as its own tile next to the sharer's camera, a
// late joiner gets it too, and it stops cleanly both from the toolbar and from the browser's own bar.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

/** Frames decoded from `participantId`'s screen (the m-line whose source has role "screen"). */
async function screenFrames(page: Page, name: string): Promise<number> {
  return await page.evaluate(async (who) => {
    const t = (window as any).__tertulia;
    if (!t?.pc) return 0;
    const id = (t.participants ?? []).find((p: any) => p.displayName === who)?.id;
    const mids = new Set((t.sources ?? []).filter((s: any) => s.participantId === id && s.role === 'screen').map((s: any) => s.mid));
    let frames = 0;
    (await t.pc.getStats()).forEach((s: any) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video' && mids.has(String(s.mid))) frames += s.framesDecoded ?? 0;
    });
    return frames;
  }, name);
}

describe('screen sharing', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;

  test("the shared screen is its own large tile for everyone, beside the sharer's camera", async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Pantallas');
    await joinThroughUi(ben, suite.server.baseUrl, 'Pantallas');
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).waitFor({ timeout: 10_000 });

    await ana.page.getByRole('button', { name: 'Share screen' }).click();
    await ana.page.getByRole('button', { name: 'Stop sharing' }).waitFor({ timeout: 10_000 });
    await ana.page.getByRole('group', { name: 'Your screen' }).locator('video').waitFor({ timeout: 10_000 });

    await ben.page.getByRole('status').filter({ hasText: 'Ana started sharing their screen' }).waitFor({ timeout: 15_000 });
    const screenTile = ben.page.getByRole('group', { name: "Ana's screen" });
    await screenTile.locator('video').waitFor({ timeout: 15_000 });
    await ben.page.getByRole('group', { name: 'Ana', exact: true }).waitFor();
    await waitUntil("Ben to decode Ana's screen", () => screenFrames(ben.page, 'Ana'), (n) => n > 3, 30_000);
    // speaker view: the screen is the large tile
    const big = await screenTile.boundingBox();
    const cam = await ben.page.getByRole('group', { name: 'Ana', exact: true }).boundingBox();
    assert.ok(big && cam && big.width > cam.width * 2, `screen ${big?.width}px wide, camera ${cam?.width}px`);
  });

  test('a late joiner gets the screen that is being shared', async () => {
    const caro = await newParticipant(suite.browser, 'Caro');
    await joinThroughUi(caro, suite.server.baseUrl, 'pantallas');
    await caro.page.getByRole('group', { name: "Ana's screen" }).locator('video').waitFor({ timeout: 15_000 });
    await waitUntil("Caro to decode Ana's screen", () => screenFrames(caro.page, 'Ana'), (n) => n > 3, 30_000);
    await caro.context.close();
  });

  test("stopping from the browser's own bar (the track ends) removes the screen everywhere", async () => {
    await ana.page.evaluate(() => {
      const pc: RTCPeerConnection = (window as any).__tertulia.pc;
      const track = pc.getTransceivers().find((t) => t.mid === '2')?.sender.track;
      if (!track) throw new Error('no screen track is being sent');
      track.stop();
      track.dispatchEvent(new Event('ended'));
    });
    await ana.page.getByRole('button', { name: 'Share screen' }).waitFor({ timeout: 5000 });
    await ana.page.getByRole('group', { name: 'Your screen' }).waitFor({ state: 'detached', timeout: 5000 });
    await ben.page.getByRole('group', { name: "Ana's screen" }).waitFor({ state: 'detached', timeout: 15_000 });
    await ben.page.getByRole('group', { name: 'Ana', exact: true }).waitFor();
    // the share had taken Ben's tile view to speaker view: with no screen shared, tile view is back
    await ben.page.getByRole('toolbar').getByRole('button', { name: 'Speaker view' }).waitFor({ timeout: 5000 });
  });

  test('sharing again, then "Stop sharing" in the toolbar', async () => {
    await ben.page.getByRole('button', { name: 'Share screen' }).click();
    await ana.page.getByRole('group', { name: "Ben's screen" }).locator('video').waitFor({ timeout: 15_000 });
    await waitUntil("Ana to decode Ben's screen", () => screenFrames(ana.page, 'Ben'), (n) => n > 3, 30_000);
    await ben.page.getByRole('button', { name: 'Stop sharing' }).click();
    await ana.page.getByRole('group', { name: "Ben's screen" }).waitFor({ state: 'detached', timeout: 15_000 });
    const sending = await ben.page.evaluate(() => {
      const pc: RTCPeerConnection = (window as any).__tertulia.pc;
      return pc.getTransceivers().find((t) => t.mid === '2')?.sender.track?.readyState ?? 'none';
    });
    assert.equal(sending, 'none', 'nothing is sent on the screen m-line any more');
    assert.ok(suite.server.alive());
  });
});
