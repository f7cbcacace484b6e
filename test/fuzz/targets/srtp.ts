// SRTP/SRTCP (src/bridge/packet/srtp.ts) with real keys, every profile (AES-CM/HMAC-SHA1-80, AES-128-GCM,
// AES-256-GCM): RTP and RTCP packets built by the test are protected, unprotected by a receiver with the same
// keys, then mutated; raw bytes are offered as if protected. Checked: protect adds exactly the profile's overhead
// and unprotect gives back the original bytes; a second copy is refused as a replay; a receiver with other keys
// refuses it; any change to a protected packet fails authentication; garbage is refused; nothing throws.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SrtpSession, srtpKeyLengths, type SrtpProfileName } from '../../../src/bridge/packet/srtp.ts';
import { bytes, hexBytes, hexBytesMostlyShort, mutate, mutation, type Mutation } from '../bytes.ts';
import { pureTarget } from '../harness.ts';
import { buildRtcp, buildRtp, rtcpCompoundSpec, rtpSpec, type RtcpPacketSpec, type RtpSpec } from '../packets.ts';

export interface SrtpInput {
  profile: SrtpProfileName;
  /** Master key and salt (the profile takes the lengths it needs). */
  keyMaterial: string;
  packet: { rtp: RtpSpec } | { rtcp: RtcpPacketSpec[] } | { raw: string };
  /** Damage done to the protected packet (at least one). */
  ops: Mutation[];
}

const PROFILES: SrtpProfileName[] = ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'];

function session(profile: SrtpProfileName, material: Buffer): SrtpSession {
  const { keyLength, saltLength } = srtpKeyLengths(profile);
  return new SrtpSession(profile, material.subarray(0, keyLength), material.subarray(keyLength, keyLength + saltLength));
}

/** The same master key with its first byte changed. */
function otherKey(material: Buffer): Buffer {
  const m = Buffer.from(material);
  m[0] = m[0]! ^ 1;
  return m;
}

function roundTrip(input: SrtpInput, clear: Buffer, kind: 'rtp' | 'rtcp'): void {
  const material = bytes(input.keyMaterial);
  const tx = session(input.profile, material);
  const len = clear.length;
  const out = Buffer.alloc(len + 64);
  const protect = kind === 'rtp' ? tx.protectRtp(clear, len, out) : tx.protectRtcp(clear, len, out);
  const overhead = kind === 'rtp' ? tx.rtpOverhead : tx.rtcpOverhead;
  assert.equal(protect, len + overhead, `${kind} protect`);
  const prot = Buffer.from(out.subarray(0, protect));
  const unprotect = (s: SrtpSession, b: Buffer): number => (kind === 'rtp' ? s.unprotectRtp(b, b.length) : s.unprotectRtcp(b, b.length));

  const rx = session(input.profile, material);
  const copy = Buffer.from(prot);
  assert.equal(unprotect(rx, copy), len, `${kind} unprotect of what was protected`);
  assert.equal(copy.subarray(0, len).toString('hex'), clear.toString('hex'), `${kind} unprotect did not give back the original`);
  assert.equal(unprotect(rx, Buffer.from(prot)), -1, `${kind} replay accepted`);
  assert.equal(unprotect(session(input.profile, otherKey(material)), Buffer.from(prot)), -1, `${kind} accepted with another key`);

  const damaged = mutate(prot, input.ops);
  if (!damaged.equals(prot)) {
    assert.equal(unprotect(session(input.profile, material), Buffer.from(damaged)), -1, `a changed ${kind} packet authenticates`);
  }
  const fresh = session(input.profile, material);
  assert.equal(fresh.unprotectRtp(Buffer.from(damaged), damaged.length), kind === 'rtp' && damaged.equals(prot) ? len : -1);
  assert.equal(fresh.unprotectRtcp(Buffer.from(damaged), damaged.length), kind === 'rtcp' && damaged.equals(prot) ? len : -1);
}

/** Bytes nobody protected: refused by unprotect; protect either refuses or adds exactly its overhead. */
function garbage(input: SrtpInput, b: Buffer): void {
  const s = session(input.profile, bytes(input.keyMaterial));
  assert.equal(s.unprotectRtp(Buffer.from(b), b.length), -1, 'unprotected RTP garbage accepted');
  assert.equal(s.unprotectRtcp(Buffer.from(b), b.length), -1, 'unprotected RTCP garbage accepted');
  assert.equal(s.unprotectRtp(Buffer.from(b), b.length + 10), -1);
  const out = Buffer.alloc(b.length + 64);
  const r = s.protectRtp(b, b.length, out);
  assert.ok(r === -1 || r === b.length + s.rtpOverhead);
  const c = s.protectRtcp(b, b.length, out);
  assert.ok(c === -1 || c === b.length + s.rtcpOverhead);
  assert.equal(s.protectRtp(b, b.length, Buffer.alloc(b.length)), -1, 'protect wrote past its output');
}

export const srtpTarget = pureTarget<SrtpInput>({
  name: 'srtp',
  about: 'SRTP/SRTCP unprotect with real keys, every profile: round trip, replay, wrong key, any change and garbage refused',
  input: fc.record({
    profile: fc.constantFrom(...PROFILES),
    keyMaterial: hexBytes(44, 44),
    packet: fc.oneof(
      { arbitrary: fc.record({ rtp: rtpSpec() }), weight: 3 },
      { arbitrary: fc.record({ rtcp: rtcpCompoundSpec }), weight: 2 },
      { arbitrary: fc.record({ raw: hexBytesMostlyShort(300) }), weight: 1 },
    ),
    ops: fc.array(mutation, { minLength: 1, maxLength: 3 }),
  }),
  ciRuns: 500,
  check(input) {
    const p = input.packet;
    if ('rtp' in p) {
      const clear = buildRtp(p.rtp).buf;
      roundTrip(input, clear, 'rtp');
      garbage(input, clear);
    } else if ('rtcp' in p) {
      const clear = buildRtcp(p.rtcp).buf;
      if (clear.length >= 8) roundTrip(input, clear, 'rtcp');
      garbage(input, clear);
    } else garbage(input, bytes(p.raw));
  },
});
