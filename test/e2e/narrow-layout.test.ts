// End to end: the layout does not break. "Moderator tools" sits in the meeting header, never over the chat
// panel (its panel replaces the chat: one side panel at a time); on a phone-sized screen (390x844) a 128-character
// room name and 12 participants (two Chromium pages, ten WebSocket participants) leave no horizontal scroll and every
// control reachable, the settings dialog (its background choices) included — measured with element boxes, and the
// same in Spanish. On a phone the toolbar is one row of main buttons and "More actions", a menu holding the others
// with their names (the reactions, inside the screen, at its top), upright (390x844) and on its side (844x390), on a
// touch screen without the keyboard-shortcut list; the invitation's link stays readable.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { joinThroughUi, newParticipant, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { WsClient } from '../helpers/signal-client.ts';

type Box = { x: number; y: number; width: number; height: number };

async function box(l: Locator): Promise<Box> {
  const b = await l.boundingBox();
  assert.ok(b, 'the element is laid out');
  return b;
}

function overlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Inside the viewport, `what` says which element failed. */
function assertOnScreen(b: Box, page: Page, what: string): void {
  const v = page.viewportSize()!;
  assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= v.width + 0.5 && b.y + b.height <= v.height + 0.5, `${what} on screen: ${JSON.stringify(b)} in ${v.width}x${v.height}`);
}

async function noHorizontalScroll(page: Page): Promise<void> {
  const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: window.innerWidth }));
  assert.ok(widths.doc <= widths.view && widths.body <= widths.view, `no horizontal scroll: ${JSON.stringify(widths)}`);
}

/** Every button of `scope` can be scrolled to (inside its own scrolling box) and then lies on screen. */
async function everyButtonReachable(page: Page, scope: Locator, what: string): Promise<number> {
  const buttons = scope.getByRole('button');
  const n = await buttons.count();
  for (let i = 0; i < n; i++) {
    const b = buttons.nth(i);
    await b.scrollIntoViewIfNeeded();
    assertOnScreen(await box(b), page, `${what} button ${i} (${await b.getAttribute('aria-label') ?? await b.textContent()})`);
  }
  return n;
}

/** The phone's toolbar: one row, the main buttons and "More actions" (whose menu is closed). */
async function phoneToolbar(page: Page, l: { controls: string; more: string; mic: string; chat: string; pane: string; hand: string; leave: string }): Promise<Locator> {
  const toolbar = page.getByRole('toolbar', { name: l.controls });
  const names = await toolbar.getByRole('button').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
  for (const name of [l.mic, l.chat, l.pane, l.hand, l.more, l.leave]) assert.ok(names.includes(name), `"${name}" in the bar: ${JSON.stringify(names)}`);
  assert.ok(names.length <= 8, `a few buttons in the bar: ${JSON.stringify(names)}`);
  const boxes = await toolbar.getByRole('button').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
  assert.ok(Math.max(...boxes) - Math.min(...boxes) < 2, `one row: ${JSON.stringify(boxes)}`);
  return toolbar;
}

/** Opens "More actions": a menu, focus on its first item; every item labelled and on screen; returns the items' names. */
async function openMoreActions(page: Page, more: string): Promise<string[]> {
  const button = page.getByRole('button', { name: more });
  await button.click();
  assert.equal(await button.getAttribute('aria-expanded'), 'true');
  const menu = page.getByRole('menu', { name: more });
  await menu.waitFor();
  const items = menu.getByRole('menuitem');
  const n = await items.count();
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const item = items.nth(i);
    await item.scrollIntoViewIfNeeded();
    const b = await box(item);
    assertOnScreen(b, page, `menu item ${i} (${await item.textContent()})`);
    assert.ok(b.height >= 40, `a finger-sized item: ${JSON.stringify(b)}`);
    names.push((await item.getAttribute('aria-label')) ?? (await item.textContent())!.trim());
  }
  assert.ok(await items.first().evaluate((e) => e === document.activeElement), 'the focus is on the first item');
  return names;
}

const REACTIONS = ['Thumbs up', 'Clap', 'Laugh', 'Surprised', 'Love', 'Celebrate'];

const LONG_ROOM = 'Weekly planning of the regional volunteers and their coordinators for the spring festival in the old town square 2026';

