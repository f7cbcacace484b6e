// A self-signed ECDSA P-256 X.509 v3 certificate made with node:crypto alone (the DER written here), so that
// a bridge that has not run a DTLS handshake yet does not load werift (~30 MiB of RSS per thread) just to make
// its certificate. What browsers check is only the certificate's fingerprint (RFC 8122) and that it signs the
// handshake; the subject, serial number and validity are what werift's generator put there.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** One DER TLV: tag, definite length, value. */
function tlv(tag: number, value: Buffer): Buffer {
  const n = value.length;
  let head: Buffer;
  if (n < 0x80) head = Buffer.from([tag, n]);
  else if (n < 0x100) head = Buffer.from([tag, 0x81, n]);
  else if (n < 0x10000) head = Buffer.from([tag, 0x82, n >> 8, n & 0xff]);
  else throw new Error('DER value too long');
  return Buffer.concat([head, value]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));

/** An OID from its dotted form. */
function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A positive INTEGER from big-endian bytes. */
function positiveInteger(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && b[1]! < 0x80) b = b.subarray(1);
  return tlv(0x02, b[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** UTCTime (years 1950-2049) or GeneralizedTime, as RFC 5280 §4.1.2.5 asks. */
function time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, 'ascii')) : tlv(0x18, Buffer.from(`${y}${rest}`, 'ascii'));
}

function name(parts: Array<[string, string]>): Buffer {
  return seq(...parts.map(([type, value]) => set(seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))))));
}

const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const SUBJECT = name([
  ['2.5.4.6', 'AU'],
  ['2.5.4.8', 'Some-State'],
  ['2.5.4.10', 'Internet Widgits Pty Ltd'],
]);
const TEN_YEARS_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/** A new P-256 key and a self-signed certificate for it, valid from now for ten years (PEM: CERTIFICATE, PKCS#8). */
export function selfSignedP256(now = new Date()): { certPem: string; keyPem: string; der: Buffer } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const tbs = seq(
    tlv(0xa0, positiveInteger(Buffer.from([2]))), // [0] version: v3
    positiveInteger(randomBytes(8)),
    ECDSA_WITH_SHA256,
    SUBJECT,
    seq(time(now), time(new Date(now.getTime() + TEN_YEARS_MS))),
    SUBJECT,
    spki,
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ECDSA_WITH_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  const certPem = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { certPem, keyPem, der };
}
