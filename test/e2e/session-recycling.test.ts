// End to end, real Chromium: receive m-lines are recycled. A screen shared and stopped again and again keeps the
// other browsers' transceiver count flat; a later screen (someone else's) reuses the free video m-line and shows
// as that person's screen, not the earlier sharer's; a newcomer after someone left reuses the leaver's m-lines
// and its tile shows its own video while the leaver's tile is gone. Video keeps decoding throughout.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

const ROOM = 'Reciclaje';

/** Ben's transceivers, and the mids the latest offer gives to each (display name, role) pair. */
async function session(page: Page): Promise<{ transceivers: number; mids: Record<string, string> }> {
  return await page.evaluate(() => {
    const t = (window as any).__tertulia;
    const pc: RTCPeerConnection | null = t?.pc ?? null;
    const names = new Map<string, string>((t?.participants ?? []).map((p: any) => [p.id, p.displayName]));
    const mids: Record<string, string> = {};
    for (const s of t?.sources ?? []) mids[`${names.get(s.participantId) ?? s.participantId}:${s.role ?? s.kind}`] = s.mid;
    return { transceivers: pc ? pc.getTransceivers().length : 0, mids };
  });
}

/** Frames decoded so far on the m-line the latest offer gives to `name`'s `role` ('video' camera, 'screen'). */
async function framesOf(page: Page, name: string, role: 'video' | 'screen'): Promise<number> {
  return await page.evaluate(
    async ([who, r]) => {
      const t = (window as any).__tertulia;
      if (!t?.pc) return 0;
      const id = (t.participants ?? []).find((p: any) => p.displayName === who)?.id;
      const mid = (t.sources ?? []).find((s: any) => s.participantId === id && s.role === r)?.mid;
      if (mid === undefined) return 0;
      let frames = 0;
      (await t.pc.getStats()).forEach((s: any) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && String(s.mid) === mid) frames += s.framesDecoded ?? 0;
      });
      return frames;
    },
    [name, role] as const,
  );
}

/** Waits until `name`'s `role` decodes new frames at `page` (a recycled m-line may carry an older stream's count). */
async function decodesAgain(page: Page, name: string, role: 'video' | 'screen'): Promise<void> {
  const start = await framesOf(page, name, role);
  await waitUntil(`${name}'s ${role} to decode`, () => framesOf(page, name, role), (n) => n > start + 5, 30_000);
}

describe('receive m-lines are recycled (real Chromium)', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;
  let caro: Participant;
  let before = 0;

  test('three join; everyone sees the others', async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    caro = await newParticipant(suite.browser, 'Caro');
    for (const p of [ana, ben, caro]) await joinThroughUi(p, suite.server.baseUrl, ROOM);
    await ben.page.getByRole('group', { name: 'Ana', exact: true }).waitFor({ timeout: 15_000 });
    await ben.page.getByRole('group', { name: 'Caro', exact: true }).waitFor({ timeout: 15_000 });
    await decodesAgain(ben.page, 'Ana', 'video');
    before = (await session(ben.page)).transceivers;
    assert.equal(before, 3 + 4, 'own audio, camera, screen + two others with audio and camera');
  });

  test("a screen shared and stopped five times: Ben's transceivers stay flat and the screen decodes each time", async () => {
    let screenMid: string | undefined;
    for (let i = 0; i < 5; i++) {
      await ana.page.getByRole('button', { name: 'Share screen' }).click();
      await ana.page.getByRole('button', { name: 'Stop sharing' }).waitFor({ timeout: 10_000 });
      await ben.page.getByRole('group', { name: "Ana's screen" }).locator('video').waitFor({ timeout: 15_000 });
      await decodesAgain(ben.page, 'Ana', 'screen');
      const s = await session(ben.page);
      screenMid ??= s.mids['Ana:screen'];
      assert.equal(s.mids['Ana:screen'], screenMid, 'the screen comes back on its m-line');
      assert.ok(s.transceivers <= before + 1, `round ${i}: ${s.transceivers} transceivers`);
      await ana.page.getByRole('button', { name: 'Stop sharing' }).click();
      await ben.page.getByRole('group', { name: "Ana's screen" }).waitFor({ state: 'detached', timeout: 15_000 });
    }
    assert.equal((await session(ben.page)).transceivers, before + 1);
    await decodesAgain(ben.page, 'Ana', 'video');
  });

  test("someone else's screen reuses that m-line and shows as theirs", async () => {
    const free = (await session(ben.page)).transceivers;
    await caro.page.getByRole('button', { name: 'Share screen' }).click();
    await ben.page.getByRole('group', { name: "Caro's screen" }).locator('video').waitFor({ timeout: 15_000 });
    await decodesAgain(ben.page, 'Caro', 'screen');
    assert.equal(await ben.page.getByRole('group', { name: "Ana's screen" }).count(), 0);
    const s = await session(ben.page);
    assert.equal(s.transceivers, free, 'no new transceiver for the new screen');
    assert.equal(s.mids['Ana:screen'], undefined);
    await caro.page.getByRole('button', { name: 'Stop sharing' }).click();
    await ben.page.getByRole('group', { name: "Caro's screen" }).waitFor({ state: 'detached', timeout: 15_000 });
  });

  test("a newcomer after a leave takes the leaver's m-lines: its own tile decodes, the leaver's is gone", async () => {
    const s0 = await session(ben.page);
    const anaMids = [s0.mids['Ana:audio'], s0.mids['Ana:video']].sort();
    await ana.context.close();
    await ben.page.getByRole('group', { name: 'Ana', exact: true }).waitFor({ state: 'detached', timeout: 15_000 });
    const dani = await newParticipant(suite.browser, 'Dani');
    await joinThroughUi(dani, suite.server.baseUrl, ROOM);
    await ben.page.getByRole('group', { name: 'Dani', exact: true }).waitFor({ timeout: 15_000 });
    await decodesAgain(ben.page, 'Dani', 'video');
    const s = await session(ben.page);
    assert.deepEqual([s.mids['Dani:audio'], s.mids['Dani:video']].sort(), anaMids, "Dani's sources are on Ana's old mids");
    assert.equal(s.transceivers, s0.transceivers, 'no new transceiver');
    assert.equal(await ben.page.getByRole('group', { name: 'Ana', exact: true }).count(), 0);
    // the video element of Dani's tile plays Dani's stream
    const playing = await ben.page
      .getByRole('group', { name: 'Dani', exact: true })
      .locator('video')
      .evaluate((v: HTMLVideoElement) => v.videoWidth > 0 && (v.srcObject as MediaStream | null)?.getVideoTracks()[0]?.readyState === 'live');
    assert.ok(playing, "Dani's tile shows a live video");
    await decodesAgain(ben.page, 'Caro', 'video');
    await dani.context.close();
    await caro.context.close();
    assert.ok(suite.server.alive());
  });
});
