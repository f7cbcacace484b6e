// Simulcast end to end: a camera at 720p is sent as three rid layers (320, 640, 1280 wide); the bridge learns
// the layers' SSRCs from the rid extension and sends each receiver one continuous stream out of the layer its
// bandwidth estimate and its tile size justify: a large tile (speaker view, pinned) ends on the top layer, a
// small tile (a phone-sized window in tile view) on the lowest one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { outboundLayers, videoFrom } from '../helpers/video-stats.ts';

describe('simulcast', () => {
  const suite = useServerAndBrowser();
  let sender: Participant;

  test('a 720p camera is sent as three layers of 320, 640 and 1280 pixels', async () => {
    sender = await newParticipant(suite.browser, 'Sol');
    await joinThroughUi(sender, suite.server.baseUrl, 'layers', { hash: '#config.resolution=720' });
    // nobody receives it yet: once someone does, every layer gets bitrate
    const big = await newParticipant(suite.browser, 'Rafa');
    await big.page.setViewportSize({ width: 1600, height: 1000 });
    await joinThroughUi(big, suite.server.baseUrl, 'layers', { stopCamera: true, muteMic: true });
    const layers = await waitUntil(
      'three layers with media',
      () => outboundLayers(sender.page),
      (l) => ['q', 'h', 'f'].every((r) => (l[r]?.bytes ?? 0) > 20_000 && (l[r]?.width ?? 0) > 0),
      45_000,
    );
    assert.deepEqual(['q', 'h', 'f'].map((r) => layers[r]!.width), [320, 640, 1280]);

    // a large tile: Sol pinned in speaker view
    await big.page.getByRole('button', { name: 'Speaker view' }).click();
    await big.page.getByRole('group', { name: 'Sol', exact: true }).getByRole('button', { name: 'Pin' }).click();
    const v = await waitUntil('Rafa to get the 1280-wide layer', () => videoFrom(big.page, 'Sol'), (v) => (v?.width ?? 0) === 1280, 60_000);
    assert.equal(v!.width, 1280);
  });

  // (freezes at switches are checked in simulcast-bandwidth.test.ts, where the layer changes with no layout
  // change: here the switch follows a window resize, whose re-layout Chrome may count as a freeze itself)
  test('a small tile gets the lowest layer; a larger one then a higher layer', async () => {
    const small = await newParticipant(suite.browser, 'Pita');
    await small.page.setViewportSize({ width: 360, height: 640 });
    await joinThroughUi(small, suite.server.baseUrl, 'layers', { stopCamera: true, muteMic: true });
    const tile = await small.page.getByRole('group', { name: 'Sol', exact: true }).boundingBox();
    assert.ok(tile && tile.width < 360, `a small tile: ${JSON.stringify(tile)}`);
    await waitUntil('Pita to get the 320-wide layer', () => videoFrom(small.page, 'Sol'), (v) => (v?.width ?? 0) === 320 && v!.framesDecoded > 30, 45_000);
    // speaker view in the small window: still a small stage, still the lowest layer
    // (on a phone-sized screen "Speaker view" is in "More actions")
    await small.page.getByRole('button', { name: 'More actions' }).click();
    await small.page.getByRole('menuitem', { name: 'Speaker view' }).click();
    await new Promise((r) => setTimeout(r, 3000));
    const low = (await videoFrom(small.page, 'Sol'))!;
    assert.equal(low.width, 320);
    // a larger window: a larger stage gets a higher layer, switched at a keyframe
    await small.page.setViewportSize({ width: 1280, height: 800 });
    const up = await waitUntil('Pita to get a larger layer', () => videoFrom(small.page, 'Sol'), (v) => (v?.width ?? 0) > 320, 45_000);
    await new Promise((r) => setTimeout(r, 2000));
    const after = (await videoFrom(small.page, 'Sol'))!;
    assert.ok(after.width > 320 && after.framesDecoded > up!.framesDecoded, JSON.stringify(after));
    assert.ok(after.packetsLost === low.packetsLost, `no loss at the switch: ${JSON.stringify([low, after])}`);
  });
});

describe('simulcast with two media workers', () => {
  const suite = useServerAndBrowser({ TERTULIA_MEDIA_WORKERS: '2' });

  test('layers are learned in every worker; a large tile gets the top layer, a small one the lowest', async () => {
    const sender = await newParticipant(suite.browser, 'Sol');
    await joinThroughUi(sender, suite.server.baseUrl, 'workers', { hash: '#config.resolution=720' });
    const big = await newParticipant(suite.browser, 'Rafa');
    await big.page.setViewportSize({ width: 1600, height: 1000 });
    await joinThroughUi(big, suite.server.baseUrl, 'workers', { stopCamera: true, muteMic: true });
    await big.page.getByRole('button', { name: 'Speaker view' }).click();
    await big.page.getByRole('group', { name: 'Sol', exact: true }).getByRole('button', { name: 'Pin' }).click();
    const small = await newParticipant(suite.browser, 'Pita');
    await small.page.setViewportSize({ width: 360, height: 640 });
    await joinThroughUi(small, suite.server.baseUrl, 'workers', { stopCamera: true, muteMic: true });
    await waitUntil('Rafa to get the 1280-wide layer', () => videoFrom(big.page, 'Sol'), (v) => v?.width === 1280, 60_000);
    await waitUntil('Pita to get the 320-wide layer', () => videoFrom(small.page, 'Sol'), (v) => v?.width === 320 && v.framesDecoded > 30, 60_000);
  });
});
