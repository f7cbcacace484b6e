// The retransmission buffer sized by need (src/bridge/retransmit-buffer.ts): small for a low-rate stream, grown
// (keeping what it holds) while it wraps around in less than RTX_HISTORY_MS, up to RTX_SLOTS; grown for a keyframe
// that did not fit. Time is the caller's clock, given to store(): no waiting, no timing asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetransmitBuffer, RTX_HISTORY_MS, RTX_MIN_SLOTS, RTX_SLOTS } from '../../src/bridge/retransmit-buffer.ts';

function packet(seq: number, len = 1100): Buffer {
  const b = Buffer.alloc(len, seq & 0xff);
  b.writeUInt16BE(seq, 2);
  return b;
}

/** Stores `count` packets from seq `first` at `perSecond`, starting at `startMs`; returns the next time. */
function feed(rb: RetransmitBuffer, first: number, count: number, perSecond: number, startMs: number): number {
  let t = startMs;
  for (let k = 0; k < count; k++, t += 1000 / perSecond) {
    const seq = (first + k) & 0xffff;
    const p = packet(seq);
    rb.store(seq, p, p.length, t);
  }
  return t;
}

test('a low-rate stream keeps the smallest buffer; packets are found by sequence number', () => {
  const rb = new RetransmitBuffer();
  assert.equal(rb.slots.length, RTX_MIN_SLOTS);
  feed(rb, 65500, 1000, 25, 0); // a thumbnail layer: 64 packets last 2.5 s
  assert.equal(rb.slots.length, RTX_MIN_SLOTS);
  const last = (65500 + 999) & 0xffff;
  const i = rb.find(last);
  assert.ok(i >= 0);
  assert.equal(rb.lengths[i], 1100);
  assert.equal(rb.slots[i].readUInt16BE(2), last);
  assert.equal(rb.find((last - RTX_MIN_SLOTS) & 0xffff), -1, 'older than the buffer: gone');
});

test(`a faster stream grows until the buffer holds ${RTX_HISTORY_MS} ms, keeping every packet it held`, () => {
  const rb = new RetransmitBuffer();
  feed(rb, 0, 3000, 150, 0); // a 1280 layer: ~150 packets/s
  const n = rb.slots.length;
  assert.ok(n > RTX_MIN_SLOTS && n <= RTX_SLOTS, `grew to ${n}`);
  assert.ok((n / 150) * 1000 >= RTX_HISTORY_MS, 'holds at least the history');
  assert.ok((n / 2 / 150) * 1000 < RTX_HISTORY_MS, 'not more than needed');
  // everything of the last n packets is there, across the resizes
  for (let seq = 3000 - n; seq < 3000; seq++) assert.ok(rb.find(seq) >= 0, `seq ${seq}`);
  // a very fast stream stops at the most slots
  feed(rb, 3000, 5000, 5000, 100_000);
  assert.equal(rb.slots.length, RTX_SLOTS);
});

test('a keyframe longer than the buffer reserves room for the next one; packets held survive the growth', () => {
  const rb = new RetransmitBuffer();
  feed(rb, 100, 40, 10, 0);
  rb.reserve(150);
  assert.equal(rb.slots.length, 256);
  for (let seq = 100; seq < 140; seq++) assert.ok(rb.find(seq) >= 0);
  rb.reserve(100_000);
  assert.equal(rb.slots.length, RTX_SLOTS, 'never past the most slots');
  rb.clear();
  assert.equal(rb.find(120), -1);
});

test('a packet larger than a slot is not kept (and does not leave a stale one behind)', () => {
  const rb = new RetransmitBuffer();
  const small = packet(7);
  rb.store(7, small, small.length, 0);
  const big = packet(7 + RTX_MIN_SLOTS, 1600);
  rb.store(7 + RTX_MIN_SLOTS, big, big.length, 1);
  assert.equal(rb.find(7), -1);
  assert.equal(rb.find(7 + RTX_MIN_SLOTS), -1);
});
