// End to end: chat in the meeting — room and private messages, the unread badge, clickable links, HTML shown as
// text, history for a late joiner and after a reload.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

describe('chat', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;
  const benName = 'Ben <img src=x onerror="window.__pwned=1">';
  const room = 'Charla';
  const message = 'See https://example.org/doc?id=7. <script>window.__pwned = 1</script> <b>bold?</b>';

  const log = (p: Participant) => p.page.getByRole('log', { name: 'Chat' });

  test('a room message reaches everyone, with an unread badge, a clickable link and HTML as text', async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, benName);
    await joinThroughUi(ana, suite.server.baseUrl, room);
    await joinThroughUi(ben, suite.server.baseUrl, room);
    await ana.page.getByRole('group', { name: benName, exact: true }).waitFor({ timeout: 10_000 });

    await ana.page.getByRole('button', { name: 'Open chat' }).click();
    await ana.page.getByRole('textbox', { name: 'Type a message' }).fill(message);
    await ana.page.getByRole('button', { name: 'Send' }).click();
    await log(ana).getByText('bold?', { exact: false }).waitFor({ timeout: 5000 });
    assert.equal(await ana.page.getByRole('textbox', { name: 'Type a message' }).inputValue(), '', 'the box is emptied');

    // Ben has the chat closed: a badge counts the message
    await ben.page.getByRole('status', { name: '1 unread message' }).waitFor({ timeout: 5000 });
    await ben.page.getByRole('button', { name: 'Open chat' }).click();
    await ben.page.getByRole('status', { name: '1 unread message' }).waitFor({ state: 'detached', timeout: 5000 });
    const item = log(ben).getByRole('listitem').filter({ hasText: 'Ana' });
    await item.waitFor({ timeout: 5000 });
    const text = await item.innerText();
    assert.ok(text.includes('<script>window.__pwned = 1</script>'), `the script tag shows as text: ${text}`);
    assert.ok(text.includes('<b>bold?</b>'), 'HTML shows as text');
    const link = item.getByRole('link', { name: 'https://example.org/doc?id=7' });
    assert.equal(await link.getAttribute('href'), 'https://example.org/doc?id=7');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.match((await link.getAttribute('rel')) ?? '', /noopener/);
    assert.equal(await item.locator('script, b').count(), 0, 'no element was made from the message');

    // Ben's own name (with markup) shows as text to Ana, and nothing ran anywhere
    await ana.page.getByRole('group', { name: benName, exact: true }).getByText(benName, { exact: true }).waitFor();
    for (const p of [ana, ben]) {
      assert.equal(await p.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
      assert.equal(await p.page.locator('.tile img, .chat-list img').count(), 0);
    }
  });

  test('a private message reaches only its recipient', async () => {
    await ben.page.getByLabel('Send to').selectOption({ label: 'Ana' });
    await ben.page.getByRole('textbox', { name: 'Type a message' }).fill('just between us');
    await ben.page.getByRole('button', { name: 'Send' }).click();
    await log(ben).getByText('Private message to Ana').waitFor({ timeout: 5000 });
    // Ana's chat is open: she sees it at once, marked private
    const item = log(ana).getByRole('listitem').filter({ hasText: 'just between us' });
    await item.waitFor({ timeout: 5000 });
    await item.getByText(`Private message from ${benName}`).waitFor();
  });

  test('a late joiner sees the room messages so far, never the private ones', async () => {
    const caro = await newParticipant(suite.browser, 'Caro');
    await joinThroughUi(caro, suite.server.baseUrl, room);
    await caro.page.getByRole('button', { name: 'Open chat' }).click();
    await log(caro).getByRole('link', { name: 'https://example.org/doc?id=7' }).waitFor({ timeout: 5000 });
    assert.equal(await log(caro).getByText('just between us').count(), 0);
    // and Caro can write too; the chat closes with "Close chat"
    await caro.page.getByRole('textbox', { name: 'Type a message' }).fill('hola a todos');
    await caro.page.keyboard.press('Enter');
    await log(ana).getByText('hola a todos').waitFor({ timeout: 5000 });
    await log(ben).getByText('hola a todos').waitFor({ timeout: 5000 });
    await caro.page.getByRole('button', { name: 'Close chat' }).click();
    await caro.page.getByRole('log', { name: 'Chat' }).waitFor({ state: 'detached' });
    await caro.context.close();
  });

  test('after a page reload the room history is there again', async () => {
    await ben.page.reload();
    await ben.page.getByRole('button', { name: 'Join meeting' }).click();
    await ben.page.getByRole('group', { name: `${benName} (you)` }).waitFor({ timeout: 20_000 });
    await ben.page.getByRole('button', { name: 'Open chat' }).click();
    await log(ben).getByText('hola a todos').waitFor({ timeout: 5000 });
    await log(ben).getByRole('link', { name: 'https://example.org/doc?id=7' }).waitFor();
    assert.ok(suite.server.alive());
  });
});
