// The AES-CM keystream made ahead per stream (srtp.ts) must give exactly the per-packet RFC 3711 result for
// any order of packets: forward, sizes growing and shrinking, retransmissions, jumps, ROC wrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SrtpSession, aesCmKeystream, deriveSessionKeys } from '../../src/bridge/packet/srtp.ts';

const masterKey = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const masterSalt = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacad', 'hex');
const keys = deriveSessionKeys('AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt);

/** RFC 3711 protection of one packet with an explicit ROC, straight from the definitions. */
function reference(plain: Buffer, roc: number): Buffer {
  const ssrc = plain.readUInt32BE(8);
  const seq = plain.readUInt16BE(2);
  const iv = Buffer.alloc(16);
  keys.rtpSalt.copy(iv, 0, 0, 14);
  const x = Buffer.alloc(16);
  x.writeUInt32BE(ssrc, 4);
  x.writeUInt32BE(roc, 8);
  x.writeUInt16BE(seq, 12);
  for (let i = 0; i < 16; i++) iv[i] ^= x[i];
  const out = Buffer.from(plain);
  const ks = aesCmKeystream(keys.rtpKey, iv, plain.length - 12);
  for (let i = 12; i < plain.length; i++) out[i] ^= ks[i - 12];
  const r = Buffer.alloc(4);
  r.writeUInt32BE(roc);
  const tag = createHmac('sha1', keys.rtpAuthKey).update(out).update(r).digest().subarray(0, 10);
  return Buffer.concat([out, tag]);
}

function packet(seq: number, size: number, fill: number): Buffer {
  const p = Buffer.alloc(12 + size, fill);
  p[0] = 0x80;
  p[1] = 96;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(0x1234, 4);
  p.writeUInt32BE(0xcafe0001, 8);
  return p;
}

test('SRTP AES-CM keystream made ahead: same bytes as per-packet protection, in any order', () => {
  const tx = new SrtpSession('AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt);
  const rx = new SrtpSession('AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt);
  // [index (roc*65536+seq), payload size]
  const plan: Array<[number, number]> = [];
  let index = 65_500;
  for (let i = 0; i < 200; i++) plan.push([index++, 20 + ((i * 37) % 1180)]); // forward across the ROC wrap
  plan.push([index - 5, 1200], [index - 150, 100]); // retransmissions inside and before the batch
  index += 40; // a jump forward
  for (let i = 0; i < 30; i++) plan.push([index++, 1100]);
  plan.push([index + 3, 50], [index + 1, 1400], [index, 10], [index + 2, 900]); // reordered, growing
  const out = Buffer.alloc(1500);
  for (const [idx, size] of plan) {
    const roc = Math.floor(idx / 65536);
    const plain = packet(idx, size, idx & 0xff);
    const n = tx.protectRtp(plain, plain.length, out);
    const expected = reference(plain, roc);
    assert.equal(n, expected.length, `index ${idx}`);
    assert.ok(out.subarray(0, n).equals(expected), `index ${idx}: ciphertext differs from RFC 3711`);
  }
  // the receiver side decrypts a forward stream across the ROC wrap (keystream made ahead) to the plaintext
  for (let idx = 65_480; idx < 65_600; idx++) {
    const plain = packet(idx, 30 + ((idx * 13) % 1100), 7);
    const wire = reference(plain, Math.floor(idx / 65536));
    const len = rx.unprotectRtp(wire, wire.length);
    assert.equal(len, plain.length, `index ${idx}`);
    assert.ok(wire.subarray(0, len).equals(plain), `index ${idx}: decrypted bytes differ`);
  }
});
