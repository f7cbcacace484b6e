// One encoded media frame encrypted or decrypted for end-to-end encryption (SFrame-like, as lib-jitsi-meet does):
//
//   [clear header][AES-128-GCM ciphertext + 16-byte tag][IV 12][key id 4][ratchet 1][clear length 1][magic 2]
//
// The clear header is what the bridge and the receiving depacketizer read: a VP8 frame's first 10 bytes on a
// keyframe (frame tag, start code, size) or 3 on a delta frame (the frame tag with the keyframe bit), an Opus
// frame's TOC byte. It is authenticated as additional data, so it cannot be changed either. The key id names the
// sender's media key (random, 32 bits) and the ratchet how many times that key was hashed forward (ratchetKey):
// a receiver holding an earlier step derives the later one itself, so a sender moves on at a join without
// waiting for anyone. The magic bytes mark a frame as ours (a plain frame from a browser that does not encrypt).
// Pure WebCrypto: runs in the encoded-transform worker, in the page, and in Node for the unit tests.

export const TRAILER_BYTES = 12 + 4 + 1 + 1 + 2;
const MAGIC_0 = 0xe2;
const MAGIC_1 = 0xee;
/** Clear bytes: VP8 keyframe, VP8 delta frame, audio (Opus TOC). */
export const CLEAR_BYTES = { videoKey: 10, videoDelta: 3, audio: 1 } as const;
/** How far a receiver ratchets a known key forward by itself. */
export const MAX_RATCHET_STEPS = 16;
const RATCHET_INFO = new TextEncoder().encode('tertulia-e2ee-ratchet');

export interface MediaKey {
  keyId: number;
  ratchet: number;
  key: CryptoKey;
}

export function importMediaKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw as BufferSource, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/** A new random 16-byte media key. */
export function randomRawKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

/** The key one ratchet step after `raw`: HKDF-SHA-256 of it (not reversible: a newcomer cannot go back). */
export async function ratchetKey(raw: Uint8Array): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey('raw', raw as BufferSource, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(16), info: RATCHET_INFO }, base, 128);
  return new Uint8Array(bits);
}

/** `data` encrypted under `key`, its first `clear` bytes left readable. */
export async function encryptFrame(data: ArrayBuffer, clear: number, key: MediaKey): Promise<ArrayBuffer> {
  const bytes = new Uint8Array(data);
  const n = Math.min(clear, bytes.length);
  const header = bytes.subarray(0, n);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header }, key.key, bytes.subarray(n)));
  const out = new Uint8Array(n + sealed.length + TRAILER_BYTES);
  out.set(header, 0);
  out.set(sealed, n);
  let o = n + sealed.length;
  out.set(iv, o);
  o += 12;
  new DataView(out.buffer).setUint32(o, key.keyId >>> 0);
  o += 4;
  out[o++] = key.ratchet;
  out[o++] = n;
  out[o++] = MAGIC_0;
  out[o] = MAGIC_1;
  return out.buffer;
}

export interface FrameTrailer {
  keyId: number;
  ratchet: number;
}

/** The trailer of an encrypted frame, or null for a frame that is not one (a plain frame). */
export function readTrailer(data: ArrayBuffer): FrameTrailer | null {
  const b = new Uint8Array(data);
  if (b.length < TRAILER_BYTES + 16 || b[b.length - 2] !== MAGIC_0 || b[b.length - 1] !== MAGIC_1) return null;
  const clear = b[b.length - 3]!;
  if (clear + 16 + TRAILER_BYTES > b.length) return null;
  const at = b.length - TRAILER_BYTES + 12;
  return { keyId: new DataView(data).getUint32(at), ratchet: b[at + 4]! };
}

/** The plain frame, or null when `key` does not open it (another key, or changed on the way). */
export async function decryptFrame(data: ArrayBuffer, key: CryptoKey): Promise<ArrayBuffer | null> {
  const b = new Uint8Array(data);
  if (b.length < TRAILER_BYTES + 16) return null;
  const clear = b[b.length - 3]!;
  const ivAt = b.length - TRAILER_BYTES;
  if (clear + 16 > ivAt) return null;
  const header = b.subarray(0, clear);
  try {
    const plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: b.subarray(ivAt, ivAt + 12), additionalData: header }, key, b.subarray(clear, ivAt)));
    const out = new Uint8Array(clear + plain.length);
    out.set(header, 0);
    out.set(plain, clear);
    return out.buffer;
  } catch {
    return null;
  }
}
