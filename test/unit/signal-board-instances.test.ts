// The whiteboard and notes with two signal instances over a real nats-server with JetStream (board-sync.ts,
// board-store.ts): a change made on one instance is applied by the other's document (its late joiners get the
// whole board) and reaches each browser once; two writers of the store merge rather than overwrite; and a
// meeting that ended for good, on both instances, leaves no board in the store for the next one of that name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { BOARD_ELEMENTS, BOARD_NOTES } from '../../src/protocol/board-messages.ts';
import { roomKey } from '../../src/protocol/signal-messages.ts';
import { BOARD_SAVE_DELAY_MS } from '../../src/signal/board.ts';
import { BoardStore, boardKey, BOARD_STORE_BUCKET, BOARD_STORE_MAX_BYTES, BOARD_STORE_MAX_VALUE_BYTES, BOARD_STORE_TTL_SECONDS, storedBoardSchema } from '../../src/signal/board-store.ts';
import { change, docOf } from '../helpers/board-docs.ts';
import { createLogger } from '../../src/log.ts';
import { participantsOn, SignalInstances, until, type SignalInstance as Instance } from '../helpers/signal-instances.ts';

const log = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');

const RECT = { id: 'rect-1', type: 'rectangle', x: 1, y: 2, width: 30, height: 40, index: 'a0', isDeleted: false };

