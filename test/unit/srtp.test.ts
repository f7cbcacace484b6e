import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SrtpSession,
  SRTP_PROFILE_IDS,
  srtpKeyLengths,
  aesCmKeystream,
  srtpKdf,
  deriveSessionKeys,
  type SrtpProfileName,
  type SrtpSessionKeys,
} from '../../src/bridge/packet/srtp.ts';
import { nativeSrtp, SRTP_MODULE_API } from '../../src/bridge/native/srtp.ts';
import { createHmac } from 'node:crypto';
import { rng } from '../helpers/random.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** SRTP and SRTCP with Node's crypto API, and in the native module when native/srtp.c is built here (scripts/build-native.sh). */
const PROTECT_PATHS: Array<{ name: string; native: boolean }> = [{ name: "Node's crypto", native: false }];
if (nativeSrtp() !== null) PROTECT_PATHS.push({ name: 'the native module', native: true });
else test('native SRTP module', { skip: 'native/build/srtp.node is not built here (no compiler or no Node headers)' }, () => {});

test('the native SRTP module built here has the functions this code calls (an older build would not be loaded)', { skip: nativeSrtp() === null && 'native/build/srtp.node is not built here' }, () => {
  assert.equal(nativeSrtp()!.api, SRTP_MODULE_API);
});

// ------------------------------------------------------------------------------------------------
// RFC 3711 Appendix B.2: AES-CM keystream

test('RFC 3711 B.2: AES-CM keystream', () => {
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const iv = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  const ks = aesCmKeystream(key, iv, 1044512);
  assert.equal(
    ks.subarray(0, 48).toString('hex'),
    hex('E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0').toString('hex'),
  );
  assert.equal(
    ks.subarray(ks.length - 48).toString('hex'),
    hex('EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE 6A2CC3787889374FBEB4C81B17BA6C44').toString('hex'),
  );
});

for (const path of PROTECT_PATHS) test(`RFC 3711 B.2 through SrtpSession: a zero payload with SSRC 0, seq 0, ROC 0 encrypts to the keystream (protect with ${path.name})`, () => {
  const keys: SrtpSessionKeys = {
    rtpKey: hex('2B7E151628AED2A6ABF7158809CF4F3C'),
    rtpSalt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'),
    rtpAuthKey: Buffer.alloc(20),
    rtcpKey: hex('2B7E151628AED2A6ABF7158809CF4F3C'),
    rtcpSalt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'),
    rtcpAuthKey: Buffer.alloc(20),
  };
  const s = SrtpSession.fromSessionKeys('AES_CM_128_HMAC_SHA1_80', keys, path.native);
  const pkt = Buffer.alloc(12 + 48);
  pkt[0] = 0x80;
  const out = Buffer.alloc(200);
  const n = s.protectRtp(pkt, pkt.length, out);
  assert.equal(n, 60 + 10);
  assert.equal(
    out.subarray(12, 60).toString('hex'),
    hex('E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0').toString('hex'),
  );
});

// ------------------------------------------------------------------------------------------------
// RFC 3711 Appendix B.3: key derivation

test('RFC 3711 B.3: key derivation', () => {
  const mk = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const ms = hex('0EC675AD498AFEEBB6960B3AABE6');
  assert.deepEqual(srtpKdf(mk, ms, 0, 16), hex('C61E7A93744F39EE10734AFE3FF7A087'));
  assert.deepEqual(srtpKdf(mk, ms, 2, 14), hex('30CBBC08863D8C85D49DB34A9AE1'));
  assert.deepEqual(
    srtpKdf(mk, ms, 1, 94),
    hex(`CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE E049646C43D9327AD175578EF7227098
         6371C10C9A369AC2F94A8C5FBCDDDC25 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2`),
  );
  const keys = deriveSessionKeys('AES_CM_128_HMAC_SHA1_80', mk, ms);
  assert.deepEqual(keys.rtpKey, hex('C61E7A93744F39EE10734AFE3FF7A087'));
  assert.deepEqual(keys.rtpSalt, hex('30CBBC08863D8C85D49DB34A9AE1'));
  assert.deepEqual(keys.rtpAuthKey, hex('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4'));
});

// ------------------------------------------------------------------------------------------------
// libsrtp's srtp_validate known answer (AES_CM_128_HMAC_SHA1_80 with the B.3 master key), end to end through the KDF

