// STUN (src/bridge/packet/stun.ts): messages built by the test's own encoder (any attributes, with or without
// MESSAGE-INTEGRITY and FINGERPRINT), the bridge's own Binding request/response/error builders, and raw bytes;
// then mutated. Checked: a parse agrees with an RFC 5389 reading of what was built; what was built round-trips
// (username, priority, flags, XOR-MAPPED-ADDRESS, ERROR-CODE); a message changed anywhere MESSAGE-INTEGRITY
// or FINGERPRINT covers fails to verify; nothing depends on bytes past the message's own length.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import * as stun from '../../../src/bridge/packet/stun.ts';
import { bytes, hexBytes, hexBytesMostlyShort, mutate, mutations, u32, type Mutation } from '../bytes.ts';
import { pureTarget } from '../harness.ts';

export type StunSpec =
  | { kind: 'message'; type: number; tid: string; attrs: { type: number; hex: string }[]; integrity: boolean; fingerprint: boolean; key: string }
  | { kind: 'request'; tid: string; username: string; key: string; priority: number; useCandidate: boolean; controlling: boolean }
  | { kind: 'success'; tid: string; address: string; port: number; key: string }
  | { kind: 'error'; tid: string; code: number; reason: string; key: string | null }
  | { kind: 'raw'; hex: string };

export interface StunInput {
  msg: StunSpec;
  ops: Mutation[];
}

const KNOWN_ATTRS = [
  stun.ATTR_MAPPED_ADDRESS,
  stun.ATTR_USERNAME,
  stun.ATTR_MESSAGE_INTEGRITY,
  stun.ATTR_ERROR_CODE,
  stun.ATTR_XOR_MAPPED_ADDRESS,
  stun.ATTR_PRIORITY,
  stun.ATTR_USE_CANDIDATE,
  stun.ATTR_SOFTWARE,
  stun.ATTR_FINGERPRINT,
  stun.ATTR_ICE_CONTROLLED,
  stun.ATTR_ICE_CONTROLLING,
];
/** The value lengths an attribute is valid with (so well-formed ones are likely). */
const VALID_LENGTH: Record<number, number> = { 0x0008: 20, 0x0024: 4, 0x0025: 0, 0x8028: 4, 0x8029: 8, 0x802a: 8 };

const attribute = fc.oneof(
  fc.constantFrom(...KNOWN_ATTRS).chain((type) =>
    fc.record({
      type: fc.constant(type),
      hex: VALID_LENGTH[type] !== undefined ? fc.oneof({ arbitrary: hexBytes(VALID_LENGTH[type]!, VALID_LENGTH[type]!), weight: 4 }, { arbitrary: hexBytesMostlyShort(40), weight: 1 }) : hexBytesMostlyShort(600),
    }),
  ),
  fc.record({ type: fc.nat({ max: 0xffff }), hex: hexBytesMostlyShort(64) }),
);

const tid = hexBytes(12, 12);
const key = fc.string({ maxLength: 40 });

export const stunSpec: fc.Arbitrary<StunSpec> = fc.oneof(
  fc.record({
    kind: fc.constant('message' as const),
    type: fc.oneof(fc.constantFrom(0x0001, 0x0101, 0x0111, 0x0011), fc.nat({ max: 0x3fff })),
    tid,
    attrs: fc.array(attribute, { maxLength: 6 }),
    integrity: fc.boolean(),
    fingerprint: fc.boolean(),
    key,
  }),
  fc.record({
    kind: fc.constant('request' as const),
    tid,
    username: fc.string({ maxLength: 80 }),
    key,
    priority: u32,
    useCandidate: fc.boolean(),
    controlling: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('success' as const), tid, address: fc.oneof(fc.ipV4(), fc.ipV6()), port: fc.nat({ max: 0xffff }), key }),
  fc.record({
    kind: fc.constant('error' as const),
    tid,
    code: fc.integer({ min: 300, max: 699 }),
    reason: fc.string({ maxLength: 800, unit: 'grapheme' }),
    key: fc.option(key),
  }),
  fc.record({ kind: fc.constant('raw' as const), hex: hexBytesMostlyShort(700) }),
);

