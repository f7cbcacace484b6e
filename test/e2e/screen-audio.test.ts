// A screen shared with its sound (Chrome's "Share tab audio"): Ana's microphone is silent (a file of silence); her
// shared tab plays a tone (the picker's audio stands in as a WebAudio oscillator: headless Chromium's fake picker
// would play the microphone's own file). Ben hears Ana only while she shares, mixed into her microphone's audio;
// muted, Ana is told the others do not hear it; after the share her audio is silent again. Her silent microphone is
// said to be silent. A presenter without any microphone (Dora) is told to unmute for the tab's sound to go; unmuted,
// it goes alone (everyone sees her unmuted), and when the share ends she is muted again.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

/** Ana's audio energy as Ben's page has received it so far. */
async function energy(ben: Participant): Promise<number> {
  return (await remoteStats(ben.page)).Ana?.audioEnergy ?? 0;
}

/** How much Ana's audio energy at Ben grows in `ms`. */
async function growth(ben: Participant, ms: number): Promise<number> {
  const before = await energy(ben);
  await ben.page.waitForTimeout(ms);
  return (await energy(ben)) - before;
}

/** The picker's sound for `p`: a 440 Hz tone from WebAudio, beside the fake screen. */
async function shareWithTone(p: Participant): Promise<void> {
  await p.page.addInitScript(() => {
    const md = navigator.mediaDevices;
    const real = md.getDisplayMedia.bind(md);
    md.getDisplayMedia = async (constraints?: DisplayMediaStreamOptions) => {
      const screen = await real({ video: constraints?.video ?? true, audio: false });
      if (!constraints?.audio) return screen;
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      const dest = ctx.createMediaStreamDestination();
      osc.connect(dest);
      osc.start();
      await ctx.resume();
      return new MediaStream([...screen.getVideoTracks(), ...dest.stream.getAudioTracks()]);
    };
  });
}