for (const path of PROTECT_PATHS) test(`AES_CM_128_HMAC_SHA1_80 end-to-end known answer (libsrtp srtp_validate, master key of RFC 3711 B.3) (protect with ${path.name})`, () => {
  const mk = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const ms = hex('0EC675AD498AFEEBB6960B3AABE6');
  const plain = hex('800f1234 decafbad cafebabe abababab abababab abababab abababab');
  const want = hex('800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402 b78d6acc 99ea179b 8dbb');
  const tx = new SrtpSession('AES_CM_128_HMAC_SHA1_80', mk, ms, undefined, path.native);
  assert.equal(tx.nativeProtect, path.native);
  const out = Buffer.alloc(128);
  const n = tx.protectRtp(plain, plain.length, out);
  assert.equal(out.subarray(0, n).toString('hex'), want.toString('hex'));

  const rx = new SrtpSession('AES_CM_128_HMAC_SHA1_80', mk, ms);
  const wire = Buffer.from(want);
  assert.equal(rx.unprotectRtp(wire, wire.length), plain.length);
  assert.deepEqual(wire.subarray(0, plain.length), plain);
  assert.equal(rx.unprotectRtp(Buffer.from(want), want.length), -1, 'replay');

  // SRTCP, first packet index 1 (protected by this path, unprotected by the other)
  const rtcp = hex('81c8000b cafebabe abababab abababab abababab abababab');
  const rtcpWant = hex('81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8 80000001 993e08cd 54d6c123 0798');
  const tx2 = new SrtpSession('AES_CM_128_HMAC_SHA1_80', mk, ms, undefined, path.native);
  assert.equal(tx2.nativeRtcpProtect, path.native);
  const n2 = tx2.protectRtcp(rtcp, rtcp.length, out);
  assert.equal(out.subarray(0, n2).toString('hex'), rtcpWant.toString('hex'));
  const w2 = Buffer.from(rtcpWant);
  const rxOther = new SrtpSession('AES_CM_128_HMAC_SHA1_80', mk, ms, undefined, !path.native && nativeSrtp() !== null);
  assert.equal(rxOther.unprotectRtcp(Buffer.from(rtcpWant), rtcpWant.length), rtcp.length);
  assert.equal(rx.unprotectRtcp(w2, w2.length), rtcp.length);
  assert.deepEqual(w2.subarray(0, rtcp.length), rtcp);
  assert.equal(rx.unprotectRtcp(Buffer.from(rtcpWant), rtcpWant.length), -1, 'SRTCP replay');
});

// ------------------------------------------------------------------------------------------------
// RFC 7714 §16 / §17 (session keys given directly)

const GCM_SALT = hex('517569642070726f2071756f');
const GCM_KEY_128 = hex('000102030405060708090a0b0c0d0e0f');
const GCM_KEY_256 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const RFC7714_RTP = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
                         69736120 696e2070 61727465 73207472 6573`);
const RFC7714_RTCP = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
                          deadbeef deadbeef deadbeef deadbeef deadbeef`);

function gcmSession(profile: SrtpProfileName, key: Buffer, native = false): SrtpSession {
  return SrtpSession.fromSessionKeys(profile, {
    rtpKey: key,
    rtpSalt: GCM_SALT,
    rtpAuthKey: Buffer.alloc(0),
    rtcpKey: key,
    rtcpSalt: GCM_SALT,
    rtcpAuthKey: Buffer.alloc(0),
  }, native);
}

for (const path of PROTECT_PATHS) test(`RFC 7714 §16.1: AEAD_AES_128_GCM RTP encryption and decryption (protect with ${path.name})`, () => {
  const want = hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
                    0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`);
  const out = Buffer.alloc(256);
  const n = gcmSession('AEAD_AES_128_GCM', GCM_KEY_128, path.native).protectRtp(RFC7714_RTP, RFC7714_RTP.length, out);
  assert.equal(out.subarray(0, n).toString('hex'), want.toString('hex'));

  const rx = gcmSession('AEAD_AES_128_GCM', GCM_KEY_128);
  const wire = Buffer.from(want);
  assert.equal(rx.unprotectRtp(wire, wire.length), RFC7714_RTP.length);
  assert.deepEqual(wire.subarray(0, RFC7714_RTP.length), RFC7714_RTP);
  assert.equal(rx.unprotectRtp(Buffer.from(want), want.length), -1, 'replay');
});

for (const path of PROTECT_PATHS) test(`RFC 7714 §16.2: AEAD_AES_256_GCM RTP encryption and decryption (protect with ${path.name})`, () => {
  const want = hex(`8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238
                    9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13`);
  const out = Buffer.alloc(256);
  const n = gcmSession('AEAD_AES_256_GCM', GCM_KEY_256, path.native).protectRtp(RFC7714_RTP, RFC7714_RTP.length, out);
  assert.equal(out.subarray(0, n).toString('hex'), want.toString('hex'));
  const wire = Buffer.from(want);
  assert.equal(gcmSession('AEAD_AES_256_GCM', GCM_KEY_256).unprotectRtp(wire, wire.length), RFC7714_RTP.length);
  assert.deepEqual(wire.subarray(0, RFC7714_RTP.length), RFC7714_RTP);
});

for (const path of PROTECT_PATHS) test(`RFC 7714 §17.1: AEAD_AES_128_GCM SRTCP encryption and decryption (with ${path.name})`, () => {
  const want = hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d
                    c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872
                    45d9eade 800005d4`);
  const tx = gcmSession('AEAD_AES_128_GCM', GCM_KEY_128, path.native);
  assert.equal(tx.nativeRtcpProtect, path.native);
  tx.nextRtcpIndex = 0x5d4;
  const out = Buffer.alloc(256);
  const n = tx.protectRtcp(RFC7714_RTCP, RFC7714_RTCP.length, out);
  assert.equal(out.subarray(0, n).toString('hex'), want.toString('hex'));
  assert.equal(tx.nextRtcpIndex, 0x5d5);

  const rx = gcmSession('AEAD_AES_128_GCM', GCM_KEY_128, path.native);
  const wire = Buffer.from(want);
  assert.equal(rx.unprotectRtcp(wire, wire.length), RFC7714_RTCP.length);
  assert.deepEqual(wire.subarray(0, RFC7714_RTCP.length), RFC7714_RTCP);
  assert.equal(rx.unprotectRtcp(Buffer.from(want), want.length), -1, 'replay');
});

