// The shared whiteboard and notes on a real signal server (MemoryBus, real HTTPS + WebSocket): a Yjs update is
// applied and relayed, a late joiner gets the whole document; bad updates (not base64, not Yjs, too large), a
// document past its cap and a flood of updates are refused with clear errors and change nothing; when the
// meeting ends its notes and whiteboard are saved to the data directory, listed for the room's moderator with the
// recordings and downloaded by their one-hour link (a participant is refused the list). Plus the archive's id
// and content rules without a server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as Y from 'yjs';
import { BOARD_ELEMENTS, BOARD_NOTES, MAX_BOARD_DOC_BYTES, MAX_BOARD_UPDATE_BYTES } from '../../src/protocol/board-messages.ts';
import { archiveId, excalidrawFile } from '../../src/signal/board-archive.ts';
import { BOARD_SAVE_DELAY_MS, boardContent } from '../../src/signal/board.ts';
import { startTestSignal, type TestSignal, type WsClient } from '../helpers/signal-client.ts';
import { b64, change, docOf } from '../helpers/board-docs.ts';

function get(port: number, urlPath: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: urlPath, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

const RECT = { id: 'rect-1', type: 'rectangle', x: 10, y: 20, width: 100, height: 50, version: 3, versionNonce: 7, index: 'a0', isDeleted: false };

describe('the whiteboard and notes on signal', () => {
  let s: TestSignal;
  let ana: WsClient;
  let ben: WsClient;
  let anaDoc: Y.Doc;

  before(async () => {
    s = await startTestSignal();
  });
  after(async () => {
    await s.stop();
  });

  test('an update is applied and relayed; a late joiner gets the whole document', async () => {
    ana = s.client();
    const anaState = ana.nextOfType('board-state');
    await ana.join('Pizarra', 'Ana');
    anaDoc = docOf((await anaState).update);
    assert.equal(anaDoc.getText(BOARD_NOTES).toString(), '', 'a new room has an empty board');
    ben = s.client();
    const benState = ben.nextOfType('board-state');
    await ben.join('Pizarra', 'Ben');
    const benDoc = docOf((await benState).update);

    const update = change(anaDoc, (d) => {
      d.getText(BOARD_NOTES).insert(0, 'Agenda: budget');
      d.getMap(BOARD_ELEMENTS).set(RECT.id, JSON.stringify(RECT));
    });
    await ana.send({ type: 'board-update', update });
    const relayed = await ben.nextOfType('board-update');
    Y.applyUpdate(benDoc, Buffer.from(relayed.update, 'base64'));
    assert.equal(benDoc.getText(BOARD_NOTES).toString(), 'Agenda: budget');
    assert.ok(await ana.nothingLike((m) => m.type === 'board-update'), 'the sender does not get its own update back');

    const cleo = s.client();
    const cleoState = cleo.nextOfType('board-state');
    await cleo.join('Pizarra', 'Cleo');
    const cleoBoard = await cleoState;
    const cleoDoc = docOf(cleoBoard.update);
    assert.match(cleoBoard.board, /^rec-[0-9a-f]{16}$/, 'which board it is');
    assert.equal(cleoBoard.board, (await anaState).board, 'the same room\'s meeting is the same board');
    assert.equal(cleoDoc.getText(BOARD_NOTES).toString(), 'Agenda: budget');
    assert.deepEqual(JSON.parse(cleoDoc.getMap<string>(BOARD_ELEMENTS).get(RECT.id)!), RECT);
    cleo.close();
  });

  test('bad updates get clear errors and change nothing', async () => {
    const notBase64 = await ana.expectError({ type: 'board-update', update: 'this is not base64!' });
    assert.equal(notBase64.code, 'bad-message');
    assert.match(notBase64.message, /base64/);
    const tooLarge = await ana.expectError({ type: 'board-update', update: b64(new Uint8Array(MAX_BOARD_UPDATE_BYTES + 3)) });
    assert.equal(tooLarge.code, 'bad-message');
    assert.match(tooLarge.message, /at most/);
    const notYjs = await ana.expectError({ type: 'board-update', update: b64(new Uint8Array([200, 201, 202, 203, 204, 205, 206, 207])) });
    assert.equal(notYjs.code, 'board-bad-update');
    assert.ok(await ben.nothingLike((m) => m.type === 'board-update'), 'nothing refused is relayed');
  });

  test('a document past its cap is refused with board-full', async () => {
    const doc = new Y.Doc();
    const filler = 'x'.repeat(MAX_BOARD_UPDATE_BYTES - 200);
    let refused: any;
    for (let i = 0; i < Math.ceil(MAX_BOARD_DOC_BYTES / filler.length) + 2 && !refused; i++) {
      const update = change(doc, (d) => d.getMap(BOARD_ELEMENTS).set(`big-${i}`, filler));
      await ben.send({ type: 'board-update', update });
      refused = await ben.next((m) => m.type === 'error' || m.type === 'board-update', 500).catch(() => undefined);
      if (refused?.type !== 'error') refused = undefined;
    }
    assert.equal(refused?.code, 'board-full', 'the cap is reached and told');
    assert.match(refused.message, /KiB/);
  });

  test('a flood of updates is rate-limited', async () => {
    const flood = s.client();
    await flood.join('Flood', 'Flo');
    const doc = new Y.Doc();
    const limited = flood.next((m) => m.type === 'error' && m.code === 'rate-limited', 10_000);
    for (let i = 0; i < 100; i++) await flood.send({ type: 'board-update', update: change(doc, (d) => d.getText(BOARD_NOTES).insert(0, 'a')) });
    assert.match((await limited).message, /too many board changes/);
    flood.close();
  });

  test('when the meeting ends its board is saved, listed for the moderator and downloaded by its link', async () => {
    // (the cap test's filler entries are not elements: the saved whiteboard leaves them out)
    await ana.send({ type: 'board-update', update: change(anaDoc, (d) => d.getText(BOARD_NOTES).insert(14, ' and dates')) });
    await ben.nextOfType('board-update');
    await ana.send({ type: 'leave' });
    await ben.send({ type: 'leave' });
    const dir = path.join(s.dataDir, 'meeting-notes');
    const deadline = Date.now() + 10_000;
    while (!(existsSync(dir) && readdirSync(dir).some((n) => n.startsWith('rec-'))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const mod = s.client();
    await mod.join('Pizarra', 'Ana');
    const pupil = s.client();
    await pupil.join('Pizarra', 'Pupil');
    assert.equal((await pupil.expectError({ type: 'list-recordings' })).code, 'not-moderator');
    await mod.send({ type: 'list-recordings' });
    const { recordings } = await mod.nextOfType('recordings');
    assert.equal(recordings.length, 1);
    const entry = recordings[0];
    assert.equal(entry.room, 'Pizarra');
    assert.deepEqual(entry.files.map((f: { name: string }) => f.name), ['notes.md', 'whiteboard.excalidraw']);
    const notes = await get(s.server.httpsPort, entry.files[0].url);
    assert.equal(notes.status, 200);
    assert.equal(notes.headers['content-type'], 'text/markdown; charset=utf-8');
    assert.equal(notes.body.toString(), 'Agenda: budget and dates');
    const board = await get(s.server.httpsPort, entry.files[1].url);
    const file = JSON.parse(board.body.toString());
    assert.equal(file.type, 'excalidraw');
    assert.ok(file.elements.some((e: { id: string }) => e.id === RECT.id), 'the rectangle is on the saved whiteboard');
    assert.equal((await get(s.server.httpsPort, entry.files[0].url.replace(/t=\d+/, 't=1'))).status, 403, 'a changed link is refused');

    // the moderator may delete it, like a recording
    await mod.send({ type: 'delete-recording', recordingId: entry.recordingId });
    assert.equal((await mod.nextOfType('recording-deleted')).recordingId, entry.recordingId);
    assert.equal((await get(s.server.httpsPort, entry.files[0].url)).status, 404);
    mod.close();
    pupil.close();
  });
});

/** Sends `update` and answers the board error it provoked, or undefined (applied: checked after a round trip). */
async function boardError(c: WsClient, update: string): Promise<any> {
  await c.send({ type: 'board-update', update });
  await c.send({ type: 'no-such-type' });
  const e = await c.next((m) => m.type === 'error' && (m.code?.startsWith('board-') || /unknown message type/.test(m.message)), 10_000);
  return e.code?.startsWith('board-') ? e : undefined;
}

describe('board memory and the store', () => {
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal({ maxBoardMemoryMb: 1 });
  });
  after(async () => {
    await s.stop();
  });

  const boards = () => s.server.resourceCounts()['signal.boards'];
  const filler = 'x'.repeat(60_000);

  test('a board nobody wrote on holds no document; the first change makes one', async () => {
    const c = s.client();
    const state = c.nextOfType('board-state');
    await c.join('Vacía', 'Val');
    assert.equal(docOf((await state).update).getText(BOARD_NOTES).toString(), '');
    assert.equal(boards(), 0, 'an unused board costs no Y.Doc');
    assert.equal(await boardError(c, change(new Y.Doc(), (d) => d.getText(BOARD_NOTES).insert(0, 'hola'))), undefined);
    assert.equal(boards(), 1);
    await c.send({ type: 'leave' });
    const deadline = Date.now() + 10_000;
    while (boards() !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(boards(), 0, 'the ended meeting\'s document is let go');
    c.close();
  });

  test('all boards together stay within maxBoardMemoryMb: past it board-full, until a meeting ends', async () => {
    const writers: WsClient[] = [];
    for (const room of ['Uno', 'Dos']) {
      const w = s.client();
      await w.join(room, 'Wri');
      writers.push(w);
      const doc = new Y.Doc();
      // 8 x 60 kB: within one room's 512 KiB, two rooms near the 1 MiB budget
      for (let i = 0; i < 8; i++) assert.equal(await boardError(w, change(doc, (d) => d.getMap(BOARD_ELEMENTS).set(`f${i}`, filler))), undefined, `${room} ${i}`);
    }
    const third = s.client();
    await third.join('Tres', 'Tom');
    const doc = new Y.Doc();
    let refused: any;
    for (let i = 0; i < 4 && !refused; i++) refused = await boardError(third, change(doc, (d) => d.getMap(BOARD_ELEMENTS).set(`t${i}`, filler)));
    assert.equal(refused?.code, 'board-full', 'the process-wide budget is reached');
    assert.match(refused.message, /this server holds as many whiteboards/);
    assert.ok(s.server.resourceCounts()['signal.boardBytes'] <= 1024 * 1024);

    await writers[0]!.send({ type: 'leave' });
    const deadline = Date.now() + 10_000;
    let after: any = 'not tried';
    while (after !== undefined && Date.now() < deadline) {
      after = await boardError(third, change(new Y.Doc(), (d) => d.getText(BOARD_NOTES).insert(0, 'ya cabe')));
      if (after) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(after, undefined, 'a meeting that ended frees its share');
    for (const c of [...writers, third]) c.close();
  });

  test('a meeting that ended for good leaves no board behind: the next one of that name starts afresh', async () => {
    const ana = s.client();
    const first = ana.nextOfType('board-state');
    await ana.join('Otra vez', 'Ana');
    const firstId = (await first).board;
    assert.equal(await boardError(ana, change(new Y.Doc(), (d) => d.getText(BOARD_NOTES).insert(0, 'old notes'))), undefined);
    // left on purpose before the delayed save: the pending save must not bring the board back after the forget
    await ana.send({ type: 'leave' });
    await new Promise((r) => setTimeout(r, BOARD_SAVE_DELAY_MS + 1000));
    const ben = s.client();
    const second = ben.nextOfType('board-state');
    await ben.join('Otra vez', 'Ben');
    const board = await second;
    assert.equal(docOf(board.update).getText(BOARD_NOTES).toString(), '', 'the old notes are gone');
    assert.notEqual(board.board, firstId, 'another meeting, another board (no archive id collision)');
    ana.close();
    ben.close();
  });

  test('a dropped connection keeps the board for the participant coming back', async () => {
    const ana = s.client();
    await ana.join('Vuelta', 'Ana');
    assert.equal(await boardError(ana, change(new Y.Doc(), (d) => d.getText(BOARD_NOTES).insert(0, 'kept'))), undefined);
    ana.ws.terminate();
    const deadline = Date.now() + 10_000;
    while (s.server.resourceCounts()['signal.rooms'] !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const ben = s.client();
    const state = ben.nextOfType('board-state');
    await ben.join('Vuelta', 'Ben');
    assert.equal(docOf((await state).update).getText(BOARD_NOTES).toString(), 'kept', 'written to the store when the room emptied');
    ben.close();
  });
});

describe('board content and archive ids', () => {
  test('deleted and malformed elements are left out; the rest in drawing order', () => {
    const doc = new Y.Doc();
    const map = doc.getMap<string>(BOARD_ELEMENTS);
    map.set('b', JSON.stringify({ id: 'b', index: 'a2' }));
    map.set('a', JSON.stringify({ id: 'a', index: 'a1' }));
    map.set('gone', JSON.stringify({ id: 'gone', index: 'a0', isDeleted: true }));
    map.set('bad', '{not json');
    doc.getText(BOARD_NOTES).insert(0, '# Notes');
    const content = boardContent(doc);
    assert.deepEqual(content.elements.map((e) => (e as { id: string }).id), ['a', 'b']);
    assert.equal(content.notes, '# Notes');
    assert.equal(JSON.parse(excalidrawFile(content.elements)).elements.length, 2);
  });

  test('the same board has the same id (saved again, rewritten); another meeting another', () => {
    assert.match(archiveId('room', 1), /^rec-[0-9a-f]{16}$/);
    assert.equal(archiveId('room', 1), archiveId('room', 1));
    assert.notEqual(archiveId('room', 1), archiveId('room', 2));
    assert.notEqual(archiveId('room', 1), archiveId('other', 1));
  });
});
