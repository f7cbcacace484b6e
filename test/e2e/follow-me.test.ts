// Follow me with real browsers: Ana (the moderator, first in) ticks "Everyone follows me"; Ben and Caro (Spanish)
// see her view and her pinned tile on their pages, and are told whom they follow; it ends when Ana leaves. A leader
// whose page just went (no leave) is still followed, and named, until the grace for her return ends.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

describe('follow me', () => {
  const suite = useServerAndBrowser();
  let ana: Participant, ben: Participant, caro: Participant;

  test("a moderator's view and pinned tile are everyone's while they lead", async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    caro = await newParticipant(suite.browser, 'Caro', 'es-ES');
    await joinThroughUi(ana, suite.server.baseUrl, 'sigueme', { muteMic: true, stopCamera: true });
    await joinThroughUi(ben, suite.server.baseUrl, 'sigueme', { muteMic: true, stopCamera: true });
    await joinThroughUi(caro, suite.server.baseUrl, 'sigueme', { muteMic: true, stopCamera: true, lang: 'es' });
    assert.equal(await ben.page.getByRole('button', { name: 'Moderator tools' }).count(), 0, 'only moderators have the switch');

    await ana.page.getByRole('button', { name: 'Moderator tools', exact: true }).click();
    // ticked once the server says she leads (a controlled checkbox)
    await ana.page.getByRole('checkbox', { name: 'Everyone follows me' }).click();
    await waitUntil('ticked', () => ana.page.getByRole('checkbox', { name: 'Everyone follows me' }).isChecked(), (c) => c, 10_000);
    await ana.page.getByRole('status').filter({ hasText: 'Everyone follows you' }).waitFor();
    await ben.page.getByRole('status').filter({ hasText: 'Following Ana' }).waitFor();
    await caro.page.getByRole('status').filter({ hasText: 'Siguiendo a Ana' }).waitFor();
    await ana.page.getByRole('button', { name: 'Close moderator tools' }).click();

    // speaker view: the followers' toggles now offer tile view
    await ana.page.getByRole('button', { name: 'Speaker view' }).click();
    await ben.page.getByRole('button', { name: 'Tile view' }).waitFor();
    await caro.page.getByRole('button', { name: 'Vista en mosaico' }).waitFor();

    // Ana pins Ben: Ben's tile is pinned on every page (his own too)
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).getByRole('button', { name: 'Pin' }).click();
    await ben.page.getByRole('group', { name: 'Ben (you)', exact: true }).getByRole('button', { name: 'Unpin' }).waitFor();
    await caro.page.getByRole('group', { name: 'Ben', exact: true }).getByRole('button', { name: 'Dejar de fijar' }).waitFor();

    // back to tile view (unpinned)
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).getByRole('button', { name: 'Unpin' }).click();
    await ana.page.getByRole('button', { name: 'Tile view' }).click();
    await ben.page.getByRole('button', { name: 'Speaker view' }).waitFor();
    await caro.page.getByRole('button', { name: 'Vista de orador' }).waitFor();
    assert.equal(await ben.page.getByRole('button', { name: 'Unpin' }).count(), 0);

    // a follower may still choose; the leader's next change applies again
    await ben.page.getByRole('button', { name: 'Speaker view' }).click();
    await ben.page.getByRole('button', { name: 'Tile view' }).waitFor();
    await ana.page.getByRole('button', { name: 'Speaker view' }).click();
    await ana.page.getByRole('button', { name: 'Tile view' }).click();
    await ben.page.getByRole('button', { name: 'Speaker view' }).waitFor();
  });

  test('it ends when the leader leaves', async () => {
    await ana.page.getByRole('button', { name: 'Leave' }).click();
    await waitUntil('Ben no longer follows', () => ben.page.getByRole('status').filter({ hasText: 'Following Ana' }).count(), (n) => n === 0, 15_000);
    await waitUntil('Caro no longer follows', () => caro.page.getByRole('status').filter({ hasText: 'Siguiendo a Ana' }).count(), (n) => n === 0, 15_000);
    for (const p of [ana, ben, caro]) await p.context.close();
    assert.ok(suite.server.alive());
  });

  test("a leader whose connection dropped is still followed, by name, for the grace; then it ends", { timeout: 120_000 }, async () => {
    const dani = await newParticipant(suite.browser, 'Dani');
    const eva = await newParticipant(suite.browser, 'Eva');
    await joinThroughUi(dani, suite.server.baseUrl, 'sigueme-dos', { muteMic: true, stopCamera: true });
    await joinThroughUi(eva, suite.server.baseUrl, 'sigueme-dos', { muteMic: true, stopCamera: true });
    await dani.page.getByRole('button', { name: 'Moderator tools', exact: true }).click();
    await dani.page.getByRole('checkbox', { name: 'Everyone follows me' }).click();
    const following = eva.page.getByRole('status').filter({ hasText: 'Following Dani' });
    await following.waitFor({ timeout: 10_000 });
    // her page goes without a word (its renderer crashes: no unload, no leave), so follow me waits for her
    const cdp = await dani.context.newCDPSession(dani.page);
    void cdp.send('Page.crash').catch(() => {});
    await waitUntil("Dani's tile gone at Eva's", () => eva.page.getByRole('group', { name: 'Dani', exact: true }).count(), (n) => n === 0, 30_000);
    assert.equal(await following.count(), 1, 'Eva is still told whom she follows');
    // the grace (30 s) ends without her: follow me ends
    await waitUntil('Eva no longer follows', () => following.count(), (n) => n === 0, 60_000);
    for (const p of [dani, eva]) await p.context.close();
  });
});