const attr = (type: number, value: Buffer): Buffer => {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
};

/** The test's own RFC 5389 encoder: header, attributes, then MESSAGE-INTEGRITY and FINGERPRINT when asked. */
function encodeMessage(s: Extract<StunSpec, { kind: 'message' }>): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(s.type, 0);
  h.writeUInt32BE(stun.STUN_MAGIC_COOKIE, 4);
  bytes(s.tid).copy(h, 8);
  let msg = Buffer.concat([h, ...s.attrs.map((a) => attr(a.type, bytes(a.hex)))]);
  if (s.integrity) {
    msg.writeUInt16BE(msg.length - 20 + 24, 2);
    msg = Buffer.concat([msg, attr(stun.ATTR_MESSAGE_INTEGRITY, createHmac('sha1', s.key).update(msg).digest())]);
  }
  if (s.fingerprint) {
    msg.writeUInt16BE(msg.length - 20 + 8, 2);
    const v = Buffer.alloc(4);
    v.writeUInt32BE((stun.crc32(msg) ^ 0x5354554e) >>> 0, 0);
    msg = Buffer.concat([msg, attr(stun.ATTR_FINGERPRINT, v)]);
  }
  msg.writeUInt16BE(msg.length - 20, 2);
  return msg;
}

export function buildStun(s: StunSpec): Buffer {
  switch (s.kind) {
    case 'message':
      return encodeMessage(s);
    case 'request':
      return stun.buildBindingRequest({
        transactionId: bytes(s.tid),
        username: s.username,
        key: s.key,
        priority: s.priority,
        useCandidate: s.useCandidate,
        ...(s.controlling ? { iceControlling: 42n } : {}),
      });
    case 'success':
      return stun.buildBindingSuccess(bytes(s.tid), s.address, s.port, s.key);
    case 'error':
      return stun.buildBindingError(bytes(s.tid), s.code, s.reason, s.key ?? undefined);
    case 'raw':
      return bytes(s.hex);
  }
}

interface Reading {
  username: string | null;
  priority: number | null;
  useCandidate: boolean;
  iceControlling: boolean;
  iceControlled: boolean;
  hasIntegrity: boolean;
  hasFingerprint: boolean;
}

/** What RFC 5389 (as the bridge applies it) reads from the attributes the encoder wrote; null: malformed. */
function expectedReading(s: Extract<StunSpec, { kind: 'message' }>): Reading | null {
  const all = s.attrs.map((a) => ({ type: a.type, value: bytes(a.hex) }));
  if (s.integrity) all.push({ type: stun.ATTR_MESSAGE_INTEGRITY, value: Buffer.alloc(20) });
  if (s.fingerprint) all.push({ type: stun.ATTR_FINGERPRINT, value: Buffer.alloc(4) });
  const r: Reading = { username: null, priority: null, useCandidate: false, iceControlling: false, iceControlled: false, hasIntegrity: false, hasFingerprint: false };
  for (const { type, value } of all) {
    const l = value.length;
    if (r.hasFingerprint) return null; // FINGERPRINT must be last
    if (type === stun.ATTR_FINGERPRINT) {
      if (l !== 4) return null;
      r.hasFingerprint = true;
    } else if (r.hasIntegrity) {
      // ignored after MESSAGE-INTEGRITY
    } else if (type === stun.ATTR_MESSAGE_INTEGRITY) {
      if (l !== 20) return null;
      r.hasIntegrity = true;
    } else if (type === stun.ATTR_USERNAME) {
      if (l > 513) return null;
      r.username = value.toString('utf8');
    } else if (type === stun.ATTR_PRIORITY) {
      if (l !== 4) return null;
      r.priority = value.readUInt32BE(0);
    } else if (type === stun.ATTR_USE_CANDIDATE) {
      if (l !== 0) return null;
      r.useCandidate = true;
    } else if (type === stun.ATTR_ICE_CONTROLLING) {
      if (l !== 8) return null;
      r.iceControlling = true;
    } else if (type === stun.ATTR_ICE_CONTROLLED) {
      if (l !== 8) return null;
      r.iceControlled = true;
    }
  }
  return r;
}

