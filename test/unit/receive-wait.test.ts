// The thread's own wait for its media sockets (native/receive-wait.c, `nativeWait`): the sockets are watched outside
// the event loop's epoll and handled in its prepare phase. What must hold: every datagram is handled, in order, and
// the event loop still serves its timers, immediates and messages while datagrams keep coming; what JavaScript
// queues from a batch leaves (the send queues are flushed between waits, not only in the check phase); a transport
// closed from inside its own batch, and a new one after the thread's last left, work; a socket error is reported;
// a worker thread that ends while its wait runs is cleaned up. The event loop's own watch (ownWait off) is the
// fallback every test of udp-receive.test.ts runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { MessageChannel, Worker } from 'node:worker_threads';
import { BridgeCounters } from '../../src/bridge/counters.ts';
import { nativeReceive, nativeUdp, SendBatch } from '../../src/bridge/native/udp-batch.ts';
import { NativeReceiver } from '../../src/bridge/native/udp-receive.ts';
import { UdpTransport, type DatagramSink } from '../../src/bridge/udp-transport.ts';
import { startTransportWorker } from '../helpers/transport-worker.ts';

const rmod = nativeReceive(nativeUdp());
const skip = rmod === null || rmod.RECEIVE_WAIT !== 1 ? 'native module not built (or built before the own wait)' : false;

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

const handled = (): number => rmod!.receiveWaitHandled!();

/**
 * A worker thread that sends datagrams [0x80, seq >> 8, seq & 255] to port every millisecond until told to stop,
 * then posts how many it sent.
 */
