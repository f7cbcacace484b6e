// The SIP transport's UDP and TCP listeners share one port (src/sip/transport.ts): a port whose TCP twin is
// taken is refused with EADDRINUSE and leaves nothing bound (what lets port 0 try another free UDP port when its
// TCP twin is taken, which a CI run once failed on; the kernel's choice cannot be forced here, so that retry
// itself is not driven); with port 0 many listens in a row each get a working pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { SipTransport } from '../../src/sip/transport.ts';

const noMessage = () => {};

/** A TCP listener on a free port, and that port. */
async function takeTcpPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('a given port whose TCP twin is taken: EADDRINUSE, and its UDP port is free again', async () => {
  const taken = await takeTcpPort();
  try {
    const transport = new SipTransport({ address: '127.0.0.1', port: taken.port, onMessage: noMessage });
    await assert.rejects(transport.listen(), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(taken.port, '127.0.0.1', () => resolve());
    });
    udp.close();
  } finally {
    await taken.close();
  }
});

test('port 0: twenty transports each get a UDP and a TCP listener on one port', async () => {
  const transports: SipTransport[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const transport = new SipTransport({ address: '127.0.0.1', port: 0, onMessage: noMessage });
      const port = await transport.listen();
      transports.push(transport);
      assert.ok(port > 0);
      // the TCP side answers on the same number
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });
    }
    assert.equal(new Set(transports.map((t) => t.port)).size, 20);
  } finally {
    await Promise.all(transports.map((t) => t.close()));
  }
});