for (const path of PROTECT_PATHS) test(`RFC 7714 §17.2: AEAD_AES_256_GCM SRTCP decryption (with ${path.name})`, () => {
  const wire = hex(`81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50
                    a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c
                    b26ac3be 800005d4`);
  const rx = gcmSession('AEAD_AES_256_GCM', GCM_KEY_256, path.native);
  assert.equal(rx.unprotectRtcp(wire, wire.length), RFC7714_RTCP.length);
  assert.deepEqual(wire.subarray(0, RFC7714_RTCP.length), RFC7714_RTCP);
});

for (const path of PROTECT_PATHS) test(`RFC 7714 §17.3: AEAD_AES_128_GCM SRTCP authentication only (E=0) is verified (with ${path.name})`, () => {
  const wire = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
                    deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790
                    125f62b3 000005d4`);
  const rx = gcmSession('AEAD_AES_128_GCM', GCM_KEY_128, path.native);
  const bad = Buffer.from(wire);
  bad[20] ^= 1;
  assert.equal(rx.unprotectRtcp(bad, bad.length), -1);
  assert.equal(rx.unprotectRtcp(wire, wire.length), RFC7714_RTCP.length);
  assert.deepEqual(wire.subarray(0, RFC7714_RTCP.length), RFC7714_RTCP);
});

// ------------------------------------------------------------------------------------------------
// Behaviour

test('profile ids and key lengths', () => {
  assert.equal(SRTP_PROFILE_IDS[1], 'AES_CM_128_HMAC_SHA1_80');
  assert.equal(SRTP_PROFILE_IDS[7], 'AEAD_AES_128_GCM');
  assert.equal(SRTP_PROFILE_IDS[8], 'AEAD_AES_256_GCM');
  assert.deepEqual(srtpKeyLengths('AES_CM_128_HMAC_SHA1_80'), { keyLength: 16, saltLength: 14 });
  assert.deepEqual(srtpKeyLengths('AEAD_AES_128_GCM'), { keyLength: 16, saltLength: 12 });
  assert.deepEqual(srtpKeyLengths('AEAD_AES_256_GCM'), { keyLength: 32, saltLength: 12 });
  assert.throws(() => new SrtpSession('AEAD_AES_128_GCM', Buffer.alloc(16), Buffer.alloc(14)));
});


const PROFILES: SrtpProfileName[] = ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'];

function pair(profile: SrtpProfileName, native = false): [SrtpSession, SrtpSession] {
  const { keyLength, saltLength } = srtpKeyLengths(profile);
  const key = Buffer.alloc(keyLength, 0x42);
  const salt = Buffer.alloc(saltLength, 0x17);
  const tx = new SrtpSession(profile, key, salt, undefined, native);
  assert.equal(tx.nativeProtect, native);
  return [tx, new SrtpSession(profile, key, salt, undefined, native)];
}

function rtpPacket(seq: number, ssrc: number, payloadLen: number, fill = seq & 0xff, ext = false): Buffer {
  const hl = ext ? 12 + 8 : 12;
  const p = Buffer.alloc(hl + payloadLen, fill);
  p[0] = ext ? 0x90 : 0x80;
  p[1] = 96;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(seq * 90 >>> 0, 4);
  p.writeUInt32BE(ssrc >>> 0, 8);
  if (ext) {
    p.writeUInt16BE(0xbede, 12);
    p.writeUInt16BE(1, 14);
    p[16] = 0x10;
    p[17] = 0x55;
    p[18] = 0;
    p[19] = 0;
  }
  return p;
}

for (const profile of PROFILES) for (const path of PROTECT_PATHS) {
  test(`${profile} (protect in ${path.name}): RTP round trip, in place and into another buffer, with header extension`, () => {
    const [tx, rx] = pair(profile, path.native);
    for (let i = 0; i < 50; i++) {
      const plain = rtpPacket(1000 + i, 0x11223344, i * 23, undefined, i % 2 === 0);
      const out = Buffer.alloc(plain.length + 16);
      const n = tx.protectRtp(plain, plain.length, out);
      assert.equal(n, plain.length + tx.rtpOverhead);
      const hl = i % 2 === 0 ? 20 : 12;
      if (plain.length > hl) assert.notDeepEqual(out.subarray(hl, plain.length), plain.subarray(hl), 'payload encrypted');
      assert.deepEqual(out.subarray(0, hl), plain.subarray(0, hl), 'header in clear');
      const m = rx.unprotectRtp(out, n);
      assert.equal(m, plain.length);
      assert.deepEqual(out.subarray(0, m), plain);
    }
    // in place
    const plain = rtpPacket(2000, 0x11223344, 300);
    const buf = Buffer.alloc(plain.length + 16);
    plain.copy(buf);
    const n = tx.protectRtp(buf, plain.length, buf);
    assert.equal(rx.unprotectRtp(buf, n), plain.length);
    assert.deepEqual(buf.subarray(0, plain.length), plain);
  });

  test(`${profile} (protect in ${path.name}): tampered packets are rejected and do not poison state`, () => {
    const [tx, rx] = pair(profile, path.native);
    const out = Buffer.alloc(200);
    const n = tx.protectRtp(rtpPacket(5, 7, 100), 112, out);
    for (const pos of [1, 3, 11, 20, n - 1]) {
      const bad = Buffer.from(out.subarray(0, n));
      bad[pos] ^= 0x01;
      assert.equal(rx.unprotectRtp(bad, n), -1, `flip at ${pos}`);
    }
    assert.equal(rx.unprotectRtp(Buffer.from(out.subarray(0, n)), n - 1), -1, 'truncated tag');
    assert.equal(rx.unprotectRtp(out, n), 112);
  });

  test(`${profile} (protect in ${path.name}): replay protection with a 64-packet window`, () => {
    const [tx, rx] = pair(profile, path.native);
    const wires: Buffer[] = [];
    for (let s = 0; s < 100; s++) {
      const out = Buffer.alloc(200);
      const n = tx.protectRtp(rtpPacket(s, 9, 20), 32, out);
      wires.push(out.subarray(0, n));
    }
    const deliver = (s: number) => rx.unprotectRtp(Buffer.from(wires[s]), wires[s].length);
    assert.equal(deliver(10), 32);
    assert.equal(deliver(10), -1, 'duplicate');
    assert.equal(deliver(5), 32, 'reordered within window');
    assert.equal(deliver(5), -1, 'duplicate of reordered');
    assert.equal(deliver(80), 32, 'jump ahead');
    assert.equal(deliver(16), -1, '64 behind the highest: outside the window');
    assert.equal(deliver(17), 32, '63 behind, never seen: accepted');
    assert.equal(deliver(17), -1, 'duplicate at the window edge');
    assert.equal(deliver(10), -1, 'old duplicate');
    assert.equal(deliver(81), 32);
  });

  test(`${profile} (protect in ${path.name}): ROC rollover across 65535 -> 0, with reordering and retransmission`, () => {
    const [tx, rx] = pair(profile, path.native);
    const ssrc = 0xcafebabe;
    const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3];
    const wires = new Map<number, Buffer>();
    for (const s of seqs) {
      const out = Buffer.alloc(100);
      const n = tx.protectRtp(rtpPacket(s, ssrc, 10), 22, out);
      wires.set(s, out.subarray(0, n));
    }
    assert.equal(tx.sendRoc(ssrc), 1);
    // deliver out of order across the wrap
    for (const s of [65530, 65531, 65535, 0, 65533, 1, 65532, 3, 2, 65534]) {
      const w = Buffer.from(wires.get(s)!);
      assert.equal(rx.unprotectRtp(w, w.length), 22, `seq ${s}`);
      assert.deepEqual(w.subarray(0, 22), rtpPacket(s, ssrc, 10));
    }
    assert.equal(rx.receiveRoc(ssrc), 1);
    // retransmission of an old (pre-wrap) packet through the sender side is protected with ROC 0 again
    const out = Buffer.alloc(100);
    const n = tx.protectRtp(rtpPacket(65533, ssrc, 10), 22, out);
    assert.deepEqual(out.subarray(0, n), wires.get(65533));
    // and a long run keeps both sides in step over two more wraps
    const [tx2, rx2] = pair(profile, path.native);
    for (let i = 0; i < 140000; i += 97) {
      const o = Buffer.alloc(100);
      const m = tx2.protectRtp(rtpPacket(i, 1, 4), 16, o);
      assert.equal(rx2.unprotectRtp(o, m), 16, `i=${i}`);
    }
    assert.equal(tx2.sendRoc(1), 2);
    assert.equal(rx2.receiveRoc(1), 2);
  });

  test(`${profile} (protect in ${path.name}): one sender session serves many SSRCs`, () => {
    const [tx, rx] = pair(profile, path.native);
    for (let i = 0; i < 300; i++) {
      const ssrc = 1000 + (i % 7);
      const seq = (60000 + i * 3) & 0xffff;
      const o = Buffer.alloc(100);
      const m = tx.protectRtp(rtpPacket(seq, ssrc, 30), 42, o);
      assert.equal(rx.unprotectRtp(o, m), 42);
    }
  });

  test(`${profile} (protect in ${path.name}): streams of a thousand SSRCs kept apart, half of them forgotten`, () => {
    const [tx, rx] = pair(profile, path.native);
    // consecutive SSRCs, SSRCs that differ only in their high bits, random ones: the native table's hash must spread
    // them all, grow, and delete from its runs (with a thousand streams, runs cross the table's end too)
    const { r } = randomKeys(16, 14, 11);
    const ssrcs = Array.from({ length: 1000 }, (_, i) =>
      i < 300 ? 5000 + i : i < 600 ? ((i - 299) << 20) >>> 0 : (r.int(0x10000) * 0x10000 + r.int(0x10000)) >>> 0,
    );
    const wires: Buffer[] = [];
    for (const [i, ssrc] of ssrcs.entries()) {
      // every stream past a wrap (ROC 1), the first packet after it kept
      for (const seq of [65535, 0]) {
        const o = Buffer.alloc(64);
        const n = tx.protectRtp(rtpPacket(seq, ssrc, 8 + (i % 5)), 20 + (i % 5), o);
        assert.equal(rx.unprotectRtp(Buffer.from(o.subarray(0, n)), n), 20 + (i % 5), `ssrc ${ssrc} seq ${seq}`);
        if (seq === 0) wires.push(o.subarray(0, n));
      }
    }
    for (const [i, ssrc] of ssrcs.entries()) if (i % 2 === 1) {
      tx.forgetSsrc(ssrc);
      rx.forgetSsrc(ssrc);
    }
    for (const [i, ssrc] of ssrcs.entries()) {
      const kept = i % 2 === 0;
      assert.equal(tx.sendRoc(ssrc), kept ? 1 : -1, `sender's ROC of ${ssrc}`);
      assert.equal(rx.receiveRoc(ssrc), kept ? 1 : -1, `receiver's ROC of ${ssrc}`);
      const replay = rx.unprotectRtp(Buffer.from(wires[i]), wires[i].length);
      assert.equal(replay, -1, kept ? `${ssrc} kept: the replay is refused` : `${ssrc} forgotten: ROC 0 is guessed, the old packet's tag (ROC 1) fails`);
      // the next packet: ROC 1 on a kept stream, 0 on one that starts again, on both sides
      const o = Buffer.alloc(64);
      const n = tx.protectRtp(rtpPacket(1, ssrc, 8), 20, o);
      assert.equal(rx.unprotectRtp(o, n), 20, `next packet of ${ssrc}`);
      assert.equal(tx.sendRoc(ssrc), kept ? 1 : 0);
    }
  });

  test(`${profile} (protect in ${path.name}): a stream sent keeps its ROC however many other streams are sent`, () => {
    const [tx] = pair(profile, path.native);
    const o = Buffer.alloc(64);
    for (const seq of [65535, 0]) tx.protectRtp(rtpPacket(seq, 42, 8), 20, o);
    const before = Buffer.from(o.subarray(0, tx.protectRtp(rtpPacket(1, 42, 8), 20, o)));
    // more streams than a receiving table holds (whose windows would start again): a ROC going back to 0 would
    // protect a new packet with a keystream (GCM: a nonce) already used
    for (let k = 0; k <= 65536; k++) tx.protectRtp(rtpPacket(7, 100000 + k, 0), 12, o);
    assert.equal(tx.sendRoc(42), 1);
    const again = tx.protectRtp(rtpPacket(1, 42, 8), 20, o);
    assert.deepEqual(o.subarray(0, again), before, 'a retransmission is protected with the ROC it had');
  });

}

