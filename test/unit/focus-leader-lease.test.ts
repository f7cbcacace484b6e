// The focus leader lease (src/focus/leader-lease.ts), the same cases on one process's MemoryKeyValue and on a
// JetStream bucket of a real nats-server -js reached by separate connections (as separate focus processes):
// several start at once and exactly one leads; a standby takes over only once the leader stops renewing (its
// link to the store cut: the old leader steps down first); a released lease is taken at once; a leader whose
// lease another took steps down; a damaged lease value counts as no lease.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Json } from '../../src/bus/bus.ts';
import { MemoryKeyValue, type KeyValue } from '../../src/bus/key-value.ts';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { LeaderLease, leaseValueOf } from '../../src/focus/leader-lease.ts';
import { waitFor } from '../helpers/fake-browser.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';

const log = pino({ level: 'silent' });
const TTL = 600;
const OPTS = { ttlSeconds: 0, maxValueBytes: 4096 };

/**
 * A store whose link can be cut (every call fails), as a focus that lost NATS sees it, or made to hang (calls never
 * answer, as over a link that went silent before the client's timeouts).
 */
function cuttable(inner: KeyValue): { store: KeyValue; cut(on: boolean): void; hang(on: boolean): void } {
  let down = false;
  let hanging = false;
  const check = async () => {
    if (down) throw new Error('link down');
    if (hanging) await new Promise(() => {});
  };
  const store: KeyValue = {
    get: async (k) => (await check(), inner.get(k)),
    put: async (k, v) => (await check(), inner.put(k, v)),
    delete: async (k) => (await check(), inner.delete(k)),
    keys: async (p) => (await check(), inner.keys(p)),
    update: async (k, f) => (await check(), inner.update(k, f)),
  };
  return { store, cut: (on) => (down = on), hang: (on) => (hanging = on) };
}

interface Racer {
  name: string;
  lease: LeaderLease;
  events: string[];
  link: { cut(on: boolean): void; hang(on: boolean): void };
}

