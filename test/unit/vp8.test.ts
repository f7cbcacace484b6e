import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vp8Descriptor, createVp8Info, setVp8PictureId, setVp8Tl0PicIdx } from '../../src/bridge/packet/vp8.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// 12 bytes of RTP header in front, so payloadOffset = 12
const RTP = Buffer.alloc(12);
const withRtp = (payload: string): Buffer => Buffer.concat([RTP, hex(payload)]);

test('minimal descriptor, keyframe start of partition 0', () => {
  const info = createVp8Info();
  // S=1 PID=0, VP8 payload header byte with P=0 (key frame): 0x10 then 0x00 ...
  const p = withRtp('10 504200 9d012a'); // frame tag (P=0) then the key frame start code
  assert.ok(vp8Descriptor(p, 12, p.length, info));
  assert.equal(info.start, true);
  assert.equal(info.partitionId, 0);
  assert.equal(info.pictureId, -1);
  assert.equal(info.pictureIdLength, 0);
  assert.equal(info.tl0PicIdx, -1);
  assert.equal(info.tid, -1);
  assert.equal(info.keyIdx, -1);
  assert.equal(info.headerLength, 1);
  assert.equal(info.keyframe, true);
  // P=1: inter frame
  const q = withRtp('10 01');
  assert.ok(vp8Descriptor(q, 12, q.length, info));
  assert.equal(info.keyframe, false);
  // not the start: never a keyframe
  const r = withRtp('00 00');
  assert.ok(vp8Descriptor(r, 12, r.length, info));
  assert.equal(info.start, false);
  assert.equal(info.keyframe, false);
});

test('full descriptor: X, I with 15-bit picture id, L, T, K (RFC 7741 §4.2)', () => {
  const info = createVp8Info();
  // X=1 S=1 PID=0 | I L T K | M=1 pid=0x1234 | TL0PICIDX=0x56 | TID=2 Y=1 KEYIDX=5 | payload header P=0
  const p = withRtp('90 f0 9234 56 a5 00');
  assert.ok(vp8Descriptor(p, 12, p.length, info));
  assert.equal(info.start, true);
  assert.equal(info.pictureId, 0x1234);
  assert.equal(info.pictureIdLength, 15);
  assert.equal(info.tl0PicIdx, 0x56);
  assert.equal(info.tid, 2);
  assert.equal(info.layerSync, true);
  assert.equal(info.keyIdx, 5);
  assert.equal(info.headerLength, 6);
  assert.equal(info.keyframe, true);

  assert.ok(setVp8PictureId(p, 12, 0x7ffe));
  assert.ok(vp8Descriptor(p, 12, p.length, info));
  assert.equal(info.pictureId, 0x7ffe);
  assert.ok(setVp8PictureId(p, 12, 0x8001), 'wraps mod 2^15');
  assert.ok(vp8Descriptor(p, 12, p.length, info));
  assert.equal(info.pictureId, 1);
  assert.equal(info.pictureIdLength, 15);
  assert.ok(setVp8Tl0PicIdx(p, 12, 0x99));
  assert.ok(vp8Descriptor(p, 12, p.length, info));
  assert.equal(info.tl0PicIdx, 0x99);
  assert.equal(info.tid, 2, 'unchanged');
});

test('7-bit picture id keeps its width; T without K; K without T', () => {
  const info = createVp8Info();
  const p = withRtp('80 a0 7f 40 01'); // X | I,T | M=0 pid=127 | TID=1 | not start
  assert.ok(vp8Descriptor(p, 12, p.length, info));
  assert.equal(info.pictureId, 127);
  assert.equal(info.pictureIdLength, 7);
  assert.equal(info.tid, 1);
  assert.equal(info.keyIdx, -1);
  assert.equal(info.tl0PicIdx, -1);
  assert.ok(setVp8PictureId(p, 12, 130));
  assert.ok(vp8Descriptor(p, 12, p.length, info));
  assert.equal(info.pictureId, 2);
  assert.equal(info.pictureIdLength, 7);
  assert.equal(setVp8Tl0PicIdx(p, 12, 1), false, 'no TL0PICIDX');

  const k = withRtp('80 10 1f 00'); // X | K | KEYIDX=31
  assert.ok(vp8Descriptor(k, 12, k.length, info));
  assert.equal(info.tid, -1);
  assert.equal(info.keyIdx, 31);
  assert.equal(setVp8PictureId(k, 12, 5), false, 'no picture id');
});

test('truncated descriptors return false and never read past payloadEnd', () => {
  const info = createVp8Info();
  const p = withRtp('90 f0 9234 56 a5 00');
  for (let end = 12; end < p.length; end++) {
    assert.equal(vp8Descriptor(p, 12, end, info), false, `end=${end}`);
  }
  assert.equal(vp8Descriptor(p, 12, 11, info), false);
  assert.equal(vp8Descriptor(p, -1, p.length, info), false);
  assert.equal(vp8Descriptor(p, 12, 1000, info), true, 'payloadEnd is clamped to the buffer');
  assert.equal(setVp8PictureId(Buffer.from([0x80]), 0, 1), false);
  assert.equal(setVp8PictureId(Buffer.from([0x80, 0x80, 0x80]), 0, 1), false);
  assert.equal(setVp8Tl0PicIdx(Buffer.from([0x80, 0x40]), 0, 1), false);
});
