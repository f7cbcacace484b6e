// Layers nobody needs pause (bridge/send-layers.ts, on by default): real Chromium senders and receivers. With
// one receiver on the top layer of a 720p camera, the middle layer is switched off in the sender's browser after
// the bridge's hold (the lowest never is) and stops costing bytes; a receiver whose tile needs the middle layer
// brings it back and gets it, while the first receiver's picture goes on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, waitUntil } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { outboundLayers, videoFrom } from '../helpers/video-stats.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('layers nobody needs pause', () => {
  const suite = useServerAndBrowser();

  test('the middle layer pauses while nobody needs it and comes back for a tile that does', async () => {
    const sender = await newParticipant(suite.browser, 'Sol');
    await joinThroughUi(sender, suite.server.baseUrl, 'pauses', { hash: '#config.resolution=720' });
    const big = await newParticipant(suite.browser, 'Rafa');
    await big.page.setViewportSize({ width: 1600, height: 1000 });
    await joinThroughUi(big, suite.server.baseUrl, 'pauses', { stopCamera: true, muteMic: true });
    await big.page.getByRole('button', { name: 'Speaker view' }).click();
    await big.page.getByRole('group', { name: 'Sol', exact: true }).getByRole('button', { name: 'Pin' }).click();
    await waitUntil('Rafa to get the 1280-wide layer', () => videoFrom(big.page, 'Sol'), (v) => v?.width === 1280, 60_000);

    const paused = await waitUntil(
      "the middle layer switched off in Sol's browser",
      () => outboundLayers(sender.page),
      (l) => l.h?.active === false,
      30_000,
    );
    assert.notEqual(paused.q?.active, false, 'the lowest layer is never paused');
    assert.notEqual(paused.f?.active, false, 'the top layer is in use');
    const before = await outboundLayers(sender.page);
    const rafaBefore = (await videoFrom(big.page, 'Sol'))!;
    await sleep(3000);
    const afterPause = await outboundLayers(sender.page);
    assert.ok(afterPause.h!.bytes - before.h!.bytes < 2000, `the middle layer sends nothing: ${JSON.stringify([before, afterPause])}`);
    assert.ok(afterPause.f!.bytes - before.f!.bytes > 50_000, 'the top layer goes on');
    assert.ok(afterPause.q!.bytes > before.q!.bytes, 'the lowest layer goes on');

    // Pita shows Sol in a tile the middle layer fits: it comes back, and Pita gets it
    const mid = await newParticipant(suite.browser, 'Pita');
    await mid.page.setViewportSize({ width: 1000, height: 700 });
    await joinThroughUi(mid, suite.server.baseUrl, 'pauses', { stopCamera: true, muteMic: true });
    const tile = await mid.page.getByRole('group', { name: 'Sol', exact: true }).boundingBox();
    // (the bridge takes the smallest layer at least 90 % of the tile both ways)
    assert.ok(tile && tile.width > 360 && tile.width < 700 && tile.height < 400, `a tile the middle layer fits: ${JSON.stringify(tile)}`);
    await waitUntil("the middle layer back on in Sol's browser", () => outboundLayers(sender.page), (l) => l.h?.active !== false, 20_000);
    await waitUntil('Pita to get the 640-wide layer', () => videoFrom(mid.page, 'Sol'), (v) => v?.width === 640 && v.framesDecoded > 30, 30_000);
    const rafaAfter = (await videoFrom(big.page, 'Sol'))!;
    assert.equal(rafaAfter.width, 1280);
    assert.ok(rafaAfter.framesDecoded > rafaBefore.framesDecoded + 60, 'Rafa kept getting pictures');
  });
});
