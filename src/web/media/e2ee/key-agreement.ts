// The pairwise part of end-to-end encryption, in the page: one ECDH P-256 key pair per meeting page; with each
// peer's public key (its `hello`), a shared AES-GCM key (HKDF of the ECDH secret) that wraps the media keys we send
// that peer and opens the ones it sends us. Only public keys and wrapped keys go through the server.
// Not authenticated against the server: a server that swaps public keys could read the media (as Jitsi's E2EE
// before its SAS verification); docs/ARCHITECTURE.md says so.

const WRAP_INFO = new TextEncoder().encode('tertulia-e2ee-wrap');

export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export class KeyAgreement {
  readonly #pair = crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']) as Promise<CryptoKeyPair>;

  /** Our public key, raw and base64url (the `hello`'s `publicKey`). */
  async publicKey(): Promise<string> {
    const pair = await this.#pair;
    return toBase64Url(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
  }

  /** The key shared with the owner of `peerPublicKey` (it derives the same one from ours). Throws on a bad key. */
  async shared(peerPublicKey: string): Promise<CryptoKey> {
    const pair = await this.#pair;
    const peer = await crypto.subtle.importKey('raw', fromBase64Url(peerPublicKey) as BufferSource, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    const secret = await crypto.subtle.deriveBits({ name: 'ECDH', public: peer }, pair.privateKey, 256);
    const hkdf = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
    return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: WRAP_INFO }, hkdf, { name: 'AES-GCM', length: 128 }, false, ['encrypt', 'decrypt']);
  }
}

function keyLabel(keyId: number, ratchet: number): Uint8Array {
  return new TextEncoder().encode(`${keyId}.${ratchet}`);
}

/** A media key wrapped for one peer: its IV and ciphertext (base64url); the key id and step are authenticated. */
export async function wrapKey(shared: CryptoKey, raw: Uint8Array, keyId: number, ratchet: number): Promise<{ iv: string; wrapped: string }> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: keyLabel(keyId, ratchet) as BufferSource }, shared, raw as BufferSource);
  return { iv: toBase64Url(iv), wrapped: toBase64Url(new Uint8Array(sealed)) };
}

/** The media key, or null when it does not open (not wrapped for us, or changed on the way). */
export async function unwrapKey(shared: CryptoKey, iv: string, wrapped: string, keyId: number, ratchet: number): Promise<Uint8Array | null> {
  try {
    const raw = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64Url(iv) as BufferSource, additionalData: keyLabel(keyId, ratchet) as BufferSource }, shared, fromBase64Url(wrapped) as BufferSource);
    return raw.byteLength === 16 ? new Uint8Array(raw) : null;
  } catch {
    return null;
  }
}
