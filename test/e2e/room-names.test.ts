// End to end: room names as people type them. "Team standup" typed on the start page and /Team%20standup opened
// directly lead into one meeting; "Reunión de equipo" typed on the Spanish start page and the same name in
// other capitals lead into one meeting; each page shows the name as it was typed; refused names say why.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { newParticipant, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

/** On the room's pre-join page: type the name, join, wait for our own tile. */
async function joinHere(p: Participant, labels = { name: 'Your name', join: 'Join meeting', you: 'you' }): Promise<void> {
  await p.page.getByRole('textbox', { name: labels.name }).fill(p.name);
  await p.page.getByRole('button', { name: labels.join }).click();
  await p.page.getByRole('group', { name: `${p.name} (${labels.you})` }).waitFor({ timeout: 20_000 });
}

async function roomTitle(page: Page): Promise<string> {
  return (await page.getByRole('banner').getByRole('heading', { level: 1 }).textContent()) ?? '';
}

describe('room names as people type them', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;
  let eva: Participant;

  test('"Team standup" typed on the start page and /Team%20standup opened directly: one meeting', async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    await ana.page.goto(`${suite.server.baseUrl}/#config.resolution=180`);
    await ana.page.getByRole('textbox', { name: 'Room name' }).fill('Team standup');
    // the hint says spaces are fine; no complaint while typing
    assert.equal(await ana.page.getByRole('alert').count(), 0);
    await ana.page.getByRole('button', { name: 'Start meeting' }).click();
    await ana.page.waitForURL(/\/Team%20standup/);
    await joinHere(ana);

    await ben.page.goto(`${suite.server.baseUrl}/Team%20standup#config.resolution=180`);
    await joinHere(ben);
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).waitFor({ timeout: 15_000 });
    await ben.page.getByRole('group', { name: 'Ana', exact: true }).waitFor({ timeout: 15_000 });
    assert.equal(await roomTitle(ana.page), 'Team standup');
    assert.equal(await roomTitle(ben.page), 'Team standup');
    assert.equal(await ben.page.title(), 'Team standup | Tertulia');
    await ana.page.getByRole('button', { name: 'Leave meeting' }).click();
    await ben.page.getByRole('button', { name: 'Leave meeting' }).click();
  });

  test('"Reunión de equipo" typed on the Spanish start page, and in other capitals: one meeting, each shows its own', async () => {
    eva = await newParticipant(suite.browser, 'Eva', 'es-ES');
    await eva.page.goto(`${suite.server.baseUrl}/#config.resolution=180`);
    await eva.page.getByRole('textbox', { name: 'Nombre de la sala' }).fill('Reunión de equipo');
    await eva.page.getByRole('button', { name: 'Iniciar reunión' }).click();
    await eva.page.waitForURL(/\/Reuni%C3%B3n%20de%20equipo/);
    await joinHere(eva, { name: 'Tu nombre', join: 'Unirse a la reunión', you: 'tú' });

    await ben.page.goto(`${suite.server.baseUrl}/${encodeURIComponent('REUNIÓN  de Equipo')}#config.resolution=180`);
    await joinHere(ben);
    await eva.page.getByRole('group', { name: 'Ben', exact: true }).waitFor({ timeout: 15_000 });
    await ben.page.getByRole('group', { name: 'Eva', exact: true }).waitFor({ timeout: 15_000 });
    assert.equal(await roomTitle(eva.page), 'Reunión de equipo');
    assert.equal(await roomTitle(ben.page), 'REUNIÓN  de Equipo');
    await ben.page.getByRole('button', { name: 'Leave meeting' }).click();
    await eva.page.getByRole('button', { name: 'Salir de la reunión' }).click();
  });

  test('refused names say why, in English and Spanish', async () => {
    await ana.page.goto(`${suite.server.baseUrl}/`);
    const field = ana.page.getByRole('textbox', { name: 'Room name' });
    await field.fill('Sales/Q3');
    const alert = ana.page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.textContent(), 'A room name may not contain "/", "\\", "?", "#" or "%".');
    await ana.page.getByRole('button', { name: 'Start meeting' }).click();
    assert.equal(new URL(ana.page.url()).pathname, '/');
    await field.fill('   ');
    await ana.page.getByRole('button', { name: 'Start meeting' }).click();
    assert.equal(await alert.textContent(), 'Enter a room name.');

    await eva.page.goto(`${suite.server.baseUrl}/`);
    await eva.page.getByRole('textbox', { name: 'Nombre de la sala' }).fill('¿Qué?');
    assert.equal(await eva.page.getByRole('alert').textContent(), 'Un nombre de sala no puede contener «/», «\\», «?», «#» ni «%».');

    // a link with a refused name: the page says so, with the name
    const refused = await ana.page.goto(`${suite.server.baseUrl}/Sales%2FQ3`);
    await ana.page.getByRole('heading', { name: 'This room name is not valid' }).waitFor();
    await ana.page.getByText('“Sales/Q3”').waitFor();
    await ana.page.getByText('A room name may not contain "/", "\\", "?", "#" or "%".').waitFor();
    // an invisible character: written out, and the reason names it
    await ana.page.goto(`${suite.server.baseUrl}/x%E2%80%AEy.exe`);
    await ana.page.getByText('“x⟨U+202E⟩y.exe”').waitFor();
    await ana.page.getByText(/holds invisible or control characters/).waitFor();
    assert.equal(await ana.page.title(), 'x⟨U+202E⟩y.exe | Tertulia');
    // not valid percent-encoding, or a NUL: the same page, with the same status
    for (const [p, shown] of [
      ['/a%', '“a%”'],
      ['/x%00y', '“x⟨U+0000⟩y”'],
    ]) {
      const r = await ana.page.goto(`${suite.server.baseUrl}${p}`);
      assert.equal(r?.status(), refused?.status(), p);
      await ana.page.getByRole('heading', { name: 'This room name is not valid' }).waitFor();
      await ana.page.getByText(shown).waitFor();
    }
  });
});
