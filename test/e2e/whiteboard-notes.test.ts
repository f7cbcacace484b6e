// End to end: the shared whiteboard (Excalidraw) and shared notes (issue 20) with headless Chromium, controls
// found by role and accessible name. Ana types notes and draws a rectangle through Excalidraw's own toolbar; Ben
// sees both; Cleo joins late in Spanish ("Pizarra", "Notas compartidas") and sees both; Ben reloads and still
// sees them. Nothing breaks the page's Content Security Policy (Excalidraw's styles and fonts come from this
// server). When everyone has left, Ana (moderator of the room's next meeting) downloads the saved notes and the
// .excalidraw file from the Recordings dialog.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

const ROOM = 'Pizarra compartida';
const NOTES = 'Budget: three items\nDates: <b>May</b>';

/** Dark pixels on the whiteboard's drawing (Excalidraw's static canvas): its default stroke is near black on white. */
function inkOn(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('.whiteboard-panel canvas.static');
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || canvas.width === 0) return -1;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let dark = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && data[i]! < 90 && data[i + 1]! < 90 && data[i + 2]! < 90) dark++;
    return dark;
  });
}

describe('the shared whiteboard and notes', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;
  let cleo: Participant;
  const cspViolations: string[] = [];

  const watchCsp = (p: Participant) =>
    p.page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(`${p.name}: ${m.text()}`);
    });
  const notes = (p: Participant, name = 'Shared notes') => p.page.getByRole('complementary', { name }).getByRole('textbox', { name });
  const whiteboard = (p: Participant, name = 'Whiteboard') => p.page.getByRole('region', { name });
  const seesInk = (p: Participant) => waitUntil(`${p.name} sees the rectangle`, () => inkOn(p.page), (n) => n > 50, 30_000);

  test('notes typed by one are seen by the other', async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    watchCsp(ana);
    watchCsp(ben);
    await joinThroughUi(ana, suite.server.baseUrl, ROOM);
    await joinThroughUi(ben, suite.server.baseUrl, ROOM);

    await ana.page.getByRole('button', { name: 'Shared notes' }).click();
    await notes(ana).waitFor({ timeout: 20_000 });
    await waitUntil('the notes are editable', () => notes(ana).isEditable(), (v) => v, 20_000);
    await notes(ana).pressSequentially(NOTES, { delay: 10 });
    await ben.page.getByRole('button', { name: 'Shared notes' }).click();
    await waitUntil('Ben sees the notes', () => notes(ben).inputValue(), (v) => v === NOTES, 20_000);
    // Ben edits too: Ana sees it
    await notes(ben).press('End');
    await notes(ben).pressSequentially(', June', { delay: 10 });
    await waitUntil('Ana sees Ben\'s edit', () => notes(ana).inputValue(), (v) => v === `${NOTES}, June`, 20_000);
    await ben.page.getByRole('button', { name: 'Close shared notes' }).click();
  });

  test('a rectangle drawn with Excalidraw\'s toolbar is seen by the other', async () => {
    await ana.page.getByRole('button', { name: 'Whiteboard' }).click();
    const board = whiteboard(ana);
    // Excalidraw draws its icon over the radio (inside the radio's label): the click lands on the label, as a person's does
    const rectangle = board.getByRole('radio', { name: /^Rectangle/ });
    await rectangle.waitFor({ timeout: 60_000 });
    await rectangle.click({ force: true });
    assert.equal(await rectangle.isChecked(), true, 'the rectangle tool is chosen');
    const box = (await board.boundingBox())!;
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    await ana.page.mouse.move(x - 80, y - 40);
    await ana.page.mouse.down();
    await ana.page.mouse.move(x, y, { steps: 5 });
    await ana.page.mouse.move(x + 80, y + 40, { steps: 5 });
    await ana.page.mouse.up();
    await seesInk(ana);

    await ben.page.getByRole('button', { name: 'Whiteboard' }).click();
    await whiteboard(ben).getByRole('radio', { name: /^Rectangle/ }).waitFor({ timeout: 60_000 });
    await seesInk(ben);
  });

  test('a late joiner (in Spanish) sees both', async () => {
    cleo = await newParticipant(suite.browser, 'Cleo', 'es-ES');
    watchCsp(cleo);
    await joinThroughUi(cleo, suite.server.baseUrl, ROOM, { lang: 'es' });
    await cleo.page.getByRole('button', { name: 'Pizarra' }).click();
    await whiteboard(cleo, 'Pizarra').getByRole('radio', { name: /^Rectángulo/ }).waitFor({ timeout: 60_000 });
    await seesInk(cleo);
    await cleo.page.getByRole('button', { name: 'Notas compartidas' }).click();
    await waitUntil('Cleo sees the notes', () => notes(cleo, 'Notas compartidas').inputValue(), (v) => v === `${NOTES}, June`, 20_000);
  });

  test('a reload keeps them', async () => {
    await joinThroughUi(ben, suite.server.baseUrl, ROOM, { reload: true });
    await ben.page.getByRole('button', { name: 'Shared notes' }).click();
    await waitUntil('Ben still sees the notes', () => notes(ben).inputValue(), (v) => v === `${NOTES}, June`, 20_000);
    await ben.page.getByRole('button', { name: 'Whiteboard' }).click();
    await whiteboard(ben).getByRole('radio', { name: /^Rectangle/ }).waitFor({ timeout: 60_000 });
    await seesInk(ben);
    assert.deepEqual(cspViolations, [], 'nothing was refused by the Content Security Policy');
  });

  test('after the meeting the moderator downloads the saved notes and whiteboard', async () => {
    for (const p of [cleo, ben, ana]) {
      await p.page.getByRole('button', { name: p === cleo ? 'Salir de la reunión' : 'Leave meeting' }).click();
      await p.context.close();
    }
    // the room's next meeting: Ana is its moderator again
    ana = await newParticipant(suite.browser, 'Ana');
    await joinThroughUi(ana, suite.server.baseUrl, ROOM);
    await ana.page.getByRole('button', { name: 'Recordings' }).click({ timeout: 20_000 });
    const dialog = ana.page.getByRole('dialog', { name: 'Recordings of this meeting' });
    const notesLink = dialog.getByRole('link', { name: 'Download notes.md' });
    await notesLink.waitFor({ timeout: 20_000 });
    const [notesDownload] = await Promise.all([ana.page.waitForEvent('download'), notesLink.click()]);
    assert.equal(notesDownload.suggestedFilename(), 'notes.md');
    assert.equal(readFileSync((await notesDownload.path())!, 'utf8'), `${NOTES}, June`);
    const [boardDownload] = await Promise.all([ana.page.waitForEvent('download'), dialog.getByRole('link', { name: 'Download whiteboard.excalidraw' }).click()]);
    const file = JSON.parse(readFileSync((await boardDownload.path())!, 'utf8')) as { type: string; elements: { type: string; isDeleted: boolean }[] };
    assert.equal(file.type, 'excalidraw');
    assert.deepEqual(file.elements.map((e) => e.type), ['rectangle'], 'the rectangle, and nothing else, is on the saved whiteboard');
    await ana.context.close();
  });
});
