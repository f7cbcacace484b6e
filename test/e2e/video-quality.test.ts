// End to end: "Manage video quality". Sol sends a 720p camera (three simulcast layers); Rafa, whose browser
// speaks Spanish, watches in a large window. Low definition makes the bridge send Rafa Sol's small layer; audio
// only makes it send no video at all (Rafa's inbound video bytes stop, his own camera goes off, the tiles show
// names), and it survives a page reload; high definition brings the video back. Sol choosing low definition
// switches her top layers off.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { joinThroughUi, newParticipant, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { outboundLayers, videoFrom } from '../helpers/video-stats.ts';

/** Video bytes and frames `page` received so far from every remote participant (inbound-rtp, all video m-lines). */
async function inboundVideoTotals(page: Page): Promise<{ bytes: number; frames: number }> {
  return await page.evaluate(async () => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    let bytes = 0;
    let frames = 0;
    if (!pc) return { bytes, frames };
    (await pc.getStats()).forEach((s: any) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        bytes += s.bytesReceived ?? 0;
        frames += s.framesDecoded ?? 0;
      }
    });
    return { bytes, frames };
  });
}

async function chooseQuality(page: Page, button: string, choice: string): Promise<void> {
  await page.getByRole('toolbar').getByRole('button', { name: button }).click();
  const dialog = page.getByRole('dialog', { name: button });
  await dialog.getByRole('radio', { name: choice }).check();
  await dialog.getByRole('radio', { name: choice, checked: true }).waitFor({ timeout: 5000 });
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached', timeout: 5000 });
}

describe('video quality: what the bridge sends follows the receiver setting', () => {
  const suite = useServerAndBrowser();
  let sol: Participant;
  let rafa: Participant;
  const room = 'Calidad de video';

  test('low definition receives the small layer; audio only receives no video, even after a reload; high brings it back', async () => {
    sol = await newParticipant(suite.browser, 'Sol');
    rafa = await newParticipant(suite.browser, 'Rafa', 'es-ES');
    await rafa.page.setViewportSize({ width: 1600, height: 1000 });
    await joinThroughUi(sol, suite.server.baseUrl, room, { hash: '#config.resolution=720' });
    await joinThroughUi(rafa, suite.server.baseUrl, room, { lang: 'es' });

    await waitUntil('Rafa to get a layer larger than 320', () => videoFrom(rafa.page, 'Sol'), (v) => (v?.width ?? 0) > 320 && v!.framesDecoded > 10, 60_000);

    await chooseQuality(rafa.page, 'Gestionar la calidad de vídeo', 'Baja definición');
    const low = await waitUntil('Rafa to get the 320-wide layer', () => videoFrom(rafa.page, 'Sol'), (v) => v?.width === 320, 45_000);
    await waitUntil('frames of the small layer', () => videoFrom(rafa.page, 'Sol'), (v) => v!.width === 320 && v!.framesDecoded > low!.framesDecoded + 20, 30_000);

    // audio only: the bridge forwards Rafa no video; his camera goes off; Sol's tile shows her name, no video
    await chooseQuality(rafa.page, 'Gestionar la calidad de vídeo', 'Solo audio');
    await rafa.page.getByRole('toolbar').getByRole('button', { name: 'Iniciar cámara' }).waitFor({ timeout: 10_000 });
    await rafa.page.getByText('Solo audio: el vídeo está desactivado').waitFor({ timeout: 5000 });
    await waitUntil('no video element in Sol\'s tile', () => rafa.page.getByRole('group', { name: 'Sol', exact: true }).locator('video').count(), (n) => n === 0, 10_000);
    await sleep(2000); // packets in flight drain
    const stopped = await inboundVideoTotals(rafa.page);
    await sleep(3000);
    const still = await inboundVideoTotals(rafa.page);
    assert.equal(still.bytes, stopped.bytes, 'no video bytes reach Rafa');
    assert.equal(still.frames, stopped.frames, 'no video frames decoded');
    await waitUntil("Sol to see Rafa's camera off", () => sol.page.getByRole('group', { name: 'Rafa', exact: true }).locator('video').count(), (n) => n === 0, 10_000);

    // a page reload keeps audio only
    await joinThroughUi(rafa, suite.server.baseUrl, room, { lang: 'es', reload: true });
    await rafa.page.getByText('Solo audio: el vídeo está desactivado').waitFor({ timeout: 10_000 });
    await rafa.page.getByRole('toolbar').getByRole('button', { name: 'Iniciar cámara' }).waitFor({ timeout: 10_000 });
    await waitUntil('Rafa connected again', () => rafa.page.evaluate(() => (window as any).__tertulia?.pc?.connectionState), (s) => s === 'connected', 30_000);
    await sleep(2000);
    const reloaded = await inboundVideoTotals(rafa.page);
    await sleep(3000);
    assert.deepEqual(await inboundVideoTotals(rafa.page), reloaded, 'after the reload too');

    // high definition: video again, and his camera back on
    await chooseQuality(rafa.page, 'Gestionar la calidad de vídeo', 'Alta definición');
    await waitUntil('Rafa to decode Sol again', () => videoFrom(rafa.page, 'Sol'), (v) => (v?.framesDecoded ?? 0) > 10, 45_000);
    await waitUntil('Sol to decode Rafa again', () => videoFrom(sol.page, 'Rafa'), (v) => (v?.framesDecoded ?? 0) > 10, 45_000);
  });

  test('the sender: low definition switches off the layers above 180p', async () => {
    await waitUntil('Sol sends three layers', () => outboundLayers(sol.page), (l) => ['q', 'h', 'f'].every((r) => (l[r]?.bytes ?? 0) > 0), 30_000);
    await chooseQuality(sol.page, 'Manage video quality', 'Low definition');
    await sleep(2000);
    const before = await outboundLayers(sol.page);
    await sleep(3000);
    const after = await outboundLayers(sol.page);
    assert.equal(after.f!.bytes, before.f!.bytes, 'the 720p layer is off');
    assert.equal(after.h!.bytes, before.h!.bytes, 'the 360p layer is off');
    assert.ok(after.q!.bytes > before.q!.bytes, 'the 180p layer still goes');
  });
});
