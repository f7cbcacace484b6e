import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isRtpOrRtcp,
  isRtcp,
  rtpHeaderLength,
  rtpPayloadEnd,
  rtpSsrc,
  rtpSeq,
  rtpTimestamp,
  rtpPayloadType,
  rtpMarker,
  setRtpSsrc,
  setRtpSeq,
  setRtpTimestamp,
  setRtpPayloadType,
  setRtpMarker,
  findHeaderExtension,
  headerExtensionLength,
  audioLevel,
  audioLevelVoice,
  seqNewer,
  seqDiff,
  headerExtensionEquals,
  renameHeaderExtensions,
} from '../../src/bridge/packet/rtp.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 7714 §16 sample RTP packet: V=2, PT=64, seq 0xf17b, ts 0x8041f8d3, ssrc 0x5501a0b2
const SAMPLE = hex('8040f17b 8041f8d3 5501a0b2 47616c6c 69612065');

test('demux: RTP, RTCP, STUN, DTLS', () => {
  assert.ok(isRtpOrRtcp(SAMPLE));
  assert.ok(!isRtcp(SAMPLE));
  const rr = hex('80c90001 11223344');
  assert.ok(isRtpOrRtcp(rr));
  assert.ok(isRtcp(rr));
  assert.ok(!isRtpOrRtcp(SAMPLE.subarray(0, 11)), 'RTP shorter than 12');
  assert.ok(!isRtpOrRtcp(SAMPLE, 11));
  assert.ok(!isRtpOrRtcp(rr.subarray(0, 7)));
  assert.ok(!isRtpOrRtcp(hex('16fefd0000000000000000000000')), 'DTLS');
  assert.ok(!isRtpOrRtcp(hex('000100002112a442000000000000000000000000')), 'STUN');
  assert.ok(!isRtcp(Buffer.alloc(1)));
});

test('header readers and writers', () => {
  const p = Buffer.from(SAMPLE);
  assert.equal(rtpHeaderLength(p, p.length), 12);
  assert.equal(rtpSeq(p), 0xf17b);
  assert.equal(rtpTimestamp(p), 0x8041f8d3);
  assert.equal(rtpSsrc(p), 0x5501a0b2);
  assert.equal(rtpPayloadType(p), 64);
  assert.equal(rtpMarker(p), false);
  setRtpSeq(p, 0x1234);
  setRtpTimestamp(p, 0xfedcba98);
  setRtpSsrc(p, 0xdeadbeef);
  setRtpMarker(p, true);
  setRtpPayloadType(p, 111);
  assert.equal(rtpSeq(p), 0x1234);
  assert.equal(rtpTimestamp(p), 0xfedcba98);
  assert.equal(rtpSsrc(p), 0xdeadbeef);
  assert.equal(rtpPayloadType(p), 111);
  assert.equal(rtpMarker(p), true);
  setRtpPayloadType(p, 96);
  assert.equal(rtpMarker(p), true, 'PT write keeps the marker');
  assert.equal(p.subarray(12).toString('hex'), SAMPLE.subarray(12).toString('hex'));
  // writers never write past a short buffer
  const tiny = Buffer.alloc(3);
  setRtpSsrc(tiny, 1);
  setRtpSeq(tiny, 1);
  setRtpTimestamp(tiny, 1);
  assert.deepEqual(tiny, Buffer.alloc(3));
});

test('header length with CSRCs, extension and padding', () => {
  // CC=2, X=1, ext 2 words, payload 5 bytes, padding 3
  const p = hex(`b2 60 0001 00000000 00000001 aaaaaaaa bbbbbbbb bede0002 10ff2201 02000000 0102030405 000003`);
  assert.equal(rtpHeaderLength(p, p.length), 12 + 8 + 4 + 8);
  assert.equal(rtpPayloadEnd(p, p.length), p.length - 3);
  // truncated inside the extension
  assert.equal(rtpHeaderLength(p, 30), -1);
  assert.equal(rtpHeaderLength(p, 22), -1);
  // bad padding count
  const bad = Buffer.from(p);
  bad[bad.length - 1] = 0;
  assert.equal(rtpPayloadEnd(bad, bad.length), -1);
  bad[bad.length - 1] = 200;
  assert.equal(rtpPayloadEnd(bad, bad.length), -1);
  // version 1
  const v1 = Buffer.from(SAMPLE);
  v1[0] = 0x40;
  assert.equal(rtpHeaderLength(v1, v1.length), -1);
  // len larger than the buffer is clamped
  assert.equal(rtpHeaderLength(SAMPLE.subarray(0, 11), 100), -1);
});

