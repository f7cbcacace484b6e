import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isStun,
  parseStun,
  verifyIntegrity,
  verifyFingerprint,
  buildBindingSuccess,
  buildBindingError,
  buildBindingRequest,
  parseXorMappedAddress,
  parseErrorCode,
  parseIpAddress,
  crc32,
  STUN_METHOD_BINDING,
  STUN_CLASS_REQUEST,
  STUN_CLASS_SUCCESS,
  STUN_CLASS_ERROR,
} from '../../src/bridge/packet/stun.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 5769 test vectors
const PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';
const TID = hex('b7e7a701 bc34d686 fa87dfae');
const REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
const RESPONSE_V4 = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
const RESPONSE_V6 = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

test('crc32 check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('RFC 5769 §2.1 sample request: parse, integrity, fingerprint', () => {
  assert.ok(isStun(REQUEST));
  const r = parseStun(REQUEST);
  assert.ok(r);
  assert.equal(r.method, STUN_METHOD_BINDING);
  assert.equal(r.cls, STUN_CLASS_REQUEST);
  assert.deepEqual(r.transactionId, TID);
  assert.equal(r.username, 'evtj:h6vY');
  assert.equal(r.priority, 0x6e0001ff);
  assert.equal(r.iceControlled, true);
  assert.equal(r.iceControlling, false);
  assert.equal(r.useCandidate, false);
  assert.equal(r.hasIntegrity, true);
  assert.equal(r.hasFingerprint, true);
  assert.ok(verifyIntegrity(REQUEST, PASSWORD));
  assert.ok(verifyIntegrity(REQUEST, Buffer.from(PASSWORD)));
  assert.ok(!verifyIntegrity(REQUEST, 'wrong'));
  assert.ok(verifyFingerprint(REQUEST));
  // the transaction id is a copy, not a view of the receive buffer
  const copy = Buffer.from(REQUEST);
  const r2 = parseStun(copy)!;
  copy.fill(0);
  assert.deepEqual(r2.transactionId, TID);
});

test('RFC 5769 §2.2 / §2.3 sample responses: integrity, fingerprint, XOR-MAPPED-ADDRESS', () => {
  for (const [msg, addr] of [
    [RESPONSE_V4, '192.0.2.1'],
    [RESPONSE_V6, '2001:db8:1234:5678:11:2233:4455:6677'],
  ] as const) {
    const r = parseStun(msg);
    assert.ok(r);
    assert.equal(r.cls, STUN_CLASS_SUCCESS);
    assert.ok(verifyIntegrity(msg, PASSWORD));
    assert.ok(verifyFingerprint(msg));
    assert.deepEqual(parseXorMappedAddress(msg), { address: addr, port: 32853 });
  }
});

test('tampering breaks integrity and fingerprint', () => {
  for (let i = 0; i < REQUEST.length; i++) {
    const b = Buffer.from(REQUEST);
    b[i] ^= 0x01;
    const fp = verifyFingerprint(b);
    // bytes 0..(end-4) are covered by the fingerprint
    if (i < REQUEST.length - 4) assert.equal(fp, false, `fingerprint byte ${i}`);
    // MESSAGE-INTEGRITY covers everything up to its end, except FINGERPRINT (but a changed length field
    // changes what is covered, so only check the attribute region before the fingerprint)
    if (i >= 20 && i < REQUEST.length - 8) assert.equal(verifyIntegrity(b, PASSWORD), false, `integrity byte ${i}`);
  }
});

