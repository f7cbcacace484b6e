// End to end: the size at which a receiver shows each remote video reaches the bridge. Ana and Ben meet; the
// bridge (its "video constraints" debug line, the server runs at log level debug) must get, for Ana, a constraint
// on the SSRC she receives Ben's camera with, matching the tile she shows it in — and a new one when she switches
// to speaker view, pins herself, when Ben shares his screen (its own SSRC), and 0x0 while the video is not
// displayed or Ben's camera is off.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

interface Size {
  width: number;
  height: number;
}

/** Ana's own id, and the SSRC her offer gives `who`'s camera or screen (from the remote description). */
async function receivedSsrc(page: Page, who: string, role: 'video' | 'screen'): Promise<{ selfId: string; ssrc: number } | null> {
  return await page.evaluate(
    ({ who, role }) => {
      const t = (window as any).__tertulia;
      const id = (t?.participants ?? []).find((p: any) => p.displayName === who)?.id;
      const source = (t?.sources ?? []).find((s: any) => s.participantId === id && s.kind === 'video' && (s.role ?? 'video') === role);
      const sdp: string | undefined = t?.pc?.remoteDescription?.sdp;
      if (!source || !sdp) return null;
      const section = sdp.split(/\r?\nm=/).find((m) => new RegExp(`\\r?\\na=mid:${source.mid}\\r?\\n`).test(`\n${m}\n`));
      const ssrc = section?.match(/a=ssrc:(\d+) /)?.[1];
      return ssrc ? { selfId: t.selfId as string, ssrc: Number(ssrc) } : null;
    },
    { who, role },
  );
}

/** The device-pixel size of the video element of a tile. */
async function videoSize(tile: Locator): Promise<Size> {
  return await tile.locator('video').evaluate((v) => {
    const r = v.getBoundingClientRect();
    return { width: Math.round(r.width * devicePixelRatio), height: Math.round(r.height * devicePixelRatio) };
  });
}

describe('receiver tile sizes reach the bridge', () => {
  const suite = useServerAndBrowser({ TERTULIA_LOG_LEVEL: 'debug' });
  let ana: Participant;
  let ben: Participant;

  /** The last constraint the bridge accepted for `endpointId` on `ssrc` (from its debug log), or null. */
  function bridgeConstraint(endpointId: string, ssrc: number): Size | null {
    let found: Size | null = null;
    for (const line of suite.server.output().split('\n')) {
      if (!line.includes('"msg":"video constraints"')) continue;
      let entry: { endpointId?: string; constraints?: { ssrc: number; width: number; height: number }[] };
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry.endpointId !== endpointId) continue;
      const c = entry.constraints?.find((x) => x.ssrc === ssrc);
      if (c) found = { width: c.width, height: c.height };
    }
    return found;
  }

  /** Waits until the bridge's constraint for Ana on `ssrc` matches `tile`'s video size (within 2 px); returns it. */
  async function constraintMatches(what: string, selfId: string, ssrc: number, tile: Locator): Promise<Size> {
    const seen = await waitUntil(
      what,
      async () => ({ bridge: bridgeConstraint(selfId, ssrc), tile: await videoSize(tile) }),
      (v) => v.bridge !== null && v.tile.width > 0 && Math.abs(v.bridge.width - v.tile.width) <= 2 && Math.abs(v.bridge.height - v.tile.height) <= 2,
      20_000,
    );
    return seen.bridge!;
  }

  test('a constraint on the camera SSRC, the size of the tile; layout and pinning change it', async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Tamanos');
    await joinThroughUi(ben, suite.server.baseUrl, 'Tamanos');
    const benTile = ana.page.getByRole('group', { name: 'Ben', exact: true });
    await benTile.locator('video').waitFor({ timeout: 20_000 });
    const cam = await waitUntil("Ben's camera in Ana's offer", () => receivedSsrc(ana.page, 'Ben', 'video'), (v) => v !== null, 20_000);
    const { selfId, ssrc } = cam!;

    // tile view: two tiles side by side
    const tiled = await constraintMatches("the bridge to get Ana's tile size for Ben's camera", selfId, ssrc, benTile);
    assert.ok(tiled.width > 100 && tiled.height > 50, JSON.stringify(tiled));

    // speaker view: Ben on the stage, larger
    await ana.page.getByRole('button', { name: 'Speaker view' }).click();
    const staged = await constraintMatches('the stage size', selfId, ssrc, benTile);
    assert.ok(staged.width > tiled.width, `stage ${JSON.stringify(staged)} vs tile ${JSON.stringify(tiled)}`);

    // Ana pins herself: Ben goes to the filmstrip, small
    await ana.page.getByRole('group', { name: 'Ana (you)' }).getByRole('button', { name: 'Pin' }).click();
    const strip = await constraintMatches('the filmstrip size', selfId, ssrc, benTile);
    assert.ok(strip.width * 2 < staged.width && strip.width > 0, `filmstrip ${JSON.stringify(strip)} vs stage ${JSON.stringify(staged)}`);
    await ana.page.getByRole('group', { name: 'Ana (you)' }).getByRole('button', { name: 'Unpin' }).click();
    await constraintMatches('the stage size again', selfId, ssrc, benTile);

    // a video element that is not displayed is 0x0, and back when it shows again
    await benTile.locator('video').evaluate((v) => (v.style.display = 'none'));
    await waitUntil('a 0x0 constraint for the hidden video', async () => bridgeConstraint(selfId, ssrc), (c) => c?.width === 0 && c.height === 0, 20_000);
    await benTile.locator('video').evaluate((v) => (v.style.display = ''));
    await constraintMatches('the stage size once shown again', selfId, ssrc, benTile);
  });

  test("Ben's screen gets its own constraint; a camera turned off is 0x0", async () => {
    await ben.page.getByRole('button', { name: 'Share screen' }).click();
    await ben.page.getByRole('button', { name: 'Stop sharing' }).waitFor({ timeout: 10_000 });
    const screenTile = ana.page.getByRole('group', { name: "Ben's screen" });
    await screenTile.locator('video').waitFor({ timeout: 20_000 });
    const screen = await waitUntil("Ben's screen in Ana's offer", () => receivedSsrc(ana.page, 'Ben', 'screen'), (v) => v !== null, 20_000);
    const cam = (await receivedSsrc(ana.page, 'Ben', 'video'))!;
    assert.notEqual(screen!.ssrc, cam.ssrc);
    // the new screen takes the stage; Ben's camera is in the filmstrip
    const big = await constraintMatches("the stage size for Ben's screen", cam.selfId, screen!.ssrc, screenTile);
    const small = await constraintMatches("the filmstrip size for Ben's camera", cam.selfId, cam.ssrc, ana.page.getByRole('group', { name: 'Ben', exact: true }));
    assert.ok(big.width > small.width * 2, `screen ${JSON.stringify(big)} vs camera ${JSON.stringify(small)}`);
    await ben.page.getByRole('button', { name: 'Stop sharing' }).click();
    await ben.page.getByRole('button', { name: 'Share screen' }).waitFor({ timeout: 10_000 });

    // Ben stops his camera: Ana shows his initials, so his camera's size is 0x0
    await ben.page.getByRole('button', { name: 'Stop camera' }).click();
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).getByText('B', { exact: true }).waitFor({ timeout: 10_000 });
    await waitUntil('a 0x0 constraint for the camera', async () => bridgeConstraint(cam.selfId, cam.ssrc), (c) => c !== null && c.width === 0 && c.height === 0, 20_000);
    assert.ok(suite.server.alive());
  });
});