function steadySender(port: number): { stop: () => Promise<number> } {
  const w = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const s = require('node:dgram').createSocket('udp4');
     let seq = 0;
     const timer = setInterval(() => { const b = Buffer.from([0x80, (seq >> 8) & 255, seq & 255]); seq++; s.send(b, ${port}, '127.0.0.1'); }, 1);
     parentPort.once('message', () => { clearInterval(timer); setTimeout(() => { s.close(); parentPort.postMessage(seq); }, 50); });`,
    { eval: true },
  );
  return {
    stop: async () => {
      const sent = new Promise<number>((r) => w.once('message', r));
      w.postMessage('stop');
      const n = await sent;
      await w.terminate();
      return n;
    },
  };
}

for (const ownWait of [true, false]) {
  test(`${ownWait ? 'own wait' : 'the event loop watches'}: every datagram in order while timers, immediates and messages keep being served`, { skip }, async () => {
    const seqs: number[] = [];
    const sink: DatagramSink = { onMedia: (b) => seqs.push((b[1]! << 8) | b[2]!), onStun() {}, onDtls() {} };
    const t = new UdpTransport(sink, new BridgeCounters(), () => {}, { nativeReceive: true, nativeWait: ownWait });
    const port = await t.bind('127.0.0.1', 0);
    const before = handled();
    const sender = steadySender(port);
    try {
      await until(() => seqs.length > 20);
      // while datagrams keep coming: timers, immediates and a message through a port of this thread
      const atStart = seqs.length;
      let timers = 0;
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 5));
        timers++;
      }
      await new Promise((r) => setImmediate(r));
      const channel = new MessageChannel();
      const echoed = new Promise((r) => channel.port2.once('message', r));
      channel.port1.postMessage('ping');
      assert.equal(await echoed, 'ping');
      channel.port1.close();
      assert.equal(timers, 10);
      assert.ok(seqs.length > atStart, 'datagrams kept coming while the loop served the rest');
      const sent = await sender.stop();
      await until(() => seqs.length >= sent);
      assert.equal(seqs.length, sent, 'every datagram handled (loopback, nothing lost)');
      assert.deepEqual(seqs, Array.from({ length: sent }, (_, i) => i), 'in order');
      // the wait did the reading, or (off) never ran
      if (ownWait) assert.ok(handled() - before > 0, 'read by the own wait');
      else assert.equal(handled(), before, 'the own wait never ran');
    } finally {
      await t.close();
    }
  });
}

test('own wait: what JavaScript queues from a batch leaves between waits (no check phase needed)', { skip }, async () => {
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  const echoes: number[] = [];
  peer.on('message', (m) => echoes.push(m[1]!));
  let t: UdpTransport;
  const sink: DatagramSink = {
    onMedia: (b, address, port) => t.send(Buffer.from(b), 0, b.length, port, address),
    onStun() {},
    onDtls() {},
  };
  t = new UdpTransport(sink, new BridgeCounters(), () => {}, { nativeReceive: true, nativeWait: true });
  const port = await t.bind('127.0.0.1', 0);
  const before = handled();
  try {
    for (let i = 0; i < 20; i++) {
      peer.send(Buffer.from([0x80, i]), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => echoes.length >= 20);
    assert.deepEqual(echoes, Array.from({ length: 20 }, (_, i) => i));
    assert.ok(handled() > before);
  } finally {
    peer.close();
    await t.close();
  }
});

test('own wait: a transport closed from inside its batch handles nothing more; the next one waits again', { skip }, async () => {
  let n = 0;
  let t: UdpTransport;
  const sink: DatagramSink = {
    onMedia() {
      if (++n === 3) void t.close();
    },
    onStun() {},
    onDtls() {},
  };
  t = new UdpTransport(sink, new BridgeCounters(), () => {}, { nativeReceive: true, nativeWait: true });
  const port = await t.bind('127.0.0.1', 0);
  const s = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < 10; i++) s.send(Buffer.from([0x80, i]), port, '127.0.0.1');
    await until(() => n >= 3);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(n, 3);
    // the thread's wait closed with its last member; a new transport makes a new one
    let m = 0;
    const t2 = new UdpTransport({ onMedia: () => m++, onStun() {}, onDtls() {} }, new BridgeCounters(), () => {}, { nativeReceive: true, nativeWait: true });
    const port2 = await t2.bind('127.0.0.1', 0);
    const before = handled();
    for (let i = 0; i < 10; i++) s.send(Buffer.from([0x80, i]), port2, '127.0.0.1');
    await until(() => m >= 10);
    assert.equal(m, 10);
    assert.ok(handled() > before);
    await t2.close();
  } finally {
    s.close();
  }
});

test("own wait: a connected socket's error (ICMP port unreachable) is reported, and the socket still reads", { skip }, async () => {
  const mod = rmod!;
  // a port with nobody on it
  const gone = dgram.createSocket('udp4');
  await new Promise<void>((r) => gone.bind(0, '127.0.0.1', r));
  const gonePort = gone.address().port;
  await new Promise<void>((r) => gone.close(() => r()));
  const fd = mod.openUdp4('127.0.0.1', 0, false);
  const errors: number[] = [];
  const got: number[] = [];
  const receiver = new NativeReceiver(mod, fd, 0, (b) => got.push(b[1]!), () => {}, (e) => errors.push(e), { ownWait: true });
  const batch = new SendBatch(mod, fd);
  try {
    mod.connectUdp4(fd, '127.0.0.1', gonePort);
    const b = Buffer.from([0x80, 1]);
    assert.ok(batch.add(b, 0, b.length, gonePort, '127.0.0.1'));
    batch.flush();
    await until(() => errors.length > 0);
    assert.equal(errors[0], 111, 'ECONNREFUSED');
    // the same port answers again: its datagrams are read
    const back = dgram.createSocket('udp4');
    await new Promise<void>((r) => back.bind(gonePort, '127.0.0.1', r));
    back.send(Buffer.from([0x80, 9]), mod.localPort(fd), '127.0.0.1');
    await until(() => got.length > 0);
    assert.deepEqual(got, [9]);
    back.close();
  } finally {
    batch.close();
    receiver.close();
  }
});

test('own wait: a worker thread that ends while datagrams keep coming is cleaned up (no crash, the port is freed)', { skip }, async () => {
  const { worker: w, port } = await startTransportWorker('', { nativeReceive: true, nativeWait: true });
  const s = dgram.createSocket('udp4');
  const timer = setInterval(() => s.send(Buffer.from([0x80, 1]), port, '127.0.0.1'), 1);
  await new Promise((r) => setTimeout(r, 50));
  const code = await w.terminate();
  clearInterval(timer);
  s.close();
  assert.equal(code, 1);
  const t = new UdpTransport({ onMedia() {}, onStun() {}, onDtls() {} }, new BridgeCounters(), () => {}, { nativeReceive: true, nativeWait: true });
  assert.equal(await t.bind('127.0.0.1', port), port, 'the worker closed its socket');
  await t.close();
});