/** Offset of the first attribute of `type` in a well-formed message (the test's own walk), -1 if none. */
function attributeOffset(msg: Buffer, type: number): number {
  const end = 20 + msg.readUInt16BE(2);
  for (let p = 20; p + 4 <= end; p += 4 + ((msg.readUInt16BE(p + 2) + 3) & ~3)) if (msg.readUInt16BE(p) === type) return p;
  return -1;
}

/** true when a and b differ anywhere in [from, to) (a byte missing from one of them counts). */
function differsIn(a: Buffer, b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return true;
  return false;
}

function keyOf(s: StunSpec): string | null {
  return s.kind === 'raw' ? null : s.key;
}

function checkBuilt(s: StunSpec, built: Buffer): void {
  const p = stun.parseStun(built);
  switch (s.kind) {
    case 'message': {
      const want = expectedReading(s);
      if (want === null) {
        assert.equal(p, null, 'a malformed attribute list parses');
        return;
      }
      assert.ok(p, 'a well-formed message does not parse');
      const { method, cls, transactionId, ...reading } = p;
      assert.deepEqual(reading, want);
      assert.equal(method, (s.type & 0x000f) | ((s.type & 0x00e0) >> 1) | ((s.type & 0x3e00) >> 2));
      assert.equal(cls, ((s.type >> 4) & 1) | ((s.type >> 7) & 2));
      assert.equal(transactionId.toString('hex'), s.tid);
      if (s.integrity && attributeOffset(built, stun.ATTR_MESSAGE_INTEGRITY) === built.length - 24 - (s.fingerprint ? 8 : 0)) {
        assert.equal(stun.verifyIntegrity(built, s.key), true, 'MESSAGE-INTEGRITY does not verify');
        assert.equal(stun.verifyIntegrity(built, s.key + 'x'), false, 'MESSAGE-INTEGRITY verifies with another key');
      }
      if (s.fingerprint && attributeOffset(built, stun.ATTR_FINGERPRINT) === built.length - 8) {
        assert.equal(stun.verifyFingerprint(built), true, 'FINGERPRINT does not verify');
      }
      return;
    }
    case 'request':
      assert.ok(p, 'a Binding request does not parse');
      assert.equal(p.method, stun.STUN_METHOD_BINDING);
      assert.equal(p.cls, stun.STUN_CLASS_REQUEST);
      assert.equal(p.username, Buffer.from(s.username, 'utf8').toString('utf8'));
      assert.equal(p.priority, s.priority);
      assert.equal(p.useCandidate, s.useCandidate);
      assert.equal(p.iceControlling, s.controlling);
      assert.equal(p.hasIntegrity && p.hasFingerprint, true);
      assert.equal(stun.verifyIntegrity(built, s.key), true);
      assert.equal(stun.verifyIntegrity(built, s.key + 'x'), false);
      assert.equal(stun.verifyFingerprint(built), true);
      return;
    case 'success': {
      assert.equal(p?.cls, stun.STUN_CLASS_SUCCESS);
      const xma = stun.parseXorMappedAddress(built);
      assert.ok(xma, 'XOR-MAPPED-ADDRESS does not parse');
      assert.equal(xma.port, s.port);
      assert.deepEqual(stun.parseIpAddress(xma.address), stun.parseIpAddress(s.address), `${xma.address} is not ${s.address}`);
      assert.equal(stun.verifyIntegrity(built, s.key), true);
      assert.equal(stun.verifyFingerprint(built), true);
      return;
    }
    case 'error': {
      assert.equal(p?.cls, stun.STUN_CLASS_ERROR);
      const e = stun.parseErrorCode(built);
      assert.ok(e, 'ERROR-CODE does not parse');
      assert.equal(e.code, s.code);
      assert.equal(e.reason, Buffer.from(s.reason, 'utf8').subarray(0, 763).toString('utf8'));
      if (s.key !== null) assert.equal(stun.verifyIntegrity(built, s.key), true);
      assert.equal(stun.verifyFingerprint(built), true);
      return;
    }
    case 'raw':
      return;
  }
}

