import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  forEachRtcp,
  forEachNack,
  forEachFir,
  firSsrcs,
  forEachByeSsrc,
  forEachReportBlock,
  rtcpSenderSsrc,
  fbMediaSsrc,
  srSsrc,
  srRtpTimestamp,
  writePli,
  writeFir,
  writeNack,
  writeRemb,
  writeRr,
  parseRemb,
  rembBitrate,
  isRemb,
  RTCP_SR,
  RTCP_RR,
  RTCP_SDES,
  RTCP_BYE,
  RTCP_RTPFB,
  RTCP_PSFB,
  FMT_NACK,
  FMT_PLI,
  FMT_FIR,
  FMT_REMB,
} from '../../src/bridge/packet/rtcp.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('constants', () => {
  assert.deepEqual([RTCP_SR, RTCP_RR, RTCP_SDES, RTCP_BYE, RTCP_RTPFB, RTCP_PSFB], [200, 201, 202, 203, 205, 206]);
  assert.deepEqual([FMT_NACK, FMT_PLI, FMT_FIR, FMT_REMB], [1, 1, 4, 15]);
});

test('compound iteration: SR with one report block + SDES + BYE', () => {
  const sr = hex(`81c8000c 4d617273 e0000000 00000001 0000e930 00000010 00000400
                  11223344 05000007 0000f17b 00000020 00000000 00000000`);
  const sdes = hex('81ca0003 4d617273 01046162 63640000');
  const bye = hex('82cb0002 4d617273 11111111');
  const pkt = Buffer.concat([sr, sdes, bye]);
  const seen: Array<[number, number, number, number]> = [];
  assert.equal(forEachRtcp(pkt, pkt.length, (o, l, pt, fmt) => seen.push([o, l, pt, fmt])), true);
  assert.deepEqual(seen, [
    [0, 52, RTCP_SR, 1],
    [52, 16, RTCP_SDES, 1],
    [68, 12, RTCP_BYE, 2],
  ]);
  assert.equal(srSsrc(pkt, 0), 0x4d617273);
  assert.equal(rtcpSenderSsrc(pkt, 52), 0x4d617273);
  assert.equal(srRtpTimestamp(pkt, 0), 0x0000e930);
  const blocks: number[] = [];
  forEachReportBlock(pkt, 0, 52, (b) => blocks.push(b));
  assert.deepEqual(blocks, [28]);
  assert.equal(pkt.readUInt32BE(28), 0x11223344);
  const byes: number[] = [];
  forEachByeSsrc(pkt, 68, 12, (s) => byes.push(s));
  assert.deepEqual(byes, [0x4d617273, 0x11111111]);

  // truncated: stops and returns false after the complete packets
  const seen2: number[] = [];
  assert.equal(forEachRtcp(pkt, pkt.length - 1, (o) => seen2.push(o)), false);
  assert.deepEqual(seen2, [0, 52]);
  assert.equal(forEachRtcp(pkt, 2, () => assert.fail()), false);
  const badVersion = Buffer.from(pkt);
  badVersion[52] = 0x41;
  assert.equal(forEachRtcp(badVersion, badVersion.length, () => {}), false);
});

test('PLI and FIR writers', () => {
  const out = Buffer.alloc(64, 0xee);
  assert.equal(writePli(out, 4, 0x01020304, 0x0a0b0c0d), 12);
  assert.deepEqual(out.subarray(4, 16), hex('81ce0002 01020304 0a0b0c0d'));
  let n = 0;
  forEachRtcp(out.subarray(4), 12, (o, l, pt, fmt) => {
    n++;
    assert.equal(pt, RTCP_PSFB);
    assert.equal(fmt, FMT_PLI);
    assert.equal(fbMediaSsrc(out.subarray(4), o), 0x0a0b0c0d);
  });
  assert.equal(n, 1);
  assert.equal(writePli(out, 60, 1, 2), 0, 'no room');

  assert.equal(writeFir(out, 0, 0x01020304, 0x0a0b0c0d, 7), 20);
  assert.deepEqual(out.subarray(0, 20), hex('84ce0004 01020304 00000000 0a0b0c0d 07000000'));
  assert.deepEqual(firSsrcs(out, 0, 20), [0x0a0b0c0d]);
  const firs: Array<[number, number]> = [];
  forEachFir(out, 0, 20, (s, q) => firs.push([s, q]));
  assert.deepEqual(firs, [[0x0a0b0c0d, 7]]);
});

