// ICE-lite on the real UDP socket: a Binding request built like a browser's gets a success response
// with the right XOR-MAPPED-ADDRESS; wrong credentials, garbage and truncated packets get no answer at all
// (the bridge reflects nothing toward a forged source address) and do not hurt the bridge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { bridgeAllocateReplySchema, subjects } from '../../src/protocol/bus-messages.ts';
import { startBridge } from '../../src/bridge/index.ts';
import {
  STUN_CLASS_SUCCESS,
  buildBindingRequest,
  parseStun,
  parseXorMappedAddress,
  verifyFingerprint,
  verifyIntegrity,
} from '../../src/bridge/packet/stun.ts';

function openSocket(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

/** Sends buf and collects every datagram received in the next `ms` milliseconds. */
function exchange(s: dgram.Socket, port: number, buf: Buffer, ms = 150): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const onMsg = (m: Buffer) => got.push(m);
    s.on('message', onMsg);
    s.send(buf, port, '127.0.0.1');
    setTimeout(() => {
      s.off('message', onMsg);
      resolve(got);
    }, ms);
  });
}

/** A Binding request with USERNAME and a valid FINGERPRINT but no MESSAGE-INTEGRITY. */
function withoutIntegrity(username: string): Buffer {
  const u = Buffer.from(username);
  const padded = (u.length + 3) & ~3;
  const out = Buffer.alloc(20 + 4 + padded + 8);
  out.writeUInt16BE(0x0001, 0); // Binding request
  out.writeUInt16BE(out.length - 20, 2);
  out.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(out, 8);
  out.writeUInt16BE(0x0006, 20); // USERNAME
  out.writeUInt16BE(u.length, 22);
  u.copy(out, 24);
  const fp = 24 + padded;
  out.writeUInt16BE(0x8028, fp); // FINGERPRINT
  out.writeUInt16BE(4, fp + 2);
  out.writeUInt32BE((zlib.crc32(out.subarray(0, fp)) ^ 0x5354554e) >>> 0, fp + 4);
  assert.ok(verifyFingerprint(out));
  return out;
}

test('bridge ICE-lite: Binding requests over UDP', async () => {
  const bus = new MemoryBus();
  const events: Array<{ event: string }> = [];
  bus.subscribe(subjects.bridgeEvent, (p) => events.push(p as { event: string }));
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0 });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: 'ice' });
  const sock = await openSocket();
  try {
    const port = bridge.mediaPort;
    const local = bridgeAllocateReplySchema.parse(
      await bus.request(subjects.bridgeAllocate('ice'), { conferenceId: 'c', endpointId: 'e' }),
    );
    const remoteUfrag = 'brws';
    const request = (over: Partial<Parameters<typeof buildBindingRequest>[0]> = {}) =>
      buildBindingRequest({
        username: `${local.ufrag}:${remoteUfrag}`,
        key: local.pwd,
        priority: 1853824767,
        useCandidate: true,
        iceControlling: 0x1234567890abcdefn,
        ...over,
      });

    // a valid check
    const tid = randomBytes(12);
    const [res, ...more] = await exchange(sock, port, request({ transactionId: tid }));
    assert.equal(more.length, 0);
    const parsed = parseStun(res);
    assert.ok(parsed);
    assert.equal(parsed.cls, STUN_CLASS_SUCCESS);
    assert.deepEqual(parsed.transactionId, tid);
    assert.ok(verifyIntegrity(res, local.pwd), 'response signed with the local pwd');
    assert.ok(verifyFingerprint(res));
    assert.deepEqual(parseXorMappedAddress(res), { address: '127.0.0.1', port: sock.address().port });
    assert.equal(bridge.counters.stunIn, 1);

    // attack: requests that do not authenticate (as if from a forged source address) are dropped, never
    // answered: nothing is reflected, not even an error response
    const before = bridge.counters.dropStun;
    const stunOutBefore = bridge.counters.stunOut;
    for (const bad of [
      request({ key: 'wrong-password-wrong-password' }),
      request({ username: `nosuchufrag:${remoteUfrag}` }),
      request({ username: local.ufrag }),
      request({ username: `${local.ufrag}:` }),
      withoutIntegrity(`${local.ufrag}:${remoteUfrag}`), // the smallest request: a 400 would be the best reflection
    ]) {
      const got = await exchange(sock, port, bad);
      assert.deepEqual(got, [], 'no answer to an unauthenticated request');
    }
    assert.equal(bridge.counters.dropStun, before + 5);
    assert.equal(bridge.counters.stunOut, stunOutBefore, 'nothing sent');

    // once configured, the remote ufrag must match
    await bus.request(subjects.bridgeConfigure('ice'), {
      conferenceId: 'c',
      endpointId: 'e',
      remoteUfrag,
      remotePwd: 'p'.repeat(24),
      remoteFingerprint: { algorithm: 'sha-256', value: 'AB:'.repeat(31) + 'AB' },
      sources: [],
    });
    const stale = await exchange(sock, port, request({ username: `${local.ufrag}:other` }));
    assert.deepEqual(stale, [], 'a check for another remote session is not answered either');
    const ok2 = await exchange(sock, port, request());
    assert.equal(parseStun(ok2[0])?.cls, STUN_CLASS_SUCCESS);

    // garbage, truncated, corrupted: no success, no crash
    const good = request();
    const corrupted = Buffer.from(good);
    corrupted[30] ^= 0xff;
    const badFingerprint = Buffer.from(good);
    badFingerprint[badFingerprint.length - 1] ^= 1;
    const junk: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from([0]),
      Buffer.from([1, 1]),
      good.subarray(0, 19),
      good.subarray(0, 20),
      good.subarray(0, good.length - 4),
      corrupted,
      badFingerprint,
      randomBytes(100),
      Buffer.concat([Buffer.from([0x00, 0x01, 0xff, 0xfc, 0x21, 0x12, 0xa4, 0x42]), randomBytes(12)]),
      Buffer.from([0x16, 0xfe, 0xfd, 1, 2, 3]), // DTLS-looking, unknown address... known, but junk
      Buffer.from([0x80, 0x60, 0, 1]), // short RTP
      Buffer.from([0x80, 0xc8, 0, 1, 0, 0, 0, 0]), // RTCP before DTLS
      Buffer.from([0xff, 0xff, 0xff]),
      Buffer.from([0x40]),
    ];
    for (let i = 0; i < 200; i++) {
      const b = randomBytes(1 + (i % 120));
      b[0] &= 3; // STUN range
      junk.push(b);
    }
    let successes = 0;
    for (const j of junk) {
      const got = await exchange(sock, port, j, 2);
      for (const m of got) if (parseStun(m)?.cls === STUN_CLASS_SUCCESS) successes++;
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(successes, 0);

    // the bridge still answers and the process is alive
    const again = await exchange(sock, port, request());
    assert.equal(parseStun(again[0])?.cls, STUN_CLASS_SUCCESS);
    assert.equal(bridge.counters.dropError, 0, 'no exception escaped a handler');
    assert.equal(events.length, 0, 'ICE alone does not make an endpoint connected');
  } finally {
    sock.close();
    await bridge.close();
    await bus.close();
  }
});
