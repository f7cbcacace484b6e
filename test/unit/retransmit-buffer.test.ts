// The retransmission buffer sized by need (src/bridge/retransmit-buffer.ts): small for a low-rate stream, grown
// (keeping what it holds) while it wraps around in less than RTX_HISTORY_MS, up to RTX_SLOTS; grown for a keyframe
// that did not fit; its bytes packed back to back in a ring that grows the same way. Time is the caller's clock, given to store(): no waiting, no timing asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetransmitBuffer, RTX_HISTORY_MS, RTX_MAX_BYTES, RTX_MIN_BYTES, RTX_MIN_SLOTS, RTX_SLOTS } from '../../src/bridge/retransmit-buffer.ts';

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
  assert.equal(rb.slotCount, RTX_MIN_SLOTS);
  feed(rb, 65500, 1000, 25, 0); // a thumbnail layer: 64 packets last 2.5 s
  assert.equal(rb.slotCount, RTX_MIN_SLOTS);
  const last = (65500 + 999) & 0xffff;
  const i = rb.find(last);
  assert.ok(i >= 0);
  assert.equal(rb.lengths[i], 1100);
  const out = Buffer.alloc(1500);
  assert.equal(rb.copyTo(i, out), 1100);
  assert.equal(out.readUInt16BE(2), last);
  assert.equal(rb.find((last - RTX_MIN_SLOTS) & 0xffff), -1, 'older than the buffer: gone');
});

test(`a faster stream grows until the buffer holds ${RTX_HISTORY_MS} ms, keeping every packet it held`, () => {
  const rb = new RetransmitBuffer();
  feed(rb, 0, 3000, 150, 0); // a 1280 layer: ~150 packets/s
  const n = rb.slotCount;
  assert.ok(n > RTX_MIN_SLOTS && n <= RTX_SLOTS, `grew to ${n}`);
  assert.ok((n / 150) * 1000 >= RTX_HISTORY_MS, 'holds at least the history');
  assert.ok((n / 2 / 150) * 1000 < RTX_HISTORY_MS, 'not more than needed');
  // everything of the last second is there, across the resizes (the bytes also hold at least the history)
  for (let seq = 3000 - 150; seq < 3000; seq++) assert.ok(rb.find(seq) >= 0, `seq ${seq}`);
  assert.ok(rb.byteCapacity >= 150 * 1100, 'the ring holds the history too');
  assert.ok(rb.byteCapacity <= 1.5 * 150 * 1100, `and not much more (${rb.byteCapacity} bytes)`);
  // a very fast stream stops at the most slots
  feed(rb, 3000, 5000, 5000, 100_000);
  assert.equal(rb.slotCount, RTX_SLOTS);
});

test('a keyframe longer than the buffer reserves room for the next one; packets held survive the growth', () => {
  const rb = new RetransmitBuffer();
  feed(rb, 100, 12, 10, 0);
  rb.reserve(150);
  assert.equal(rb.slotCount, 256);
  assert.ok(rb.byteCapacity >= 150 * 1100, 'and the bytes for it');
  for (let seq = 100; seq < 112; seq++) assert.ok(rb.find(seq) >= 0);
  rb.reserve(100_000);
  assert.equal(rb.slotCount, RTX_SLOTS, 'never past the most slots');
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

/** Stores `count` packets of `len` bytes from seq `first` at `perSecond`, starting at `startMs`; returns the next time. */
function feedSized(rb: RetransmitBuffer, first: number, count: number, perSecond: number, startMs: number, len: (seq: number) => number): number {
  let t = startMs;
  for (let k = 0; k < count; k++, t += 1000 / perSecond) {
    const seq = (first + k) & 0xffff;
    const p = packet(seq, len(seq));
    rb.store(seq, p, p.length, t);
  }
  return t;
}

test('packets take their own length: a thumbnail layer keeps the smallest ring; a packet overwritten by newer bytes is gone', () => {
  const rb = new RetransmitBuffer();
  assert.equal(rb.byteCapacity, 0, 'no bytes before the first packet (a worker that only mirrors the source)');
  assert.equal(rb.find(0), -1);
  feedSized(rb, 0, 2000, 30, 0, () => 300); // ~70 kbit/s of 300-byte packets
  assert.equal(rb.byteCapacity, RTX_MIN_BYTES);
  const out = Buffer.alloc(1500);
  for (let seq = 2000 - Math.floor(RTX_MIN_BYTES / 300); seq < 2000; seq++) {
    const i = rb.find(seq);
    assert.ok(i >= 0, `seq ${seq}`);
    assert.equal(rb.copyTo(i, out), 300);
    assert.equal(out.readUInt16BE(2), seq);
    assert.equal(out[299], seq & 0xff);
  }
  // full-size packets slowly (no growth): the ring holds fewer packets than the index, and says so
  const slow = new RetransmitBuffer();
  feedSized(slow, 0, 64, 1, 0, () => 1400);
  const held = Math.floor(RTX_MIN_BYTES / 1400);
  for (let seq = 64 - held + 1; seq < 64; seq++) assert.ok(slow.find(seq) >= 0, `seq ${seq}`);
  assert.equal(slow.find(0), -1, 'overwritten by newer bytes');
  assert.equal(slow.find(64 - held - 2), -1);
});

test('the ring grows while it wraps in less than the history, keeping every packet of varied sizes across the doublings', () => {
  const rb = new RetransmitBuffer();
  const len = (seq: number) => 200 + ((seq * 7919) % 1300); // 200..1499 bytes
  feedSized(rb, 60000, 4000, 150, 0, len); // wraps the 16-bit numbers too
  assert.ok(rb.byteCapacity > RTX_MIN_BYTES && rb.byteCapacity <= RTX_MAX_BYTES, `${rb.byteCapacity}`);
  const out = Buffer.alloc(1500);
  let held = 0;
  for (let k = 4000 - rb.slotCount; k < 4000; k++) {
    const seq = (60000 + k) & 0xffff;
    const i = rb.find(seq);
    if (i < 0) continue;
    held++;
    assert.equal(rb.copyTo(i, out), len(seq));
    assert.equal(out.readUInt16BE(2), seq);
    assert.equal(out[len(seq) - 1], seq & 0xff);
  }
  assert.ok(held >= 150, `holds at least a second of the stream (${held} packets)`);
  // a keyframe reserve grows the bytes too; held packets survive it
  const before = rb.byteCapacity;
  rb.reserve(RTX_SLOTS);
  assert.ok(rb.byteCapacity >= before);
  const last = (60000 + 3999) & 0xffff;
  assert.ok(rb.find(last) >= 0);
  assert.equal(rb.copyTo(rb.find(last), out), len(last));
  assert.ok(rb.byteCapacity <= RTX_MAX_BYTES);
});

test('a keyframe burst into a small ring does not pass for the stream rate: the ring grows at most twice at a time', () => {
  const rb = new RetransmitBuffer();
  // a 60-packet keyframe within 30 ms, then a 150 kbit/s stream of 600-byte packets (~31 packets/s)
  feedSized(rb, 0, 60, 2000, 0, () => 1100);
  assert.ok(rb.byteCapacity <= 4 * RTX_MIN_BYTES, `after the burst: ${rb.byteCapacity}`);
  feedSized(rb, 60, 600, 31, 30, () => 600);
  assert.ok(rb.byteCapacity <= 4 * RTX_MIN_BYTES, `a thumbnail's ring stays small: ${rb.byteCapacity}`);
});
