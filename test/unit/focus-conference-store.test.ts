// Focus's conference records in the key-value store (src/focus/conference-store.ts), on a MemoryKeyValue with a
// real Conference over a MemoryBus and a fake bridge: what is read back rebuilds the participants as they were
// (endpoint, m-lines, version; no offer outstanding); only what changed is written again; a leave deletes that
// participant's record and an ended conference deletes all of them; a damaged record is skipped, not thrown.
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Json } from '../../src/bus/bus.ts';
import { MemoryKeyValue, type KeyValue } from '../../src/bus/key-value.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { Conference } from '../../src/focus/conference.ts';
import { ConferenceStore, conferenceKey, participantFromRecord, participantRecord } from '../../src/focus/conference-store.ts';
import { DEFAULT_LIMITS } from '../../src/focus/limits.ts';
import { createLogger } from '../../src/log.ts';
import { subjects, type SignalOffer } from '../../src/protocol/bus-messages.ts';
import { fakeBridge, type Call } from '../helpers/fake-bridge.ts';
import { answerFor } from '../helpers/sdp-answer.ts';

const log = createLogger('silent');

describe('focus conference store', () => {
  let bus: MemoryBus;
  let kv: MemoryKeyValue;
  let writes: string[];
  let counted: KeyValue;
  let offers: SignalOffer[];

  beforeEach(() => {
    bus = new MemoryBus();
    kv = new MemoryKeyValue({ ttlSeconds: 0, maxValueBytes: 512 * 1024 });
    writes = [];
    counted = {
      get: (k) => kv.get(k),
      put: (k, v) => (writes.push(`put ${k}`), kv.put(k, v)),
      delete: (k) => (writes.push(`delete ${k}`), kv.delete(k)),
      keys: (p) => kv.keys(p),
      update: (k, f) => kv.update(k, f),
    };
    offers = [];
    bus.subscribe(subjects.signalOffer, (o) => offers.push(o as SignalOffer));
    fakeBridge(bus, 'b1', [] as Call[]);
  });

  async function meeting(): Promise<Conference> {
    const c = new Conference({ id: 'Sala grande', bridgeId: 'b1', bus, log });
    await c.join('A', 'b1', 0, 'eu');
    await c.join('B');
    const a = offers.filter((o) => o.participantId === 'A').at(-1)!;
    await c.answer('A', a.version, answerFor(a.sdp, { audio: 11, video: 12 }, 'ua'));
    return c;
  }

  test('read back as it was, without the offer in flight', async () => {
    const c = await meeting();
    const store = new ConferenceStore(counted, log);
    await store.save(c.id, c);
    const [back, ...rest] = await new ConferenceStore(kv, log).loadAll();
    assert.equal(rest.length, 0);
    assert.deepEqual(back!.record.participants, ['A', 'B']);
    assert.deepEqual(back!.record.bridges, ['b1']);
    assert.equal(back!.record.home, 'b1');
    const a = participantFromRecord(back!.participants.find((p) => p.id === 'A')!, DEFAULT_LIMITS);
    const original = c.participants.get('A')!;
    assert.deepEqual(participantRecord(a), participantRecord(original), "A's record is what A was");
    assert.equal(a.region, 'eu');
    assert.equal(a.transport.ufrag, 'u-b1-A');
    assert.deepEqual(a.mlines, original.mlines);
    assert.equal(a.outstanding, null);
    assert.ok(a.fixedSsrcs.size > 0 && a.fixedSsrcs.get('audio')?.ssrc === 11);
  });

  test('only what changed is written again; a leave and an end delete', async () => {
    const c = await meeting();
    const store = new ConferenceStore(counted, log);
    await store.save(c.id, c);
    assert.equal(writes.length, 3, 'two participants and the record');
    writes.length = 0;
    await store.save(c.id, c);
    assert.equal(writes.length, 0, 'nothing changed: nothing written');
    await c.mute('B', 'audio', true);
    await store.save(c.id, c);
    assert.equal(writes.length, 1, "only B's record");
    writes.length = 0;
    await c.leave('B');
    await store.save(c.id, c);
    assert.ok(writes.some((w) => w.startsWith('delete part.')), "B's record deleted");
    assert.deepEqual((await new ConferenceStore(kv, log).loadAll())[0]!.record.participants, ['A']);
    await store.save(c.id, undefined);
    assert.deepEqual(await kv.keys('conf.'), []);
    assert.deepEqual(await kv.keys('part.'), []);
  });

  test('after a failed write, a participant who left and an ended conference are still deleted', async () => {
    const c = await meeting();
    let failing = false;
    const flaky: KeyValue = {
      ...counted,
      put: (k, v) => (failing ? Promise.reject(new Error('store unreachable')) : kv.put(k, v)),
      delete: (k) => (failing ? Promise.reject(new Error('store unreachable')) : kv.delete(k)),
    };
    const store = new ConferenceStore(flaky, log);
    await store.save(c.id, c);
    failing = true;
    await c.leave('B');
    await store.save(c.id, c); // B's delete fails
    failing = false;
    await store.save(c.id, c);
    assert.deepEqual((await kv.keys('part.')).length, 1, "B's record went at the next save");
    failing = true;
    await store.save(c.id, undefined); // the end's deletes fail
    failing = false;
    await store.save(c.id, undefined);
    assert.deepEqual(await kv.keys('conf.'), [], 'no ghost conference');
    assert.deepEqual(await kv.keys('part.'), []);
  });

  test('a damaged record is skipped with the others read back', async () => {
    const c = await meeting();
    await new ConferenceStore(kv, log).save(c.id, c);
    await kv.put(conferenceKey('broken'), { v: 1, id: 'broken', home: 7 } as unknown as Json);
    const back = await new ConferenceStore(kv, log).loadAll();
    assert.deepEqual(back.map((b) => b.record.id), ['Sala grande']);
  });
});
