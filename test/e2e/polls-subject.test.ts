// End to end: polls (create, answer, live results for everyone, a reload that keeps the poll, its results and
// one's own answer, "Change vote", close) and the meeting's subject (a moderator sets it, everyone sees it and
// the page title follows, a participant has no control and the server refuses a forged message, a late joiner
// in Spanish sees both and the meeting's time, clearing it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { WsClient } from '../helpers/signal-client.ts';

const ROOM = 'Encuestas';
const QUESTION = 'Where do we eat? <b>now</b>';

describe('polls and the meeting subject', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;
  /** Before the first join: the meeting starts after it. */
  let meetingAsked = 0;

  const panel = (p: Participant, name = 'Polls') => p.page.getByRole('complementary', { name });
  const poll = (p: Participant, name = 'Polls') => panel(p, name).getByRole('listitem', { name: QUESTION });
  const result = (p: Participant, label: string, name = 'Polls') => poll(p, name).getByRole('list', { name: name === 'Polls' ? 'Results' : 'Resultados' }).getByRole('listitem', { name: label, exact: true });

  test('a poll is created, both answer, and both see the results live', async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    meetingAsked = Date.now();
    await joinThroughUi(ana, suite.server.baseUrl, ROOM);
    await joinThroughUi(ben, suite.server.baseUrl, ROOM);

    await ben.page.getByRole('button', { name: 'Open polls' }).click();
    await panel(ben).getByText('There are no polls in this meeting yet.').waitFor();
    await panel(ben).getByRole('button', { name: 'Create a poll' }).click();
    const form = panel(ben).getByRole('form', { name: 'Create a poll' });
    await form.getByRole('textbox', { name: 'Question' }).fill(QUESTION);
    await form.getByRole('textbox', { name: 'Option 1' }).fill('Pizza');
    await form.getByRole('textbox', { name: 'Option 2' }).fill('Tacos');
    await form.getByRole('button', { name: 'Add option' }).click();
    // an option like another is said at the option, and the poll cannot be sent until it differs
    await form.getByRole('textbox', { name: 'Option 3' }).fill(' pizza');
    await form.getByRole('alert').filter({ hasText: 'This option is the same as another one.' }).waitFor();
    assert.equal(await form.getByRole('textbox', { name: 'Option 3' }).getAttribute('aria-invalid'), 'true');
    assert.ok(await form.getByRole('button', { name: 'Send poll' }).isDisabled());
    await form.getByRole('textbox', { name: 'Option 3' }).fill('Soup');
    await form.getByRole('alert').waitFor({ state: 'detached' });
    await form.getByRole('button', { name: 'Send poll' }).click();

    // Ana is told by a badge; opening the pane clears it
    await ana.page.getByRole('status', { name: '1 new poll' }).waitFor({ timeout: 10_000 });
    await ana.page.getByRole('button', { name: 'Open polls' }).click();
    await ana.page.getByRole('status', { name: '1 new poll' }).waitFor({ state: 'detached' });
    await poll(ana).getByRole('heading', { name: QUESTION }).waitFor();
    assert.equal(await poll(ana).locator('b').count(), 0, 'the question is text, never markup');
    await poll(ana).getByText('Poll by Ben').waitFor();

    await poll(ana).getByRole('radio', { name: 'Tacos' }).check();
    await poll(ana).getByRole('button', { name: 'Vote', exact: true }).click();
    await result(ana, 'Tacos: 1 vote, 100% (your answer)').waitFor({ timeout: 10_000 });
    await poll(ben).getByRole('radio', { name: 'Pizza' }).check();
    await poll(ben).getByRole('button', { name: 'Vote', exact: true }).click();
    for (const p of [ana, ben]) {
      await result(p, p === ben ? 'Pizza: 1 vote, 50% (your answer)' : 'Pizza: 1 vote, 50%').waitFor({ timeout: 10_000 });
      await result(p, p === ana ? 'Tacos: 1 vote, 50% (your answer)' : 'Tacos: 1 vote, 50%').waitFor();
      await result(p, 'Soup: 0 votes, 0%').waitFor();
      await poll(p).getByText('2 people answered').waitFor();
    }
  });

  test('a reload keeps the poll, its results and one\'s own answer; the answer can change but is not added', async () => {
    await ben.page.reload();
    await ben.page.getByRole('button', { name: 'Join meeting' }).click();
    await ben.page.getByRole('group', { name: 'Ben (you)' }).waitFor({ timeout: 20_000 });
    await ben.page.getByRole('button', { name: 'Open polls' }).click();
    await result(ben, 'Pizza: 1 vote, 50% (your answer)').waitFor({ timeout: 10_000 });
    await result(ben, 'Tacos: 1 vote, 50%').waitFor();

    await poll(ben).getByRole('button', { name: 'Change vote' }).click();
    assert.equal(await poll(ben).getByRole('radio', { name: 'Pizza' }).isChecked(), true, 'the form starts from the answer given');
    await poll(ben).getByRole('radio', { name: 'Tacos' }).check();
    await poll(ben).getByRole('button', { name: 'Vote', exact: true }).click();
    for (const p of [ana, ben]) {
      await result(p, 'Tacos: 2 votes, 100% (your answer)').waitFor({ timeout: 10_000 });
      await result(p, 'Pizza: 0 votes, 0%').waitFor();
      await poll(p).getByText('2 people answered').waitFor();
    }
  });

  test('its creator closes it; everyone keeps the final results and can no longer answer', async () => {
    // the creator (after the reload too) and the moderator may close it
    await poll(ana).getByRole('button', { name: 'Close poll' }).waitFor();
    await poll(ben).getByRole('button', { name: 'Close poll' }).click();
    for (const p of [ana, ben]) {
      await poll(p).getByText('Closed', { exact: true }).waitFor({ timeout: 10_000 });
      await result(p, 'Tacos: 2 votes, 100% (your answer)').waitFor();
      for (const name of ['Change vote', 'Close poll', 'Vote']) assert.equal(await poll(p).getByRole('button', { name }).count(), 0);
    }
  });

  test('a moderator sets the subject; everyone sees it and the page title; a participant cannot', async () => {
    assert.equal(await ben.page.getByRole('button', { name: 'Moderator tools' }).count(), 0, 'no control for a participant');
    // a participant's forged message is refused by the server
    const forger = new WsClient(suite.server.httpsPort);
    try {
      await forger.join(ROOM, 'Forger');
      const refused = await forger.expectError({ type: 'set-subject', subject: 'Forged' });
      assert.equal(refused.code, 'not-moderator');
    } finally {
      forger.close();
    }

    await ana.page.getByRole('button', { name: 'Moderator tools' }).click();
    const tools = ana.page.getByRole('complementary', { name: 'Moderator tools' });
    await tools.getByRole('textbox', { name: 'Meeting subject' }).fill('Weekly\u202e sync <i>');
    await tools.getByRole('button', { name: 'Set subject' }).click();
    for (const p of [ana, ben]) {
      await p.page.getByRole('status', { name: 'Subject: Weekly sync <i>' }).waitFor({ timeout: 10_000 });
      await waitUntil('the page title', () => p.page.title(), (title) => title === 'Weekly sync <i> | Tertulia');
    }
    assert.equal(await ben.page.getByRole('status', { name: /Forged/ }).count(), 0);
  });

  test('a late joiner (in Spanish) sees the subject and the closed poll with its results', async () => {
    const caro = await newParticipant(suite.browser, 'Caro', 'es-ES');
    // the meeting at least 8 s old as Caro joins, so its timer cannot be mistaken for hers
    await caro.page.waitForTimeout(Math.max(0, 8_000 - (Date.now() - meetingAsked)));
    await caro.page.goto(`${suite.server.baseUrl}/${ROOM}#config.resolution=180`);
    await caro.page.getByRole('textbox', { name: 'Tu nombre' }).fill('Caro');
    await caro.page.getByRole('button', { name: 'Unirse a la reunión' }).click();
    await caro.page.getByRole('group', { name: 'Caro (tú)' }).waitFor({ timeout: 20_000 });
    await caro.page.getByRole('status', { name: 'Asunto: Weekly sync <i>' }).waitFor({ timeout: 10_000 });
    assert.equal(await caro.page.getByRole('status', { name: /encuesta nueva/ }).count(), 0, 'a closed poll is not news');
    await caro.page.getByRole('button', { name: 'Abrir encuestas' }).click();
    await poll(caro, 'Encuestas').getByText('Cerrada', { exact: true }).waitFor({ timeout: 10_000 });
    await result(caro, 'Tacos: 2 votos, 100 %', 'Encuestas').waitFor();
    await result(caro, 'Pizza: 0 votos, 0 %', 'Encuestas').waitFor();
    // the meeting's timer counts from the meeting's start (Ana's join), not Caro's, as Ana's does
    const caroTimer = caro.page.getByRole('timer', { name: /^Tiempo de reunión \d+:\d\d$/ });
    const [caroTime, anaTime] = [await caroTimer.textContent(), await ana.page.getByRole('timer').textContent()];
    const seconds = (t: string | null) => (t ?? '').split(':').reduce((a, x) => a * 60 + Number(x), 0);
    const sinceAsked = (Date.now() - meetingAsked) / 1000;
    assert.ok(seconds(caroTime) <= sinceAsked + 1 && seconds(caroTime) >= sinceAsked - 3, `${caroTime}, ${sinceAsked} s since Ana asked to join`);
    assert.ok(Math.abs(seconds(caroTime) - seconds(anaTime)) <= 1, `${caroTime} and ${anaTime}`);
    await caro.context.close();
    // hidden with Jitsi's config.hideConferenceTimer
    const dani = await newParticipant(suite.browser, 'Dani');
    await joinThroughUi(dani, suite.server.baseUrl, ROOM, { hash: '#config.resolution=180&config.hideConferenceTimer=true' });
    await dani.page.getByRole('status', { name: 'Subject: Weekly sync <i>' }).waitFor({ timeout: 10_000 });
    assert.equal(await dani.page.getByRole('timer').count(), 0);
    await dani.context.close();
  });

  test('the moderator clears the subject for everyone', async () => {
    const tools = ana.page.getByRole('complementary', { name: 'Moderator tools' });
    await tools.getByRole('button', { name: 'Clear subject' }).click();
    for (const p of [ana, ben]) {
      await p.page.getByRole('status', { name: /^Subject:/ }).waitFor({ state: 'detached', timeout: 10_000 });
      await waitUntil('the page title', () => p.page.title(), (title) => title === `${ROOM} | Tertulia`);
    }
    assert.ok(suite.server.alive());
  });
});
