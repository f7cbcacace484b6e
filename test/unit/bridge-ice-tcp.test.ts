// ICE-TCP on the bridge: passive TCP candidates in the allocation, and a connectivity check over an RFC 4571
// framed TCP connection answered on that connection, with the client's real address and port mapped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { bridgeAllocateReplySchema, subjects } from '../../src/protocol/bus-messages.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { candidatePriority, gatherCandidates } from '../../src/bridge/candidates.ts';
import { STUN_CLASS_SUCCESS, buildBindingRequest, parseStun, parseXorMappedAddress } from '../../src/bridge/packet/stun.ts';
import { freeTcpPort } from '../helpers/ports.ts';

test('candidates: one tcptype passive host candidate per address, below every UDP one', () => {
  const interfaces = { eth0: [{ address: '10.0.0.5', family: 'IPv4', internal: false }] } as never;
  const c = gatherCandidates({ listenAddress: '0.0.0.0', publicAddress: '203.0.113.9', port: 10000, tcpPort: 4443 }, interfaces);
  assert.deepEqual(
    c.map((x) => `${x.protocol} ${x.ip}:${x.port}${x.tcpType ? ' ' + x.tcpType : ''}`),
    ['udp 203.0.113.9:10000', 'udp 10.0.0.5:10000', 'udp 127.0.0.1:10000', 'tcp 203.0.113.9:4443 passive', 'tcp 10.0.0.5:4443 passive', 'tcp 127.0.0.1:4443 passive'],
  );
  for (let i = 1; i < c.length; i++) assert.ok(c[i - 1].priority > c[i].priority);
  assert.equal(c[3].priority, candidatePriority(126, (4 << 13) + 8191));
  assert.equal(new Set(c.map((x) => x.foundation)).size, c.length);
  assert.ok(gatherCandidates({ listenAddress: '0.0.0.0', publicAddress: '', port: 1, tcpPort: 0 }, interfaces).every((x) => x.protocol === 'udp'));
});

/** Reads RFC 4571 frames from a socket. */
function frames(socket: net.Socket): () => Promise<Buffer> {
  let pending = Buffer.alloc(0);
  const queue: Buffer[] = [];
  let waiting: ((b: Buffer) => void) | null = null;
  socket.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const n = pending.readUInt16BE(0);
      const f = pending.subarray(2, 2 + n);
      pending = pending.subarray(2 + n);
      if (waiting) {
        const w = waiting;
        waiting = null;
        w(f);
      } else queue.push(f);
    }
  });
  return () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((r) => (waiting = r)));
}

test('bridge: a STUN check over ICE-TCP is answered on the connection and makes it the endpoint address', async () => {
  const bus = new MemoryBus();
  const tcpMediaPort = await freeTcpPort();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: 'tcp1' });
  const socket = net.connect(tcpMediaPort, '127.0.0.1');
  // listened for at once: with media workers the allocation below may take longer than the connection
  const connected = new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  try {
    assert.equal(bridge.tcpMediaPort, tcpMediaPort);
    const reply = bridgeAllocateReplySchema.parse(await bus.request(subjects.bridgeAllocate('tcp1'), { conferenceId: 'c', endpointId: 'e' }));
    const tcp = reply.candidates.filter((c) => c.protocol === 'tcp');
    assert.deepEqual(tcp.map((c) => [c.ip, c.port, c.tcpType]), [['127.0.0.1', tcpMediaPort, 'passive']]);

    await connected;
    const next = frames(socket);
    const req = buildBindingRequest({ username: `${reply.ufrag}:browser`, key: reply.pwd, priority: 1, useCandidate: true, iceControlling: 1n });
    // the length prefix and the message in two writes, split mid-header: the de-framer reassembles
    const framed = Buffer.concat([Buffer.from([req.length >> 8, req.length & 0xff]), req]);
    socket.write(framed.subarray(0, 1));
    socket.write(framed.subarray(1));
    const res = await next();
    const msg = parseStun(res);
    assert.ok(msg !== null && msg.cls === STUN_CLASS_SUCCESS);
    assert.deepEqual(parseXorMappedAddress(res), { address: '127.0.0.1', port: socket.localPort });
    const counters = await bridge.readCounters();
    assert.equal(counters.stunIn, 1);
    assert.equal(counters.stunOut, 1);
  } finally {
    socket.destroy();
    await bridge.close();
  }
});
