// End to end: the moderator's switch of a composed recording's layout, in the web app, and the simulcast layer
// the bridge sends the recorder for each tile. Two Chromium participants sending 720p simulcast. While the
// meeting is recorded, Ana (moderator) sees "Recording layout: Grid / Speaker" with the running layout pressed;
// Ben (not a moderator) does not see it. Ana presses "Speaker": the recorder takes it (the server logs the switch
// only after the recorder's GStreamer child was told) and her app shows it pressed; the bridge then sends the
// recorder the camera in the strip (256x144) as a lower layer than the top one. Stopping the recording hides the
// switch. The server's refusal for non-moderators: test/unit/signal-recording.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, remoteStats, waitUntil } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

describe('recording layout switch', () => {
  // debug: the bridge logs each receiver's simulcast layer target (on a change only)
  const suite = useServerAndBrowser({ TERTULIA_LOG_LEVEL: 'debug' });
  /** The bridge's layer targets for the recorder's endpoint, as logged. */
  const recorderLayers = () =>
    suite.server
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"simulcast layer target"') && l.includes('"receiver":"rec-'))
      .map((l) => JSON.parse(l) as { sender: string; layer: number; tile: string; layersKbps: number[] });

  test('a moderator switches grid to speaker while recording; a participant sees no switch', { timeout: 180_000 }, async () => {
    const ana = await newParticipant(suite.browser, 'Ana');
    const ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Layouts', { hash: '#config.resolution=720' });
    await joinThroughUi(ben, suite.server.baseUrl, 'Layouts', { hash: '#config.resolution=720' });
    await waitUntil('Ana to decode Ben', () => remoteStats(ana.page), (s) => (s.Ben?.framesDecoded ?? 0) > 10);
    const group = ana.page.getByRole('group', { name: 'Recording layout' });
    assert.equal(await group.count(), 0, 'no switch before recording');

    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    await group.waitFor();
    assert.equal(await group.getByRole('button', { name: 'Grid' }).getAttribute('aria-pressed'), 'true');
    assert.equal(await group.getByRole('button', { name: 'Speaker' }).getAttribute('aria-pressed'), 'false');
    await ben.page.getByRole('status', { name: 'Recording', exact: true }).waitFor();
    assert.equal(await ben.page.getByRole('group', { name: 'Recording layout' }).count(), 0, 'only moderators get the switch');

    await group.getByRole('button', { name: 'Speaker' }).click();
    await waitUntil('the Speaker layout pressed', async () => group.getByRole('button', { name: 'Speaker' }).getAttribute('aria-pressed'), (v) => v === 'true');
    assert.equal(await group.getByRole('button', { name: 'Grid' }).getAttribute('aria-pressed'), 'false');
    assert.ok(suite.server.output().includes('"msg":"recording layout switched"'), 'signal heard back from the recorder');
    // one camera is on the stage, the other in the strip: the bridge sends the strip's camera a lower layer
    const strip = await waitUntil(
      'a lower layer for the camera in the strip',
      async () => recorderLayers().filter((c) => c.tile === '256x144'),
      (cs) => cs.some((c) => c.layersKbps.length > 1 && c.layer < c.layersKbps.length - 1),
      60_000,
    );
    assert.ok(strip.length > 0, JSON.stringify(recorderLayers()));

    await ana.page.getByRole('button', { name: 'Stop recording' }).click();
    await group.waitFor({ state: 'detached' });
    await ben.context.close();
    await ana.context.close();
  });
});
