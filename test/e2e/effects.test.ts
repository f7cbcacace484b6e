// Noise suppression, background blur and virtual backgrounds, end to end with headless Chromium under the
// server's real Content Security Policy. Ana's fake microphone plays pink noise (ffmpeg): with "Noise suppression"
// on, the audio energy Ben hears from her falls to a fraction. Ana's fake camera has sharp edges: with "Blur my
// background" on (the fake picture holds no person, so all of it is background), the picture Ben decodes loses most
// of its detail. With the bundled "Sea" picture, or a red picture of her own uploaded from disk, the colour Ben sees
// moves to that picture's. The settings survive Ana's page reload (her own picture too: it is kept in her browser).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
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

/** Opens Ana's settings, runs `act` on the dialog, checks nothing failed to start, and closes it. */
async function inSettings(p: Participant, act: (dialog: Locator) => Promise<void>): Promise<void> {
  await p.page.getByRole('button', { name: 'Settings' }).click();
  const dialog = p.page.getByRole('dialog', { name: 'Settings' });
  await act(dialog);
  // it started (no "could not start" alert)
  await sleep(500);
  assert.equal(await dialog.getByRole('alert').count(), 0, 'an effect could not start');
  await dialog.getByRole('button', { name: 'Close' }).click();
}

async function setNoiseSuppression(p: Participant, on: boolean): Promise<void> {
  await inSettings(p, async (dialog) => {
    const box = dialog.getByRole('checkbox', { name: /^Noise suppression/ });
    if ((await box.isChecked()) !== on) await box.click();
    assert.equal(await box.isChecked(), on);
  });
}

/** Chooses the camera's background by the radio button's name (its hint, when it has one, follows the name). */
async function setBackground(p: Participant, name: string): Promise<void> {
  await inSettings(p, async (dialog) => {
    const radio = dialog.getByRole('group', { name: 'Background' }).getByRole('radio', { name: new RegExp(`^${name}`) });
    await radio.check();
    assert.equal(await radio.isChecked(), true);
  });
}

/** The mean colour (r, g, b) of Ben's picture of Ana: the median of a few readings (the fake camera moves). */
async function meanColor(ben: Page): Promise<[number, number, number]> {
  const readings: [number, number, number][] = [];
  for (let i = 0; i < 3; i++) {
    readings.push(
      await ben.getByRole('group', { name: 'Ana', exact: true }).locator('video').evaluate((v: HTMLVideoElement) => {
        const c = document.createElement('canvas');
        c.width = 160;
        c.height = 90;
        const ctx = c.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(v, 0, 0, 160, 90);
        const d = ctx.getImageData(0, 0, 160, 90).data;
        const sum = [0, 0, 0];
        for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k]! += d[i + k]!;
        const n = d.length / 4;
        return [sum[0]! / n, sum[1]! / n, sum[2]! / n] as [number, number, number];
      }),
    );
    await sleep(400);
  }
  return [0, 1, 2].map((k) => readings.map((r) => r[k]!).sort((a, b) => a - b)[1]!) as [number, number, number];
}

/** The mean colour of a picture file, by ffmpeg (scaled to one pixel by area). */
function fileMeanColor(file: string): [number, number, number] {
  const px = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', file, '-vf', 'scale=1:1:flags=area', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
  return [px[0]!, px[1]!, px[2]!];
}

const distance = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

