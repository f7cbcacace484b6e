// RTX (RFC 4588) packets: unwrapping a retransmission back into the original, wrapping an original as RTX,
// and the padding-only probe packets the bridge measures a receiver's bandwidth with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PROBE_PACKET, unwrapRtx, writeProbePadding, writeRtx } from '../../src/bridge/packet/rtx.ts';
import {
  findHeaderExtension,
  headerExtensionLength,
  rtpHasExtension,
  rtpHasPadding,
  rtpHeaderLength,
  rtpMarker,
  rtpPayloadEnd,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
} from '../../src/bridge/packet/rtp.ts';
import { readTransportSeq, writeTransportSeq } from '../../src/bridge/packet/twcc.ts';
import { VIDEO_PT } from '../../src/protocol/media-profile.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

interface RtpSpec {
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  marker?: boolean;
  csrcs?: number[];
  /** The whole extension block: profile (2), length in words (2), data. */
  ext?: Buffer;
  payload: Buffer;
  /** Padding bytes appended (P bit set, last byte = count). */
  padding?: number;
}

function rtp(s: RtpSpec): Buffer {
  const csrcs = s.csrcs ?? [];
  const pad = s.padding ?? 0;
  const head = Buffer.alloc(12 + 4 * csrcs.length);
  head[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (s.ext ? 0x10 : 0) | csrcs.length;
  head[1] = (s.marker ? 0x80 : 0) | s.pt;
  head.writeUInt16BE(s.seq, 2);
  head.writeUInt32BE(s.ts >>> 0, 4);
  head.writeUInt32BE(s.ssrc >>> 0, 8);
  csrcs.forEach((c, i) => head.writeUInt32BE(c >>> 0, 12 + 4 * i));
  const padding = Buffer.alloc(pad);
  if (pad > 0) padding[pad - 1] = pad;
  return Buffer.concat([head, s.ext ?? Buffer.alloc(0), s.payload, padding]);
}

const SSRC = 0x11223344;
const RTX_SSRC = 0x55667788;
/** One-byte block: mid (id 4, "0"), padding byte, rid (id 5, "hi"), transport-wide seq (id 3, 0x0102), padding. */
const EXT = hex('bede 0003  40 30  00  51 6869  31 0102  00 00 00');
const PAYLOAD = Buffer.from('the original payload, 37 bytes long!!');

function original(extra: Partial<RtpSpec> = {}): Buffer {
  return rtp({ pt: VIDEO_PT, seq: 0xbeef, ts: 0xfedcba98, ssrc: SSRC, payload: PAYLOAD, ...extra });
}

/** The RTX packet of `orig` as a sender builds it by hand (same header, RTX pt/ssrc/seq, OSN first). */
function rtxOf(orig: Buffer, seq: number, padding = 0): Buffer {
  const hl = rtpHeaderLength(orig, orig.length);
  const end = rtpPayloadEnd(orig, orig.length);
  const head = Buffer.from(orig.subarray(0, hl));
  head[0] &= ~0x20;
  if (padding > 0) head[0] |= 0x20;
  head[1] = (head[1] & 0x80) | 97;
  head.writeUInt16BE(seq, 2);
  head.writeUInt32BE(RTX_SSRC, 8);
  const pad = Buffer.alloc(padding);
  if (padding > 0) pad[padding - 1] = padding;
  return Buffer.concat([head, orig.subarray(2, 4), orig.subarray(hl, end), pad]);
}

test('unwrapRtx: OSN back as the sequence number, payload moved back, SSRC and payload type the primary\'s', () => {
  const orig = original();
  const rtx = rtxOf(orig, 7);
  assert.equal(rtx.length, orig.length + 2);
  const n = unwrapRtx(rtx, rtx.length, SSRC, 96);
  assert.equal(n, orig.length);
  assert.deepEqual(rtx.subarray(0, n), orig);
  assert.equal(rtpSeq(rtx), 0xbeef);
  assert.equal(rtpSsrc(rtx), SSRC);
  assert.equal(rtpPayloadType(rtx), 96);
  assert.equal(rtpTimestamp(rtx), 0xfedcba98);
  assert.equal(rtpMarker(rtx), false);
});

test('unwrapRtx: the marker bit is kept, the padding bit cleared and the padding dropped', () => {
  const orig = original({ marker: true });
  for (const padding of [1, 3, 200]) {
    const rtx = rtxOf(orig, 65535, padding);
    assert.ok(rtpHasPadding(rtx));
    const n = unwrapRtx(rtx, rtx.length, SSRC, 96);
    assert.equal(n, orig.length, `padding ${padding}`);
    assert.deepEqual(rtx.subarray(0, n), orig);
    assert.equal(rtpHasPadding(rtx), false);
    assert.equal(rtpMarker(rtx), true);
    assert.equal(rtpPayloadType(rtx), 96);
  }
});

test('unwrapRtx: header extensions and CSRCs stay in place', () => {
  const orig = original({ csrcs: [0xaaaaaaaa, 0x01020304], ext: EXT, marker: true });
  assert.equal(rtpHeaderLength(orig, orig.length), 12 + 8 + 16);
  const rtx = rtxOf(orig, 1234, 4);
  const n = unwrapRtx(rtx, rtx.length, SSRC, 96);
  assert.equal(n, orig.length);
  assert.deepEqual(rtx.subarray(0, n), orig);
  assert.equal(readTransportSeq(rtx, n, 3), 0x0102);
  assert.equal(findHeaderExtension(rtx, n, 5), 12 + 8 + 4 + 4);
  assert.equal(rtx.readUInt32BE(16), 0x01020304, 'CSRCs untouched');
  // the primary's SSRC and payload type are the caller's, whatever the RTX header said
  const again = rtxOf(orig, 1);
  assert.equal(unwrapRtx(again, again.length, 0xcafebabe, 100), orig.length);
  assert.equal(rtpSsrc(again), 0xcafebabe);
  assert.equal(rtpPayloadType(again), 100);
  assert.equal(rtpMarker(again), true);
  assert.deepEqual(again.subarray(12, orig.length), orig.subarray(12));
});

test('unwrapRtx: len, not the buffer length, bounds the packet', () => {
  const orig = original();
  const rtx = rtxOf(orig, 9);
  const big = Buffer.alloc(1500, 0xee);
  rtx.copy(big);
  const n = unwrapRtx(big, rtx.length, SSRC, 96);
  assert.equal(n, orig.length);
  assert.deepEqual(big.subarray(0, n), orig);
});

test('unwrapRtx: padding-only, too short and malformed packets give -1', () => {
  // padding only (a sender's bandwidth probe): no OSN
  const probe = rtp({ pt: 97, seq: 5, ts: 0, ssrc: RTX_SSRC, payload: Buffer.alloc(0), padding: 200, ext: hex('bede0001 31000000') });
  assert.equal(unwrapRtx(probe, probe.length, SSRC, 96), -1);
  const bare = rtp({ pt: 97, seq: 5, ts: 0, ssrc: RTX_SSRC, payload: Buffer.alloc(0), padding: 1 });
  assert.equal(unwrapRtx(bare, bare.length, SSRC, 96), -1);
  // one payload byte: half an OSN
  const half = rtp({ pt: 97, seq: 5, ts: 0, ssrc: RTX_SSRC, payload: Buffer.from([0x12]), padding: 10 });
  assert.equal(unwrapRtx(half, half.length, SSRC, 96), -1);
  const noPayload = rtp({ pt: 97, seq: 5, ts: 0, ssrc: RTX_SSRC, payload: Buffer.alloc(0) });
  assert.equal(unwrapRtx(noPayload, noPayload.length, SSRC, 96), -1);
  // exactly an OSN: the original had an empty payload
  const osnOnly = rtp({ pt: 97, seq: 5, ts: 77, ssrc: RTX_SSRC, payload: hex('0102') });
  assert.equal(unwrapRtx(osnOnly, osnOnly.length, SSRC, 96), 12);
  assert.equal(rtpSeq(osnOnly), 0x0102);
  assert.equal(rtpSsrc(osnOnly), SSRC);
  // shorter than a header, a truncated extension, version 1, a zero or too large padding count
  const rtx = rtxOf(original({ ext: EXT }), 3);
  assert.equal(unwrapRtx(rtx, 11, SSRC, 96), -1);
  assert.equal(unwrapRtx(rtx.subarray(0, 11), 100, SSRC, 96), -1);
  assert.equal(unwrapRtx(rtx, 20, SSRC, 96), -1, 'cut inside the extension block');
  const v1 = Buffer.from(rtx);
  v1[0] = (v1[0] & 0x3f) | 0x40;
  assert.equal(unwrapRtx(v1, v1.length, SSRC, 96), -1);
  const zeroPad = rtxOf(original(), 3, 4);
  zeroPad[zeroPad.length - 1] = 0;
  assert.equal(unwrapRtx(zeroPad, zeroPad.length, SSRC, 96), -1);
  const hugePad = rtxOf(original(), 3, 4);
  hugePad[hugePad.length - 1] = 255;
  assert.equal(unwrapRtx(hugePad, hugePad.length, SSRC, 96), -1);
  // a failed unwrap changes nothing
  const before = Buffer.from(probe);
  unwrapRtx(probe, probe.length, SSRC, 96);
  assert.deepEqual(probe, before);
});

test('writeRtx: header with the RTX pt/ssrc/seq, the OSN, then the payload', () => {
  const orig = original({ marker: true, ext: EXT, csrcs: [0x01020304] });
  const hl = rtpHeaderLength(orig, orig.length);
  const out = Buffer.alloc(1500, 0xcc);
  const n = writeRtx(orig, orig.length, out, 97, RTX_SSRC, 0x1234);
  assert.equal(n, orig.length + 2);
  assert.deepEqual(out.subarray(0, n), rtxOf(orig, 0x1234));
  assert.equal(rtpPayloadType(out), 97);
  assert.equal(rtpSsrc(out), RTX_SSRC);
  assert.equal(rtpSeq(out), 0x1234);
  assert.equal(rtpTimestamp(out), 0xfedcba98);
  assert.equal(rtpMarker(out), true, 'marker kept');
  assert.equal(out.readUInt16BE(hl), 0xbeef, 'OSN');
  assert.deepEqual(out.subarray(hl + 2, n), PAYLOAD);
  assert.deepEqual(out.subarray(0, hl).subarray(12), orig.subarray(12, hl), 'CSRCs and extensions copied');
  assert.equal(out[n], 0xcc, 'nothing written past the packet');
  assert.equal(readTransportSeq(out, n, 3), 0x0102);
  // the source is not modified
  assert.deepEqual(orig, original({ marker: true, ext: EXT, csrcs: [0x01020304] }));
});

test('writeRtx then unwrapRtx gives the original bytes back', () => {
  const cases: Buffer[] = [
    original(),
    original({ marker: true }),
    original({ ext: EXT }),
    original({ csrcs: [1, 2, 3], ext: EXT, marker: true }),
    original({ payload: Buffer.alloc(0) }),
    original({ payload: Buffer.alloc(1200, 0x5a), seq: 0 }),
    original({ seq: 0xffff, pt: 127 }),
  ];
  for (const orig of cases) {
    const out = Buffer.alloc(1500);
    const n = writeRtx(orig, orig.length, out, 97, RTX_SSRC, 42);
    assert.equal(n, orig.length + 2);
    const m = unwrapRtx(out, n, SSRC, rtpPayloadType(orig));
    assert.equal(m, orig.length);
    assert.deepEqual(out.subarray(0, m), orig);
  }
  // a padded original comes back without its padding (and without the P bit)
  const padded = original({ padding: 13, marker: true });
  const out = Buffer.alloc(1500);
  const n = writeRtx(padded, padded.length, out, 97, RTX_SSRC, 42);
  assert.equal(n, padded.length - 13 + 2);
  assert.equal(rtpHasPadding(out), false);
  const m = unwrapRtx(out, n, SSRC, 96);
  assert.deepEqual(out.subarray(0, m), original({ marker: true }));
});

test('writeRtx: -1 when it does not fit or the source is malformed', () => {
  const orig = original({ ext: EXT });
  assert.equal(writeRtx(orig, orig.length, Buffer.alloc(orig.length + 1), 97, RTX_SSRC, 1), -1);
  const exact = Buffer.alloc(orig.length + 2);
  assert.equal(writeRtx(orig, orig.length, exact, 97, RTX_SSRC, 1), orig.length + 2);
  assert.deepEqual(exact, rtxOf(orig, 1));
  // padding does not count: it is dropped
  const padded = original({ padding: 40 });
  assert.equal(writeRtx(padded, padded.length, Buffer.alloc(padded.length - 40 + 2), 97, RTX_SSRC, 1), padded.length - 38);
  const untouched = Buffer.alloc(1500, 0xab);
  assert.equal(writeRtx(orig, 11, untouched, 97, RTX_SSRC, 1), -1);
  assert.equal(writeRtx(orig, 20, untouched, 97, RTX_SSRC, 1), -1, 'truncated extension');
  const badPad = original({ padding: 4 });
  badPad[badPad.length - 1] = 0;
  assert.equal(writeRtx(badPad, badPad.length, untouched, 97, RTX_SSRC, 1), -1);
  assert.deepEqual(untouched, Buffer.alloc(1500, 0xab), 'nothing written on failure');
});

test('writeProbePadding: a valid padding-only RTP packet with a transport-wide sequence number', () => {
  const out = Buffer.alloc(1600, 0xff); // dirty slot
  const n = writeProbePadding(out, 97, RTX_SSRC, 0xabcd, 0x01020304, 3, 100);
  assert.equal(n, 100);
  assert.equal(rtpHeaderLength(out, n), 20);
  assert.equal(rtpPayloadEnd(out, n), 20, 'the payload is empty once the padding is removed');
  assert.ok(rtpHasPadding(out));
  assert.ok(rtpHasExtension(out));
  assert.equal(out[0], 0xb0, 'V=2, P, X, no CSRC');
  assert.equal(rtpMarker(out), false);
  assert.equal(rtpPayloadType(out), 97);
  assert.equal(rtpSeq(out), 0xabcd);
  assert.equal(rtpTimestamp(out), 0x01020304);
  assert.equal(rtpSsrc(out), RTX_SSRC);
  assert.deepEqual(out.subarray(12, 20), hex('bede0001 31000000'));
  assert.equal(findHeaderExtension(out, n, 3), 17);
  assert.equal(headerExtensionLength(out, n, 3), 2);
  assert.equal(out[n - 1], 80, 'padding count');
  assert.deepEqual(out.subarray(20, n - 1), Buffer.alloc(79), 'padding bytes zeroed');
  assert.equal(out[n], 0xff, 'nothing written past the packet');
  // the transport-wide sequence number is filled in later, like a forwarded packet's
  assert.equal(readTransportSeq(out, n, 3), 0);
  assert.equal(writeTransportSeq(out, n, 3, 0xfedc), true);
  assert.equal(readTransportSeq(out, n, 3), 0xfedc);
  assert.deepEqual(out.subarray(16, 20), hex('31fedc00'));
  assert.equal(rtpPayloadEnd(out, n), 20);
  // the router drops such a packet coming in: nothing to unwrap
  assert.equal(unwrapRtx(Buffer.from(out.subarray(0, n)), n, SSRC, 96), -1);
  // another extension id, the payload type's high bit masked
  const o2 = Buffer.alloc(300);
  assert.equal(writeProbePadding(o2, 0xff, 1, 0, 0xffffffff, 14, 64), 64);
  assert.equal(o2[1], 0x7f);
  assert.equal(o2[16], 0xe1);
  assert.equal(writeTransportSeq(o2, 64, 14, 7), true);
  assert.equal(readTransportSeq(o2, 64, 14), 7);
  assert.equal(readTransportSeq(o2, 64, 3), -1);
  assert.equal(rtpTimestamp(o2), 0xffffffff);
});

test('writeProbePadding: the size is clamped to 21..MAX_PROBE_PACKET', () => {
  assert.equal(MAX_PROBE_PACKET, 275);
  const cases: Array<[number, number]> = [
    [-5, 21],
    [0, 21],
    [20, 21],
    [21, 21],
    [22, 22],
    [274, 274],
    [275, 275],
    [276, 275],
    [1500, 275],
  ];
  for (const [asked, got] of cases) {
    const out = Buffer.alloc(400, 0xff);
    const n = writeProbePadding(out, 97, RTX_SSRC, 1, 2, 3, asked);
    assert.equal(n, got, `size ${asked}`);
    assert.equal(out[n - 1], got - 20, `padding count for ${asked}`);
    assert.equal(rtpHeaderLength(out, n), 20);
    assert.equal(rtpPayloadEnd(out, n), 20);
    assert.equal(readTransportSeq(out, n, 3), 0);
    assert.ok(out.subarray(20, n - 1).every((b) => b === 0));
    assert.equal(out[n], 0xff);
  }
});
