// End to end: raised hands (tile, participants pane, order by time raised), reactions, the participants pane
// (names, muted, hands), renaming during the meeting, and notices of joins, leaves, hands.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

describe('hands, reactions, participants pane, names and notices', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;
  let caro: Participant;

  const pane = (p: Participant) => p.page.getByRole('complementary', { name: 'Participants' });
  // the people list of the pane (its breakout rooms section has a list of its own)
  const paneNames = async (p: Participant) =>
    (await pane(p).getByRole('list', { name: 'Participants', exact: true }).getByRole('listitem').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? '')));

  test('joins are announced; the pane lists everyone with who is muted', async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    caro = await newParticipant(suite.browser, 'Caro');
    await joinThroughUi(ana, suite.server.baseUrl, 'Manos');
    await joinThroughUi(ben, suite.server.baseUrl, 'Manos', { muteMic: true });
    await ana.page.getByRole('status').filter({ hasText: 'Ben joined' }).waitFor({ timeout: 10_000 });
    await joinThroughUi(caro, suite.server.baseUrl, 'Manos');
    await ana.page.getByRole('status').filter({ hasText: 'Caro joined' }).waitFor({ timeout: 10_000 });

    await ana.page.getByRole('button', { name: 'Participants' }).click();
    await pane(ana).getByRole('listitem', { name: 'Caro' }).waitFor({ timeout: 5000 });
    assert.deepEqual(await paneNames(ana), ['Ana (you)', 'Ben', 'Caro']);
    await pane(ana).getByRole('listitem', { name: 'Ben' }).getByRole('img', { name: 'Microphone muted' }).waitFor();
    assert.equal(await pane(ana).getByRole('listitem', { name: 'Caro' }).getByRole('img', { name: 'Microphone muted' }).count(), 0);
    // the first in an open room is its moderator
    await pane(ana).getByRole('listitem', { name: 'Ana (you)' }).getByText('Moderator', { exact: true }).waitFor({ timeout: 5000 });
    assert.equal(await pane(ana).getByRole('listitem', { name: 'Ben' }).getByText('Moderator', { exact: true }).count(), 0);
  });

  test('raised hands show on the tile and in the pane, in the order raised, for everyone', async () => {
    await caro.page.getByRole('button', { name: 'Raise hand' }).click();
    await caro.page.getByRole('button', { name: 'Lower hand' }).waitFor({ timeout: 5000 });
    await ana.page.getByRole('status').filter({ hasText: 'Caro raised their hand' }).waitFor({ timeout: 5000 });
    await ben.page.keyboard.press('r'); // the Jitsi shortcut
    await ben.page.getByRole('button', { name: 'Lower hand' }).waitFor({ timeout: 5000 });

    await pane(ana).getByRole('listitem', { name: 'Ben' }).getByRole('img', { name: 'Hand raised' }).waitFor({ timeout: 5000 });
    assert.deepEqual(await paneNames(ana), ['Caro', 'Ben', 'Ana (you)'], 'raised hands first, earliest first');
    for (const p of [ana, ben]) {
      await p.page.getByRole('group', { name: 'Caro', exact: true }).getByRole('img', { name: 'Hand raised' }).waitFor({ timeout: 5000 });
    }
    await caro.page.getByRole('group', { name: 'Caro (you)' }).getByRole('img', { name: 'Hand raised' }).waitFor();

    await caro.page.getByRole('button', { name: 'Lower hand' }).click();
    await ana.page.getByRole('group', { name: 'Caro', exact: true }).getByRole('img', { name: 'Hand raised' }).waitFor({ state: 'detached', timeout: 5000 });
    await pane(ana).getByRole('listitem', { name: 'Caro' }).getByRole('img', { name: 'Hand raised' }).waitFor({ state: 'detached', timeout: 5000 });
    assert.deepEqual(await paneNames(ana), ['Ben', 'Ana (you)', 'Caro']);
  });

  test('a reload is a leave and a join (announced), and comes back with the hand down', async () => {
    // the notice of Ben's first join may still be on screen: let it go, so the one checked below is new
    await ana.page.getByRole('status').filter({ hasText: 'Ben joined' }).first().waitFor({ state: 'detached', timeout: 15_000 });
    await ben.page.reload();
    await ana.page.getByRole('status').filter({ hasText: 'Ben left' }).waitFor({ timeout: 15_000 });
    await ben.page.getByRole('button', { name: 'Join meeting' }).click();
    await ben.page.getByRole('group', { name: 'Ben (you)' }).waitFor({ timeout: 20_000 });
    await ana.page.getByRole('status').filter({ hasText: 'Ben joined' }).waitFor({ timeout: 10_000 });
    await ben.page.getByRole('button', { name: 'Raise hand' }).waitFor();
  });

  test('reactions are shown briefly to everyone', async () => {
    const names = ['Thumbs up', 'Clap', 'Laugh', 'Surprised'];
    for (const reaction of names) {
      await ana.page.getByRole('button', { name: 'Reactions' }).click();
      await ana.page.getByRole('group', { name: 'Reactions' }).getByRole('button', { name: reaction }).click();
      for (const p of [ana, ben, caro]) {
        await p.page.getByRole('status').filter({ hasText: `Ana: ${reaction}` }).first().waitFor({ timeout: 5000 });
      }
    }
    // and they go away on their own
    await caro.page.getByRole('status').filter({ hasText: 'Ana: Thumbs up' }).waitFor({ state: 'detached', timeout: 15_000 });
  });

  test('renaming during the meeting: everyone sees the new name', async () => {
    await caro.page.getByRole('button', { name: 'Settings' }).click();
    const dialog = caro.page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByRole('textbox', { name: 'Display name' }).fill('Carolina <i>');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await caro.page.getByRole('group', { name: 'Carolina <i> (you)' }).waitFor({ timeout: 5000 });
    for (const p of [ana, ben]) await p.page.getByRole('group', { name: 'Carolina <i>', exact: true }).waitFor({ timeout: 5000 });
    await pane(ana).getByRole('listitem', { name: 'Carolina <i>' }).waitFor();
    // the browser remembers it: the join screen after a reload starts from the new name
    await caro.page.reload();
    assert.equal(await caro.page.getByRole('textbox', { name: 'Your name' }).inputValue({ timeout: 20_000 }), 'Carolina <i>');
    await caro.page.getByRole('button', { name: 'Join meeting' }).click();
    await caro.page.getByRole('group', { name: 'Carolina <i> (you)' }).waitFor({ timeout: 20_000 });
    // (the reload's own "left" notice gone before the next test's leave)
    await ana.page.getByRole('status').filter({ hasText: 'Carolina <i> left' }).waitFor({ state: 'detached', timeout: 20_000 });
  });

  test('leaving is announced', async () => {
    await caro.page.getByRole('button', { name: 'Leave meeting' }).click();
    await ana.page.getByRole('status').filter({ hasText: 'Carolina <i> left' }).waitFor({ timeout: 10_000 });
    await pane(ana).getByRole('listitem', { name: 'Carolina <i>' }).waitFor({ state: 'detached' });
    assert.ok(suite.server.alive());
  });
});
