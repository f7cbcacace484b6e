// "You are muted. Are you trying to speak?": Ana's fake microphone talks (a tone 0.7 s of every second) while she
// is muted; her page says so once per mute, and its Unmute unmutes her. Caro's default fake microphone (20 ms
// beeps) never shows it; Beto's page speaks Spanish.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser, useTalkingBrowser } from '../helpers/e2e.ts';

describe('talk while muted', () => {
  const suite = useServerAndBrowser();
  const talkers = useTalkingBrowser();
  let ana: Participant, beto: Participant, caro: Participant;

  test('a muted talker is told, once per mute; Unmute unmutes; a beeping microphone is not told', async () => {
    ana = await newParticipant(talkers.browser, 'Ana');
    caro = await newParticipant(suite.browser, 'Caro');
    await joinThroughUi(caro, suite.server.baseUrl, 'hablas-callado', { muteMic: true });
    await joinThroughUi(ana, suite.server.baseUrl, 'hablas-callado', { muteMic: true });
    const notice = (p: Participant) => p.page.getByRole('status').filter({ hasText: 'You are muted. Are you trying to speak?' });
    await notice(ana).waitFor({ timeout: 15_000 });
    await notice(ana).getByRole('button', { name: 'Unmute', exact: true }).click();
    await ana.page.getByRole('button', { name: 'Mute microphone' }).waitFor();
    assert.equal(await notice(ana).count(), 0, 'gone once unmuted');

    // muted again: told again, and Dismiss keeps it away for the rest of this mute
    await ana.page.getByRole('button', { name: 'Mute microphone' }).click();
    await notice(ana).waitFor({ timeout: 15_000 });
    await notice(ana).getByRole('button', { name: 'Dismiss' }).click();
    await notice(ana).waitFor({ state: 'detached' });
    await ana.page.waitForTimeout(3000);
    assert.equal(await notice(ana).count(), 0, 'once per mute');
    assert.equal(await ana.page.getByRole('button', { name: 'Unmute microphone' }).count(), 1, 'still muted');

    // Caro's microphone only beeps: in all this time she was never told
    assert.equal(await notice(caro).count(), 0);
    assert.ok(suite.server.alive());
  });

  test('in Spanish', async () => {
    beto = await newParticipant(talkers.browser, 'Beto', 'es-ES');
    await joinThroughUi(beto, suite.server.baseUrl, 'hablas-callado', { muteMic: true, lang: 'es' });
    const aviso = beto.page.getByRole('status').filter({ hasText: 'Tienes el micrófono silenciado. ¿Intentas hablar?' });
    await aviso.waitFor({ timeout: 15_000 });
    await aviso.getByRole('button', { name: 'Activar el micrófono' }).click();
    await beto.page.getByRole('button', { name: 'Silenciar micrófono' }).waitFor();
    for (const p of [ana, beto, caro]) await p.context.close();
  });
});
