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