for (const profile of PROFILES) for (const path of PROTECT_PATHS) {
  test(`${profile} (with ${path.name}): RTCP round trip, tamper and replay`, () => {
    const [tx, rx] = pair(profile, path.native);
    const rtcp = Buffer.from(RFC7714_RTCP);
    const seen = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const out = Buffer.alloc(200);
      const n = tx.protectRtcp(rtcp, rtcp.length, out);
      assert.equal(n, rtcp.length + tx.rtcpOverhead);
      const idx = out.readUInt32BE(profile === 'AES_CM_128_HMAC_SHA1_80' ? rtcp.length : n - 4);
      assert.ok(idx & 0x80000000, 'E flag');
      seen.add(idx & 0x7fffffff);
      const bad = Buffer.from(out.subarray(0, n));
      bad[10] ^= 4;
      assert.equal(rx.unprotectRtcp(bad, n), -1);
      const copy = Buffer.from(out.subarray(0, n));
      assert.equal(rx.unprotectRtcp(out, n), rtcp.length);
      assert.deepEqual(out.subarray(0, rtcp.length), rtcp);
      assert.equal(rx.unprotectRtcp(copy, n), -1, 'replay');
    }
    assert.equal(seen.size, 5, 'index increments');
  });

  test(`${profile} (with ${path.name}): garbage and truncated input return -1 without throwing`, () => {
    const [tx, rx] = pair(profile, path.native);
    const rand = rng(1234);
    const out = Buffer.alloc(2100);
    const good = Buffer.alloc(300);
    const gn = tx.protectRtp(rtpPacket(77, 5, 200), 212, good);
    for (let cut = 0; cut < gn; cut++) {
      assert.equal(rx.unprotectRtp(Buffer.from(good.subarray(0, cut)), cut), -1);
    }
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rand() * 1600);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
      if (i % 2 === 0 && len > 0) b[0] = 0x80 | (b[0] & 0x3f); // valid version more often
      assert.equal(rx.unprotectRtp(Buffer.from(b), len), -1);
      assert.equal(rx.unprotectRtcp(Buffer.from(b), len), -1);
      const r1 = tx.protectRtp(b, len, out);
      assert.ok(r1 === -1 || r1 === len + tx.rtpOverhead);
      const r2 = tx.protectRtcp(b, len, out);
      assert.ok(r2 === -1 || r2 === len + tx.rtcpOverhead);
      // lengths out of range
      assert.equal(rx.unprotectRtp(b, len + 1), -1);
      assert.equal(rx.unprotectRtcp(b, len + 1), -1);
      assert.equal(tx.protectRtp(b, -1, out), -1);
      assert.equal(tx.protectRtcp(b, -1, out), -1);
    }
    // truncated SRTCP
    const rg = Buffer.alloc(300);
    const rn = tx.protectRtcp(RFC7714_RTCP, RFC7714_RTCP.length, rg);
    for (let cut = 0; cut < rn; cut++) assert.equal(rx.unprotectRtcp(Buffer.from(rg.subarray(0, cut)), cut), -1);
    // no room in out
    assert.equal(tx.protectRtp(rtpPacket(1, 1, 10), 22, Buffer.alloc(22)), -1);
    assert.equal(tx.protectRtcp(RFC7714_RTCP, RFC7714_RTCP.length, Buffer.alloc(RFC7714_RTCP.length + tx.rtcpOverhead - 1)), -1);
  });
}