test('one-byte header extensions (RFC 8285) and audio level (RFC 6464)', () => {
  // ext id 1 (audio level, 1 byte: V=1 level 42), padding byte, id 3 (3 bytes)
  const p = hex(`90 6f 0001 00000000 00000001 bede0002 10aa 00 32 010203 00 0000`);
  assert.equal(rtpHeaderLength(p, p.length), 24);
  assert.equal(findHeaderExtension(p, p.length, 1), 17);
  assert.equal(headerExtensionLength(p, p.length, 1), 1);
  assert.equal(audioLevel(p, p.length, 1), 42);
  assert.equal(audioLevelVoice(p, p.length, 1), 1);
  assert.equal(findHeaderExtension(p, p.length, 3), 20);
  assert.equal(headerExtensionLength(p, p.length, 3), 3);
  assert.deepEqual(p.subarray(20, 23), hex('010203'));
  assert.equal(findHeaderExtension(p, p.length, 2), -1);
  assert.equal(audioLevel(p, p.length, 2), -1);
  assert.equal(audioLevel(SAMPLE, SAMPLE.length, 1), -1, 'no X bit');
  const silent = Buffer.from(p);
  silent[17] = 0x7f;
  assert.equal(audioLevel(silent, silent.length, 1), 127);
  assert.equal(audioLevelVoice(silent, silent.length, 1), 0);
  // element that runs past the extension block
  const over = hex(`90 6f 0001 00000000 00000001 bede0001 1faabbcc`);
  assert.equal(findHeaderExtension(over, over.length, 1), -1);
});

test('two-byte header extensions', () => {
  const p = hex(`90 60 0001 00000000 00000001 10000002 0102 aabb 00 2001 cc 00`);
  assert.equal(findHeaderExtension(p, p.length, 1), 18);
  assert.equal(headerExtensionLength(p, p.length, 1), 2);
  assert.equal(findHeaderExtension(p, p.length, 0x20), 23);
  assert.equal(headerExtensionLength(p, p.length, 0x20), 1);
  assert.equal(findHeaderExtension(p, p.length, 5), -1);
  assert.equal(audioLevel(p, p.length, 0x20), 0x4c);
});

test('sequence arithmetic', () => {
  assert.ok(seqNewer(1, 0));
  assert.ok(seqNewer(0, 65535));
  assert.ok(!seqNewer(65535, 0));
  assert.ok(!seqNewer(5, 5));
  assert.ok(seqNewer(100, 65000));
  assert.equal(seqDiff(1, 0), 1);
  assert.equal(seqDiff(0, 65535), 1);
  assert.equal(seqDiff(65535, 0), -1);
  assert.equal(seqDiff(10, 65530), 16);
  assert.equal(seqDiff(65530, 10), -16);
  assert.equal(seqDiff(7, 7), 0);
  assert.equal(seqDiff(32768, 0), -32768);
});

// A simulcast layer packet as Chrome sends it: CC=1, one-byte extensions mid (id 4, "1"), padding byte,
// rid (id 5, "h"), repaired rid (id 6, "hq"), audio level style id 1, transport-wide seq (id 3), three padding
// bytes; then 4 payload bytes.
const LAYER_PACKET =
  '91 60 0001 00000000 00000001 cccccccc' +
  ' bede0004 4031 00 5068 616871 1011 31abcd 000000' +
  ' deadbeef';