describe('the whiteboard and notes across signal instances', () => {
  let cluster: SignalInstances;
  const boardStore = async () => (await cluster.focusBus.keyValue(BOARD_STORE_BUCKET, { ttlSeconds: BOARD_STORE_TTL_SECONDS, maxValueBytes: BOARD_STORE_MAX_VALUE_BYTES, maxBytes: BOARD_STORE_MAX_BYTES })).store;

  before(async () => {
    cluster = new SignalInstances(log);
    await cluster.start();
    for (const name of ['one', 'two']) await cluster.add(name);
  });
  after(async () => {
    await cluster?.stop();
  });

  test("a change on one instance is in the other's document: its late joiners get the whole board, each browser it once", async () => {
    const [one, two] = cluster.instances as [Instance, Instance];
    const ana = one.client();
    const anaState = ana.nextOfType('board-state');
    await ana.join('Tablero', 'Ana');
    const anaDoc = docOf((await anaState).update);
    await participantsOn(two, 1);
    const ben = two.client();
    const benState = ben.nextOfType('board-state');
    await ben.join('Tablero', 'Ben');
    const benDoc = docOf((await benState).update);
    await participantsOn(one, 2);

    await ana.send({ type: 'board-update', update: change(anaDoc, (d) => d.getText(BOARD_NOTES).insert(0, 'desde uno')) });
    Y.applyUpdate(benDoc, Buffer.from((await ben.nextOfType('board-update', 20_000)).update, 'base64'));
    assert.equal(benDoc.getText(BOARD_NOTES).toString(), 'desde uno');
    assert.ok(await ben.nothingLike((m) => m.type === 'board-update'), 'once (not also forwarded as a stand-in message)');

    const cleo = two.client();
    const cleoState = cleo.nextOfType('board-state');
    await cleo.join('Tablero', 'Cleo');
    assert.equal(docOf((await cleoState).update).getText(BOARD_NOTES).toString(), 'desde uno', "the other instance's late joiner has it");

    await ben.send({ type: 'board-update', update: change(benDoc, (d) => d.getMap(BOARD_ELEMENTS).set(RECT.id, JSON.stringify(RECT))) });
    await ana.nextOfType('board-update', 20_000);
    assert.ok(await ana.nothingLike((m) => m.type === 'board-update'), 'once');
    const dana = one.client();
    const danaState = dana.nextOfType('board-state');
    await dana.join('Tablero', 'Dana');
    const danaDoc = docOf((await danaState).update);
    assert.equal(danaDoc.getText(BOARD_NOTES).toString(), 'desde uno');
    assert.deepEqual(JSON.parse(danaDoc.getMap<string>(BOARD_ELEMENTS).get(RECT.id)!), RECT);

    // an instance that takes the room up later asks the others for what the store does not have yet
    const three = await cluster.add('three');
    await participantsOn(three, 4);
    const eve = three.client();
    const eveState = eve.nextOfType('board-state');
    await eve.join('Tablero', 'Eve');
    const eveDoc = docOf((await eveState).update);
    await until(async () => {
      const u = await eve.next((m) => m.type === 'board-update', 1000).catch(() => undefined);
      if (u) Y.applyUpdate(eveDoc, Buffer.from(u.update, 'base64'));
      return eveDoc.getText(BOARD_NOTES).toString() === 'desde uno' && eveDoc.getMap(BOARD_ELEMENTS).has(RECT.id);
    }, 'the third instance has the whole board');
    for (const c of [ana, ben, cleo, dana, eve]) await c.send({ type: 'leave' });
    for (const i of [one, two, three]) await participantsOn(i, 0);
  });

  test('two writers of one board in the store merge their states rather than overwrite', async () => {
    const a = await BoardStore.open(cluster.instances[0]!.bus, log);
    const b = await BoardStore.open(cluster.instances[1]!.bus, log);
    const key = roomKey('Fusión');
    const docA = new Y.Doc();
    docA.getText(BOARD_NOTES).insert(0, 'A wrote this');
    const docB = new Y.Doc();
    docB.getMap(BOARD_ELEMENTS).set(RECT.id, JSON.stringify(RECT));
    await Promise.all([a.save(key, Y.encodeStateAsUpdate(docA), 1000), b.save(key, Y.encodeStateAsUpdate(docB), 2000)]);
    const stored = await a.read(key);
    assert.ok(stored, 'stored');
    const doc = docOf(stored.update);
    assert.equal(doc.getText(BOARD_NOTES).toString(), 'A wrote this');
    assert.ok(doc.getMap(BOARD_ELEMENTS).has(RECT.id), "B's element too");
    assert.ok(stored.startedAt === 1000 || stored.startedAt === 2000, 'the first writer says when it began');
    a.forget(key);
    await a.flush();
    assert.equal(await b.read(key), undefined, 'forgotten');
  });

  test('a meeting that ended for good on both instances leaves no board in the store', async () => {
    const [one, two] = cluster.instances as [Instance, Instance];
    const store = await boardStore();
    const key = boardKey(roomKey('Final'));
    const ana = one.client();
    await ana.join('Final', 'Ana');
    await participantsOn(two, 1);
    const ben = two.client();
    const benState = ben.nextOfType('board-state');
    await ben.join('Final', 'Ben');
    const firstId = (await benState).board;
    await participantsOn(one, 2);
    await ben.send({ type: 'board-update', update: change(new Y.Doc(), (d) => d.getText(BOARD_NOTES).insert(0, 'borrar')) });
    await ana.nextOfType('board-update', 20_000); // both instances have it, and a save pending
    // Ana leaves first (instance one keeps the room for Ben's stand-in), then Ben: the meeting ended for good
    await ana.send({ type: 'leave' });
    await participantsOn(two, 1);
    await ben.send({ type: 'leave' });
    await participantsOn(one, 0);
    await participantsOn(two, 0);
    // no pending save written back after the forget (past when it was due)
    await new Promise((r) => setTimeout(r, BOARD_SAVE_DELAY_MS + 2000));
    await until(async () => storedBoardSchema.safeParse((await store.get(key))?.value).success === false, 'the board forgotten in the store');

    const cleo = one.client();
    const cleoState = cleo.nextOfType('board-state');
    await cleo.join('Final', 'Cleo');
    const board = await cleoState;
    assert.equal(docOf(board.update).getText(BOARD_NOTES).toString(), '', 'the next meeting of that name starts afresh');
    assert.notEqual(board.board, firstId, 'with a board of its own');
    await cleo.send({ type: 'leave' });
  });
});