test('AEAD_AES_128_GCM keys derived through the KDF interoperate (sanity: different master keys fail)', () => {
  const a = new SrtpSession('AEAD_AES_128_GCM', Buffer.alloc(16, 1), Buffer.alloc(12, 2));
  const b = new SrtpSession('AEAD_AES_128_GCM', Buffer.alloc(16, 1), Buffer.alloc(12, 3));
  const out = Buffer.alloc(100);
  const n = a.protectRtp(rtpPacket(1, 1, 10), 22, out);
  assert.equal(b.unprotectRtp(out, n), -1);
});

/** A master key and salt drawn from seed `seed`, and the draw to go on with. */
function randomKeys(keyLength: number, saltLength: number, seed: number): { key: Buffer; salt: Buffer; r: { int(n: number): number } } {
  const next = rng(seed);
  const r = { int: (n: number) => Math.floor(next() * n) };
  const key = Buffer.from(Array.from({ length: keyLength }, () => r.int(256)));
  const salt = Buffer.from(Array.from({ length: saltLength }, () => r.int(256)));
  return { key, salt, r };
}

for (const profile of PROFILES) {
  test(`${profile}: the native module and Node's crypto protect every packet to the same bytes`, { skip: nativeSrtp() === null && 'native/build/srtp.node is not built here' }, () => {
    const { keyLength, saltLength } = srtpKeyLengths(profile);
    const { key, salt, r } = randomKeys(keyLength, saltLength, 7);
    const ts = new SrtpSession(profile, key, salt, undefined, false);
    const lib = new SrtpSession(profile, key, salt);
    assert.equal(lib.nativeProtect, true);
    const rx = new SrtpSession(profile, key, salt, undefined, false);
    const rxLib = new SrtpSession(profile, key, salt);
    // several SSRCs, a wrap, reordering and retransmissions, big and tiny packets, tight and roomy buffers
    let seq = 65000;
    for (let i = 0; i < 3000; i++) {
      const ssrc = 0x10000 + (i % 5);
      const back = r.int(10) === 0 ? r.int(40) : 0;
      const s = (seq - back) & 0xffff;
      if (back === 0) seq++;
      const plain = rtpPacket(s, ssrc, r.int(1200), undefined, i % 3 === 0);
      const roomy = r.int(2) === 0;
      const a = Buffer.alloc(plain.length + (roomy ? 200 : 16));
      const b = Buffer.alloc(plain.length + (roomy ? 200 : 16));
      const na = ts.protectRtp(plain, plain.length, a);
      plain.copy(b);
      const nb = lib.protectRtp(b, plain.length, b);
      assert.equal(nb, na, `length of packet ${i}`);
      assert.deepEqual(b.subarray(0, nb), a.subarray(0, na), `bytes of packet ${i} (seq ${s}, ssrc ${ssrc})`);
      if (back === 0) {
        assert.equal(rxLib.unprotectRtp(a, na), plain.length, `the native module unprotects what Node's crypto protected (${i})`);
        assert.deepEqual(a.subarray(0, plain.length), plain);
        const bad = Buffer.from(b.subarray(0, nb));
        bad[nb - 1 - (i % 8)] ^= 1;
        assert.equal(rx.unprotectRtp(b, nb), plain.length, `Node's crypto unprotects what the native module protected (${i})`);
        assert.equal(new SrtpSession(profile, key, salt).unprotectRtp(bad, nb), -1, 'a bad tag: refused by the native module');
      }
    }
    for (let k = 0; k < 5; k++) assert.equal(lib.sendRoc(0x10000 + k), ts.sendRoc(0x10000 + k));
    assert.equal(lib.sendRoc(0x99), -1, 'an SSRC never sent');
    // malformed input: -1, nothing thrown
    assert.equal(lib.protectRtp(Buffer.alloc(8), 8, Buffer.alloc(40)), -1);
    assert.equal(lib.protectRtp(Buffer.alloc(100), 200, Buffer.alloc(300)), -1);
    assert.equal(lib.protectRtp(rtpPacket(1, 1, 10), 22, Buffer.alloc(22)), -1, 'no room for the tag');
  });
}

