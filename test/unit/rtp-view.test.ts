// The parse-once RTP view (src/bridge/packet/rtp-view.ts): every field of packets with one-byte and two-byte
// header extensions, CSRCs and padding, VP8 descriptors, and malformed packets refused without throwing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpView } from '../../src/bridge/packet/rtp-view.ts';
import { findHeaderExtension, headerExtensionLength, rtpHeaderLength, rtpPayloadEnd } from '../../src/bridge/packet/rtp.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const VP8_PT = 96;

test('a plain header: every field', () => {
  const v = new RtpView(VP8_PT);
  // V=2, M=1, PT=111, seq 0xf17b, ts 0x8041f8d3, ssrc 0x5501a0b2, 4 payload bytes
  const p = hex('80eff17b 8041f8d3 5501a0b2 01020304');
  assert.equal(v.parse(p, p.length), true);
  assert.equal(v.valid, true);
  assert.equal(v.headerLength, 12);
  assert.equal(v.payloadEnd, 16);
  assert.equal(v.marker, true);
  assert.equal(v.payloadType, 111);
  assert.equal(v.seq, 0xf17b);
  assert.equal(v.timestamp, 0x8041f8d3);
  assert.equal(v.ssrc, 0x5501a0b2);
  assert.equal(v.csrcCount, 0);
  assert.equal(v.padding, 0);
  assert.equal(v.extCount, 0);
  assert.equal(v.extOffset(1), -1);
  assert.equal(v.vp8Valid, false, 'not the VP8 payload type');
});

test('one-byte extensions, CSRCs and padding', () => {
  const v = new RtpView(VP8_PT, 3);
  const p = hex(
    'b160 0102 00000003 deadbeef' + // V=2 P=1 X=1 CC=1, PT 96, seq 0x0102, ts 3, ssrc
      '11111111' + // CSRC
      'bede 0003' + // one-byte profile, 3 words
      '10 85' + // id 1 (audio level), 1 byte: V=1, level 5
      '31 0102' + // id 3 (transport-wide), 2 bytes
      '00' + // padding byte between elements
      '50 68' + // id 5 (rid), 1 byte: "h"
      '00 00 00 00' + // padding to the word
      '9010 0000' + // VP8 descriptor: X, S, PID 0; I; 7-bit picture id 0x10... (see below)
      '00 00 03', // padding count 3
  );
  // fix the VP8 descriptor: X=1 S=1 (0x90), I=1 (0x80), picture id 7-bit 0x10, then payload header (keyframe: P=0)
  const vp8At = 12 + 4 + 4 + 12;
  p[vp8At] = 0x90;
  p[vp8At + 1] = 0x80;
  p[vp8At + 2] = 0x10;
  p[vp8At + 3] = 0x00;
  assert.equal(v.parse(p, p.length), true);
  assert.equal(v.csrcCount, 1);
  assert.equal(v.headerLength, vp8At);
  assert.equal(v.headerLength, rtpHeaderLength(p, p.length));
  assert.equal(v.padding, 3);
  assert.equal(v.payloadEnd, p.length - 3);
  assert.equal(v.payloadEnd, rtpPayloadEnd(p, p.length));
  assert.equal(v.extProfile, 0xbede);
  assert.equal(v.extCount, 3);
  for (const id of [1, 3, 5]) {
    assert.equal(v.extOffset(id), findHeaderExtension(p, p.length, id), `id ${id}`);
    assert.equal(v.extLength(id), headerExtensionLength(p, p.length, id), `length of id ${id}`);
  }
  assert.equal(v.extOffset(2), -1);
  assert.equal(v.extOffset(0), -1);
  assert.equal(v.extOffset(300), -1);
  assert.equal(v.audioLevel(1), 5);
  assert.equal(v.extU16(3), 0x0102);
  assert.equal(v.extU16Offset(3), v.extOffset(3));
  assert.equal(v.twccOffset, v.extOffset(3), 'the transport-wide number\'s place, found once');
  assert.equal(v.extU16(1), -1, 'a 1-byte element is not a 16-bit number');
  assert.equal(v.extEquals(5, 'h'), true);
  assert.equal(v.extEquals(5, 'f'), false);
  assert.equal(v.extEquals(5, 'hh'), false);
  assert.equal(v.seq, 0x0102);
  assert.equal(v.timestamp, 3);
  assert.equal(v.ssrc, 0xdeadbeef);
  assert.equal(v.payloadType, 96);
  assert.equal(v.marker, false);
  assert.equal(v.vp8Valid, true);
  assert.equal(v.vp8.start, true);
  assert.equal(v.vp8.pictureId, 0x10);
  assert.equal(v.vp8.keyframe, true);
  assert.equal(v.vp8.headerLength, 3);

  // renaming the rid hides it, in place, using the recorded offsets
  v.renameExtensions(4, 6, 14);
  assert.equal(findHeaderExtension(p, p.length, 5), -1);
  assert.notEqual(findHeaderExtension(p, p.length, 14), -1);
  assert.equal(findHeaderExtension(p, p.length, 3), v.extOffset(3), 'others untouched');
});