describe('noise suppression, background blur and virtual backgrounds', () => {
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
    await setNoiseSuppression(ana, true);
    await sleep(2000);
    const withNs = await energyPerSecond(ben.page, 3);
    assert.ok(withNs < before * 0.3, `energy per second ${before} without, ${withNs} with noise suppression`);
    // Ben still receives Ana's audio stream (suppressed, not cut)
    const packets = (await remoteStats(ben.page)).Ana!.audioPackets;
    await sleep(1000);
    assert.ok((await remoteStats(ben.page)).Ana!.audioPackets > packets);
    await setNoiseSuppression(ana, false);
    await sleep(2000);
    const after = await energyPerSecond(ben.page, 3);
    assert.ok(after > withNs * 3, `back to ${after} after turning it off (${withNs} with it)`);
  });

  test('background blur takes the detail out of the picture others see; both settings survive a reload', { timeout: 180_000 }, async () => {
    const sharp = await medianSharpness(ben.page);
    await setBackground(ana, 'Blur my background');
    const blurred = await waitUntil('Ben to see Ana blurred', () => medianSharpness(ben.page), (s) => s < sharp * 0.5, 60_000);
    assert.ok(blurred < sharp * 0.5, `sharpness ${sharp} before, ${blurred} blurred`);
    // Ana's page reloads: the setting is remembered and applied again
    await ana.page.reload();
    await joinThroughUi(ana, env.server.baseUrl, 'Efectos');
    await waitUntil('Ben to see Ana again, blurred', () => medianSharpness(ben.page).catch(() => Infinity), (s) => s < sharp * 0.5, 90_000);
    await ana.page.getByRole('button', { name: 'Settings' }).click();
    const dialog = ana.page.getByRole('dialog', { name: 'Settings' });
    assert.equal(await dialog.getByRole('radio', { name: /^Blur my background/ }).isChecked(), true);
    assert.equal(await dialog.getByRole('checkbox', { name: /^Noise suppression/ }).isChecked(), false);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await setBackground(ana, 'No effect');
    await waitUntil('Ben to see Ana sharp again', () => medianSharpness(ben.page), (s) => s > sharp * 0.7, 60_000);
  });

  test('a virtual background: a bundled picture, then one of her own, puts its colour behind Ana; kept over a reload', { timeout: 240_000 }, async () => {
    const sea = fileMeanColor(path.resolve('src/web/media/effects/backgrounds/sea.jpg'));
    const own = path.join(dir, 'my-red-wall.png');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0xd01818:s=800x600', '-frames:v', '1', '-y', own]);
    const red = fileMeanColor(own);
    const camera = await meanColor(ben.page);
    const seaBefore = distance(camera, sea);
    const redBefore = distance(camera, red);
    // the picture must be told apart from the camera's own colours for the measurement to mean anything
    assert.ok(seaBefore > 60 && redBefore > 60, `the fake camera's colour ${camera} is too close to the pictures' (${sea}, ${red})`);

    await setBackground(ana, 'Sea');
    const withSea = await waitUntil("Ana's background to turn to the sea", () => meanColor(ben.page), (c) => distance(c, sea) < seaBefore * 0.4, 60_000);
    assert.ok(distance(withSea, sea) < seaBefore * 0.4, `colour ${camera} before, ${withSea} with the sea (${sea})`);

    // her own picture: a file from disk (uploaded into her browser only)
    await inSettings(ana, async (dialog) => {
      await dialog.getByLabel('Upload a picture…').setInputFiles(own);
      await dialog.getByRole('radio', { name: 'My own picture', checked: true }).waitFor({ timeout: 10_000 });
    });
    await waitUntil("Ana's background to turn to her red picture", () => meanColor(ben.page), (c) => distance(c, red) < redBefore * 0.4, 60_000);
    // a file that is not a picture is refused with a message, and nothing changes
    const notPicture = path.join(dir, 'notes.png');
    writeFileSync(notPicture, 'these are not pixels');
    await ana.page.getByRole('button', { name: 'Settings' }).click();
    const dialog = ana.page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByLabel('Upload a picture…').setInputFiles(notPicture);
    await dialog.getByRole('alert').getByText('That file is not a picture this browser can read.').waitFor({ timeout: 10_000 });
    assert.equal(await dialog.getByRole('radio', { name: 'My own picture' }).isChecked(), true);
    await dialog.getByRole('button', { name: 'Close' }).click();

    // a reload: her choice and her picture are still there, in Spanish too
    await joinThroughUi(ana, env.server.baseUrl, 'Efectos', { lang: 'es', hash: '?lang=es#config.resolution=180' });
    await waitUntil('Ben to see Ana again, in front of her red picture', () => meanColor(ben.page).catch(() => camera), (c) => distance(c, red) < redBefore * 0.4, 90_000);
    await ana.page.getByRole('button', { name: 'Configuración' }).click();
    const ajustes = ana.page.getByRole('dialog', { name: 'Configuración' });
    assert.equal(await ajustes.getByRole('group', { name: 'Fondo' }).getByRole('radio', { name: 'Mi propia imagen' }).isChecked(), true);
    await ajustes.getByRole('radio', { name: 'Sin efecto' }).check();
    await ajustes.getByRole('button', { name: 'Cerrar' }).click();
    await waitUntil("Ana's own camera again", () => meanColor(ben.page), (c) => distance(c, camera) < seaBefore * 0.3, 60_000);
  });
});
