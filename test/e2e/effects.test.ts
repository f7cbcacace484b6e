// Noise suppression and background blur, end to end with headless Chromium under the server's real Content
// Security Policy. Ana's fake microphone plays pink noise (ffmpeg): with "Noise suppression" on, the audio energy
// Ben hears from her falls to a fraction. Ana's fake camera has sharp edges: with "Blur my background" on (the fake
// picture holds no person, so all of it is background), the picture Ben decodes loses most of its detail. Both
// settings survive Ana's page reload.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

/** Ben's audio energy from Ana per second, over `seconds` (totalAudioEnergy of what his page played). */
async function energyPerSecond(ben: Page, seconds: number): Promise<number> {
  const a = (await remoteStats(ben)).Ana?.audioEnergy ?? 0;
  await sleep(seconds * 1000);
  const b = (await remoteStats(ben)).Ana?.audioEnergy ?? 0;
  return (b - a) / seconds;
}

/** How much detail Ben's picture of Ana has: mean absolute Laplacian of its luminance at 320x180. */
async function sharpness(ben: Page): Promise<number> {
  return await ben.getByRole('group', { name: 'Ana', exact: true }).locator('video').evaluate((v: HTMLVideoElement) => {
    const w = 320;
    const h = 180;
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const ctx = c.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(v, 0, 0, w, h);
    const d = ctx.getImageData(0, 0, w, h).data;
    const y = (x: number, yy: number) => {
      const i = (yy * w + x) * 4;
      return 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
    };
    let sum = 0;
    for (let yy = 1; yy < h - 1; yy++) for (let x = 1; x < w - 1; x++) sum += Math.abs(4 * y(x, yy) - y(x - 1, yy) - y(x + 1, yy) - y(x, yy - 1) - y(x, yy + 1));
    return sum / ((w - 2) * (h - 2));
  });
}

/** The median of a few readings a second apart (the fake camera's picture moves). */
async function medianSharpness(ben: Page): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < 5; i++) {
    values.push(await sharpness(ben));
    await sleep(600);
  }
  return values.sort((a, b) => a - b)[2]!;
}

async function setEffect(p: Participant, name: 'Noise suppression' | 'Blur my background', on: boolean): Promise<void> {
  await p.page.getByRole('button', { name: 'Settings' }).click();
  const dialog = p.page.getByRole('dialog', { name: 'Settings' });
  const box = dialog.getByRole('checkbox', { name: new RegExp(`^${name}`) });
  if ((await box.isChecked()) !== on) await box.click();
  assert.equal(await box.isChecked(), on);
  // it started (no "could not start" alert)
  await sleep(500);
  assert.equal(await dialog.getByRole('alert').count(), 0, `${name} could not start`);
  await dialog.getByRole('button', { name: 'Close' }).click();
}

describe('noise suppression and background blur', () => {
  const env = useServerAndBrowser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-effects-'));
  let noisy: Browser;
  let ana: Participant;
  let ben: Participant;

  before(async () => {
    const wav = path.join(dir, 'noise.wav');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'anoisesrc=color=pink:amplitude=0.4:sample_rate=48000:duration=30', '-ac', '1', '-y', wav]);
    noisy = await launchBrowser(undefined, [`--use-file-for-fake-audio-capture=${wav}`]);
    ana = await newParticipant(noisy, 'Ana');
    ben = await newParticipant(env.browser, 'Ben');
    await joinThroughUi(ana, env.server.baseUrl, 'Efectos');
    await joinThroughUi(ben, env.server.baseUrl, 'Efectos', { muteMic: true });
    await waitUntil('Ben to hear and see Ana', () => remoteStats(ben.page), (s) => (s.Ana?.audioPackets ?? 0) > 100 && (s.Ana?.framesDecoded ?? 0) > 30, 30_000);
  });

  after(async () => {
    await noisy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("noise suppression takes most of the noise out of what others hear", { timeout: 90_000 }, async () => {
    const before = await energyPerSecond(ben.page, 3);
    assert.ok(before > 0, 'Ben hears Ana\'s noise before');
    await setEffect(ana, 'Noise suppression', true);
    await sleep(2000);
    const withNs = await energyPerSecond(ben.page, 3);
    assert.ok(withNs < before * 0.3, `energy per second ${before} without, ${withNs} with noise suppression`);
    // Ben still receives Ana's audio stream (suppressed, not cut)
    const packets = (await remoteStats(ben.page)).Ana!.audioPackets;
    await sleep(1000);
    assert.ok((await remoteStats(ben.page)).Ana!.audioPackets > packets);
    await setEffect(ana, 'Noise suppression', false);
    await sleep(2000);
    const after = await energyPerSecond(ben.page, 3);
    assert.ok(after > withNs * 3, `back to ${after} after turning it off (${withNs} with it)`);
  });

  test('background blur takes the detail out of the picture others see; both settings survive a reload', { timeout: 180_000 }, async () => {
    const sharp = await medianSharpness(ben.page);
    await setEffect(ana, 'Blur my background', true);
    const blurred = await waitUntil('Ben to see Ana blurred', () => medianSharpness(ben.page), (s) => s < sharp * 0.5, 60_000);
    assert.ok(blurred < sharp * 0.5, `sharpness ${sharp} before, ${blurred} blurred`);
    // Ana's page reloads: the setting is remembered and applied again
    await ana.page.reload();
    await joinThroughUi(ana, env.server.baseUrl, 'Efectos');
    await waitUntil('Ben to see Ana again, blurred', () => medianSharpness(ben.page).catch(() => Infinity), (s) => s < sharp * 0.5, 90_000);
    await ana.page.getByRole('button', { name: 'Settings' }).click();
    const dialog = ana.page.getByRole('dialog', { name: 'Settings' });
    assert.equal(await dialog.getByRole('checkbox', { name: /^Blur my background/ }).isChecked(), true);
    assert.equal(await dialog.getByRole('checkbox', { name: /^Noise suppression/ }).isChecked(), false);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await setEffect(ana, 'Blur my background', false);
    await waitUntil('Ben to see Ana sharp again', () => medianSharpness(ben.page), (s) => s > sharp * 0.7, 60_000);
  });
});