test('NACK writer packs PID/BLP and the reader expands them', () => {
  const out = Buffer.alloc(100);
  const seqs = [100, 101, 103, 116, 117, 200, 65535, 0, 5];
  // 65535 -> 0 -> 5 wrap around
  const n = writeNack(out, 0, 0x11, 0x22, seqs, seqs.length);
  // pairs: [100 + 101,103,116], [117], [200], [65535 + 0,5]
  assert.equal(n, 12 + 4 * 4);
  assert.equal(out[0], 0x80 | FMT_NACK);
  assert.equal(out[1], RTCP_RTPFB);
  assert.equal(out.readUInt16BE(2), n / 4 - 1);
  assert.deepEqual(out.subarray(12, 16), hex('0064 8005'));
  const got: number[] = [];
  forEachNack(out, 0, n, (s) => got.push(s));
  assert.deepEqual(got, seqs);
  assert.equal(fbMediaSsrc(out, 0), 0x22);
  assert.equal(rtcpSenderSsrc(out, 0), 0x11);
  // count limits and no room
  assert.equal(writeNack(out, 0, 1, 2, seqs, 1), 16);
  assert.equal(writeNack(out, 0, 1, 2, seqs, 0), 0);
  assert.equal(writeNack(Buffer.alloc(20), 0, 1, 2, [1, 100, 200], 3), 0);
  assert.equal(writeNack(out, 0, 1, 2, new Uint16Array([7, 8, 9]), 3), 16);
  // a NACK from libwebrtc-style bytes: PID 0x1234, BLP 0x0003 -> 0x1234, 0x1235, 0x1236
  const nack = hex('81cd0003 00000001 00000002 12340003');
  const g2: number[] = [];
  forEachNack(nack, 0, 16, (s) => g2.push(s));
  assert.deepEqual(g2, [0x1234, 0x1235, 0x1236]);
});

test('REMB writer and parser', () => {
  const out = Buffer.alloc(100);
  const n = writeRemb(out, 0, 0xabcdef01, 1_500_000, [0x1111, 0x2222]);
  assert.equal(n, 28);
  assert.equal(out[0], 0x80 | FMT_REMB);
  assert.equal(out[1], RTCP_PSFB);
  assert.equal(out.readUInt16BE(2), 6);
  assert.ok(isRemb(out, 0, n));
  const r = parseRemb(out, 0, n)!;
  assert.deepEqual(r.ssrcs, [0x1111, 0x2222]);
  // mantissa is 18 bits: exact up to rounding down by < 2^exp
  assert.ok(r.bitrate <= 1_500_000 && r.bitrate > 1_500_000 - 8);
  assert.equal(rembBitrate(out, 0, n), r.bitrate);
  const small = writeRemb(out, 0, 1, 100_000, []);
  assert.equal(parseRemb(out, 0, small)!.bitrate, 100_000);
  writeRemb(out, 0, 1, 5e12, [1]);
  assert.ok(parseRemb(out, 0, 24)!.bitrate > 4.99e12);
  // hand-built: 'REMB', 1 SSRC, exp=2, mantissa=0x3ffff
  const hand = hex('8fce0005 00000001 00000000 52454d42 010bffff 00000042');
  assert.deepEqual(parseRemb(hand, 0, hand.length), { bitrate: 0x3ffff * 4, ssrcs: [0x42] });
  assert.equal(parseRemb(hand, 0, 20), null, 'ssrc list past length');
  assert.equal(parseRemb(hex('8fce0004 00000001 00000000 41424344 00000000'), 0, 20), null, 'not REMB');
  assert.equal(writeRemb(Buffer.alloc(20), 0, 1, 1, [1]), 0);
});

test('empty RR', () => {
  const out = Buffer.alloc(8);
  assert.equal(writeRr(out, 0, 0x01020304), 8);
  assert.deepEqual(out, hex('80c90001 01020304'));
  assert.equal(writeRr(out, 1, 1), 0);
});
