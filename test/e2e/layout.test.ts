// End to end: tile and speaker view, pinning, full screen, a phone-sized screen (the main buttons and "More
// actions"), "Invite people" (the link), the reactions bar (inside the window; Escape, a side panel or a press
// elsewhere closes it), the Jitsi keyboard shortcuts, one side panel at a time (Escape closes it), Spanish, and the
// Jitsi-style URL options.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import { joinThroughUi, newParticipant, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

async function box(l: Locator) {
  const b = await l.boundingBox();
  assert.ok(b, 'the element is laid out');
  return b;
}

describe('layout, invite, shortcuts, languages and URL options', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;

  test('tile view adapts to the window; speaker view; pin', async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Vistas');
    await joinThroughUi(ben, suite.server.baseUrl, 'Vistas');
    const self = ana.page.getByRole('group', { name: 'Ana (you)' });
    const other = ana.page.getByRole('group', { name: 'Ben', exact: true });
    await other.waitFor({ timeout: 10_000 });

    // a wide window: side by side, the same size
    let a = await box(self);
    let b = await box(other);
    assert.ok(Math.abs(a.y - b.y) < 2 && Math.abs(a.width - b.width) < 2, `side by side: ${JSON.stringify([a, b])}`);

    // speaker view: Ben on the stage, Ana small
    await ana.page.getByRole('button', { name: 'Speaker view' }).click();
    await ana.page.getByRole('button', { name: 'Tile view' }).waitFor();
    a = await box(self);
    b = await box(other);
    assert.ok(b.width > a.width * 2, `Ben is large: ${b.width} vs ${a.width}`);

    // pin Ana's own tile: she takes the stage
    await self.getByRole('button', { name: 'Pin' }).click();
    await self.getByRole('button', { name: 'Unpin' }).waitFor();
    a = await box(self);
    b = await box(other);
    assert.ok(a.width > b.width * 2, `Ana is large: ${a.width} vs ${b.width}`);
    await self.getByRole('button', { name: 'Unpin' }).click();
    await ana.page.waitForFunction(() => true);
    b = await box(other);
    a = await box(self);
    assert.ok(b.width > a.width * 2, 'unpinned: back to Ben on the stage');

    // W: back to tile view
    await ana.page.keyboard.press('w');
    await ana.page.getByRole('button', { name: 'Speaker view' }).waitFor();
  });

  test('a phone-sized screen (390x844): tiles stack, every control is on screen', async () => {
    await ana.page.setViewportSize({ width: 390, height: 844 });
    const self = ana.page.getByRole('group', { name: 'Ana (you)' });
    const other = ana.page.getByRole('group', { name: 'Ben', exact: true });
    await ana.page.waitForFunction(() => {
      const tiles = [...document.querySelectorAll('.tile')].map((t) => t.getBoundingClientRect());
      return tiles.length === 2 && Math.abs(tiles[0]!.x - tiles[1]!.x) < 2 && tiles[0]!.y !== tiles[1]!.y;
    }, undefined, { timeout: 5000 });
    for (const t of [self, other]) {
      const r = await box(t);
      assert.ok(r.x >= 0 && r.x + r.width <= 390 && r.width > 300, `tile fits the width: ${JSON.stringify(r)}`);
    }
    const buttons = ana.page.getByRole('toolbar', { name: 'Meeting controls' }).getByRole('button');
    const n = await buttons.count();
    assert.ok(n >= 7, `${n} toolbar buttons`);
    for (let i = 0; i < n; i++) {
      const r = await box(buttons.nth(i));
      assert.ok(r.x >= 0 && r.x + r.width <= 390 && r.y >= 0 && r.y + r.height <= 844, `button ${i} on screen: ${JSON.stringify(r)}`);
    }
    // the other controls are in "More actions", each on screen
    await ana.page.getByRole('button', { name: 'More actions' }).click();
    const items = ana.page.getByRole('menu', { name: 'More actions' }).getByRole('menuitem');
    assert.ok((await items.count()) >= 6 + 8, `${await items.count()} menu items`);
    for (let i = 0; i < (await items.count()); i++) {
      await items.nth(i).scrollIntoViewIfNeeded();
      const r = await box(items.nth(i));
      assert.ok(r.x >= 0 && r.x + r.width <= 390 && r.y >= 0 && r.y + r.height <= 844, `menu item ${i} on screen: ${JSON.stringify(r)}`);
    }
    await ana.page.keyboard.press('Escape');
    await items.first().waitFor({ state: 'hidden' });
    // the chat still opens and is usable
    await ana.page.getByRole('button', { name: 'Open chat' }).click();
    const input = ana.page.getByRole('textbox', { name: 'Type a message' });
    const r = await box(input);
    assert.ok(r.x >= 0 && r.x + r.width <= 390);
    await ana.page.getByRole('button', { name: 'Close chat' }).click();
    await ana.page.setViewportSize({ width: 960, height: 600 });
  });

  test('full screen, and "Invite people" puts the link on the clipboard', async () => {
    await ana.page.getByRole('button', { name: 'Full screen' }).click();
    await ana.page.getByRole('button', { name: 'Exit full screen' }).waitFor({ timeout: 5000 });
    assert.ok(await ana.page.evaluate(() => document.fullscreenElement !== null));
    await ana.page.getByRole('button', { name: 'Exit full screen' }).click();
    await ana.page.getByRole('button', { name: 'Full screen' }).waitFor({ timeout: 5000 });

    await ana.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: suite.server.baseUrl });
    await ana.page.getByRole('toolbar').getByRole('button', { name: 'Invite people' }).click();
    const invite = ana.page.getByRole('dialog', { name: 'Invite people' });
    assert.equal(await invite.getByRole('textbox', { name: 'Meeting link' }).inputValue(), `${suite.server.baseUrl}/Vistas`);
    await invite.getByRole('button', { name: 'Copy meeting link' }).click();
    await invite.getByRole('button', { name: 'Link copied' }).waitFor({ timeout: 5000 });
    assert.equal(await ana.page.evaluate(() => navigator.clipboard.readText()), `${suite.server.baseUrl}/Vistas`);
    // this server has no dial-in numbers: nothing about phones
    await invite.getByText('Looking up the phone numbers…').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await invite.getByRole('region', { name: 'Join by phone' }).count(), 0);
    await invite.getByRole('button', { name: 'Close' }).click();
    await invite.waitFor({ state: 'detached' });
  });

  test('the reactions bar: inside the window; Escape, a side panel, another press close it', async () => {
    const page = ana.page;
    const reactions = page.getByRole('toolbar').getByRole('button', { name: 'Reactions' });
    const bar = page.getByRole('group', { name: 'Reactions' });
    for (const width of [960, 780]) {
      await page.setViewportSize({ width, height: 600 });
      await reactions.click();
      const b = await box(bar);
      assert.ok(b.x >= 0 && b.x + b.width <= width, `the bar inside the window: ${JSON.stringify(b)} in ${width}`);
      for (const name of ['Thumbs up', 'Celebrate']) {
        const r = await box(bar.getByRole('button', { name }));
        assert.ok(r.x >= 0 && r.x + r.width <= width, `${name} inside the window: ${JSON.stringify(r)}`);
      }
      // Escape closes it, the focus back on "Reactions"
      await page.keyboard.press('Escape');
      await bar.waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Reactions');
    }
    await page.setViewportSize({ width: 960, height: 600 });
    // a side panel opening (here by its shortcut) closes it
    await reactions.click();
    await bar.waitFor();
    await page.keyboard.press('c');
    await page.getByRole('complementary', { name: 'Chat' }).waitFor();
    await bar.waitFor({ state: 'detached' });
    // Escape with the bar open closes the bar first, then the panel
    await reactions.click();
    await bar.waitFor();
    await page.keyboard.press('Escape');
    await bar.waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('complementary', { name: 'Chat' }).count(), 1, 'that Escape was the bar\'s');
    await page.keyboard.press('Escape');
    await page.getByRole('complementary', { name: 'Chat' }).waitFor({ state: 'detached' });
    // a press elsewhere closes it
    await reactions.click();
    await bar.waitFor();
    await page.getByRole('banner').getByRole('heading', { level: 1 }).click();
    await bar.waitFor({ state: 'detached' });
  });

  test('keyboard shortcuts as in Jitsi Meet', async () => {
    const page = ana.page;
    const toolbar = page.getByRole('toolbar');
    await page.keyboard.press('m');
    await toolbar.getByRole('button', { name: 'Unmute microphone' }).waitFor();
    await ben.page.getByRole('group', { name: 'Ana', exact: true }).getByRole('img', { name: 'Microphone muted' }).waitFor({ timeout: 5000 });
    await page.keyboard.press('m');
    await toolbar.getByRole('button', { name: 'Mute microphone' }).waitFor();
    await page.keyboard.press('v');
    await toolbar.getByRole('button', { name: 'Start camera' }).waitFor();
    await page.keyboard.press('v');
    await toolbar.getByRole('button', { name: 'Stop camera' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('c');
    await toolbar.getByRole('button', { name: 'Close chat' }).waitFor();
    // typing in the chat does not trigger shortcuts
    await page.getByRole('textbox', { name: 'Type a message' }).pressSequentially('mvrdw');
    await toolbar.getByRole('button', { name: 'Mute microphone' }).waitFor();
    await toolbar.getByRole('button', { name: 'Raise hand' }).waitFor();
    await page.getByRole('textbox', { name: 'Type a message' }).blur();
    await page.keyboard.press('c');
    await toolbar.getByRole('button', { name: 'Open chat' }).waitFor();
    await page.keyboard.press('r');
    await toolbar.getByRole('button', { name: 'Lower hand' }).waitFor();
    await page.keyboard.press('r');
    await toolbar.getByRole('button', { name: 'Raise hand' }).waitFor();
    await page.keyboard.press('d');
    await toolbar.getByRole('button', { name: 'Stop sharing' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('d');
    await toolbar.getByRole('button', { name: 'Share screen' }).waitFor();
    await page.keyboard.press('Shift+?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    for (const text of ['Mute or unmute the microphone', 'Start or stop the camera', 'Open or close the chat', 'Raise or lower your hand', 'Start or stop sharing your screen', 'Switch between tile view and speaker view']) {
      await dialog.getByText(text).waitFor();
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // one side panel at a time (chat, participants, moderator tools...); Escape closes it, after a dialog's
    const chat = page.getByRole('complementary', { name: 'Chat' });
    const pane = page.getByRole('complementary', { name: 'Participants' });
    const tools = page.getByRole('complementary', { name: 'Moderator tools' });
    await page.keyboard.press('c');
    await chat.waitFor();
    await toolbar.getByRole('button', { name: 'Participants' }).click();
    await pane.waitFor();
    await chat.waitFor({ state: 'detached' });
    await page.getByRole('banner').getByRole('button', { name: 'Moderator tools' }).click();
    await tools.waitFor();
    await pane.waitFor({ state: 'detached' });
    await page.keyboard.press('Shift+?');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await tools.count(), 1, 'that Escape was the dialog\'s');
    await page.keyboard.press('Escape');
    await tools.waitFor({ state: 'detached' });
  });

  test('Spanish from ?lang=es, and the URL options start muted, camera off, without the pre-join page', async () => {
    const caro = await newParticipant(suite.browser, 'Caro');
    await caro.page.goto(
      `${suite.server.baseUrl}/Vistas?lang=es#config.startWithAudioMuted=true&config.startWithVideoMuted=true&config.prejoinPageEnabled=false&userInfo.displayName=%22Caro%20Ruiz%22&config.resolution=180`,
    );
    await caro.page.getByRole('group', { name: 'Caro Ruiz (tú)' }).waitFor({ timeout: 20_000 });
    const toolbar = caro.page.getByRole('toolbar', { name: 'Controles de la reunión' });
    await toolbar.getByRole('button', { name: 'Activar micrófono' }).waitFor();
    const labels = await toolbar.getByRole('button').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    for (const name of [
      'Activar micrófono',
      'Iniciar cámara',
      'Compartir pantalla',
      'Abrir chat',
      'Participantes',
      'Levantar la mano',
      'Reacciones',
      'Vista de orador',
      'Pantalla completa',
      'Invitar a otras personas',
      'Configuración',
      'Atajos de teclado',
      'Salir de la reunión',
    ]) {
      assert.ok(labels.includes(name), `"${name}" in ${JSON.stringify(labels)} ${JSON.stringify(await caro.page.evaluate(() => [(window as any).__tertulia.sources, (window as any).__tertulia.participants]))}`);
    }
    // the others see her muted, with initials instead of video
    const tile = ana.page.getByRole('group', { name: 'Caro Ruiz', exact: true });
    await tile.getByRole('img', { name: 'Microphone muted' }).waitFor({ timeout: 10_000 });
    await tile.getByText('CR', { exact: true }).waitFor();
    // notices, the chat and the pane in Spanish
    await ana.page.getByRole('button', { name: 'Raise hand' }).click();
    await caro.page.getByRole('status').filter({ hasText: 'Ana levantó la mano' }).waitFor({ timeout: 5000 });
    await caro.page.getByRole('button', { name: 'Abrir chat' }).click();
    await caro.page.getByRole('textbox', { name: 'Escribe un mensaje' }).waitFor();
    await caro.page.getByRole('button', { name: 'Enviar' }).waitFor();
    await caro.page.getByRole('button', { name: 'Participantes' }).click();
    await caro.page.getByRole('complementary', { name: 'Participantes' }).getByRole('img', { name: 'Mano levantada' }).waitFor();
    await caro.page.keyboard.press('Shift+?');
    await caro.page.getByRole('dialog', { name: 'Atajos de teclado' }).waitFor();
    await caro.context.close();
  });

  test('Spanish from the browser language', async () => {
    const dani = await newParticipant(suite.browser, 'Dani', 'es-ES');
    await dani.page.goto(`${suite.server.baseUrl}/Vistas#config.prejoinPageEnabled=false&userInfo.displayName=%22Dani%22&config.resolution=180`);
    await dani.page.getByRole('group', { name: 'Dani (tú)' }).waitFor({ timeout: 20_000 });
    await dani.page.getByRole('button', { name: 'Silenciar micrófono' }).waitFor();
    await dani.page.getByRole('button', { name: 'Configuración' }).click();
    await dani.page.getByRole('dialog', { name: 'Configuración' }).getByLabel('Nivel del micrófono').waitFor();
    await dani.context.close();
    assert.ok(suite.server.alive());
  });
});