/** An RTCP compound packet of `len` bytes (a multiple of 4, at least 8) from sender `ssrc`. */
function rtcpPacket(ssrc: number, len: number, fill: number): Buffer {
  const p = Buffer.alloc(len, fill);
  p[0] = 0x80;
  p[1] = 205;
  p.writeUInt16BE(len / 4 - 1, 2);
  p.writeUInt32BE(ssrc >>> 0, 4);
  return p;
}

for (const profile of PROFILES) {
  test(`${profile}: SRTCP in the native module and with Node's crypto give the same bytes, each unprotects the other's, both refuse tampering`, { skip: nativeSrtp() === null && 'native/build/srtp.node is not built here' }, () => {
    const { keyLength, saltLength } = srtpKeyLengths(profile);
    const { key, salt, r } = randomKeys(keyLength, saltLength, 11);
    const ts = new SrtpSession(profile, key, salt, undefined, false);
    const lib = new SrtpSession(profile, key, salt);
    assert.equal(lib.nativeRtcpProtect, true);
    assert.equal(ts.nativeRtcpProtect, false);
    const rxTs = new SrtpSession(profile, key, salt, undefined, false);
    const rxLib = new SrtpSession(profile, key, salt);
    const gcm = profile !== 'AES_CM_128_HMAC_SHA1_80';
    // indexes up to just below 2^31 too (an SRTCP index never wraps: the receiver would take it for a replay)
    for (const start of [1, 0x7fffffff - 400]) {
      ts.nextRtcpIndex = start;
      lib.nextRtcpIndex = start;
      for (let i = 0; i < 400; i++) {
        const plain = rtcpPacket(0x20000 + (i % 3), 8 + 4 * r.int(300), r.int(256));
        const roomy = r.int(2) === 0;
        const a = Buffer.alloc(plain.length + (roomy ? 100 : ts.rtcpOverhead));
        const b = Buffer.alloc(a.length);
        const na = ts.protectRtcp(plain, plain.length, a);
        plain.copy(b);
        const nb = lib.protectRtcp(b, plain.length, b);
        assert.equal(nb, plain.length + ts.rtcpOverhead);
        assert.equal(nb, na, `length of packet ${i}`);
        assert.deepEqual(b.subarray(0, nb), a.subarray(0, na), `bytes of packet ${i}`);
        // a tampered tag, index or body: refused by both (and the good packet is still accepted after)
        const tagAt = gcm ? na - 20 : na - 10;
        const indexAt = gcm ? na - 4 : na - 14;
        const where = [tagAt + r.int(gcm ? 16 : 10), indexAt + 1 + r.int(3), r.int(plain.length)][i % 3];
        const bad = Buffer.from(a.subarray(0, na));
        bad[where] ^= 1 << r.int(8);
        assert.equal(rxTs.unprotectRtcp(Buffer.from(bad), na), -1, `Node's crypto refuses a change at byte ${where}`);
        assert.equal(rxLib.unprotectRtcp(Buffer.from(bad), na), -1, `the native module refuses a change at byte ${where}`);
        const c = Buffer.from(b.subarray(0, nb));
        assert.equal(rxLib.unprotectRtcp(a, na), plain.length, `the native module unprotects what Node's crypto protected (${i})`);
        assert.deepEqual(a.subarray(0, plain.length), plain);
        assert.equal(rxTs.unprotectRtcp(c, nb), plain.length, `Node's crypto unprotects what the native module protected (${i})`);
        assert.deepEqual(c.subarray(0, plain.length), plain);
        // a replay: refused by both
        assert.equal(rxLib.unprotectRtcp(Buffer.from(b.subarray(0, nb)), nb), -1);
        assert.equal(rxTs.unprotectRtcp(Buffer.from(b.subarray(0, nb)), nb), -1);
      }
    }
    // the E bit cleared on an encrypted packet: the tag covers it, refused by both
    const plain = rtcpPacket(0x30000, 40, 7);
    const out = Buffer.alloc(100);
    const n = lib.protectRtcp(plain, plain.length, out);
    out[gcm ? n - 4 : plain.length] &= 0x7f;
    assert.equal(new SrtpSession(profile, key, salt).unprotectRtcp(Buffer.from(out.subarray(0, n)), n), -1);
    assert.equal(new SrtpSession(profile, key, salt, undefined, false).unprotectRtcp(Buffer.from(out.subarray(0, n)), n), -1);
    // malformed input: -1, nothing thrown
    assert.equal(lib.protectRtcp(Buffer.alloc(4), 4, Buffer.alloc(40)), -1);
    assert.equal(lib.protectRtcp(plain, 200, Buffer.alloc(300)), -1);
    assert.equal(lib.unprotectRtcp(Buffer.alloc(30, 0x80), 31), -1);
  });
}

