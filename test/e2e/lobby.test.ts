// End to end: the lobby. The moderator turns it on; a joiner knocks and waits; the moderator admits them (they
// join without reloading) or denies them (they are told); with the room locked too, someone waiting joins with the
// password ("Join with password"; a wrong one keeps them waiting); the meeting ending while someone waits is told
// as such.
import { before, describe, test } from 'node:test';
import { joinThroughUi, newParticipant, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { inMeeting, openModeratorTools, startJoin } from '../helpers/access-ui.ts';

describe('lobby', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  const room = 'Lobby-Room';

  before(async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    await joinThroughUi(ana, suite.server.baseUrl, room);
  });

  test('the moderator enables the lobby; Ben knocks, is admitted and joins without reloading', async () => {
    await openModeratorTools(ana.page);
    await ana.page.getByRole('button', { name: 'Enable lobby' }).click();
    await ana.page.getByRole('button', { name: 'Disable lobby' }).waitFor();

    const ben = await newParticipant(suite.browser, 'Ben');
    await startJoin(ben, suite.server.baseUrl, room);
    await ben.page.getByRole('heading', { name: 'Waiting for a moderator to let you in' }).waitFor({ timeout: 20_000 });

    const lobby = ana.page.getByRole('region', { name: 'Waiting in the lobby' });
    await lobby.getByText('Ben wants to join').waitFor({ timeout: 10_000 });
    const url = ben.page.url();
    await lobby.getByRole('button', { name: 'Admit Ben' }).click();
    await inMeeting(ben);
    if (ben.page.url() !== url) throw new Error('the page was reloaded or navigated');
    await ana.page.getByRole('group', { name: 'Ben', exact: true }).waitFor({ timeout: 10_000 });
    await lobby.waitFor({ state: 'detached' });
    await ben.context.close();
  });

  test('a denied knock is told so and never joins', async () => {
    const caro = await newParticipant(suite.browser, 'Caro');
    await startJoin(caro, suite.server.baseUrl, room);
    await caro.page.getByRole('heading', { name: 'Waiting for a moderator to let you in' }).waitFor({ timeout: 20_000 });
    await ana.page.getByRole('button', { name: 'Deny Caro' }).click();
    await caro.page.getByRole('heading', { name: 'You were not let in' }).waitFor({ timeout: 10_000 });
    await caro.page.getByText('A moderator declined your request to join.').waitFor();
    const tiles = await ana.page.getByRole('group', { name: 'Caro', exact: true }).count();
    if (tiles !== 0) throw new Error('Caro got a tile');
    await caro.context.close();
  });

  test('the room locked too: a wrong password keeps Eli waiting, the right one lets her in', async () => {
    await openModeratorTools(ana.page);
    await ana.page.getByRole('textbox', { name: 'New meeting password' }).fill('llave-7');
    await ana.page.getByRole('button', { name: 'Lock room' }).click();
    await ana.page.getByRole('button', { name: 'Unlock room' }).waitFor();

    const eli = await newParticipant(suite.browser, 'Eli');
    await startJoin(eli, suite.server.baseUrl, room);
    const waiting = eli.page.getByRole('heading', { name: 'Waiting for a moderator to let you in' });
    await waiting.waitFor({ timeout: 20_000 });
    const lobby = ana.page.getByRole('region', { name: 'Waiting in the lobby' });
    await lobby.getByText('Eli wants to join').waitFor({ timeout: 10_000 });
    await eli.page.getByRole('button', { name: 'Join with password' }).click();
    await eli.page.getByLabel('Meeting password').fill('guess');
    await eli.page.getByRole('button', { name: 'Enter meeting' }).click();
    await eli.page.getByRole('alert').getByText('Wrong password.').waitFor({ timeout: 10_000 });
    await waiting.waitFor();
    await lobby.getByText('Eli wants to join').waitFor();
    await eli.page.getByLabel('Meeting password').fill('llave-7');
    await eli.page.getByRole('button', { name: 'Enter meeting' }).click();
    await inMeeting(eli);
    await ana.page.getByRole('group', { name: 'Eli', exact: true }).waitFor({ timeout: 10_000 });
    await lobby.waitFor({ state: 'detached' });
    await eli.context.close();
  });

  test('in Spanish the lobby controls have Spanish names', async () => {
    const dani = await newParticipant(suite.browser, 'Dani', 'es-ES');
    await dani.page.goto(`${suite.server.baseUrl}/${room}?lang=es#config.resolution=180`);
    await dani.page.getByRole('textbox', { name: 'Tu nombre' }).fill('Dani');
    await dani.page.getByRole('button', { name: 'Unirse a la reunión' }).click();
    await dani.page.getByRole('heading', { name: 'Esperando a que un moderador te deje entrar' }).waitFor({ timeout: 20_000 });
    // the room is still locked
    await dani.page.getByRole('button', { name: 'Entrar con contraseña' }).waitFor();
    await ana.page.getByRole('button', { name: 'Admit Dani' }).click();
    await dani.page.getByRole('group', { name: 'Dani (tú)' }).waitFor({ timeout: 20_000 });
    await dani.context.close();
  });

  test('the meeting ends while Fede waits: he is told nobody could let him in, not that a moderator said no', async () => {
    const fede = await newParticipant(suite.browser, 'Fede');
    await startJoin(fede, suite.server.baseUrl, room);
    await fede.page.getByRole('heading', { name: 'Waiting for a moderator to let you in' }).waitFor({ timeout: 20_000 });
    await ana.page.getByRole('region', { name: 'Waiting in the lobby' }).getByText('Fede wants to join').waitFor({ timeout: 10_000 });
    await openModeratorTools(ana.page);
    await ana.page.getByRole('button', { name: 'End meeting for all' }).click();
    await ana.page.getByRole('group', { name: 'End the meeting for everyone?' }).getByRole('button', { name: 'End meeting', exact: true }).click();
    await fede.page.getByRole('heading', { name: 'Nobody could let you in' }).waitFor({ timeout: 10_000 });
    if ((await fede.page.getByText('A moderator declined your request to join.').count()) !== 0) throw new Error('told a moderator declined');
    await fede.context.close();
  });
});
