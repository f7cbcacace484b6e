// The media workers' packet ring: order, wrap-around, full ring, size limit, a view from the other side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketRing, RING_SLOT_SIZE } from '../../src/bridge/workers/packet-ring.ts';

test('packet ring: FIFO across wrap-around, overflow counted, oversized refused', () => {
  const producer = new PacketRing(undefined, 4);
  const consumer = new PacketRing(producer.sab); // what the other worker builds from the shared memory
  const views = consumer.slotViews();
  const got: Array<[number, number, string]> = [];
  const take = (conf: number, ssrc: number, packet: Buffer, len: number) => got.push([conf, ssrc, packet.toString('utf8', 0, len)]);
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 3; i++) assert.ok(producer.push(round, 1000 + i, Buffer.from(`r${round}p${i}`), 4));
    assert.equal(consumer.drain(take, views), 3);
  }
  assert.equal(got.length, 15);
  assert.deepEqual(got[13], [4, 1001, 'r4p1']);
  for (let i = 0; i < 4; i++) assert.ok(producer.push(9, i, Buffer.from('full'), 4));
  assert.equal(producer.push(9, 4, Buffer.from('over'), 4), false);
  assert.equal(producer.overflows, 1);
  assert.equal(producer.push(9, 5, Buffer.alloc(RING_SLOT_SIZE), RING_SLOT_SIZE), false, 'larger than a slot');
  assert.equal(consumer.drain(take, views), 4);
  assert.equal(consumer.waitForData() !== null, true, 'empty: the consumer would sleep');
  producer.push(1, 2, Buffer.from('x'), 1);
  assert.equal(consumer.waitForData(), null, 'data waiting: no sleep');
  assert.throws(() => new PacketRing(undefined, 3), RangeError);
});

test('packet ring: a sleeping consumer wakes on flush', async () => {
  const ring = new PacketRing(undefined, 8);
  const wait = ring.waitForData();
  assert.ok(wait);
  ring.push(1, 1, Buffer.from('a'), 1);
  ring.flush();
  assert.equal(await wait, 'ok');
});
