// The Bus contract: the same cases against MemoryBus (one process) and NatsBus (a real nats-server, the
// requester and the handler on two connections as two processes would be), so that splitting the parts
// across machines changes nothing they can observe.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { z } from 'zod';
import { type Bus, BusCallError, BusNoHandlerError, BusTimeoutError } from '../../src/bus/bus.ts';
import { callBus, failedWith, serveBus, type BusCallSpec } from '../../src/bus/typed-calls.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';

const log = pino({ level: 'silent' });

interface Pair {
  /** Publishes and requests. */
  a: Bus;
  /** Subscribes and handles (the same bus as `a` for MemoryBus). */
  b: Bus;
  close(): Promise<void>;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function contract(name: string, makePair: () => Promise<Pair>) {
  describe(`Bus contract: ${name}`, () => {
    let pair: Pair;
    let n = 0;
    /** A fresh subject per case, so cases never see each other's messages. */
    const subject = (what: string) => `contract.${what}.${++n}`;
    /**
     * After it resolves, every subscribe/unsubscribe `b` made before is in force for messages `a` sends
     * (a round trip from b's connection: the server handled b's earlier SUB/UNSUB first).
     */
    const settle = async () => {
      await pair.b.request('contract.settle', null, 5000);
    };

    before(async () => {
      pair = await makePair();
      pair.a.handle('contract.settle', () => ({ ok: true }));
      // over NATS, a's subscription reaches the server a moment later than b's first request may
      for (let i = 0; ; i++) {
        try {
          await settle();
          break;
        } catch (e) {
          if (!(e instanceof BusNoHandlerError) || i > 100) throw e;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    after(async () => {
      await pair?.close();
    });

    test('publish reaches every subscriber, each with its own copy', async () => {
      const s = subject('publish');
      const first = deferred<any>();
      const second = deferred<any>();
      pair.b.subscribe(s, (p: any) => {
        p.list.push('changed');
        first.resolve(p);
      });
      pair.b.subscribe(s, (p) => second.resolve(p));
      await settle();
      pair.a.publish(s, { list: [1, 'two', { three: 3 }], flag: true, nothing: null });
      assert.deepEqual(await first.promise, { list: [1, 'two', { three: 3 }, 'changed'], flag: true, nothing: null });
      assert.deepEqual(await second.promise, { list: [1, 'two', { three: 3 }], flag: true, nothing: null });
    });

    test('publish with no subscriber is fine', async () => {
      pair.a.publish(subject('nobody'), { x: 1 });
    });

    test('a subscriber that throws or rejects harms neither the publisher nor the other subscribers', async () => {
      const s = subject('throwing');
      const got = deferred<unknown>();
      pair.b.subscribe(s, () => {
        throw new Error('boom');
      });
      pair.b.subscribe(s, (async () => {
        throw new Error('async boom');
      }) as (p: unknown) => void);
      pair.b.subscribe(s, (p) => got.resolve(p));
      await settle();
      pair.a.publish(s, 'hello');
      assert.equal(await got.promise, 'hello');
    });

    test('after unsubscribe no more events arrive', async () => {
      const s = subject('unsub');
      const marker = subject('marker');
      const seen: unknown[] = [];
      const first = deferred<void>();
      const unsubscribe = pair.b.subscribe(s, (p) => {
        seen.push(p);
        first.resolve();
      });
      const markerSeen = deferred<void>();
      pair.b.subscribe(marker, () => markerSeen.resolve());
      await settle();
      pair.a.publish(s, 1);
      await first.promise;
      unsubscribe();
      await settle();
      pair.a.publish(s, 2);
      pair.a.publish(marker, null); // events from one publisher arrive in order
      await markerSeen.promise;
      assert.deepEqual(seen, [1]);
    });

    test('request gets the reply of a sync and of an async handler', async () => {
      const s1 = subject('sync');
      const s2 = subject('async');
      pair.b.handle(s1, (p: any) => ({ echo: p, ok: true }));
      pair.b.handle(s2, async (p: any) => {
        await new Promise((r) => setTimeout(r, 10));
        return [p.n * 2, 'ä€😀'];
      });
      await settle();
      assert.deepEqual(await pair.a.request(s1, { deep: { a: [1, null] } }), { echo: { deep: { a: [1, null] } }, ok: true });
      assert.deepEqual(await pair.a.request(s2, { n: 21 }), [42, 'ä€😀']);
    });

    test('null and undefined replies come back as they were', async () => {
      const sNull = subject('null');
      const sUndefined = subject('undefined');
      pair.b.handle(sNull, () => null);
      pair.b.handle(sUndefined, (() => undefined) as unknown as () => null);
      await settle();
      assert.equal(await pair.a.request(sNull, 1), null);
      assert.equal(await pair.a.request(sUndefined, 1), undefined);
    });

    test("a handler's thrown Error rejects the request with its message", async () => {
      const s = subject('throws');
      const sAsync = subject('rejects');
      pair.b.handle(s, () => {
        throw new Error('bad focus.join request: conferenceId: Too small');
      });
      pair.b.handle(sAsync, async () => {
        throw new Error('no conference x');
      });
      await settle();
      await assert.rejects(pair.a.request(s, {}), (e: Error) => e instanceof Error && e.message === 'bad focus.join request: conferenceId: Too small');
      await assert.rejects(pair.a.request(sAsync, {}), (e: Error) => e instanceof Error && e.message === 'no conference x');
    });

    test("a handler's own bus timeout reaches the requester as a BusTimeoutError", async () => {
      const s = subject('inner-timeout');
      pair.b.handle(s, () => {
        throw new BusTimeoutError('bridge.x.allocate', 100);
      });
      await settle();
      await assert.rejects(pair.a.request(s, {}), (e: Error) => e instanceof BusTimeoutError && e.message === 'no reply on bridge.x.allocate within 100 ms');
    });

    test('a request nobody handles fails with BusNoHandlerError', async () => {
      await assert.rejects(pair.a.request(subject('unhandled'), {}, 2000), BusNoHandlerError);
    });

    test('a handler slower than the timeout gives BusTimeoutError', async () => {
      const s = subject('slow');
      const release = deferred<void>();
      pair.b.handle(s, async () => {
        await release.promise;
        return 'late';
      });
      await settle();
      await assert.rejects(pair.a.request(s, {}, 200), BusTimeoutError);
      release.resolve();
    });

    test('one handler per subject on a bus; after it is removed nobody handles the subject', async () => {
      const s = subject('once');
      const off = pair.b.handle(s, () => 1);
      assert.throws(() => pair.b.handle(s, () => 2), /already has a handler/);
      await settle();
      assert.equal(await pair.a.request(s, null), 1);
      off();
      await settle();
      await assert.rejects(pair.a.request(s, null, 2000), BusNoHandlerError);
      // and it can be handled again
      pair.b.handle(s, () => 3);
      await settle();
      assert.equal(await pair.a.request(s, null), 3);
    });

    test('the handler gets its own copy of the payload', async () => {
      const s = subject('copy');
      pair.b.handle(s, (p: any) => {
        p.x.push(2);
        return p;
      });
      await settle();
      const sent = { x: [1] };
      assert.deepEqual(await pair.a.request(s, sent), { x: [1, 2] });
      assert.deepEqual(sent, { x: [1] });
    });

    test('typed calls: both sides check the shapes, and error codes arrive as sent', async () => {
      const n = subject('typed');
      const spec: BusCallSpec<typeof echoRequest, typeof echoReply, 'not-found' | 'conflict'> = {
        subject: (target) => `${n}.${target}`,
        request: echoRequest,
        reply: echoReply,
        errors: ['not-found', 'conflict'],
      };
      serveBus(pair.b, spec, 'one', (req) => {
        if (req.name === 'ghost') throw new BusCallError('not-found', 'no ghost here');
        if (req.name === 'rude') throw new BusCallError('limit', 'a code this call does not declare');
        if (req.name === 'broken') throw new TypeError('a bug');
        if (req.name === 'liar') return { greeting: 42 } as unknown as { greeting: string };
        return { greeting: `hello ${req.name}` };
      });
      await settle();
      assert.deepEqual(await callBus(pair.a, spec, 'one', { name: 'Ana' }), { greeting: 'hello Ana' });
      const code = async (name: string) => {
        try {
          await callBus(pair.a, spec, 'one', { name });
          return 'no error';
        } catch (e) {
          assert.ok(e instanceof BusCallError, `a BusCallError, got ${(e as Error).name}`);
          return `${e.code}: ${e.message}`;
        }
      };
      assert.equal(await code('ghost'), 'not-found: no ghost here');
      assert.match(await code('rude'), /^internal: a code this call does not declare/);
      assert.match(await code('broken'), /^internal: .*a bug/);
      assert.match(await code('liar'), /^internal: .*the handler built a bad reply: greeting/);
      // what a requester on the far side sends without the typed layer is checked on arrival
      await assert.rejects(pair.a.request(spec.subject('one'), { name: 7 }), (e: unknown) => e instanceof BusCallError && e.code === 'bad-request' && /name/.test(e.message));
      // and the requester refuses to send what the schema does not allow
      await assert.rejects(callBus(pair.a, spec, 'one', { name: '' }), (e: unknown) => e instanceof BusCallError && /this side built a bad request/.test(e.message));
      assert.ok(failedWith(spec, new BusCallError('conflict', 'x'), 'conflict'));
    });
  });
}

const echoRequest = z.object({ name: z.string().min(1) });
const echoReply = z.object({ greeting: z.string() });

contract('MemoryBus', async () => {
  const bus = new MemoryBus();
  return { a: bus, b: bus, close: () => bus.close() };
});

let server: NatsServer | undefined;
contract('NatsBus', async () => {
  server = await startNatsServer();
  const a = await NatsBus.connect({ url: server.url, log, firstConnectTimeoutMs: 10_000 });
  const b = await NatsBus.connect({ url: server.url, log, firstConnectTimeoutMs: 10_000 });
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await server?.stop();
    },
  };
});
