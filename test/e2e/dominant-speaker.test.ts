// Dominant speaker: the bridge judges who speaks from RFC 6464 audio levels and signal tells the room; the
// speaker view puts that person on the stage. Talkers use a fake microphone that plays a tone 0.7 s of every
// second (speech-like: loud blocks above a silent floor; Chromium's default fake microphone only beeps 20 ms
// twice a second, which never counts as speech). Ana and Ben talk, Caro (default fake microphone) watches, then
// opens the speaker stats.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser, useTalkingBrowser } from '../helpers/e2e.ts';

async function width(l: Locator): Promise<number> {
  return (await l.boundingBox())?.width ?? 0;
}

describe('dominant speaker on the stage of the speaker view', () => {
  const suite = useServerAndBrowser();
  const talkers = useTalkingBrowser();
  let ana: Participant, ben: Participant, caro: Participant;

  test('the one who talks takes the stage, and the next one when the first stops', async () => {
    ana = await newParticipant(talkers.browser, 'Ana');
    ben = await newParticipant(talkers.browser, 'Ben');
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

  test('speaker stats: everyone with their time as speaker, the one speaking counting on, who left still listed', async () => {
    await caro.page.getByRole('button', { name: 'Speaker stats' }).click();
    const dialog = caro.page.getByRole('dialog', { name: 'Speaker stats' });
    // a row is named by its name, its notes and its time
    const row = (name: string) => dialog.getByRole('row', { name: new RegExp(`^${name.replace(/[()]/g, '\\$&')}\\s`) });
    const seconds = async (name: string) => {
      const text = (await row(name).getByRole('cell').textContent()) ?? '';
      const m = /^(?:(\d+)m )?(\d+)s$/.exec(text);
      assert.ok(m, `a time: ${text}`);
      return Number(m[1] ?? 0) * 60 + Number(m[2]);
    };
    await row('Ana').getByText('speaking now').waitFor({ timeout: 10_000 });
    await row('Caro (you)').waitFor();
    assert.equal(await seconds('Caro (you)'), 0, 'Caro never spoke');
    // Ana's time goes on while the dialog is open (and the server is asked again); Ben's, muted, stands still
    const benTime = await seconds('Ben');
    const before = await seconds('Ana');
    await waitUntil("Ana's time counting", () => seconds('Ana'), (s) => s >= before + 4, 20_000);
    assert.equal(await seconds('Ben'), benTime, 'no time while muted');
    assert.equal(await row('Ben').getByText('speaking now').count(), 0);
    // the keyboard stays in the dialog: Tab and Shift+Tab go round its controls, and a change in the room (the page
    // drawn again) does not move the focus
    await dialog.getByRole('button', { name: 'Close' }).focus();
    const focusInDialog = () => caro.page.evaluate(() => !!document.activeElement?.closest('[role="dialog"]') && document.activeElement?.textContent);
    // Ben leaves: still listed, with his time
    await ben.page.getByRole('button', { name: 'Leave meeting' }).click();
    await row('Ben').getByText('left the meeting').waitFor({ timeout: 15_000 });
    assert.equal(await seconds('Ben'), benTime, 'no time once gone');
    assert.equal(await focusInDialog(), 'Close', 'the focus stayed where it was');
    for (const key of ['Tab', 'Tab', 'Shift+Tab', 'Shift+Tab']) {
      await caro.page.keyboard.press(key);
      assert.equal(await focusInDialog(), 'Close', `${key}: still in the dialog`);
    }
    await caro.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await caro.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Speaker stats', 'back on the button that opened it');
  });
});