describe('layout: moderator tools beside the chat, a phone screen with a long name and 12 participants', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;
  const others: WsClient[] = [];

  before(async () => {
    assert.ok(LONG_ROOM.length > 100 && LONG_ROOM.length <= 128);
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Benedetta Alessandra Maria Giovanna Rossi-Bianchi', 'es-ES');
    await joinThroughUi(ana, suite.server.baseUrl, LONG_ROOM, { stopCamera: true });
    await ben.page.goto(`${suite.server.baseUrl}/${encodeURIComponent(LONG_ROOM)}#config.resolution=180`);
    await ben.page.getByRole('textbox', { name: 'Tu nombre' }).fill(ben.name);
    await ben.page.getByRole('button', { name: 'Detener cámara' }).click();
    await ben.page.getByRole('button', { name: 'Unirse a la reunión' }).click();
    await ben.page.getByRole('group', { name: `${ben.name} (tú)` }).waitFor({ timeout: 20_000 });
  });
  after(() => {
    for (const c of others) c.close();
  });

  test('"Moderator tools" is in the header, clear of the chat panel; its panel takes the chat\'s place', async () => {
    const page = ana.page;
    await page.getByRole('button', { name: 'Open chat' }).click();
    const chat = page.getByRole('complementary', { name: 'Chat' });
    const toggle = page.getByRole('banner').getByRole('button', { name: 'Moderator tools', exact: true });
    const chatBox = await box(chat);
    const toggleBox = await box(toggle);
    assert.ok(!overlap(toggleBox, chatBox), `the button ${JSON.stringify(toggleBox)} is clear of the chat ${JSON.stringify(chatBox)}`);
    assert.ok(!overlap(toggleBox, await box(chat.getByRole('heading', { name: 'Chat' }))));
    // one side panel at a time, as in Jitsi Meet
    await toggle.click();
    await page.getByRole('complementary', { name: 'Moderator tools' }).waitFor();
    await chat.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Close moderator tools' }).click();
  });

  test('390x844, a 128-character room name: the name is cut, nothing scrolls sideways, every control is on screen', async () => {
    for (const p of [ana, ben]) {
      const page = p.page;
      await page.setViewportSize({ width: 390, height: 844 });
      await noHorizontalScroll(page);
      const header = page.getByRole('banner');
      const title = header.getByRole('heading', { level: 1 });
      assert.equal(await title.getAttribute('title'), LONG_ROOM);
      const t = await box(title);
      assert.ok(t.x >= 0 && t.x + t.width <= 390 && t.height < 40, `the title keeps one line inside the screen: ${JSON.stringify(t)}`);
      await everyButtonReachable(page, header, 'header');
      const n = await everyButtonReachable(page, page.getByRole('toolbar', { name: p === ana ? 'Meeting controls' : 'Controles de la reunión' }), 'toolbar');
      assert.ok(n >= 7, `${n} toolbar buttons`);
    }
  });

  test('390x844: the toolbar is one row and "More actions", a menu holding the other controls, labelled, inside the screen', async () => {
    const page = ana.page;
    await phoneToolbar(page, { controls: 'Meeting controls', more: 'More actions', mic: 'Mute microphone', chat: 'Open chat', pane: 'Participants', hand: 'Raise hand', leave: 'Leave meeting' });
    const names = await openMoreActions(page, 'More actions');
    for (const name of [
      ...REACTIONS,
      'Share screen',
      'Speaker view',
      'Full screen',
      'Invite people',
      'Settings',
      'Keyboard shortcuts', // a mouse (this page's pointer is fine)
      'Manage video quality',
      'Open polls',
      'Whiteboard',
      'Shared notes',
      'Start recording',
      'Recordings',
      'Start live stream',
    ])
      assert.ok(names.includes(name), `"${name}" in the menu: ${JSON.stringify(names)}`);
    // the reactions: a row at the top, every one inside the screen (Celebrate included)
    const reactions = page.getByRole('menu').getByRole('group', { name: 'Reactions' });
    for (const r of REACTIONS) assertOnScreen(await box(reactions.getByRole('menuitem', { name: r })), page, r);
    await noHorizontalScroll(page);
    // the arrow keys move between items; Escape closes the menu, the focus back on "More actions"
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Clap');
    await page.keyboard.press('End');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Start live stream');
    await page.keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'More actions');
    assert.equal(await page.getByRole('button', { name: 'More actions' }).getAttribute('aria-expanded'), 'false');
    // a tap outside closes it too
    await openMoreActions(page, 'More actions');
    await page.mouse.click(20, 20); // the header
    await page.getByRole('menu').waitFor({ state: 'hidden' });
    // an item does what its button does, and closes the menu: a reaction reaches Ben
    await openMoreActions(page, 'More actions');
    await page.getByRole('menu').getByRole('menuitem', { name: 'Celebrate' }).click();
    await page.getByRole('menu').waitFor({ state: 'hidden' });
    await ben.page.getByRole('status').filter({ hasText: 'Ana: Celebrar' }).first().waitFor({ timeout: 5000 });
    await openMoreActions(page, 'More actions');
    await page.getByRole('menuitem', { name: 'Speaker view' }).click();
    await openMoreActions(page, 'More actions');
    await page.getByRole('menuitem', { name: 'Tile view' }).click();
    await page.getByRole('menu').waitFor({ state: 'hidden' });
  });

  test('390x844: "Invite people" (from the menu) shows the whole meeting link, the copy button under it', async () => {
    for (const [p, l] of [
      [ana, { more: 'More actions', invite: 'Invite people', link: 'Meeting link', copy: 'Copy meeting link', close: 'Close' }],
      [ben, { more: 'Más acciones', invite: 'Invitar a otras personas', link: 'Enlace de la reunión', copy: 'Copiar enlace de la reunión', close: 'Cerrar' }],
    ] as const) {
      const page = p.page;
      await openMoreActions(page, l.more);
      await page.getByRole('menuitem', { name: l.invite }).click();
      const dialog = page.getByRole('dialog', { name: l.invite });
      const input = dialog.getByRole('textbox', { name: l.link });
      const b = await box(input);
      assertOnScreen(b, page, 'the link');
      assert.ok(b.width >= 200, `the link is readable: ${JSON.stringify(b)}`);
      const copy = await box(dialog.getByRole('button', { name: l.copy }));
      assertOnScreen(copy, page, 'the copy button');
      assert.ok(!overlap(b, copy));
      await noHorizontalScroll(page);
      await dialog.getByRole('button', { name: l.close }).click();
      await dialog.waitFor({ state: 'detached' });
      // the focus comes back to "More actions"
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), l.more);
    }
  });

  test('a touch phone, upright (390x844) and on its side (844x390): no keyboard-shortcut list, the menu fits', async () => {
    const context = await suite.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    const cleo: Participant = { name: 'Cleo', context, page: await context.newPage() };
    try {
      await joinThroughUi(cleo, suite.server.baseUrl, 'A phone');
      const page = cleo.page;
      const l = { controls: 'Meeting controls', more: 'More actions', mic: 'Mute microphone', chat: 'Open chat', pane: 'Participants', hand: 'Raise hand', leave: 'Leave meeting' };
      for (const size of [{ width: 390, height: 844 }, { width: 844, height: 390 }]) {
        await page.setViewportSize(size);
        const toolbar = await phoneToolbar(page, l);
        const t = await box(toolbar);
        assert.ok(t.height <= 0.16 * size.height, `the toolbar leaves the height to the video: ${JSON.stringify(t)} in ${JSON.stringify(size)}`);
        await noHorizontalScroll(page);
        const names = await openMoreActions(page, l.more);
        assert.ok(!names.includes('Keyboard shortcuts'), `no keyboard-shortcut list on a touch screen: ${JSON.stringify(names)}`);
        for (const name of [...REACTIONS, 'Settings', 'Invite people', 'Start recording']) assert.ok(names.includes(name), `"${name}" in ${JSON.stringify(names)}`);
        await page.keyboard.press('Escape');
        await page.getByRole('menu').waitFor({ state: 'hidden' });
      }
    } finally {
      await context.close();
    }
  });

  test('390x844: the settings, with the background choices and the picture upload, fit (in Spanish too)', async () => {
    for (const [p, l] of [
      [ana, { more: 'More actions', settings: 'Settings', background: 'Background', upload: 'Upload a picture…', close: 'Close' }],
      [ben, { more: 'Más acciones', settings: 'Configuración', background: 'Fondo', upload: 'Subir una imagen…', close: 'Cerrar' }],
    ] as const) {
      const page = p.page;
      await openMoreActions(page, l.more);
      await page.getByRole('menuitem', { name: l.settings }).click();
      const dialog = page.getByRole('dialog', { name: l.settings });
      await noHorizontalScroll(page);
      const radios = dialog.getByRole('group', { name: l.background }).getByRole('radio');
      const n = await radios.count();
      assert.ok(n >= 5, `${n} background choices`);
      for (let i = 0; i < n; i++) {
        const label = radios.nth(i).locator('xpath=ancestor::label[1]');
        await label.scrollIntoViewIfNeeded();
        assertOnScreen(await box(label), page, `background choice ${i} (${await label.textContent()})`);
      }
      const upload = dialog.locator('label', { hasText: l.upload });
      await upload.scrollIntoViewIfNeeded();
      assertOnScreen(await box(upload), page, 'the upload button');
      await everyButtonReachable(page, dialog, 'settings');
      await dialog.getByRole('button', { name: l.close }).click();
    }
  });

  test('390x844 with 12 participants: tiles, people list, moderator tools and chat all fit', async () => {
    for (let i = 1; i <= 10; i++) {
      const c = new WsClient(suite.server.httpsPort);
      others.push(c);
      await c.join(LONG_ROOM, `Participant number ${i} with a rather long display name`);
    }
    const page = ana.page;
    await page.getByRole('banner').getByText('Participants: 12').waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => document.querySelectorAll('.tile').length === 12, undefined, { timeout: 15_000 });
    await noHorizontalScroll(page);
    const tiles = page.locator('.tile');
    for (let i = 0; i < (await tiles.count()); i++) {
      const b = await box(tiles.nth(i));
      assert.ok(b.x >= 0 && b.x + b.width <= 390 && b.width > 60, `tile ${i} fits the width: ${JSON.stringify(b)}`);
    }
    await everyButtonReachable(page, page.getByRole('toolbar', { name: 'Meeting controls' }), 'toolbar');

    // the people list: all twelve, each name inside the screen
    const pane = page.getByRole('toolbar').getByRole('button', { name: 'Participants', exact: true });
    await pane.click();
    const people = page.getByRole('list', { name: 'Participants' });
    await people.getByRole('listitem').nth(11).waitFor({ timeout: 10_000 });
    await noHorizontalScroll(page);
    for (let i = 0; i < 12; i++) {
      const item = people.getByRole('listitem').nth(i);
      await item.scrollIntoViewIfNeeded();
      const b = await box(item);
      assert.ok(b.x >= 0 && b.x + b.width <= 390, `person ${i} inside the width: ${JSON.stringify(b)}`);
    }
    await pane.click();

    // moderator tools: every action for every person can be reached
    await page.getByRole('banner').getByRole('button', { name: 'Moderator tools', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Moderator tools' });
    assertOnScreen(await box(panel), page, 'the moderator panel');
    const actions = await everyButtonReachable(page, panel, 'moderator panel');
    assert.ok(actions >= 11 * 4, `${actions} moderator buttons`);
    await noHorizontalScroll(page);
    await page.getByRole('button', { name: 'Close moderator tools' }).click();

    // the chat opens over the video area and its form is on screen
    await page.getByRole('button', { name: 'Open chat' }).click();
    const input = page.getByRole('textbox', { name: 'Type a message' });
    assertOnScreen(await box(input), page, 'the chat input');
    assertOnScreen(await box(page.getByRole('complementary', { name: 'Chat' }).getByRole('button', { name: 'Send' })), page, 'Send');
    await noHorizontalScroll(page);
    await page.getByRole('button', { name: 'Close chat' }).click();

    // Ben, in Spanish, sees the same fit, and the notice of "Stop everyone's video" on screen
    await ben.page.getByRole('banner').getByText('Participantes: 12').waitFor({ timeout: 15_000 });
    await noHorizontalScroll(ben.page);
    await everyButtonReachable(ben.page, ben.page.getByRole('toolbar', { name: 'Controles de la reunión' }), 'toolbar (es)');
    await page.getByRole('banner').getByRole('button', { name: 'Moderator tools', exact: true }).click();
    await page.getByRole('button', { name: "Stop everyone's video" }).click();
    const notice = ben.page.getByRole('status').filter({ hasText: 'Ana ha apagado tu cámara' });
    await notice.waitFor({ timeout: 10_000 });
    assertOnScreen(await box(notice), ben.page, 'the notice');
    await notice.getByRole('button', { name: 'Cerrar' }).click();
    await noHorizontalScroll(ben.page);
  });
});
