import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { FramedTcpServer, MAX_FRAME, type FramedConnection } from '../../src/bridge/ice-tcp.ts';

const frame = (payload: Buffer): Buffer => Buffer.concat([Buffer.from([payload.length >> 8, payload.length & 0xff]), payload]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timeout');
    await sleep(5);
  }
}

interface Harness {
  server: FramedTcpServer;
  port: number;
  conns: FramedConnection[];
  received: Array<{ conn: number; data: Buffer }>;
}

async function start(opts: ConstructorParameters<typeof FramedTcpServer>[0] = {}): Promise<Harness> {
  const server = new FramedTcpServer({ port: 0, host: '127.0.0.1', ...opts });
  const h: Harness = { server, port: 0, conns: [], received: [] };
  server.onConnection = (c) => {
    h.conns.push(c);
    c.onDatagram = (buf, len) => h.received.push({ conn: c.id, data: Buffer.from(buf.subarray(0, len)) });
  };
  h.port = await server.listen();
  return h;
}

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

test('de-framing: several frames per chunk, partial reads, zero-length frames', async () => {
  const h = await start();
  try {
    const c = await connect(h.port);
    const a = Buffer.from('first datagram');
    const b = Buffer.alloc(MAX_FRAME, 0xab); // the largest allowed
    const d = Buffer.from([1, 2, 3]);
    // two frames and a zero-length one in a single write
    c.write(Buffer.concat([frame(a), frame(Buffer.alloc(0)), frame(d)]));
    // a frame dribbled one byte at a time, header split too
    const big = frame(b);
    for (let i = 0; i < big.length; i += i < 10 ? 1 : 397) {
      c.write(big.subarray(i, i < 10 ? i + 1 : i + 397));
      if (i < 4) await sleep(5);
    }
    await until(() => h.received.length === 3);
    assert.deepEqual(
      h.received.map((r) => r.data),
      [a, d, b],
    );
    assert.equal(h.conns.length, 1);
    assert.equal(h.conns[0].remoteAddress, '127.0.0.1');
    assert.equal(h.conns[0].datagramsIn, 3);
    c.destroy();
    await until(() => h.server.connectionCount === 0);
    assert.equal(h.conns[0].closed, true);
  } finally {
    await h.server.close();
  }
});

test('send frames datagrams towards the client', async () => {
  const h = await start();
  try {
    const c = await connect(h.port);
    await until(() => h.conns.length === 1);
    const chunks: Buffer[] = [];
    c.on('data', (d: Buffer) => chunks.push(d));
    const src = Buffer.from('xxhello bridgeyy');
    assert.ok(h.conns[0].send(src, 2, 12));
    src.fill(0); // the caller may reuse its buffer at once
    assert.ok(h.conns[0].send(Buffer.from([9]), 0, 1));
    assert.equal(h.conns[0].send(src, 10, 100), false, 'out of bounds');
    await until(() => Buffer.concat(chunks).length === 14 + 3);
    assert.equal(Buffer.concat(chunks).toString('hex'), '000c' + Buffer.from('hello bridge').toString('hex') + '000109');
    c.destroy();
  } finally {
    await h.server.close();
  }
});

test('an oversized frame closes that connection only; garbage never crashes the server', async () => {
  const h = await start();
  try {
    const bad = await connect(h.port);
    const good = await connect(h.port);
    bad.write(Buffer.from([(MAX_FRAME + 1) >> 8, (MAX_FRAME + 1) & 0xff, 1, 2, 3]));
    await once(bad, 'close');
    good.write(frame(Buffer.from('still here')));
    await until(() => h.received.some((r) => r.data.toString() === 'still here'));
    // random garbage on many connections
    for (let k = 0; k < 5; k++) {
      const g = await connect(h.port);
      for (let i = 0; i < 20; i++) {
        const junk = Buffer.alloc(1 + ((Math.random() * 3000) | 0));
        for (let j = 0; j < junk.length; j++) junk[j] = (Math.random() * 256) | 0;
        g.write(junk);
      }
      g.end();
    }
    const s = await connect(h.port);
    s.write(frame(Buffer.from('after garbage')));
    await until(() => h.received.some((r) => r.data.toString() === 'after garbage'));
    s.destroy();
    good.destroy();
  } finally {
    await h.server.close();
  }
});

test('a throwing onDatagram is contained', async () => {
  const h = await start();
  try {
    h.server.onConnection = (c) => {
      h.conns.push(c);
      c.onDatagram = () => {
        throw new Error('boom');
      };
    };
    const c = await connect(h.port);
    c.write(Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('b'))]));
    await until(() => h.conns.length === 1 && h.conns[0].callbackErrors === 2);
    c.destroy();
  } finally {
    await h.server.close();
  }
});

test('idle timeout and per-IP connection cap', async () => {
  const h = await start({ idleTimeoutMs: 300, maxConnectionsPerIp: 2 });
  try {
    const a = await connect(h.port);
    const b = await connect(h.port);
    await until(() => h.server.connectionCount === 2);
    const c = await connect(h.port);
    await once(c, 'close');
    assert.equal(h.server.refused, 1);
    assert.equal(h.server.connectionCount, 2);
    // keep a alive with traffic; b goes idle
    const t0 = Date.now();
    const closedB = once(b, 'close');
    while (Date.now() - t0 < 700) {
      a.write(frame(Buffer.from('ping')));
      await sleep(25);
    }
    await closedB;
    assert.equal(a.destroyed, false, 'traffic keeps a connection open');
    await until(() => h.server.connectionCount === 1);
    // a freed slot can be used again
    const d = await connect(h.port);
    await until(() => h.server.connectionCount === 2);
    await once(a, 'close'); // a goes idle too once the pings stop
    d.destroy();
  } finally {
    await h.server.close();
  }
});

test('close() closes every connection', async () => {
  const h = await start();
  const a = await connect(h.port);
  const b = await connect(h.port);
  await until(() => h.server.connectionCount === 2);
  const closed = Promise.all([once(a, 'close'), once(b, 'close')]);
  await h.server.close();
  await closed;
  assert.equal(h.server.connectionCount, 0);
});