test('headerExtensionEquals: an element holds exactly the text (rid, mid)', () => {
  const p = hex(LAYER_PACKET);
  assert.equal(rtpHeaderLength(p, p.length), 12 + 4 + 4 + 16);
  assert.equal(headerExtensionEquals(p, p.length, 4, '1'), true);
  assert.equal(headerExtensionEquals(p, p.length, 5, 'h'), true);
  assert.equal(headerExtensionEquals(p, p.length, 6, 'hq'), true);
  assert.equal(headerExtensionEquals(p, p.length, 5, 'q'), false, 'other text');
  assert.equal(headerExtensionEquals(p, p.length, 5, 'H'), false, 'case matters');
  assert.equal(headerExtensionEquals(p, p.length, 5, 'hq'), false, 'longer than the element');
  assert.equal(headerExtensionEquals(p, p.length, 6, 'h'), false, 'a prefix of the element');
  assert.equal(headerExtensionEquals(p, p.length, 5, ''), false);
  assert.equal(headerExtensionEquals(p, p.length, 7, 'h'), false, 'absent id');
  assert.equal(headerExtensionEquals(p, p.length, 0, 'h'), false);
  assert.equal(headerExtensionEquals(p, p.length, 15, 'h'), false);
  // no extension at all, truncated packets
  assert.equal(headerExtensionEquals(SAMPLE, SAMPLE.length, 5, 'h'), false);
  assert.equal(headerExtensionEquals(p, 30, 5, 'h'), false, 'cut inside the extension block');
  assert.equal(headerExtensionEquals(p.subarray(0, 30), 1000, 5, 'h'), false);
  assert.equal(headerExtensionEquals(p, 11, 5, 'h'), false);
  // two-byte header elements (profile 0x100X) are read too: id 5 = "f", id 200 = "" (zero length)
  const two = hex('90 60 0001 00000000 00000001 10000002 0501 66 00 c800 000000');
  assert.equal(headerExtensionEquals(two, two.length, 5, 'f'), true);
  assert.equal(headerExtensionEquals(two, two.length, 5, 'q'), false);
  assert.equal(headerExtensionEquals(two, two.length, 200, ''), true);
  assert.equal(headerExtensionEquals(two, two.length, 200, 'x'), false);
});

test('renameHeaderExtensions: one-byte elements with ids in the range get the new id, nothing else changes', () => {
  const p = hex(LAYER_PACKET);
  renameHeaderExtensions(p, p.length, 4, 6, 14);
  assert.deepEqual(
    p,
    hex('91 60 0001 00000000 00000001 cccccccc' + ' bede0004 e031 00 e068 e16871 1011 31abcd 000000' + ' deadbeef'),
  );
  for (const id of [4, 5, 6]) assert.equal(findHeaderExtension(p, p.length, id), -1, `id ${id} hidden`);
  assert.equal(findHeaderExtension(p, p.length, 14), 21, 'the first renamed element');
  assert.equal(headerExtensionLength(p, p.length, 1), 1, 'id 1 (below the range) untouched');
  assert.equal(findHeaderExtension(p, p.length, 3), 31, 'id 3 (below the range) untouched');
  assert.equal(rtpHeaderLength(p, p.length), 36);
  // a range that matches nothing
  const q = hex(LAYER_PACKET);
  renameHeaderExtensions(q, q.length, 7, 13, 14);
  assert.deepEqual(q, hex(LAYER_PACKET));
  // a range of one id, renamed to another
  renameHeaderExtensions(q, q.length, 3, 3, 9);
  assert.equal(findHeaderExtension(q, q.length, 3), -1);
  assert.equal(findHeaderExtension(q, q.length, 9), 31);
  assert.equal(q[30], 0x91);
});

