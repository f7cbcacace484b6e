// The bridge's DTLS record check: stray or forged datagrams never reach werift as a "peer closed".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { acceptableRecords } from '../../src/bridge/dtls.ts';

function record(type: number, epoch: number, body: Buffer, version = 0xfefd): Buffer {
  const h = Buffer.alloc(13);
  h[0] = type;
  h.writeUInt16BE(version, 1);
  h.writeUInt16BE(epoch, 3);
  h.writeUInt16BE(body.length, 11);
  return Buffer.concat([h, body]);
}

test('well-formed handshake flights pass, before and after the handshake', () => {
  const flight = Buffer.concat([record(22, 0, randomBytes(60)), record(20, 0, Buffer.from([1])), record(22, 1, randomBytes(40))]);
  assert.equal(acceptableRecords(flight, false), true);
  assert.equal(acceptableRecords(flight, true), true, 'a retransmitted client flight after we connected');
  assert.equal(acceptableRecords(record(23, 1, randomBytes(50)), true), true);
});

test('alerts: a plaintext alert during the handshake passes; after it, no alert does', () => {
  assert.equal(acceptableRecords(record(21, 0, Buffer.from([2, 40])), false), true);
  assert.equal(acceptableRecords(record(21, 0, Buffer.from([2, 40])), true), false);
  assert.equal(acceptableRecords(record(21, 1, randomBytes(26)), true), false);
  assert.equal(acceptableRecords(record(21, 1, randomBytes(26)), false), false);
});

test('unknown content types, bad versions, truncated records and plaintext application data are refused', () => {
  assert.equal(acceptableRecords(record(24, 1, randomBytes(20)), true), false);
  assert.equal(acceptableRecords(record(63, 0, randomBytes(20)), false), false);
  assert.equal(acceptableRecords(record(22, 0, randomBytes(20), 0x0303), false), false);
  assert.equal(acceptableRecords(record(22, 0, randomBytes(20)).subarray(0, 25), false), false);
  assert.equal(acceptableRecords(Buffer.from([22, 0xfe, 0xfd]), false), false);
  assert.equal(acceptableRecords(record(23, 0, randomBytes(20)), true), false);
});

test('random datagrams in the DTLS range never throw', () => {
  for (let i = 0; i < 5000; i++) {
    const b = randomBytes(1 + (i % 300));
    b[0] = 20 + (b[0]! % 44);
    acceptableRecords(b, i % 2 === 0);
  }
});
