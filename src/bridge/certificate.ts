// The bridge's DTLS certificate: one ECDSA P-256 self-signed certificate per bridge process.
// Browsers learn its SHA-256 fingerprint from the SDP offer (a=fingerprint) and check it in the handshake.
// Made with node:crypto (self-signed.ts): werift is loaded only by the first DTLS handshake (dtls.ts).
import { createHash, X509Certificate } from 'node:crypto';
import type { SignatureHash } from 'werift';
import { selfSignedP256 } from './self-signed.ts';

export interface BridgeCertificate {
  certPem: string;
  keyPem: string;
  signatureHash: SignatureHash;
  /** DER bytes of the certificate. */
  der: Buffer;
  /** SHA-256 of the DER, as `AB:CD:...` (uppercase hex pairs). */
  fingerprint: string;
}

const SHA256 = 4; // werift HashAlgorithm.sha256_4
const ECDSA = 3; // werift SignatureAlgorithm.ecdsa_3

export async function createBridgeCertificate(): Promise<BridgeCertificate> {
  const { certPem, keyPem } = selfSignedP256();
  // parsed back by Node's X.509 reader: what the DER says is what a browser reads
  const der = Buffer.from(new X509Certificate(certPem).raw);
  return { certPem, keyPem, signatureHash: { hash: SHA256, signature: ECDSA }, der, fingerprint: fingerprintOf(der, 'sha-256')! };
}

/** Node hash name for an SDP fingerprint algorithm (RFC 8122 names), or null if unsupported. */
export function hashNameOf(algorithm: string): string | null {
  switch (algorithm.trim().toLowerCase()) {
    case 'sha-1':
    case 'sha1':
      return 'sha1';
    case 'sha-224':
    case 'sha224':
      return 'sha224';
    case 'sha-256':
    case 'sha256':
      return 'sha256';
    case 'sha-384':
    case 'sha384':
      return 'sha384';
    case 'sha-512':
    case 'sha512':
      return 'sha512';
    default:
      return null;
  }
}

/** Fingerprint of DER bytes as `AB:CD:...`; null when the algorithm is unsupported. */
export function fingerprintOf(der: Buffer, algorithm: string): string | null {
  const hash = hashNameOf(algorithm);
  if (!hash) return null;
  const hex = createHash(hash).update(der).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/** Canonical form of a fingerprint value for comparison: uppercase hex pairs joined by ':'. */
export function normalizeFingerprint(value: string): string {
  const hex = value.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.length % 2 === 0 && hex.length > 0 ? hex.match(/../g)!.join(':') : '';
}

/** True when `der` (a peer certificate) matches the fingerprint the peer announced in its SDP. */
export function certificateMatches(der: Buffer, fingerprint: { algorithm: string; value: string }): boolean {
  const actual = fingerprintOf(der, fingerprint.algorithm);
  if (!actual) return false;
  const expected = normalizeFingerprint(fingerprint.value);
  return expected !== '' && actual === expected;
}