describe('a screen shared with its sound', () => {
  const suite = useServerAndBrowser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-screen-audio-'));
  let silent: Browser;
  let ana: Participant, ben: Participant;
  before(async () => {
    const wav = path.join(dir, 'silence.wav');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=mono', '-t', '20', '-y', wav]);
    silent = await launchBrowser(undefined, [`--use-file-for-fake-audio-capture=${wav}`]);
  });
  after(async () => {
    await silent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the shared tab's sound is heard with the microphone, not while muted, and not after the share", async () => {
    ana = await newParticipant(silent, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    const caro = await newParticipant(suite.browser, 'Caro');
    await shareWithTone(ana);
    await joinThroughUi(ana, suite.server.baseUrl, 'con-sonido', { stopCamera: true });
    await joinThroughUi(ben, suite.server.baseUrl, 'con-sonido', { muteMic: true, stopCamera: true });
    await joinThroughUi(caro, suite.server.baseUrl, 'con-sonido', { muteMic: true, stopCamera: true });
    await waitUntil("Ben receives Ana's audio", () => remoteStats(ben.page), (s) => (s.Ana?.audioPackets ?? 0) > 50, 30_000);
    assert.ok((await growth(ben, 1500)) < 0.01, 'silence before the share');
    // a microphone that gives only zeros is said to be silent, with the way to another one
    const silentNotice = ana.page.getByRole('status').filter({ hasText: 'No sound comes from your microphone.' });
    await silentNotice.waitFor({ timeout: 15_000 });
    await silentNotice.getByRole('button', { name: 'Settings' }).click();
    await ana.page.getByRole('dialog', { name: 'Settings' }).waitFor();
    await ana.page.keyboard.press('Escape');
    await silentNotice.getByRole('button', { name: 'Dismiss' }).click();
    await silentNotice.waitFor({ state: 'detached' });
    assert.equal(await ben.page.getByRole('status').filter({ hasText: 'No sound comes from your microphone.' }).count(), 0);

    await ana.page.getByRole('button', { name: 'Share screen' }).click();
    await ben.page.getByRole('group', { name: "Ana's screen" }).waitFor({ timeout: 20_000 });
    await waitUntil("Ben hears Ana's shared tab", () => growth(ben, 1000), (g) => g > 0.05, 20_000);

    // muted: nothing of it goes, and Ana is told
    await ana.page.getByRole('button', { name: 'Mute microphone' }).click();
    await ana.page.getByRole('status').filter({ hasText: 'Your microphone is muted: the others do not hear the shared audio' }).waitFor();
    await waitUntil('nothing while muted', () => growth(ben, 1000), (g) => g < 0.001, 15_000);
    await ana.page.getByRole('button', { name: 'Unmute microphone' }).click();
    await waitUntil('heard again', () => growth(ben, 1000), (g) => g > 0.05, 20_000);

    // the share ends: her microphone alone again (silence)
    await ana.page.getByRole('button', { name: 'Stop sharing' }).click();
    await waitUntil('silence after the share', () => growth(ben, 1000), (g) => g < 0.01, 20_000);
    assert.equal(await ana.page.getByRole('status').filter({ hasText: 'the others do not hear the shared audio' }).count(), 0);
    for (const p of [ana, ben, caro]) await p.context.close();
    assert.ok(suite.server.alive());
  });

  test("no microphone at all: unmuting sends the shared tab's sound alone; when the share ends she is muted again", async () => {
    const dora = await newParticipant(suite.browser, 'Dora');
    const eli = await newParticipant(suite.browser, 'Eli');
    // a machine without any microphone: every request for one finds none
    await dora.page.addInitScript(() => {
      const md = navigator.mediaDevices;
      const real = md.getUserMedia.bind(md);
      md.getUserMedia = async (c?: MediaStreamConstraints) => {
        if (c?.audio) throw new DOMException('Requested device not found', 'NotFoundError');
        return real(c);
      };
    });
    await shareWithTone(dora);
    await joinThroughUi(dora, suite.server.baseUrl, 'sin-micro', { stopCamera: true });
    await joinThroughUi(eli, suite.server.baseUrl, 'sin-micro', { muteMic: true, stopCamera: true });
    await dora.page.getByRole('button', { name: 'Share screen' }).click();
    await eli.page.getByRole('group', { name: "Dora's screen" }).waitFor({ timeout: 20_000 });
    await dora.page.getByRole('status').filter({ hasText: 'You have no microphone: unmute to let the others hear the shared audio' }).waitFor();
    const doraEnergy = async () => (await remoteStats(eli.page)).Dora?.audioEnergy ?? 0;
    assert.equal(await doraEnergy(), 0, 'nothing heard while muted');

    await dora.page.getByRole('button', { name: 'Unmute microphone' }).click();
    await dora.page.getByRole('button', { name: 'Mute microphone' }).waitFor();
    await waitUntil("Eli hears Dora's shared tab", async () => {
      const before = await doraEnergy();
      await eli.page.waitForTimeout(1000);
      return (await doraEnergy()) - before;
    }, (g) => g > 0.05, 20_000);
    assert.equal(await dora.page.getByRole('status').filter({ hasText: 'You have no microphone' }).count(), 0, 'the notice went');
    // everyone sees her unmuted: the tile's muted mark is gone at Eli's
    await waitUntil("Eli sees Dora unmuted", () => eli.page.getByRole('group', { name: 'Dora', exact: true }).getByRole('img', { name: 'Microphone muted' }).count(), (n) => n === 0, 15_000);

    await dora.page.getByRole('button', { name: 'Stop sharing' }).click();
    await dora.page.getByRole('button', { name: 'Unmute microphone' }).waitFor({ timeout: 15_000 });
    await waitUntil('Eli sees Dora muted again', () => eli.page.getByRole('group', { name: 'Dora', exact: true }).getByRole('img', { name: 'Microphone muted' }).count(), (n) => n === 1, 15_000);
    for (const p of [dora, eli]) await p.context.close();
    assert.ok(suite.server.alive());
  });
});