function contract(name: string, open: () => Promise<{ stores: () => Promise<KeyValue>; close(): Promise<void> }>) {
  describe(`focus leader lease: ${name}`, () => {
    let stores: () => Promise<KeyValue>;
    let close: () => Promise<void>;
    let n = 0;
    const running: Racer[] = [];
    before(async () => {
      ({ stores, close } = await open());
    });
    after(async () => {
      for (const r of running) await r.lease.release();
      await close();
    });

    async function racers(key: string, names: string[]): Promise<Racer[]> {
      const out: Racer[] = [];
      for (const holder of names) {
        const link = cuttable(await stores());
        const events: string[] = [];
        const lease = new LeaderLease({ store: link.store, key, holder, ttlMs: TTL, log, onAcquired: (t) => events.push(`acquired ${t}`), onLost: (r) => events.push(`lost: ${r}`) });
        const r = { name: holder, lease, events, link };
        out.push(r);
        running.push(r);
      }
      for (const r of out) r.lease.start();
      return out;
    }
    const leaders = (rs: Racer[]) => rs.filter((r) => r.lease.isLeader).map((r) => r.name);

    test('several start at once: exactly one leads, and keeps leading while it renews', async () => {
      const rs = await racers(`lease.race${++n}`, ['f1', 'f2', 'f3']);
      await waitFor('a leader', () => leaders(rs).length > 0, 5000);
      const first = leaders(rs);
      assert.equal(first.length, 1);
      // three lease times: the standbys see the value change at every renewal, so none takes over
      for (let i = 0; i < 30; i++) {
        await new Promise((r) => setTimeout(r, TTL / 10));
        assert.deepEqual(leaders(rs), first, 'one leader, always the same');
      }
    });

    test('the leader cut off from the store steps down; a standby takes over once the lease stood still', async () => {
      const [x, y] = await racers(`lease.cut${++n}`, ['fa', 'fb']);
      await waitFor('one leads', () => leaders([x!, y!]).length === 1, 5000);
      const [a, b] = x!.lease.isLeader ? [x!, y!] : [y!, x!];
      a.link.cut(true);
      await waitFor('the standby leads', () => b.lease.isLeader, 10 * TTL);
      assert.equal(a.lease.isLeader, false, 'the old leader stopped leading');
      assert.ok(a.events.some((e) => e.startsWith('lost')), `the old leader was told it lost the lease: ${a.events.join('; ')}`);
      assert.deepEqual(b.events, ['acquired 2']);
      // its link back: it stays a standby (the new leader renews)
      a.link.cut(false);
      await new Promise((r) => setTimeout(r, 2 * TTL));
      assert.deepEqual(leaders([a, b]), [b.name]);
    });

    test('a leader whose renewal hangs steps down before a standby may take over', async () => {
      const [x, y] = await racers(`lease.hang${++n}`, ['ha', 'hb']);
      await waitFor('one leads', () => leaders([x!, y!]).length === 1, 5000);
      const [a, b] = x!.lease.isLeader ? [x!, y!] : [y!, x!];
      a.link.hang(true);
      // until the standby leads, looked at every few ms: never both leading
      const deadline = Date.now() + 10 * TTL;
      while (!b.lease.isLeader) {
        assert.ok(!(a.lease.isLeader && b.lease.isLeader), 'two leaders at once');
        if (Date.now() > deadline) throw new Error(`the standby never took over: ${a.events.join('; ')}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(a.lease.isLeader, false, 'the hung leader stepped down before the standby took over');
      assert.match(a.events.at(-1)!, /lost: no renewal for \d+ ms \(a renewal hangs\)/);
    });

    test('a lone leader cut off from the store steps down and takes its lease back once the store answers', async () => {
      const [a] = await racers(`lease.back${++n}`, ['la']);
      await waitFor('it leads', () => a!.lease.isLeader, 5000);
      a!.link.cut(true);
      await waitFor('it steps down', () => !a!.lease.isLeader, 10 * TTL);
      a!.link.cut(false);
      await waitFor('it leads again', () => a!.lease.isLeader, 10 * TTL);
      assert.deepEqual(a!.events.map((e) => e.replace(/:.*/, '')), ['acquired 1', 'lost', 'acquired 2']);
    });

    test('a released lease is taken by a standby at its next read', async () => {
      const [a, b] = await racers(`lease.release${++n}`, ['ra', 'rb']);
      await waitFor('one leads', () => leaders([a!, b!]).length === 1, 5000);
      const [leader, standby] = a!.lease.isLeader ? [a!, b!] : [b!, a!];
      await leader.lease.release();
      await waitFor('the standby leads', () => standby.lease.isLeader, TTL);
      assert.equal(leader.lease.isLeader, false);
    });

    test('a leader whose lease another holder wrote steps down; a damaged value counts as no lease', async () => {
      const key = `lease.taken${++n}`;
      const store = await stores();
      await store.put(key, { holder: 7, junk: true } as unknown as Json);
      const [a] = await racers(key, ['ta']);
      await waitFor('ta leads over a damaged value', () => a!.lease.isLeader, 5000);
      await store.put(key, { holder: 'someone-else', term: 99, beat: 0 });
      await waitFor('ta steps down', () => !a!.lease.isLeader, 5000);
      assert.match(a!.events.at(-1)!, /lost: focus someone-else holds the lease now/);
      assert.deepEqual(leaseValueOf((await store.get(key))?.value), { holder: 'someone-else', term: 99, beat: 0 });
    });
  });
}

contract('one process (MemoryKeyValue)', async () => {
  const kv = new MemoryKeyValue(OPTS);
  return { stores: async () => kv, close: async () => {} };
});

let nats: NatsServer;
const buses: NatsBus[] = [];
describe('JetStream', () => {
  before(async () => {
    nats = await startNatsServer({ jetstream: true });
  });
  after(async () => {
    for (const b of buses) await b.close();
    await nats?.stop();
  });
  contract('NATS JetStream bucket, one connection per focus', async () => ({
    stores: async () => {
      const bus = await NatsBus.connect({ url: nats.url, log, reconnectWaitMs: 200 });
      buses.push(bus);
      const { store, durable } = await bus.keyValue('lease_test', OPTS);
      assert.ok(durable);
      return store;
    },
    close: async () => {},
  }));
});