test('renameHeaderExtensions: two-byte headers, packets without extensions and id 15 are left alone', () => {
  const two = hex('90 60 0001 00000000 00000001 10000002 0401 31 0501 66 00 000000');
  const twoCopy = Buffer.from(two);
  renameHeaderExtensions(two, two.length, 4, 6, 14);
  assert.deepEqual(two, twoCopy);
  // any other profile
  const other = hex('90 60 0001 00000000 00000001 abcd0001 40313132');
  renameHeaderExtensions(other, other.length, 1, 14, 14);
  assert.deepEqual(other, hex('90 60 0001 00000000 00000001 abcd0001 40313132'));
  // the X bit not set: the payload is not an extension block even when it looks like one
  const noX = hex('80 60 0001 00000000 00000001 bede0001 40315068');
  renameHeaderExtensions(noX, noX.length, 4, 6, 14);
  assert.deepEqual(noX, hex('80 60 0001 00000000 00000001 bede0001 40315068'));
  // id 15 ends the block: what follows is not parsed
  const stop = hex('90 60 0001 00000000 00000001 bede0002 4031 f0 5068 000000');
  renameHeaderExtensions(stop, stop.length, 4, 6, 14);
  assert.deepEqual(stop, hex('90 60 0001 00000000 00000001 bede0002 e031 f0 5068 000000'));
});

test('renameHeaderExtensions: truncated and garbage input never throws nor writes outside [0, len)', () => {
  // the block claims 4 words, len stops after the rid element's id byte: that byte is still renamed, nothing after
  const full = hex(LAYER_PACKET);
  const cut = Buffer.from(full);
  renameHeaderExtensions(cut, 24, 4, 6, 14);
  const expected = Buffer.from(full);
  expected[20] = 0xe0;
  expected[23] = 0xe0;
  assert.deepEqual(cut, expected);
  // len past the end of the buffer is clamped
  const short = full.subarray(0, 26);
  const shortCopy = Buffer.from(short);
  renameHeaderExtensions(short, 1000, 4, 6, 14);
  shortCopy[20] = 0xe0;
  shortCopy[23] = 0xe0;
  shortCopy[25] = 0xe1; // the repaired rid's id byte is inside the buffer (its data is not)
  assert.deepEqual(Buffer.from(short), shortCopy);
  assert.deepEqual(full.subarray(26), hex(LAYER_PACKET).subarray(26));
  for (const len of [0, 5, 11, 12, 15, 16, 19, 20]) {
    const b = hex(LAYER_PACKET);
    renameHeaderExtensions(b, len, 4, 6, 14);
    assert.deepEqual(b, hex(LAYER_PACKET), `len ${len}: the header stops before the first element`);
  }
  renameHeaderExtensions(Buffer.alloc(0), 0, 4, 6, 14);
  renameHeaderExtensions(Buffer.alloc(3), 100, 4, 6, 14);

  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let renamed = 0;
  for (let i = 0; i < 20000; i++) {
    const b = Buffer.alloc(rand(64));
    for (let j = 0; j < b.length; j++) b[j] = rand(256);
    if (b.length > 0 && i % 2 === 0) b[0] = 0x90 | (b[0] & 0x0f);
    if (b.length >= 14 + 4 * (b[0] & 0x0f) && i % 4 === 0) {
      const x = 12 + 4 * (b[0] & 0x0f);
      b[x] = 0xbe;
      b[x + 1] = 0xde;
      if (b.length > x + 3) b[x + 2] = 0;
    }
    const len = rand(b.length + 8);
    const before = Buffer.from(b);
    assert.equal(typeof headerExtensionEquals(b, len, 1 + rand(14), 'h'), 'boolean');
    assert.deepEqual(b, before, 'headerExtensionEquals only reads');
    renameHeaderExtensions(b, len, 4, 6, 14);
    for (let j = 0; j < b.length; j++) {
      if (b[j] === before[j]) continue;
      assert.ok(j < len && j >= 16, `byte ${j} of ${b.length} (len ${len}) changed`);
      assert.equal(b[j] & 0x0f, before[j] & 0x0f, 'only an id nibble changes');
      assert.ok((before[j] >> 4) >= 4 && (before[j] >> 4) <= 6 && b[j] >> 4 === 14);
      renamed++;
    }
  }
  assert.ok(renamed > 100, `the fuzz renamed ${renamed} elements`);
});
