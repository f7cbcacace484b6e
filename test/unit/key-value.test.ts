// The bus's key-value store (src/bus/key-value.ts): the same cases against MemoryBus's map and NatsBus's
// JetStream bucket on a real nats-server -js, two connections as two signal processes would be; what one
// wrote survives its connection and the NATS server's restart; a server that stalls while a bucket is opened
// delays the open; only a server without JetStream falls back to memory.
// Then signal's RoomState on top: resume tokens and chat history seen by a second "instance".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Bus } from '../../src/bus/bus.ts';
import { KeyValueFullError, MEMORY_KEY_VALUE_MAX_ENTRIES, MemoryKeyValue, type KeyValue } from '../../src/bus/key-value.ts';
import { itemKey, SharedRoomItems } from '../../src/signal/shared-room-items.ts';
import type { Room } from '../../src/signal/rooms.ts';
import { z } from 'zod';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { RoomState, newResumeToken } from '../../src/signal/room-state.ts';
import { keptLog } from '../helpers/kept-log.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';

const log = pino({ level: 'silent' });
const OPTS = { ttlSeconds: 3600, maxValueBytes: 4096 };

function contract(name: string, open: () => Promise<{ a: KeyValue; b: KeyValue; durable: boolean; close(): Promise<void> }>) {
  describe(`key-value store: ${name}`, () => {
    let a: KeyValue;
    let b: KeyValue;
    let close: () => Promise<void>;
    let n = 0;
    const key = (what: string) => `t.${what}.${++n}`;
    before(async () => {
      ({ a, b, close } = await open());
    });
    after(() => close());

    test('what one writes the other reads; delete removes it', async () => {
      const k = key('put');
      assert.equal(await b.get(k), undefined);
      await a.put(k, { who: 'Ana', n: 1 });
      const e = await b.get(k);
      assert.deepEqual(e?.value, { who: 'Ana', n: 1 });
      assert.ok((e?.revision ?? 0) > 0);
      await b.delete(k);
      assert.equal(await a.get(k), undefined);
    });

    test('keys lists by prefix, without deleted ones', async () => {
      const p = `t.keys${++n}`;
      await a.put(`${p}.x`, 1);
      await a.put(`${p}.y`, 2);
      await a.put(`${p}x.z`, 3);
      await a.delete(`${p}.y`);
      assert.deepEqual((await b.keys(`${p}.`)).sort(), [`${p}.x`]);
    });

    test('concurrent updates from both sides lose nothing', async () => {
      const k = key('cas');
      const append = (kv: KeyValue, v: number) => kv.update(k, (old) => [...((old as number[] | undefined) ?? []), v]);
      await Promise.all([1, 2, 3, 4, 5, 6].map((v) => append(v % 2 ? a : b, v)));
      const list = (await a.get(k))?.value as number[];
      assert.deepEqual([...list].sort(), [1, 2, 3, 4, 5, 6]);
      await a.update(k, () => undefined);
      assert.equal(await b.get(k), undefined);
      await b.update(k, () => ['again']); // after a delete marker
      assert.deepEqual((await a.get(k))?.value, ['again']);
    });

    test('bad keys and oversized values are refused with a reason', async () => {
      await assert.rejects(a.put('has space', 1), /bad key-value key/);
      await assert.rejects(a.put('a..b', 1), /bad key-value key/);
      await assert.rejects(a.get('émoji'), /bad key-value key/);
      await assert.rejects(a.put(key('big'), 'x'.repeat(5000)), /over the store's 4096/);
    });
  });
}

contract('one process (MemoryBus)', async () => {
  const bus = new MemoryBus();
  const a = (await bus.keyValue('kv-test', OPTS)).store;
  const b = (await bus.keyValue('kv-test', OPTS)).store;
  return { a, b, durable: false, close: () => bus.close() };
});

let nats: NatsServer;
const buses: Bus[] = [];
async function natsBus(url: string): Promise<NatsBus> {
  const bus = await NatsBus.connect({ url, log, reconnectWaitMs: 200 });
  buses.push(bus);
  return bus;
}

describe('JetStream', () => {
  before(async () => {
    nats = await startNatsServer({ jetstream: true });
  });
  after(async () => {
    for (const b of buses) await b.close();
    await nats?.stop();
  });

  contract('NATS JetStream bucket, two connections', async () => {
    const one = await natsBus(nats.url);
    const two = await natsBus(nats.url);
    const a = await one.keyValue('kv_test', OPTS);
    const b = await two.keyValue('kv_test', OPTS);
    assert.ok(a.durable && b.durable);
    return { a: a.store, b: b.store, durable: true, close: async () => {} };
  });

  test('values outlive the connection that wrote them and a NATS server restart', async () => {
    const writer = await natsBus(nats.url);
    await (await writer.keyValue('kv_restart', OPTS)).store.put('room.1', { chat: ['hola'] });
    await writer.close();
    await nats.restart();
    const reader = await natsBus(nats.url);
    const { store, durable } = await reader.keyValue('kv_restart', OPTS);
    assert.ok(durable);
    assert.deepEqual((await store.get('room.1'))?.value, { chat: ['hola'] });
  });

  test('a bucket opened while the server stalls (its JetStream calls time out) is opened once it answers, not kept in memory', async () => {
    const { log: seen, lines } = keptLog('warn');
    const bus = await NatsBus.connect({ url: nats.url, log: seen, reconnectWaitMs: 200 });
    buses.push(bus);
    nats.pause(true);
    let opened: Awaited<ReturnType<NatsBus['keyValue']>>;
    try {
      const opening = bus.keyValue('kv_stalled', OPTS);
      // JetStream's API calls time out after 5 s: at least one failed open, then the server answers again
      await waitFor(async () => lines.some((l) => l.includes('trying again')));
      nats.pause(false);
      opened = await opening;
    } finally {
      nats.pause(false);
    }
    assert.equal(opened.durable, true, lines.join(''));
    await opened.store.put('k.1', 'after the stall');
    const other = await natsBus(nats.url);
    assert.equal((await (await other.keyValue('kv_stalled', OPTS)).store.get('k.1'))?.value, 'after the stall');
  });

  test('a bucket with a byte cap refuses writes past it (KeyValueFullError) until entries go; an older bucket gets the cap', async () => {
    const bus = await natsBus(nats.url);
    // made without a cap (as an older version did), then opened with one: the cap is applied
    await (await bus.keyValue('kv_full', OPTS)).store.put('f.old', 'x');
    const { store } = await bus.keyValue('kv_full', { ...OPTS, maxBytes: 16 * 1024 });
    const value = 'v'.repeat(3000);
    let refused: unknown;
    for (let i = 0; i < 20 && !refused; i++) await store.put(`f.${i}`, value).catch((e: unknown) => (refused = e));
    assert.ok(refused instanceof KeyValueFullError, `refused as full: ${String(refused)}`);
    await assert.rejects(store.update('f.0', () => value), KeyValueFullError);
    for (const k of await store.keys('f.')) await store.delete(k);
    // deletes leave markers; with history 1 the old values' bytes are gone: writing works again
    await waitFor(async () => (await store.put('f.again', 'small').then(() => true, () => false)));
  });

  test('shared room items: two instances change one item at once, neither change is lost; the other re-reads it', async () => {
    const one = new SharedRoomItems((await natsBus(nats.url).then((b) => b.keyValue('kv_items', OPTS))).store, log);
    const two = new SharedRoomItems((await natsBus(nats.url).then((b) => b.keyValue('kv_items', OPTS))).store, log);
    const heard: (string[] | undefined)[] = [];
    one.define({ name: 'tags', schema: z.array(z.string()) });
    two.define({ name: 'tags', schema: z.array(z.string()), loaded: (_room, v) => heard.push(v as string[] | undefined) });
    const roomA = { key: 'sala-items', name: 'Sala', members: new Map() } as unknown as Room;
    const roomB = { key: 'sala-items', name: 'Sala', members: new Map() } as unknown as Room;
    const add = (tag: string) => (old: string[] | undefined) => [...(old ?? []), tag];
    await Promise.all([...['a1', 'a2', 'a3'].map((t) => one.change(roomA, 'tags', add(t))), ...['b1', 'b2', 'b3'].map((t) => two.change(roomB, 'tags', add(t)))]);
    assert.deepEqual(one.get<string[]>(roomA, 'tags'), ['a1', 'a2', 'a3'], 'the cache has its own changes at once');
    await two.reload(roomB, 'tags');
    assert.deepEqual([...(two.get<string[]>(roomB, 'tags') ?? [])].sort(), ['a1', 'a2', 'a3', 'b1', 'b2', 'b3']);
    assert.deepEqual([...(heard.at(-1) ?? [])].sort(), ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'], 'its loaded hook was told');
    // forgetting the room removes the item everywhere
    one.forgetRoom('sala-items');
    await waitFor(async () => {
      await two.reload(roomB, 'tags');
      return two.get(roomB, 'tags') === undefined;
    });
  });

  test('shared room items: a change whose write failed is not rolled back by a read; it is written once the store answers', async () => {
    const inner = new MemoryKeyValue(OPTS);
    let down = false;
    const check = () => {
      if (down) throw new Error('store unreachable');
    };
    const flaky: KeyValue = {
      get: async (k) => (check(), inner.get(k)),
      put: async (k, v) => (check(), inner.put(k, v)),
      delete: async (k) => (check(), inner.delete(k)),
      keys: async (p) => (check(), inner.keys(p)),
      update: async (k, f) => (check(), inner.update(k, f)),
    };
    const items = new SharedRoomItems(flaky, log);
    items.define({ name: 'flag', schema: z.boolean() });
    const room = { key: 'sala-unsaved', name: 'Sala', members: new Map() } as unknown as Room;
    await items.change(room, 'flag', () => false);
    down = true;
    await items.change(room, 'flag', () => true); // fails: kept here only
    down = false;
    await items.refresh(room); // a join: the store still says false
    assert.equal(items.get(room, 'flag'), true, 'not rolled back to the stored value');
    const stored = await inner.get(itemKey('flag', 'sala-unsaved'));
    assert.equal(stored?.value, true, 'written again once the store answered');
  });

  test('shared room items: a read answered late never overwrites a newer value; a join reads after what is already running', async () => {
    // a store whose reads take their value when asked and answer when let go (a slow reply, or replies out of order)
    const inner = new MemoryKeyValue(OPTS);
    let hold = false;
    const held: (() => void)[] = [];
    const slow: KeyValue = {
      get: async (k) => {
        const value = await inner.get(k);
        if (hold) await new Promise<void>((r) => held.push(r));
        return value;
      },
      put: (k, v) => inner.put(k, v),
      delete: (k) => inner.delete(k),
      keys: (p) => inner.keys(p),
      update: (k, f) => inner.update(k, f),
    };
    const items = new SharedRoomItems(slow, log);
    items.define({ name: 'subject', schema: z.string() });
    items.define({ name: 'polls', schema: z.array(z.string()) });
    const room = { key: 'sala-order', name: 'Sala', members: new Map() } as unknown as Room;
    const elsewhere = (name: string, value: unknown) => inner.put(itemKey(name, 'sala-order'), value as string);
    const tick = () => new Promise((r) => setImmediate(r));

    // the room made here: its first read is slow (the store is empty when it asks)
    hold = true;
    const first = items.load(room);
    await tick();
    assert.equal(held.length, 2, 'both items asked');
    hold = false;
    // meanwhile another instance sets both, and a member joins here: the joiner's read starts after the first
    await elsewhere('subject', 'Plan');
    await elsewhere('polls', ['¿Viernes?']);
    const join = items.refresh(room);
    let told: unknown;
    items.whenLoaded(room, () => (told = [items.get(room, 'subject'), items.get(room, 'polls')]));
    for (const release of held.splice(0)) release();
    await first;
    await join;
    await tick();
    assert.deepEqual(told, ['Plan', ['¿Viernes?']], 'the joiner is told what was stored before it joined');

    // an announcement's read is slow; a newer one (the next announcement) answers first: the older answer is dropped
    hold = true;
    const older = items.reload(room, 'subject');
    await tick();
    hold = false;
    await elsewhere('subject', 'Plan B');
    await items.reload(room, 'subject');
    assert.equal(items.get(room, 'subject'), 'Plan B');
    for (const release of held.splice(0)) release();
    await older;
    assert.equal(items.get(room, 'subject'), 'Plan B', 'not rolled back by the older answer');

    // a change here while a read is on its way: the read's answer (older) does not undo it
    hold = true;
    const reading = items.reload(room, 'subject');
    await tick();
    hold = false;
    await items.change(room, 'subject', () => 'Plan C');
    for (const release of held.splice(0)) release();
    await reading;
    assert.equal(items.get(room, 'subject'), 'Plan C');
    assert.equal((await inner.get(itemKey('subject', 'sala-order')))?.value, 'Plan C');
  });

  test('shared room items: a change announced after a recent join here (its read came first) is told to that joiner only', async () => {
    const store = new MemoryKeyValue(OPTS);
    const items = new SharedRoomItems(store, log);
    const told: string[] = [];
    items.define<string>({ name: 'subject', schema: z.string(), tell: (m, v) => told.push(`${m.id}:${v ?? ''}`) });
    const now = Date.now();
    const member = (id: string, joinedAt: number, remote?: string) => ({ id, joinedAt, ...(remote ? { remote } : {}) });
    const room = {
      key: 'sala-tell',
      name: 'Sala',
      // a joiner of a moment ago, one here for a minute, a remote member (its own instance tells it)
      members: new Map(Object.entries({ new: member('new', now - 200), old: member('old', now - 60_000), far: member('far', now - 100, 'other') })),
    } as unknown as Room;
    await items.refresh(room); // the joins' read: nothing stored yet
    await store.put(itemKey('subject', 'sala-tell'), 'Plan'); // another instance's write lands, then it announces
    await items.reload(room, 'subject', true);
    assert.deepEqual(told, ['new:Plan']);
    await items.reload(room, 'subject', true); // announced again, nothing changed: nobody told
    await store.put(itemKey('subject', 'sala-tell'), 'Plan B');
    await items.refresh(room); // a read for a join is not an announcement: its joiner is told by the join itself
    assert.deepEqual(told, ['new:Plan']);
    await store.delete(itemKey('subject', 'sala-tell'));
    await items.reload(room, 'subject', true);
    assert.deepEqual(told, ['new:Plan', 'new:'], 'a cleared value is told too');
  });

  test("signal's RoomState: a token and the chat written by one instance are read by another", async () => {
    const one = await RoomState.open(await natsBus(nats.url), log);
    const two = await RoomState.open(await natsBus(nats.url), log);
    assert.ok(one.durable && two.durable);
    const token = newResumeToken();
    assert.match(token, /^[A-Za-z0-9_-]{32}$/);
    const record = { room: 'sala', roomName: 'Sala', participantId: 'p1', displayName: 'Ana', role: 'moderator' as const, authenticated: false };
    one.remember(token, record);
    const msg = (id: string) => ({ id, from: 'p1', fromName: 'Ana', text: `hola ${id}`, at: 1 });
    for (const id of ['m1', 'm2']) one.appendChat('sala', msg(id));
    two.appendChat('sala', msg('m3'));
    await waitFor(async () => (await two.chatHistory('sala')).length === 3);
    assert.deepEqual(await two.resume(token), record);
    assert.equal(await two.resume(newResumeToken()), undefined);
    assert.deepEqual((await one.chatHistory('sala')).map((m) => m.id).sort(), ['m1', 'm2', 'm3']);
    two.forget(token);
    two.forgetRoom('sala');
    await waitFor(async () => (await one.resume(token)) === undefined && (await one.chatHistory('sala')).length === 0);
  });
});

describe('NATS without JetStream', () => {
  let plain: NatsServer;
  let bus: NatsBus;
  before(async () => {
    plain = await startNatsServer();
    bus = await NatsBus.connect({ url: plain.url, log, reconnectWaitMs: 200 });
  });
  after(async () => {
    await bus?.close();
    await plain?.stop();
  });
  test('falls back to a store in this process and says it is not durable', async () => {
    const { store, durable } = await bus.keyValue('kv_plain', OPTS);
    assert.equal(durable, false);
    await store.put('x', 1);
    assert.deepEqual((await store.get('x'))?.value, 1);
  });
});

describe("one process's store stays bounded", () => {
  test('past its cap the oldest written entries go; one written again counts as new', async () => {
    const store = new MemoryKeyValue(OPTS);
    await store.put('k.first', 1);
    await store.put('k.second', 2);
    for (let i = 0; i < MEMORY_KEY_VALUE_MAX_ENTRIES - 2; i++) await store.put(`k.${i}`, i);
    await store.put('k.first', 'again'); // now the newest
    await store.put('k.extra', 3); // one past the cap: the oldest (k.second) goes
    assert.equal((await store.keys('k.')).length, MEMORY_KEY_VALUE_MAX_ENTRIES);
    assert.equal(await store.get('k.second'), undefined);
    assert.deepEqual((await store.get('k.first'))?.value, 'again');
    assert.deepEqual((await store.get('k.extra'))?.value, 3);
  });

  test('past its byte cap the oldest written entries go', async () => {
    const store = new MemoryKeyValue({ ...OPTS, maxBytes: 10_000 });
    for (let i = 0; i < 10; i++) await store.put(`b.${i}`, 'x'.repeat(2000));
    assert.ok(store.size() <= 10_000);
    assert.equal(await store.get('b.0'), undefined);
    assert.ok(await store.get('b.9'));
  });

  test('expired entries are gone', async () => {
    const store = new MemoryKeyValue({ ttlSeconds: 1, maxValueBytes: 4096 });
    await store.put('e.old', 1);
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 600; i++) await store.put(`e.${i}`, i); // a sweep runs among these writes
    assert.equal(await store.get('e.old'), undefined);
    assert.equal((await store.keys('e.')).length, 600);
  });
});

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in 20 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}
