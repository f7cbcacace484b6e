// End-to-end encryption's frame format and keys (src/web/media/e2ee/), with Node's WebCrypto (the same API the
// browser's worker uses): the clear header stays readable and authenticated, the rest does not look like the
// input, a wrong or changed frame does not open, ratcheted keys are reached forward and never backward, and two
// key agreements derive one shared key that carries a media key from one side to the other.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLEAR_BYTES, decryptFrame, encryptFrame, importMediaKey, randomRawKey, ratchetKey, readTrailer, TRAILER_BYTES } from '../../src/web/media/e2ee/frame-crypto.ts';
import { ReceiveKeyring } from '../../src/web/media/e2ee/keyring.ts';
import { KeyAgreement, unwrapKey, wrapKey } from '../../src/web/media/e2ee/key-agreement.ts';
import { e2eeRelayDataSchema } from '../../src/protocol/e2ee-messages.ts';

/** A VP8 keyframe's start: frame tag, start code 9d 01 2a, 640x360; then payload. */
function vp8Keyframe(): ArrayBuffer {
  const b = new Uint8Array(200);
  b.set([0x50, 0x2a, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01]);
  for (let i = 10; i < b.length; i++) b[i] = i & 0xff;
  return b.buffer;
}

describe('e2ee frames', () => {
  test('a VP8 keyframe keeps its 10-byte header readable; the rest is ciphertext; it opens with the key only', async () => {
    const raw = randomRawKey();
    const key = { keyId: 0xdeadbeef, ratchet: 3, key: await importMediaKey(raw) };
    const plain = vp8Keyframe();
    const sealed = await encryptFrame(plain, CLEAR_BYTES.videoKey, key);
    const s = new Uint8Array(sealed);
    assert.equal(s.length, plain.byteLength + 16 + TRAILER_BYTES);
    assert.deepEqual([...s.subarray(0, 10)], [...new Uint8Array(plain).subarray(0, 10)], 'the header the bridge reads');
    assert.notDeepEqual([...s.subarray(10, 50)], [...new Uint8Array(plain).subarray(10, 50)]);
    assert.deepEqual(readTrailer(sealed), { keyId: 0xdeadbeef, ratchet: 3 });
    assert.deepEqual(new Uint8Array((await decryptFrame(sealed, key.key))!), new Uint8Array(plain));
    assert.equal(await decryptFrame(sealed, await importMediaKey(randomRawKey())), null, 'another key');
    const changed = new Uint8Array(sealed.slice(0));
    changed[1]! ^= 1; // the clear header is authenticated too
    assert.equal(await decryptFrame(changed.buffer, key.key), null);
  });

  test('a plain frame has no trailer; a short audio frame keeps its TOC byte', async () => {
    assert.equal(readTrailer(vp8Keyframe()), null);
    assert.equal(readTrailer(new Uint8Array(3).buffer), null);
    const key = { keyId: 1, ratchet: 0, key: await importMediaKey(randomRawKey()) };
    const opus = new Uint8Array([0x78, 1, 2, 3]).buffer;
    const sealed = new Uint8Array(await encryptFrame(opus, CLEAR_BYTES.audio, key));
    assert.equal(sealed[0], 0x78);
    assert.deepEqual(new Uint8Array((await decryptFrame(sealed.buffer, key.key))!), new Uint8Array(opus));
  });

  test('the keyring ratchets forward (a later step opens), never backward, and waits for a key', async () => {
    const raw0 = randomRawKey();
    const raw2 = await ratchetKey(await ratchetKey(raw0));
    const frame = await encryptFrame(vp8Keyframe(), 3, { keyId: 7, ratchet: 2, key: await importMediaKey(raw2) });
    const ring = new ReceiveKeyring();
    const waiting = ring.waitFor('ana', 7, 5000);
    ring.add('ana', 7, 0, raw0);
    assert.equal(await waiting, true);
    assert.ok(await decryptFrame(frame, (await ring.key('ana', 7, 2))!), 'derived two steps forward');
    const newcomer = new ReceiveKeyring();
    newcomer.add('ana', 7, 2, raw2);
    assert.equal(await newcomer.key('ana', 7, 0), null, 'a newcomer cannot go back');
    assert.equal(await newcomer.key('ana', 7, 2 + 17), null, 'nor too far forward');
    assert.equal(await new ReceiveKeyring().waitFor('ana', 9, 10), false);
  });

  test("the keyring binds a key id to its sender: another's claim of the same id neither replaces nor opens it", async () => {
    const anaRaw = randomRawKey();
    const frame = await encryptFrame(vp8Keyframe(), 3, { keyId: 7, ratchet: 0, key: await importMediaKey(anaRaw) });
    const ring = new ReceiveKeyring();
    // Mallory read Ana's key id from her frames and gives a key under it first
    ring.add('mallory', 7, 0, randomRawKey());
    const anaWaits = ring.waitFor('ana', 7, 5000);
    ring.add('ana', 7, 0, anaRaw);
    assert.equal(await anaWaits, true);
    assert.ok(await decryptFrame(frame, (await ring.key('ana', 7, 0))!), "Ana's frame opens with Ana's key");
    assert.equal(await decryptFrame(frame, (await ring.key('mallory', 7, 0))!), null, "Mallory's key does not open it");
    ring.add('mallory', 7, 1, randomRawKey());
    assert.ok(await decryptFrame(frame, (await ring.key('ana', 7, 0))!), "a later step from Mallory leaves Ana's key");
    // a flood of ids from one sender evicts only that sender's keys
    for (let id = 100; id < 200; id++) ring.add('mallory', id, 0, randomRawKey());
    assert.ok(ring.has('ana', 7));
    assert.ok(ring.size <= 1 + 4, 'a sender holds a few ids at most');
    ring.removeSender('ana');
    assert.equal(ring.has('ana', 7), false);
  });

  test('two key agreements share a key: a wrapped media key opens on the other side only, as it was sent', async () => {
    const ana = new KeyAgreement();
    const ben = new KeyAgreement();
    const eve = new KeyAgreement();
    const anaShared = await ana.shared(await ben.publicKey());
    const benShared = await ben.shared(await ana.publicKey());
    const raw = randomRawKey();
    const { iv, wrapped } = await wrapKey(anaShared, raw, 42, 1);
    assert.deepEqual(await unwrapKey(benShared, iv, wrapped, 42, 1), raw);
    assert.equal(await unwrapKey(benShared, iv, wrapped, 42, 2), null, 'the step is authenticated');
    assert.equal(await unwrapKey(await eve.shared(await ana.publicKey()), iv, wrapped, 42, 1), null, 'a third party cannot open it');
    await assert.rejects(ana.shared('AAAA'), 'a bad public key');
    assert.ok(e2eeRelayDataSchema.safeParse({ kind: 'key', keyId: 42, ratchet: 1, iv, wrapped }).success);
    assert.ok(!e2eeRelayDataSchema.safeParse({ kind: 'key', keyId: -1, ratchet: 1, iv, wrapped }).success);
  });
});