test('two-byte extensions (ids above 14, empty elements)', () => {
  const v = new RtpView();
  const p = hex(
    '9060 0007 00000009 00000001' + // X=1, PT 96, seq 7
      '1000 0003' + // two-byte profile, 3 words
      '03 02 abcd' + // id 3, 2 bytes
      '2a 00' + // id 42, empty
      '00' + // padding
      'c8 03 616263' + // id 200, "abc"
      '00' + // padding
      'ff', // one payload byte
  );
  assert.equal(v.parse(p, p.length), true);
  assert.equal(v.extProfile, 0x1000);
  assert.equal(v.headerLength, 12 + 4 + 12);
  assert.equal(v.payloadEnd, p.length);
  assert.equal(v.extU16(3), 0xabcd);
  assert.equal(v.extOffset(42), 12 + 4 + 6);
  assert.equal(v.extLength(42), 0);
  assert.equal(v.extEquals(200, 'abc'), true);
  assert.equal(v.extOffset(200), findHeaderExtension(p, p.length, 200));
  assert.equal(v.vp8Valid, false, 'no VP8 payload type given');
  // two-byte headers are never renamed
  const before = Buffer.from(p);
  v.renameExtensions(1, 255, 14);
  assert.deepEqual(p, before);
});

test('a reused view forgets the previous packet\'s extensions', () => {
  const v = new RtpView(-1, 3);
  const withExt = hex('9060 0001 00000001 00000001 bede 0001 31 0102 00');
  const without = hex('8060 0002 00000001 00000001 ff');
  assert.equal(v.parse(withExt, withExt.length), true);
  assert.equal(v.extU16(3), 0x0102);
  assert.equal(v.parse(without, without.length), true);
  assert.equal(v.extU16(3), -1);
  assert.equal(v.twccOffset, -1);
  assert.equal(v.extCount, 0);
});

test('stop id 15 and a truncated element end the element list, the packet stays valid', () => {
  const v = new RtpView();
  const stop = hex('9060 0001 00000001 00000001 bede 0001 10 05 f0 00');
  assert.equal(v.parse(stop, stop.length), true);
  assert.equal(v.audioLevel(1), 5);
  assert.equal(v.extCount, 1);
  // id 3 claims 4 data bytes, the block has 3 left
  const cut = hex('9060 0001 00000001 00000001 bede 0001 10 05 33 00');
  assert.equal(v.parse(cut, cut.length), true);
  assert.equal(v.extOffset(3), -1);
  assert.equal(v.extOffset(1), findHeaderExtension(cut, cut.length, 1));
});

test('malformed packets are refused without throwing', () => {
  const v = new RtpView(VP8_PT);
  const good = hex('9060 0001 00000001 00000001 bede 0001 31 0102 00 90800000');
  const cases: Array<[string, Buffer, number]> = [
    ['shorter than 12 bytes', good, 11],
    ['empty', Buffer.alloc(0), 0],
    ['version 1', Buffer.concat([Buffer.from([0x50]), good.subarray(1)]), good.length],
    ['CSRCs past the end', hex('8f60 0001 00000001 00000001 00000000'), 16],
    ['extension header past the end', hex('9060 0001 00000001 00000001 bede'), 14],
    ['extension block past the end', hex('9060 0001 00000001 00000001 bede 0004 31 0102 00'), 20],
    ['padding count 0', hex('a060 0001 00000001 00000001 ff 00'), 14],
    ['padding longer than the payload', hex('a060 0001 00000001 00000001 ff 09'), 14],
    ['len beyond the buffer, then truncated', good.subarray(0, 10), 40],
  ];
  for (const [name, buf, len] of cases) {
    assert.doesNotThrow(() => v.parse(buf, len), name);
    assert.equal(v.parse(buf, len), false, name);
    assert.equal(v.valid, false, name);
    assert.equal(v.extOffset(3), -1, `${name}: nothing left from before`);
  }
  // a VP8 packet whose descriptor is cut short is a valid RTP packet with no VP8 info
  const cutVp8 = hex('8060 0001 00000001 00000001 80');
  assert.equal(v.parse(cutVp8, cutVp8.length), true);
  assert.equal(v.vp8Valid, false);
  // padding-only (a probe): valid, empty payload
  const probe = hex('a060 0001 00000001 00000001 0000 03');
  assert.equal(v.parse(probe, probe.length), true);
  assert.equal(v.payloadEnd, v.headerLength);
  // random bytes never throw
  const r = Buffer.alloc(64);
  for (let i = 0; i < 2000; i++) {
    for (let k = 0; k < r.length; k++) r[k] = (Math.random() * 256) | 0;
    r[0] = 0x80 | (r[0] & 0x3f);
    const len = (Math.random() * 65) | 0;
    const ok = v.parse(r, len);
    if (ok) {
      assert.ok(v.headerLength <= v.payloadEnd && v.payloadEnd <= len);
      assert.equal(v.headerLength, rtpHeaderLength(r, len));
    }
  }
});
