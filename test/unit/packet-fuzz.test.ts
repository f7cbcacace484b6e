// Random, mutated and truncated buffers through every per-packet parser: nothing may throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as stun from '../../src/bridge/packet/stun.ts';
import * as rtp from '../../src/bridge/packet/rtp.ts';
import * as rtcp from '../../src/bridge/packet/rtcp.ts';
import * as vp8 from '../../src/bridge/packet/vp8.ts';
import { SrtpSession, srtpKeyLengths, type SrtpProfileName } from '../../src/bridge/packet/srtp.ts';
import { rng } from '../helpers/random.ts';


const rand = rng(0xc0ffee);
const randInt = (n: number) => Math.floor(rand() * n);
function randomBytes(len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = randInt(256);
  return b;
}
function mutate(seed: Buffer): Buffer {
  const b = Buffer.from(seed.subarray(0, randInt(seed.length + 1)));
  const flips = randInt(4);
  for (let i = 0; i < flips && b.length > 0; i++) b[randInt(b.length)] = randInt(256);
  return b;
}

// Well-formed seeds that the mutator cuts and flips.
const SEEDS: Buffer[] = [
  stun.buildBindingRequest({ username: 'a:b', key: 'pw', priority: 1, useCandidate: true, iceControlling: 5n }),
  stun.buildBindingSuccess(Buffer.alloc(12, 1), '2001:db8::1', 5000, 'pw'),
  stun.buildBindingError(Buffer.alloc(12, 2), 401, 'Unauthorized', 'pw'),
  Buffer.from('90e0000100000000000000011000000210aa003201020300000000000090f092345600a5', 'hex'),
  Buffer.from('b26000010000000000000001aaaaaaaabbbbbbbbbede000210ff2201020000000102030405000003', 'hex'),
  Buffer.from('81c8000c4d617273e0000000000000010000e930000000100000040011223344050000070000f17b000000200000000000000000', 'hex'),
  Buffer.from('81cd00030000000100000002123400038fce000500000001000000005245 4d42010bffff00000042'.replace(/ /g, ''), 'hex'),
  Buffer.from('84ce00040102030400000000 0a0b0c0d07000000'.replace(/ /g, ''), 'hex'),
];

function exercise(b: Buffer, info: vp8.Vp8Info, sessions: SrtpSession[], out: Buffer): void {
  const len = b.length;
  // STUN
  stun.isStun(b);
  stun.isStun(b, len + 5);
  stun.parseStun(b);
  stun.verifyIntegrity(b, 'pw');
  stun.verifyFingerprint(b);
  stun.parseXorMappedAddress(b);
  stun.parseErrorCode(b);
  // RTP
  rtp.isRtpOrRtcp(b, len);
  rtp.isRtpOrRtcp(b, len + 10);
  rtp.isRtcp(b);
  const hl = rtp.rtpHeaderLength(b, len);
  assert.ok(hl === -1 || (hl >= 12 && hl <= len));
  const pe = rtp.rtpPayloadEnd(b, len);
  assert.ok(pe === -1 || (pe >= hl && pe <= len));
  rtp.rtpHeaderLength(b, len + 100);
  rtp.rtpSsrc(b);
  rtp.rtpSeq(b);
  rtp.rtpTimestamp(b);
  rtp.rtpPayloadType(b);
  rtp.rtpMarker(b);
  for (const id of [0, 1, 3, 14, 15, 32, 255]) {
    const o = rtp.findHeaderExtension(b, len, id);
    assert.ok(o === -1 || (o >= 12 && o <= len));
    const l = rtp.headerExtensionLength(b, len, id);
    if (l >= 0) assert.ok(o + l <= len);
    const lvl = rtp.audioLevel(b, len, id);
    assert.ok(lvl >= -1 && lvl <= 127);
    rtp.audioLevelVoice(b, len, id);
  }
  // RTCP
  rtcp.forEachRtcp(b, len, (off, l, pt) => {
    assert.ok(off + l <= len);
    rtcp.rtcpSenderSsrc(b, off);
    rtcp.fbMediaSsrc(b, off);
    rtcp.srSsrc(b, off);
    rtcp.forEachNack(b, off, l, (s) => assert.ok(s >= 0 && s <= 0xffff));
    rtcp.forEachFir(b, off, l, () => {});
    rtcp.firSsrcs(b, off, l);
    rtcp.parseRemb(b, off, l);
    rtcp.rembBitrate(b, off, l);
    rtcp.forEachByeSsrc(b, off, l, () => {});
    rtcp.forEachReportBlock(b, off, l, (bo) => assert.ok(bo + 24 <= off + l));
    void pt;
  });
  rtcp.forEachRtcp(b, len + 8, () => {});
  // parsers called at arbitrary offsets/lengths (the bridge calls them after forEachRtcp, but be safe)
  const off = randInt(len + 4);
  const l = randInt(80);
  rtcp.forEachNack(b, off, l, () => {});
  rtcp.forEachFir(b, off, l, () => {});
  rtcp.parseRemb(b, off, l);
  rtcp.forEachByeSsrc(b, off, l, () => {});
  rtcp.forEachReportBlock(b, off, l, () => {});
  // VP8 at every plausible payload offset
  for (const po of [0, 12, hl > 0 ? hl : 0, randInt(len + 2)]) {
    if (vp8.vp8Descriptor(b, po, len, info)) assert.ok(po + info.headerLength <= len);
    const c = Buffer.from(b);
    vp8.setVp8PictureId(c, po, randInt(0x10000));
    vp8.setVp8Tl0PicIdx(c, po, randInt(256));
    assert.equal(c.length, b.length);
  }
  // SRTP
  for (const s of sessions) {
    assert.equal(s.unprotectRtp(Buffer.from(b), len), -1);
    assert.equal(s.unprotectRtcp(Buffer.from(b), len), -1);
    const r1 = s.protectRtp(b, len, out);
    assert.ok(r1 === -1 || r1 === len + s.rtpOverhead);
    const r2 = s.protectRtcp(b, len, out);
    assert.ok(r2 === -1 || r2 === len + s.rtcpOverhead);
  }
}

