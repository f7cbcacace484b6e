// End to end: breakout rooms with three browsers. The moderator adds two rooms and moves Ben into the first; Ben's
// page (no reload) says so and Ben is alone there; a participant joins a room only once the moderator lets
// participants choose, and then decodes Ben's video there (and Ben hers); chat in the breakout room is not seen in
// the main room; Ben's reload takes him back into his breakout room; the moderator closes the rooms and all three
// are in the main room again, decoding each other's video. Caro's page is in Spanish.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, remoteStats, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

const ROOM = 'Talleres';

describe('breakout rooms', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;
  let caro: Participant;

  const es = (p: Participant) => p === caro;
  const pane = (p: Participant) => p.page.getByRole('complementary', { name: es(p) ? 'Participantes' : 'Participants' });
  const section = (p: Participant) => pane(p).getByRole('region', { name: es(p) ? 'Salas para grupos' : 'Breakout rooms' });
  const room = (p: Participant, name: string) => section(p).getByRole('listitem', { name, exact: true });
  const inRoom = (p: Participant, name: string) =>
    p.page.getByRole('status', { name: es(p) ? `Estás en la sala para grupos «${name}»` : `You are in the breakout room “${name}”` });
  /** Waits until `p` decodes video from each of `names` (stats of its current peer connection). */
  const decodes = (p: Participant, names: string[]) =>
    waitUntil(`${p.name} to decode ${names.join(', ')}`, () => remoteStats(p.page), (s) => names.every((n) => (s[n]?.framesDecoded ?? 0) > 10), 60_000);
  const tile = (p: Participant, name: string) => p.page.getByRole('group', { name, exact: true });

  test('the moderator adds two rooms and moves a participant into one, without a reload', async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    caro = await newParticipant(suite.browser, 'Caro', 'es-ES');
    await joinThroughUi(ana, suite.server.baseUrl, ROOM);
    await joinThroughUi(ben, suite.server.baseUrl, ROOM);
    await caro.page.goto(`${suite.server.baseUrl}/${ROOM}#config.resolution=180`);
    await caro.page.getByRole('textbox', { name: 'Tu nombre' }).fill('Caro');
    await caro.page.getByRole('button', { name: 'Unirse a la reunión' }).click();
    await caro.page.getByRole('group', { name: 'Caro (tú)' }).waitFor({ timeout: 20_000 });
    await decodes(ben, ['Ana', 'Caro']);

    await ana.page.getByRole('button', { name: 'Participants' }).click();
    await section(ana).getByRole('button', { name: 'Add breakout room' }).click();
    await room(ana, 'Breakout room 1').waitFor({ timeout: 10_000 });
    await section(ana).getByRole('button', { name: 'Add breakout room' }).click();
    await room(ana, 'Breakout room 2').waitFor({ timeout: 10_000 });
    // participants see the list, without the moderator's controls
    await ben.page.getByRole('button', { name: 'Participants' }).click();
    await room(ben, 'Breakout room 2').waitFor({ timeout: 10_000 });
    assert.equal(await section(ben).getByRole('button', { name: 'Add breakout room' }).count(), 0);
    assert.equal(await section(ben).getByRole('button', { name: 'Join Breakout room 1' }).count(), 0, 'not while participants may not choose');

    const loads = await ben.page.evaluate(() => performance.getEntriesByType('navigation').length);
    await section(ana).getByRole('combobox', { name: 'Move Ben to' }).selectOption({ label: 'Breakout room 1' });
    await inRoom(ben, 'Breakout room 1').waitFor({ timeout: 15_000 });
    await room(ana, 'Breakout room 1').getByText('Ben', { exact: true }).waitFor({ timeout: 10_000 });
    // Ben is alone in room 1: nobody's tile; in the main room Ana and Caro no longer see him
    await tile(ben, 'Ana').waitFor({ state: 'detached', timeout: 15_000 });
    await tile(ben, 'Caro').waitFor({ state: 'detached' });
    await tile(ana, 'Ben').waitFor({ state: 'detached', timeout: 15_000 });
    await tile(ben, 'Ben (you)').waitFor();
    // the header names the breakout room; alone there (his pane closed), the banner and the "only one here" card are
    // one above the other, and "Leave breakout room" is a button like the app's others
    const title = ben.page.getByRole('banner').getByRole('heading', { level: 1 });
    assert.equal(await title.textContent(), 'Breakout room 1');
    await ben.page.keyboard.press('Escape');
    const alone = ben.page.getByRole('complementary', { name: 'You are the only one here' });
    const [b, a] = [await inRoom(ben, 'Breakout room 1').locator('..').boundingBox(), await alone.boundingBox()];
    assert.ok(b && a && b.y + b.height <= a.y, `the banner ${JSON.stringify(b)} is above the card ${JSON.stringify(a)}`);
    // no meeting link to copy there: it would lead to the main room
    await alone.getByText('Others join this breakout room from the meeting’s main room.').waitFor();
    assert.equal(await alone.getByRole('button', { name: 'Copy meeting link' }).count(), 0);
    assert.match((await ben.page.getByRole('button', { name: 'Leave breakout room' }).getAttribute('class')) ?? '', /\bsecondary\b/);
    assert.equal(await ben.page.evaluate(() => performance.getEntriesByType('navigation').length), loads);
    assert.equal(await ben.page.evaluate(() => (window as any).__tertulia.status), 'joined');
  });

  test('a participant joins a room by choice once allowed; the room has its own media and chat', async () => {
    await caro.page.getByRole('button', { name: 'Participantes' }).click();
    await room(caro, 'Breakout room 1').waitFor({ timeout: 10_000 });
    assert.equal(await room(caro, 'Breakout room 1').getByRole('button', { name: 'Entrar en Breakout room 1' }).count(), 0);
    // the box shows the server's setting: checked once the server took it
    const choose = section(ana).getByRole('checkbox', { name: 'Let participants choose a breakout room' });
    await choose.click();
    await waitUntil('the setting to be on', () => choose.isChecked(), (on) => on, 10_000);
    await room(caro, 'Breakout room 1').getByRole('button', { name: 'Entrar en Breakout room 1' }).click();
    await inRoom(caro, 'Breakout room 1').waitFor({ timeout: 15_000 });
    await decodes(ben, ['Caro']);
    await decodes(caro, ['Ben']);
    assert.equal(await tile(caro, 'Ana').count(), 0, 'the moderator stays in the main room');

    await ben.page.getByRole('button', { name: 'Open chat' }).click();
    await ben.page.getByRole('textbox', { name: 'Type a message' }).fill('only in room 1');
    await ben.page.getByRole('button', { name: 'Send' }).click();
    await caro.page.getByRole('button', { name: 'Abrir chat' }).click();
    await caro.page.getByRole('log', { name: 'Chat' }).getByText('only in room 1').waitFor({ timeout: 10_000 });
    await ana.page.getByRole('button', { name: 'Open chat' }).click();
    await ana.page.getByRole('textbox', { name: 'Type a message' }).fill('main room here');
    await ana.page.getByRole('button', { name: 'Send' }).click();
    await ana.page.getByRole('log', { name: 'Chat' }).getByText('main room here').waitFor({ timeout: 10_000 });
    assert.equal(await ana.page.getByRole('log', { name: 'Chat' }).getByText('only in room 1').count(), 0, 'not in the main room');
    assert.equal(await caro.page.getByRole('log', { name: 'Chat' }).getByText('main room here').count(), 0, 'not in room 1');
    // one side panel at a time: the chat closed Ana's pane; opening it again closes the chat
    await ana.page.getByRole('button', { name: 'Participants' }).click();
    await ana.page.getByRole('complementary', { name: 'Chat' }).waitFor({ state: 'detached' });
  });

  test('a reload takes Ben back into his breakout room', async () => {
    await ben.page.reload();
    await ben.page.getByRole('button', { name: 'Join meeting' }).click();
    await inRoom(ben, 'Breakout room 1').waitFor({ timeout: 20_000 });
    await decodes(ben, ['Caro']);
    await ben.page.getByRole('button', { name: 'Participants' }).click();
    await room(ana, 'Breakout room 1').getByText('Ben', { exact: true }).waitFor({ timeout: 10_000 });
  });

  test('the moderator closes the rooms: everyone is back in the main room, decoding each other', async () => {
    await section(ana).getByRole('button', { name: 'Close all breakout rooms' }).click();
    for (const p of [ben, caro]) await inRoom(p, 'Breakout room 1').waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(await ben.page.getByRole('banner').getByRole('heading', { level: 1 }).textContent(), ROOM);
    await section(ana).getByText('No breakout rooms yet.').waitFor({ timeout: 10_000 });
    await decodes(ana, ['Ben', 'Caro']);
    await decodes(ben, ['Ana', 'Caro']);
    await decodes(caro, ['Ana', 'Ben']);
    // the main room's chat, as it was
    await caro.page.getByRole('log', { name: 'Chat' }).getByText('main room here').waitFor({ timeout: 10_000 });
    for (const p of [ana, ben, caro]) await p.context.close();
  });
});
