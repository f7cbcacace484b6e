// The bridge's public address from a STUN server: a Binding request, the XOR-MAPPED-ADDRESS of the answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { buildBindingSuccess } from '../../src/bridge/packet/stun.ts';
import { discoverPublicAddress, parseStunServer } from '../../src/bridge/stun-discovery.ts';

test('stun server setting: host, host:port, stun: prefix, IPv6 in brackets', () => {
  assert.deepEqual(parseStunServer('stun.example.org'), ['stun.example.org', 3478]);
  assert.deepEqual(parseStunServer('198.51.100.1:19302'), ['198.51.100.1', 19302]);
  assert.deepEqual(parseStunServer('stun:meet.example.org:3479'), ['meet.example.org', 3479]);
  assert.deepEqual(parseStunServer('[2001:db8::1]:3478'), ['2001:db8::1', 3478]);
  assert.equal(parseStunServer('a b'), null);
  assert.equal(parseStunServer('host:70000'), null);
});

test('the mapped address of the answer, ignoring answers to other transactions', async () => {
  const server = dgram.createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const tid = msg.subarray(8, 20);
    // first a stray answer (another transaction, another address), then the real one
    server.send(buildBindingSuccess(Buffer.alloc(12, 7), '203.0.113.99', 1, 'k'), rinfo.port, rinfo.address);
    server.send(buildBindingSuccess(Buffer.from(tid), '203.0.113.7', rinfo.port, 'k'), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  try {
    assert.equal(await discoverPublicAddress(`127.0.0.1:${server.address().port}`, 3000, '127.0.0.1'), '203.0.113.7');
  } finally {
    server.close();
  }
});

test('no answer: null after the timeout', async () => {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  try {
    assert.equal(await discoverPublicAddress(`127.0.0.1:${silent.address().port}`, 300, '127.0.0.1'), null);
  } finally {
    silent.close();
  }
});