function makeSessions(): SrtpSession[] {
  return (['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'] as SrtpProfileName[]).map((p) => {
    const { keyLength, saltLength } = srtpKeyLengths(p);
    return new SrtpSession(p, Buffer.alloc(keyLength, 9), Buffer.alloc(saltLength, 8));
  });
}

test('random buffers through every parser', () => {
  const info = vp8.createVp8Info();
  const sessions = makeSessions();
  const out = Buffer.alloc(4096);
  for (let i = 0; i < 4000; i++) {
    const len = i < 100 ? i : randInt(i % 10 === 0 ? 1500 : 64);
    const b = randomBytes(len);
    // steer some buffers into the RTP/RTCP and STUN shapes so deeper code runs
    if (len > 0 && i % 3 === 0) b[0] = 0x80 | (b[0] & 0x3f);
    if (len >= 8 && i % 3 === 1) {
      b[0] &= 0x3f;
      b.writeUInt32BE(0x2112a442, 4);
      b.writeUInt16BE(Math.max(0, (len - 20) & ~3), 2);
    }
    exercise(b, info, sessions, out);
  }
});

test('mutated and truncated well-formed packets through every parser', () => {
  const info = vp8.createVp8Info();
  const sessions = makeSessions();
  const out = Buffer.alloc(4096);
  for (const seed of SEEDS) {
    for (let cut = 0; cut <= seed.length; cut++) exercise(seed.subarray(0, cut), info, sessions, out);
  }
  for (let i = 0; i < 4000; i++) exercise(mutate(SEEDS[i % SEEDS.length]), info, sessions, out);
});

test('protected packets, mutated, never authenticate and never throw', () => {
  for (const tx of makeSessions()) {
    const rx = makeSessions().find((x) => x.profile === tx.profile)!;
    const out = Buffer.alloc(2048);
    const seed = SEEDS[3];
    const n = tx.protectRtp(seed, seed.length, out);
    assert.ok(n > 0);
    const prot = Buffer.from(out.subarray(0, n));
    let accepted = 0;
    for (let i = 0; i < 1500; i++) {
      const m = mutate(prot);
      if (m.equals(prot)) continue;
      if (rx.unprotectRtp(m, m.length) !== -1) accepted++;
    }
    assert.equal(accepted, 0);
  }
});
