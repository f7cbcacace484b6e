// The VP8 payload descriptor (src/bridge/packet/vp8.ts, RFC 7741 §4.2): descriptors built by the test with every
// optional field combination at an arbitrary payload offset, then mutated, and raw bytes. Checked: each field
// reads back, the picture id and TL0PICIDX setters change exactly their bytes (and read back, keeping the
// picture id's width); on any bytes the descriptor stays inside the payload, nothing past the payload's end is
// read, and the setters never change the length or write outside the descriptor.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as vp8 from '../../../src/bridge/packet/vp8.ts';
import { bytes, hexBytes, hexBytesMostlyShort, mutate, mutations, u16, u8, type Mutation } from '../bytes.ts';
import { pureTarget } from '../harness.ts';

interface Vp8Spec {
  /** Bytes before the descriptor (where an RTP header would be). */
  prefix: string;
  nonReference: boolean;
  start: boolean;
  partitionId: number;
  /** The X byte's fields; null: no extension byte. */
  ext: { pictureId: { value: number; long: boolean } | null; tl0: number | null; tid: { tid: number; sync: boolean } | null; keyIdx: number | null } | null;
  /** The first byte of the VP8 payload header (its low bit: 0 = key frame), then the rest. */
  payload: string;
}

export interface Vp8Input {
  packet: { spec: Vp8Spec } | { raw: string; offset: number };
  ops: Mutation[];
  newPictureId: number;
  newTl0: number;
}

const vp8Spec: fc.Arbitrary<Vp8Spec> = fc.record({
  prefix: fc.oneof(fc.constant(''), hexBytes(12, 12), hexBytesMostlyShort(40)),
  nonReference: fc.boolean(),
  start: fc.boolean(),
  partitionId: fc.oneof(fc.constant(0), fc.nat({ max: 7 })),
  ext: fc.option(
    fc.record({
      pictureId: fc.option(fc.record({ value: fc.nat({ max: 0x7fff }), long: fc.boolean() })),
      tl0: fc.option(u8),
      tid: fc.option(fc.record({ tid: fc.nat({ max: 3 }), sync: fc.boolean() })),
      keyIdx: fc.option(fc.nat({ max: 31 })),
    }),
  ),
  payload: hexBytes(1, 40),
});

function build(s: Vp8Spec): { buf: Buffer; offset: number; headerLength: number } {
  const d: number[] = [(s.ext ? 0x80 : 0) | (s.nonReference ? 0x20 : 0) | (s.start ? 0x10 : 0) | s.partitionId];
  const e = s.ext;
  if (e) {
    d.push((e.pictureId ? 0x80 : 0) | (e.tl0 !== null ? 0x40 : 0) | (e.tid ? 0x20 : 0) | (e.keyIdx !== null ? 0x10 : 0));
    if (e.pictureId) {
      if (e.pictureId.long) d.push(0x80 | (e.pictureId.value >> 8), e.pictureId.value & 0xff);
      else d.push(e.pictureId.value & 0x7f);
    }
    if (e.tl0 !== null) d.push(e.tl0);
    if (e.tid || e.keyIdx !== null) d.push(((e.tid?.tid ?? 0) << 6) | (e.tid?.sync ? 0x20 : 0) | (e.keyIdx ?? 0));
  }
  const prefix = bytes(s.prefix);
  return { buf: Buffer.concat([prefix, Buffer.from(d), bytes(s.payload)]), offset: prefix.length, headerLength: d.length };
}