test('AES_CM_128_HMAC_SHA1_80: SRTCP authenticated only (E=0) is accepted unchanged by both paths, refused when tampered', { skip: nativeSrtp() === null && 'native/build/srtp.node is not built here' }, () => {
  const mk = Buffer.alloc(16, 0x33);
  const ms = Buffer.alloc(14, 0x44);
  const keys = deriveSessionKeys('AES_CM_128_HMAC_SHA1_80', mk, ms);
  const plain = rtcpPacket(0xabcdef, 48, 0x5a);
  const wire = Buffer.alloc(plain.length + 14);
  plain.copy(wire);
  wire.writeUInt32BE(9, plain.length); // E=0, index 9
  createHmac('sha1', keys.rtcpAuthKey).update(wire.subarray(0, plain.length + 4)).digest().copy(wire, plain.length + 4, 0, 10);
  for (const native of [false, true]) {
    const rx = new SrtpSession('AES_CM_128_HMAC_SHA1_80', mk, ms, undefined, native);
    assert.equal(rx.nativeRtcpProtect, native);
    const bad = Buffer.from(wire);
    bad[12] ^= 1;
    assert.equal(rx.unprotectRtcp(bad, bad.length), -1);
    const w = Buffer.from(wire);
    assert.equal(rx.unprotectRtcp(w, w.length), plain.length);
    assert.deepEqual(w.subarray(0, plain.length), plain);
    assert.equal(rx.unprotectRtcp(Buffer.from(wire), wire.length), -1, 'replay');
  }
});
