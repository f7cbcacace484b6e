// Joining with the camera off, the microphone muted, or no camera at all still gives a working meeting; a name of
// invisible characters only cannot join.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, remoteStats, waitUntil } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

describe('joining without camera or microphone', () => {
  const suite = useServerAndBrowser();

  test('camera off, microphone muted, and no camera at all', async () => {
    const eva = await newParticipant(suite.browser, 'Eva Luna');
    await joinThroughUi(eva, suite.server.baseUrl, 'Options', { stopCamera: true, muteMic: true });
    // Eva's own toolbar reflects what she chose on the pre-join screen.
    await eva.page.getByRole('toolbar').getByRole('button', { name: 'Start camera' }).waitFor();
    await eva.page.getByRole('toolbar').getByRole('button', { name: 'Unmute microphone' }).waitFor();

    // Fer's browser has no camera: every video capture request fails the way Chromium's does.
    const fer = await newParticipant(suite.browser, 'Fer');
    await fer.context.addInitScript(() => {
      const md = navigator.mediaDevices;
      const original = md.getUserMedia.bind(md);
      md.getUserMedia = async (c?: MediaStreamConstraints) => {
        if (c?.video) throw new DOMException('Requested device not found', 'NotFoundError');
        return await original(c);
      };
      const enumerate = md.enumerateDevices.bind(md);
      md.enumerateDevices = async () => (await enumerate()).filter((d) => d.kind !== 'videoinput');
    });
    await joinThroughUi(fer, suite.server.baseUrl, 'options');

    // Each sees the other's tile, with initials instead of video.
    const evaTile = fer.page.getByRole('group', { name: 'Eva Luna', exact: true });
    await evaTile.waitFor({ timeout: 10_000 });
    await evaTile.getByText('EL', { exact: true }).waitFor({ timeout: 5000 });
    const ferTile = eva.page.getByRole('group', { name: 'Fer', exact: true });
    await ferTile.waitFor({ timeout: 10_000 });
    await ferTile.getByText('F', { exact: true }).waitFor({ timeout: 5000 });

    // Fer's microphone works: Eva hears him.
    const s = await waitUntil('Eva to receive Fer\'s audio', () => remoteStats(eva.page), (v) => (v.Fer?.audioPackets ?? 0) > 20, 30_000);
    assert.ok(s.Fer!.audioPackets > 20);

    // Eva turns her camera on during the meeting: Fer starts decoding her video.
    await eva.page.getByRole('toolbar').getByRole('button', { name: 'Start camera' }).click();
    const v = await waitUntil('Fer to decode Eva\'s video', () => remoteStats(fer.page), (x) => (x['Eva Luna']?.framesDecoded ?? 0) > 5, 30_000);
    assert.ok(v['Eva Luna']!.framesDecoded > 5);
    await evaTile.locator('video').waitFor({ timeout: 5000 });
    assert.ok(suite.server.alive());
  });

  test('a name of invisible characters only (a zero-width space, a soft hyphen) cannot join; one letter more can', async () => {
    const p = await newParticipant(suite.browser, 'Nadie');
    await p.page.goto(`${suite.server.baseUrl}/Invisible`);
    const name = p.page.getByRole('textbox', { name: 'Your name' });
    const join = p.page.getByRole('button', { name: 'Join meeting' });
    for (const invisible of ['\u200B', '\u00AD', '\u202E\u200B']) {
      await name.fill(invisible);
      assert.equal(await join.isDisabled(), true, JSON.stringify(invisible));
    }
    await name.fill('\u200BZoe\u202E');
    await join.click();
    await p.page.getByRole('group', { name: 'Zoe (you)' }).waitFor({ timeout: 20_000 });
    await p.context.close();
  });
});
