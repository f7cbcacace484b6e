// Dominant speaker: the bridge judges who speaks from RFC 6464 audio levels and signal tells the room; the
// speaker view puts that person on the stage. Talkers use a fake microphone that plays a tone 0.7 s of every
// second (speech-like: loud blocks above a silent floor; Chromium's default fake microphone only beeps 20 ms
// twice a second, which never counts as speech). Ana and Ben talk, Caro (default fake microphone) watches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator } from 'playwright-core';
import { CHROMIUM_ARGS, joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

async function width(l: Locator): Promise<number> {
  return (await l.boundingBox())?.width ?? 0;
}

describe('dominant speaker on the stage of the speaker view', () => {
  const suite = useServerAndBrowser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-talk-'));
  let talkers: Browser | undefined;
  let ana: Participant, ben: Participant, caro: Participant;

  before(async () => {
    const wav = path.join(dir, 'talk.wav');
    execFileSync('ffmpeg', [
      '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=320:sample_rate=48000:duration=20',
      '-af', "volume='if(lt(mod(t,1),0.7),1,0)':eval=frame", '-ac', '1', '-y', wav,
    ]);
    talkers = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [...CHROMIUM_ARGS, `--use-file-for-fake-audio-capture=${wav}`],
    });
  });
  after(async () => {
    await talkers?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the one who talks takes the stage, and the next one when the first stops', async () => {
    ana = await newParticipant(talkers!, 'Ana');
    ben = await newParticipant(talkers!, 'Ben');
    caro = await newParticipant(suite.browser, 'Caro');
    await joinThroughUi(ana, suite.server.baseUrl, 'quien-habla', { muteMic: true });
    await joinThroughUi(ben, suite.server.baseUrl, 'quien-habla');
    await joinThroughUi(caro, suite.server.baseUrl, 'quien-habla', { muteMic: true });
    await caro.page.getByRole('button', { name: 'Speaker view' }).click();
    const anaTile = caro.page.getByRole('group', { name: 'Ana', exact: true });
    const benTile = caro.page.getByRole('group', { name: 'Ben', exact: true });
    await anaTile.waitFor({ timeout: 10_000 });
    await benTile.waitFor({ timeout: 10_000 });
    // without a dominant speaker the stage would be Ana (the first to join); Ben talks
    await waitUntil('Ben on the stage', async () => [await width(benTile), await width(anaTile)], ([b, a]) => b > a * 2, 30_000);

    await ben.page.getByRole('button', { name: 'Mute microphone' }).click();
    await ana.page.getByRole('button', { name: 'Unmute microphone' }).click();
    await waitUntil('Ana on the stage', async () => [await width(anaTile), await width(benTile)], ([a, b]) => a > b * 2, 30_000);
    assert.ok(suite.server.alive());
  });
});
