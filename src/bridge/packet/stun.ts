/**
 * STUN (RFC 5389) for an ICE-lite server (RFC 8445): parsing Binding requests, MESSAGE-INTEGRITY
 * (short-term credentials), FINGERPRINT, and building Binding responses.
 *
 * STUN is not per media packet, so parseStun may allocate its small result object;
 * every function returns null/false on malformed input and never throws.
 */
import { createHmac, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';

export const STUN_MAGIC_COOKIE = 0x2112a442;
export const STUN_HEADER_LENGTH = 20;

export const STUN_METHOD_BINDING = 0x001;
export const STUN_CLASS_REQUEST = 0;
export const STUN_CLASS_INDICATION = 1;
export const STUN_CLASS_SUCCESS = 2;
export const STUN_CLASS_ERROR = 3;

export const ATTR_MAPPED_ADDRESS = 0x0001;
export const ATTR_USERNAME = 0x0006;
export const ATTR_MESSAGE_INTEGRITY = 0x0008;
export const ATTR_ERROR_CODE = 0x0009;
export const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
export const ATTR_PRIORITY = 0x0024;
export const ATTR_USE_CANDIDATE = 0x0025;
export const ATTR_SOFTWARE = 0x8022;
export const ATTR_FINGERPRINT = 0x8028;
export const ATTR_ICE_CONTROLLED = 0x8029;
export const ATTR_ICE_CONTROLLING = 0x802a;

const FINGERPRINT_XOR = 0x5354554e;

export interface StunRequest {
  method: number;
  cls: number;
  transactionId: Buffer;
  username: string | null;
  priority: number | null;
  useCandidate: boolean;
  iceControlling: boolean;
  iceControlled: boolean;
  hasIntegrity: boolean;
  hasFingerprint: boolean;
}

// ---------------------------------------------------------------------------------------------
// CRC-32 (zlib.crc32 exists since Node 22.2; table fallback otherwise)

let crcTable: Uint32Array | null = null;
function crc32Fallback(data: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const zlibCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
/** CRC-32 (ISO-HDLC, as zlib). */
export const crc32: (data: Uint8Array) => number =
  typeof zlibCrc32 === 'function' ? (d) => zlibCrc32(d) >>> 0 : crc32Fallback;

// ---------------------------------------------------------------------------------------------

/** length >= 20, first two bits 0, magic cookie. */
export function isStun(buf: Buffer, len: number = buf.length): boolean {
  if (len > buf.length) len = buf.length;
  return (
    len >= 20 &&
    (buf[0] & 0xc0) === 0 &&
    buf[4] === 0x21 &&
    buf[5] === 0x12 &&
    buf[6] === 0xa4 &&
    buf[7] === 0x42
  );
}

/** Message length (header + attributes) if the header is valid for this buffer, else -1. */
function messageEnd(buf: Buffer): number {
  if (!isStun(buf)) return -1;
  const msgLen = (buf[2] << 8) | buf[3];
  if ((msgLen & 3) !== 0) return -1;
  const end = 20 + msgLen;
  return end > buf.length ? -1 : end;
}

/** Offset of the first attribute of the given type (header offset), -1 if absent or malformed. */
function findAttribute(buf: Buffer, end: number, type: number): number {
  let p = 20;
  while (p < end) {
    if (p + 4 > end) return -1;
    const t = (buf[p] << 8) | buf[p + 1];
    const l = (buf[p + 2] << 8) | buf[p + 3];
    if (p + 4 + l > end) return -1;
    if (t === type) return p;
    p += 4 + ((l + 3) & ~3);
  }
  return -1;
}

/** Parses a STUN message; null on any malformation. buf may extend past the message. */
export function parseStun(buf: Buffer): StunRequest | null {
  const end = messageEnd(buf);
  if (end < 0) return null;
  const type = (buf[0] << 8) | buf[1];
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = ((type >> 7) & 2) | ((type >> 4) & 1);
  let username: string | null = null;
  let priority: number | null = null;
  let useCandidate = false;
  let iceControlling = false;
  let iceControlled = false;
  let hasIntegrity = false;
  let hasFingerprint = false;
  let p = 20;
  while (p < end) {
    if (p + 4 > end) return null;
    if (hasFingerprint) return null; // FINGERPRINT must be last
    const t = (buf[p] << 8) | buf[p + 1];
    const l = (buf[p + 2] << 8) | buf[p + 3];
    const v = p + 4;
    if (v + l > end) return null;
    const next = v + ((l + 3) & ~3);
    if (next > end) return null;
    if (t === ATTR_FINGERPRINT) {
      if (l !== 4) return null;
      hasFingerprint = true;
    } else if (hasIntegrity) {
      // RFC 5389 §15.4: attributes after MESSAGE-INTEGRITY (other than FINGERPRINT) are ignored.
    } else if (t === ATTR_MESSAGE_INTEGRITY) {
      if (l !== 20) return null;
      hasIntegrity = true;
    } else if (t === ATTR_USERNAME) {
      if (l > 513) return null;
      username = buf.toString('utf8', v, v + l);
    } else if (t === ATTR_PRIORITY) {
      if (l !== 4) return null;
      priority = ((buf[v] << 24) | (buf[v + 1] << 16) | (buf[v + 2] << 8) | buf[v + 3]) >>> 0;
    } else if (t === ATTR_USE_CANDIDATE) {
      if (l !== 0) return null;
      useCandidate = true;
    } else if (t === ATTR_ICE_CONTROLLING) {
      if (l !== 8) return null;
      iceControlling = true;
    } else if (t === ATTR_ICE_CONTROLLED) {
      if (l !== 8) return null;
      iceControlled = true;
    }
    p = next;
  }
  const transactionId = Buffer.allocUnsafe(12);
  buf.copy(transactionId, 0, 8, 20);
  return {
    method,
    cls,
    transactionId,
    username,
    priority,
    useCandidate,
    iceControlling,
    iceControlled,
    hasIntegrity,
    hasFingerprint,
  };
}

const headerScratch = Buffer.alloc(20);

/** HMAC-SHA1 of buf[0..miOffset) with the header length rewritten to end just after MESSAGE-INTEGRITY. */
function integrityHmac(buf: Buffer, miOffset: number, key: Buffer | string): Buffer {
  buf.copy(headerScratch, 0, 0, 20);
  const adjusted = miOffset + 24 - 20;
  headerScratch[2] = adjusted >>> 8;
  headerScratch[3] = adjusted;
  return createHmac('sha1', key).update(headerScratch).update(buf.subarray(20, miOffset)).digest();
}

/** Verifies MESSAGE-INTEGRITY (RFC 5389 §15.4). key: the short-term password (string as UTF-8) or its bytes. */
export function verifyIntegrity(buf: Buffer, key: Buffer | string): boolean {
  const end = messageEnd(buf);
  if (end < 0) return false;
  const mi = findAttribute(buf, end, ATTR_MESSAGE_INTEGRITY);
  if (mi < 0 || ((buf[mi + 2] << 8) | buf[mi + 3]) !== 20) return false;
  let mac: Buffer;
  try {
    mac = integrityHmac(buf, mi, key);
  } catch {
    return false;
  }
  let diff = 0;
  for (let i = 0; i < 20; i++) diff |= mac[i] ^ buf[mi + 4 + i];
  return diff === 0;
}

/** Verifies FINGERPRINT (RFC 5389 §15.5); it must be the last attribute. */
export function verifyFingerprint(buf: Buffer): boolean {
  const end = messageEnd(buf);
  if (end < 28) return false;
  const fp = end - 8;
  if (((buf[fp] << 8) | buf[fp + 1]) !== ATTR_FINGERPRINT || ((buf[fp + 2] << 8) | buf[fp + 3]) !== 4) return false;
  // Make sure fp is on an attribute boundary.
  if (findAttribute(buf, end, ATTR_FINGERPRINT) !== fp) return false;
  const crc = (crc32(buf.subarray(0, fp)) ^ FINGERPRINT_XOR) >>> 0;
  const got = ((buf[fp + 4] << 24) | (buf[fp + 5] << 16) | (buf[fp + 6] << 8) | buf[fp + 7]) >>> 0;
  return crc === got;
}

// ---------------------------------------------------------------------------------------------
// Builders

/** Parses an IPv4 or IPv6 literal into 4 or 16 bytes (IPv4-mapped IPv6 becomes 4 bytes). null if invalid. */
export function parseIpAddress(address: string): Buffer | null {
  const pct = address.indexOf('%');
  if (pct >= 0) address = address.slice(0, pct);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const v4 = parseIpv4(address);
  if (v4) return v4;
  const v6 = parseIpv6(address);
  if (!v6) return null;
  // IPv4-mapped (::ffff:a.b.c.d): answer as IPv4, as dual-stack sockets report v4 peers this way.
  let mapped = v6[10] === 0xff && v6[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (v6[i] !== 0) mapped = false;
  return mapped ? v6.subarray(12) : v6;
}

function parseIpv4(s: string): Buffer | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(s: string): Buffer | null {
  if (s.length < 2 || s.length > 45) return null;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const head = dbl >= 0 ? s.slice(0, dbl) : s;
  const tail = dbl >= 0 ? s.slice(dbl + 2) : '';
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseIpv4(it);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return null;
  if (dbl < 0 && h.length !== 8) return null;
  if (dbl >= 0 && h.length + t.length > 7) return null;
  const all = h.concat(new Array<number>(8 - h.length - t.length).fill(0), t);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(all[i], 2 * i);
  return out;
}

interface Attr {
  type: number;
  value: Buffer;
}

function messageType(method: number, cls: number): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((cls & 1) << 4) |
    ((cls & 2) << 7)
  );
}

/** Encodes a message with the given attributes, then MESSAGE-INTEGRITY (if key) and FINGERPRINT. */
function encode(type: number, transactionId: Buffer, attrs: Attr[], key: Buffer | string | undefined): Buffer {
  let size = 20;
  for (const a of attrs) size += 4 + ((a.value.length + 3) & ~3);
  const miOffset = size;
  if (key !== undefined) size += 24;
  const fpOffset = size;
  size += 8;
  const out = Buffer.alloc(size);
  out.writeUInt16BE(type, 0);
  out.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
  transactionId.copy(out, 8, 0, 12);
  let p = 20;
  for (const a of attrs) {
    out.writeUInt16BE(a.type, p);
    out.writeUInt16BE(a.value.length, p + 2);
    a.value.copy(out, p + 4);
    p += 4 + ((a.value.length + 3) & ~3);
  }
  if (key !== undefined) {
    out.writeUInt16BE(ATTR_MESSAGE_INTEGRITY, miOffset);
    out.writeUInt16BE(20, miOffset + 2);
    integrityHmac(out, miOffset, key).copy(out, miOffset + 4);
  }
  out.writeUInt16BE(size - 20, 2);
  out.writeUInt16BE(ATTR_FINGERPRINT, fpOffset);
  out.writeUInt16BE(4, fpOffset + 2);
  out.writeUInt32BE((crc32(out.subarray(0, fpOffset)) ^ FINGERPRINT_XOR) >>> 0, fpOffset + 4);
  return out;
}

function xorAddressValue(transactionId: Buffer, address: string, port: number): Buffer | null {
  const ip = parseIpAddress(address);
  if (!ip || !Number.isInteger(port) || port < 0 || port > 0xffff) return null;
  const v = Buffer.alloc(4 + ip.length);
  v[1] = ip.length === 4 ? 0x01 : 0x02;
  v.writeUInt16BE(port ^ (STUN_MAGIC_COOKIE >>> 16), 2);
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(STUN_MAGIC_COOKIE, 0);
  transactionId.copy(mask, 4, 0, 12);
  for (let i = 0; i < ip.length; i++) v[4 + i] = ip[i] ^ mask[i];
  return v;
}

/**
 * Binding success response with XOR-MAPPED-ADDRESS (IPv4/IPv6), MESSAGE-INTEGRITY and FINGERPRINT.
 * Throws only on programming errors (transactionId not 12 bytes, address not an IP literal).
 */
export function buildBindingSuccess(transactionId: Buffer, address: string, port: number, key: Buffer | string): Buffer {
  if (transactionId.length !== 12) throw new RangeError('STUN transaction id must be 12 bytes');
  const xma = xorAddressValue(transactionId, address, port);
  if (!xma) throw new RangeError(`not an IP address/port: ${address}:${port}`);
  return encode(messageType(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), transactionId, [
    { type: ATTR_XOR_MAPPED_ADDRESS, value: xma },
  ], key);
}

/** Binding error response with ERROR-CODE (e.g. 400, 401, 487), optional MESSAGE-INTEGRITY, FINGERPRINT. */
export function buildBindingError(transactionId: Buffer, code: number, reason: string, key?: Buffer | string): Buffer {
  if (transactionId.length !== 12) throw new RangeError('STUN transaction id must be 12 bytes');
  const r = Buffer.from(reason, 'utf8').subarray(0, 763);
  const v = Buffer.alloc(4 + r.length);
  v[2] = Math.floor(code / 100) & 0x07;
  v[3] = code % 100;
  r.copy(v, 4);
  return encode(messageType(STUN_METHOD_BINDING, STUN_CLASS_ERROR), transactionId, [
    { type: ATTR_ERROR_CODE, value: v },
  ], key);
}

/** Binding request as an ICE agent sends it (tests, benchmark clients). */
export function buildBindingRequest(opts: {
  transactionId?: Buffer;
  username: string;
  key: Buffer | string;
  priority: number;
  useCandidate?: boolean;
  iceControlling?: bigint;
}): Buffer {
  const tid = opts.transactionId ?? randomBytes(12);
  if (tid.length !== 12) throw new RangeError('STUN transaction id must be 12 bytes');
  const attrs: Attr[] = [{ type: ATTR_USERNAME, value: Buffer.from(opts.username, 'utf8') }];
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(opts.priority >>> 0, 0);
  attrs.push({ type: ATTR_PRIORITY, value: prio });
  if (opts.useCandidate) attrs.push({ type: ATTR_USE_CANDIDATE, value: Buffer.alloc(0) });
  if (opts.iceControlling !== undefined) {
    const t = Buffer.alloc(8);
    t.writeBigUInt64BE(BigInt.asUintN(64, opts.iceControlling), 0);
    attrs.push({ type: ATTR_ICE_CONTROLLING, value: t });
  }
  return encode(messageType(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), tid, attrs, opts.key);
}

/** XOR-MAPPED-ADDRESS of a message, null if absent or malformed. IPv6 in RFC 5952 form. */
export function parseXorMappedAddress(buf: Buffer): { address: string; port: number } | null {
  const end = messageEnd(buf);
  if (end < 0) return null;
  const a = findAttribute(buf, end, ATTR_XOR_MAPPED_ADDRESS);
  if (a < 0) return null;
  const l = (buf[a + 2] << 8) | buf[a + 3];
  const v = a + 4;
  const family = buf[v + 1];
  const port = ((buf[v + 2] << 8) | buf[v + 3]) ^ (STUN_MAGIC_COOKIE >>> 16);
  if (family === 0x01 && l === 8) {
    const parts: number[] = [];
    for (let i = 0; i < 4; i++) parts.push(buf[v + 4 + i] ^ buf[4 + i]);
    return { address: parts.join('.'), port };
  }
  if (family === 0x02 && l === 20) {
    const groups: number[] = [];
    for (let i = 0; i < 16; i += 2) {
      const hi = buf[v + 4 + i] ^ buf[4 + i];
      const lo = buf[v + 5 + i] ^ buf[5 + i];
      groups.push((hi << 8) | lo);
    }
    return { address: formatIpv6(groups), port };
  }
  return null;
}

/** RFC 5952 text form of 8 groups: lower case, longest run (>= 2) of zero groups as '::'. */
function formatIpv6(g: number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return hex(g.slice(0, bestStart)) + '::' + hex(g.slice(bestStart + bestLen));
}

/** ERROR-CODE of an error response as { code, reason }, null if absent or malformed. */
export function parseErrorCode(buf: Buffer): { code: number; reason: string } | null {
  const end = messageEnd(buf);
  if (end < 0) return null;
  const a = findAttribute(buf, end, ATTR_ERROR_CODE);
  if (a < 0) return null;
  const l = (buf[a + 2] << 8) | buf[a + 3];
  if (l < 4) return null;
  const v = a + 4;
  return { code: (buf[v + 2] & 0x07) * 100 + buf[v + 3], reason: buf.toString('utf8', v + 4, v + l) };
}
