// End to end: accounts mode ("secure domain"). The admin adds a user with `tertulia users add`; whoever comes
// first waits for the host, with a sign-in form for the host; the host signs in (a wrong password is refused) and
// starts the meeting as moderator; guests then join without an account, and a guest who was waiting gets in by
// itself, without a reload.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newParticipant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { inMeeting, startJoin } from '../helpers/access-ui.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('accounts mode', () => {
  const suite = useServerAndBrowser({ TERTULIA_AUTH_MODE: 'accounts' });

  before(async () => {
    const add = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'src/cli/main.ts'), 'users', 'add', 'hostess'], {
      input: 'a good long password\n',
      encoding: 'utf8',
      env: { ...process.env, TERTULIA_CONFIG: '', TERTULIA_DATA_DIR: suite.server.dataDir },
    });
    assert.equal(add.status, 0, add.stderr);
  });

  test('the host signs in and starts the meeting; a guest joins without an account', async () => {
    const host = await newParticipant(suite.browser, 'Hostess');
    await startJoin(host, suite.server.baseUrl, 'Team');
    await host.page.getByRole('heading', { name: 'Waiting for the host' }).waitFor({ timeout: 20_000 });
    await host.page.getByRole('heading', { name: 'Are you the host? Sign in' }).waitFor();
    await host.page.getByRole('textbox', { name: 'Username' }).fill('hostess');
    await host.page.getByLabel('Password', { exact: true }).fill('not the password');
    await host.page.getByRole('button', { name: 'Sign in' }).click();
    await host.page.getByRole('alert').getByText('Wrong username or password.').waitFor({ timeout: 10_000 });
    await host.page.getByLabel('Password', { exact: true }).fill('a good long password');
    await host.page.getByRole('button', { name: 'Sign in' }).click();
    await inMeeting(host);
    await host.page.getByRole('button', { name: 'Moderator tools', exact: true }).waitFor();

    const guest = await newParticipant(suite.browser, 'Guest');
    await startJoin(guest, suite.server.baseUrl, 'team');
    await inMeeting(guest);
    assert.equal(await guest.page.getByRole('button', { name: 'Moderator tools' }).count(), 0);
    await host.page.getByRole('group', { name: 'Guest', exact: true }).waitFor({ timeout: 10_000 });
    await guest.context.close();
    await host.context.close();
  });

  test('a guest who comes before the host waits, and joins by itself once the host has started the meeting', async () => {
    const guest = await newParticipant(suite.browser, 'Early');
    await startJoin(guest, suite.server.baseUrl, 'Later');
    await guest.page.getByRole('heading', { name: 'Waiting for the host' }).waitFor({ timeout: 20_000 });
    const url = guest.page.url();
    const host = await newParticipant(suite.browser, 'Hostess');
    await startJoin(host, suite.server.baseUrl, 'Later');
    await host.page.getByRole('textbox', { name: 'Username' }).fill('hostess');
    await host.page.getByLabel('Password', { exact: true }).fill('a good long password');
    await host.page.getByRole('button', { name: 'Sign in' }).click();
    await inMeeting(host);
    // the waiting page asks again every 5 s
    await guest.page.getByRole('group', { name: 'Early (you)' }).waitFor({ timeout: 20_000 });
    assert.equal(guest.page.url(), url, 'no reload');
    await host.page.getByRole('group', { name: 'Early', exact: true }).waitFor({ timeout: 10_000 });
    await guest.context.close();
    await host.context.close();
  });

  test('a guest who comes before the host waits, in Spanish too', async () => {
    const early = await newParticipant(suite.browser, 'Temprano', 'es-ES');
    await early.page.goto(`${suite.server.baseUrl}/Otra-Sala?lang=es#config.resolution=180`);
    await early.page.getByRole('textbox', { name: 'Tu nombre' }).fill('Temprano');
    await early.page.getByRole('button', { name: 'Unirse a la reunión' }).click();
    await early.page.getByRole('heading', { name: 'Esperando al anfitrión' }).waitFor({ timeout: 20_000 });
    await early.page.getByRole('heading', { name: '¿Eres el anfitrión? Inicia sesión' }).waitFor();
    await early.page.getByRole('textbox', { name: 'Usuario' }).waitFor();
    await early.page.getByRole('button', { name: 'Iniciar sesión' }).waitFor();
    await early.context.close();
  });
});