function checkBuilt(s: Vp8Spec, buf: Buffer, offset: number, headerLength: number, newPictureId: number, newTl0: number): void {
  const info = vp8.createVp8Info();
  assert.equal(vp8.vp8Descriptor(buf, offset, buf.length, info), true);
  const e = s.ext;
  const pid = e?.pictureId ?? null;
  assert.deepEqual(info, {
    start: s.start,
    partitionId: s.partitionId,
    pictureId: pid === null ? -1 : pid.long ? pid.value : pid.value & 0x7f,
    pictureIdLength: pid === null ? 0 : pid.long ? 15 : 7,
    tl0PicIdx: e?.tl0 ?? -1,
    tid: e?.tid ? e.tid.tid : -1,
    layerSync: e?.tid ? e.tid.sync : false,
    keyIdx: e?.keyIdx ?? -1,
    keyframe: s.start && s.partitionId === 0 && (bytes(s.payload)[0]! & 1) === 0,
    headerLength,
    nonReference: s.nonReference,
  });
  const c = Buffer.from(buf);
  assert.equal(vp8.setVp8PictureId(c, offset, newPictureId), pid !== null);
  assert.equal(vp8.setVp8Tl0PicIdx(c, offset, newTl0), e !== null && e.tl0 !== null);
  const after = vp8.createVp8Info();
  assert.equal(vp8.vp8Descriptor(c, offset, c.length, after), true);
  assert.deepEqual(
    after,
    {
      ...info,
      pictureId: pid === null ? -1 : pid.long ? newPictureId & 0x7fff : newPictureId & 0x7f,
      tl0PicIdx: e?.tl0 == null ? -1 : newTl0 & 0xff,
    },
    'a setter changed more than its field',
  );
  assert.equal(c.subarray(offset + headerLength).equals(buf.subarray(offset + headerLength)), true, 'a setter wrote into the payload');
  assert.equal(c.subarray(0, offset).equals(buf.subarray(0, offset)), true, 'a setter wrote before the descriptor');
}

function checkAny(b: Buffer, offsets: number[], newPictureId: number, newTl0: number): void {
  const info = vp8.createVp8Info();
  for (const po of offsets) {
    for (const end of [b.length, Math.max(0, b.length - 3)]) {
      const ok = vp8.vp8Descriptor(b, po, end, info);
      const first = { ...info };
      if (ok) {
        assert.ok(po >= 0 && info.headerLength >= 1 && po + info.headerLength <= end, `descriptor ${po}+${info.headerLength} of ${end}`);
        if (info.start && info.partitionId === 0) assert.ok(po + info.headerLength < end, 'the key frame bit was read past the payload');
      }
      // nothing past `end` is read
      assert.equal(vp8.vp8Descriptor(b.subarray(0, Math.min(end, b.length)), po, end, info), ok);
      assert.deepEqual(info, first, 'the descriptor read past the payload end');
    }
    const c = Buffer.from(b);
    vp8.setVp8PictureId(c, po, newPictureId);
    vp8.setVp8Tl0PicIdx(c, po, newTl0);
    assert.equal(c.length, b.length);
    for (let i = 0; i < b.length; i++) {
      if (c[i] !== b[i]) assert.ok(i >= po + 2 && i <= po + 4, `a setter wrote byte ${i} of a descriptor at ${po}`);
    }
  }
}

export const vp8Target = pureTarget<Vp8Input>({
  name: 'vp8',
  about: 'VP8 payload descriptor and its picture id / TL0PICIDX setters: fields read back, setters exact, bounds',
  input: fc.record({
    packet: fc.oneof(
      { arbitrary: fc.record({ spec: vp8Spec }), weight: 4 },
      { arbitrary: fc.record({ raw: hexBytesMostlyShort(64), offset: fc.integer({ min: -2, max: 70 }) }), weight: 1 },
    ),
    ops: mutations,
    newPictureId: u16,
    newTl0: u8,
  }),
  ciRuns: 1000,
  check({ packet, ops, newPictureId, newTl0 }) {
    let b: Buffer;
    let offset: number;
    if ('spec' in packet) {
      const built = build(packet.spec);
      checkBuilt(packet.spec, built.buf, built.offset, built.headerLength, newPictureId, newTl0);
      b = built.buf;
      offset = built.offset;
    } else {
      b = bytes(packet.raw);
      offset = packet.offset;
    }
    const offsets = [offset, 0, 12, b.length - 1, b.length];
    checkAny(b, offsets, newPictureId, newTl0);
    if (ops.length > 0) checkAny(mutate(b, ops), offsets, newPictureId, newTl0);
  },
});