test('buildBindingSuccess round-trips (IPv4, IPv6, IPv4-mapped) and matches the RFC 5769 attribute encoding', () => {
  const cases: Array<[string, string]> = [
    ['192.0.2.1', '192.0.2.1'],
    ['2001:db8:1234:5678:11:2233:4455:6677', '2001:db8:1234:5678:11:2233:4455:6677'],
    ['::ffff:10.0.0.7', '10.0.0.7'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
  ];
  for (const [input, expected] of cases) {
    const msg = buildBindingSuccess(TID, input, 32853, PASSWORD);
    const r = parseStun(msg);
    assert.ok(r, input);
    assert.equal(r.method, STUN_METHOD_BINDING);
    assert.equal(r.cls, STUN_CLASS_SUCCESS);
    assert.deepEqual(r.transactionId, TID);
    assert.ok(r.hasIntegrity && r.hasFingerprint);
    assert.ok(verifyIntegrity(msg, PASSWORD));
    assert.ok(verifyFingerprint(msg));
    assert.deepEqual(parseXorMappedAddress(msg), { address: expected, port: 32853 });
  }
  // XOR-MAPPED-ADDRESS value bytes identical to the RFC sample
  const v4 = buildBindingSuccess(TID, '192.0.2.1', 32853, PASSWORD);
  assert.deepEqual(v4.subarray(20, 32), hex('00 20 00 08 00 01 a1 47 e1 12 a6 43'));
  const v6 = buildBindingSuccess(TID, '2001:db8:1234:5678:11:2233:4455:6677', 32853, PASSWORD);
  assert.deepEqual(v6.subarray(20, 44), hex('00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9'));
});

test('buildBindingError with and without integrity', () => {
  const e1 = buildBindingError(TID, 401, 'Unauthorized');
  const r1 = parseStun(e1)!;
  assert.equal(r1.cls, STUN_CLASS_ERROR);
  assert.equal(r1.hasIntegrity, false);
  assert.ok(verifyFingerprint(e1));
  assert.deepEqual(parseErrorCode(e1), { code: 401, reason: 'Unauthorized' });
  const e2 = buildBindingError(TID, 487, 'Role Conflict', PASSWORD);
  assert.ok(verifyIntegrity(e2, PASSWORD));
  assert.ok(verifyFingerprint(e2));
  assert.deepEqual(parseErrorCode(e2), { code: 487, reason: 'Role Conflict' });
});

test('buildBindingRequest round-trips', () => {
  const msg = buildBindingRequest({
    username: 'bridgeufrag:clientufrag',
    key: 'pwd-of-the-bridge',
    priority: 0x7effffff,
    useCandidate: true,
    iceControlling: 0x1234567890abcdefn,
  });
  const r = parseStun(msg)!;
  assert.equal(r.cls, STUN_CLASS_REQUEST);
  assert.equal(r.username, 'bridgeufrag:clientufrag');
  assert.equal(r.priority, 0x7effffff);
  assert.equal(r.useCandidate, true);
  assert.equal(r.iceControlling, true);
  assert.equal(r.iceControlled, false);
  assert.equal(r.transactionId.length, 12);
  assert.ok(verifyIntegrity(msg, 'pwd-of-the-bridge'));
  assert.ok(!verifyIntegrity(msg, 'other'));
  assert.ok(verifyFingerprint(msg));
  const fixed = buildBindingRequest({ transactionId: TID, username: 'a:b', key: Buffer.from('k'), priority: 1 });
  assert.deepEqual(parseStun(fixed)!.transactionId, TID);
  assert.equal(parseStun(fixed)!.useCandidate, false);
});

test('malformed messages: null/false, never throws', () => {
  assert.equal(isStun(Buffer.alloc(19)), false);
  assert.equal(isStun(REQUEST, 19), false);
  assert.equal(isStun(Buffer.from([0x80, ...REQUEST.subarray(1)])), false);
  assert.equal(parseStun(REQUEST.subarray(0, REQUEST.length - 4)), null, 'length field beyond buffer');
  const badLen = Buffer.from(REQUEST);
  badLen[3] = 0x57; // not a multiple of 4
  assert.equal(parseStun(badLen), null);
  const attrOverrun = Buffer.from(REQUEST);
  attrOverrun.writeUInt16BE(0x0100, 22); // SOFTWARE length runs past the end
  assert.equal(parseStun(attrOverrun), null);
  assert.equal(verifyIntegrity(attrOverrun, PASSWORD), false);
  const badMi = Buffer.from(REQUEST);
  badMi.writeUInt16BE(0x10, 78); // MESSAGE-INTEGRITY (at offset 76) claims length 16
  assert.equal(parseStun(badMi), null);
  assert.equal(parseXorMappedAddress(REQUEST), null);
  assert.equal(parseIpAddress('1.2.3'), null);
  assert.equal(parseIpAddress('1::2::3'), null);
  assert.equal(parseIpAddress('hello'), null);
  for (let cut = 0; cut < REQUEST.length; cut++) {
    const b = REQUEST.subarray(0, cut);
    assert.equal(parseStun(b), null);
    assert.equal(verifyIntegrity(b, PASSWORD), false);
    assert.equal(verifyFingerprint(b), false);
    assert.equal(parseXorMappedAddress(b), null);
  }
});