/** Properties of any bytes: no throw, results within the message, nothing read past its length. */
function checkAny(b: Buffer, key: string | null): void {
  assert.equal(stun.isStun(b, b.length + 5), stun.isStun(b));
  const p = stun.parseStun(b);
  const end = b.length >= 4 ? 20 + b.readUInt16BE(2) : 0;
  if (p !== null) {
    assert.equal(stun.isStun(b), true);
    assert.equal(p.transactionId.toString('hex'), b.subarray(8, 20).toString('hex'));
    assert.ok(p.method >= 0 && p.method <= 0xfff && p.cls >= 0 && p.cls <= 3);
    assert.ok(p.username === null || p.username.length <= 513);
    assert.ok(p.priority === null || (Number.isInteger(p.priority) && p.priority >= 0 && p.priority <= 0xffffffff));
    assert.deepEqual(stun.parseStun(b.subarray(0, end)), p, 'the parse depends on bytes past the message length');
  }
  const exact = end <= b.length ? b.subarray(0, end) : b;
  for (const k of key === null ? ['', 'pw'] : [key]) assert.equal(stun.verifyIntegrity(b, k), stun.verifyIntegrity(exact, k));
  assert.equal(stun.verifyFingerprint(b), stun.verifyFingerprint(exact));
  const xma = stun.parseXorMappedAddress(b);
  if (xma) {
    assert.ok(xma.port >= 0 && xma.port <= 0xffff);
    assert.ok(stun.parseIpAddress(xma.address), `XOR-MAPPED-ADDRESS gave ${xma.address}`);
  }
  const e = stun.parseErrorCode(b);
  if (e) assert.ok(Number.isInteger(e.code) && e.code >= 0 && e.code <= 7 * 100 + 255);
}

/** A message changed where MESSAGE-INTEGRITY or FINGERPRINT covers it must not verify. */
function checkTamper(built: Buffer, b: Buffer, key: string | null): void {
  if (key !== null && stun.verifyIntegrity(built, key)) {
    const mi = attributeOffset(built, stun.ATTR_MESSAGE_INTEGRITY);
    if (differsIn(built, b, 0, 2) || differsIn(built, b, 4, mi + 24)) {
      assert.equal(stun.verifyIntegrity(b, key), false, 'a changed message passes MESSAGE-INTEGRITY');
    }
  }
  if (stun.verifyFingerprint(built) && differsIn(built, b, 0, built.length)) {
    assert.equal(stun.verifyFingerprint(b), false, 'a changed message passes FINGERPRINT');
  }
}

export const stunTarget = pureTarget<StunInput>({
  name: 'stun',
  about: 'STUN parse, MESSAGE-INTEGRITY and FINGERPRINT: RFC 5389 reading, round trips, tampering detected',
  input: fc.record({ msg: stunSpec, ops: mutations }),
  ciRuns: 1000,
  check({ msg, ops }) {
    const built = buildStun(msg);
    const key = keyOf(msg);
    checkBuilt(msg, built);
    checkAny(built, key);
    if (ops.length === 0) return;
    const b = mutate(built, ops);
    checkAny(b, key);
    checkTamper(built, b, key);
  },
});
