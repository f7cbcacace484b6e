// A media thread's receive hold (native/receive-hold.c, `receiveHoldMs`): after a read that found a few datagrams,
// every socket the thread reads natively rests for the hold, and what arrived meanwhile on any of them is read
// when it ends, in one batch per socket, dated by the kernel as it arrived. Closing a socket during a hold, and a
// thread that ends in the middle of one, are safe; the hold is per thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { BridgeCounters } from '../../src/bridge/counters.ts';
import { nativeReceive, nativeUdp, type UdpReceiveModule } from '../../src/bridge/native/udp-batch.ts';
import { UdpTransport } from '../../src/bridge/udp-transport.ts';
import { startTransportWorker } from '../helpers/transport-worker.ts';

const rmod = nativeReceive(nativeUdp());
const skip = rmod === null || typeof rmod.setReceiveHold !== 'function' ? 'native module not built' : false;

async function until(done: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

interface Read {
  count: number;
  /** performance.now() when the batch reached JavaScript */
  at: number;
  /** how long before that the batch's first datagram arrived (the kernel's time) */
  age: number;
}

/** A receiver opened straight on the module, recording each batch; `onRead` runs inside the batch's call. */
function openRecording(mod: UdpReceiveModule, reads: Read[], onRead: (r: Read) => void = () => {}): { port: number; close: () => void } {
  const fd = mod.openUdp4('127.0.0.1', 0, false);
  const port = mod.localPort(fd);
  const ages = new Float64Array(mod.RECV_BATCH);
  const handle = mod.openReceiver(fd, new ArrayBuffer(mod.RECV_BATCH * mod.RECV_SLOT), new Uint32Array(mod.RECV_META), ages, 0, (count) => {
    const r = { count, at: performance.now(), age: ages[0]! };
    reads.push(r);
    onRead(r);
  });
  return { port, close: () => mod.closeReceiver(handle) };
}

test('setReceiveHold takes 0..50 ms', { skip }, () => {
  const mod = rmod!;
  assert.throws(() => mod.setReceiveHold!(-1), RangeError);
  assert.throws(() => mod.setReceiveHold!(51), RangeError);
  assert.equal(mod.setReceiveHold!(0), 0);
});

test("after a read of a few datagrams every socket of the thread rests; what came meanwhile is read together, with the kernel's times", { skip }, async () => {
  const mod = rmod!;
  const HOLD = 50;
  mod.setReceiveHold!(HOLD);
  const sender = dgram.createSocket('udp4');
  await new Promise<void>((r) => sender.bind(0, '127.0.0.1', r));
  const a: Read[] = [];
  const b: Read[] = [];
  let bPort = 0;
  let first = -1;
  // the first datagram's batch sends the rest at once: two more to the same socket, one to the other
  const ra = openRecording(mod, a, (r) => {
    if (a.length !== 1) return;
    first = r.at;
    sender.send(Buffer.from([0x80, 2]), ra.port, '127.0.0.1');
    sender.send(Buffer.from([0x80, 3]), ra.port, '127.0.0.1');
    sender.send(Buffer.from([0x80, 4]), bPort, '127.0.0.1');
  });
  const rb = openRecording(mod, b);
  bPort = rb.port;
  try {
    sender.send(Buffer.from([0x80, 1]), ra.port, '127.0.0.1');
    await until(() => a.length >= 2 && b.length >= 1);
    assert.deepEqual(a.map((r) => r.count), [1, 2], 'the two that came during the hold in one batch');
    assert.deepEqual(b.map((r) => r.count), [1]);
    // libuv's timers count whole milliseconds: two of slack
    for (const r of [a[1]!, b[0]!]) {
      assert.ok(r.at - first >= HOLD - 2, `read ${r.at - first} ms after the first batch: the hold rested both sockets`);
      assert.ok(r.age >= HOLD - 10, `dated ${r.age} ms before it was read: when it arrived, not when it was read`);
    }
  } finally {
    ra.close();
    rb.close();
    sender.close();
    mod.setReceiveHold!(0);
  }
});

test('a socket closed during a hold is never read again; the others are, when it ends', { skip }, async () => {
  const mod = rmod!;
  mod.setReceiveHold!(30);
  const sender = dgram.createSocket('udp4');
  const a: Read[] = [];
  const b: Read[] = [];
  let closeA = (): void => {};
  let bPort = 0;
  const ra = openRecording(mod, a, () => {
    sender.send(Buffer.from([0x80, 2]), ra.port, '127.0.0.1');
    sender.send(Buffer.from([0x80, 3]), bPort, '127.0.0.1');
    // closed inside its own batch, before the hold starts, and from a timer during the hold: both are fine
    if (a.length === 1) setTimeout(closeA, 5);
  });
  closeA = ra.close;
  const rb = openRecording(mod, b);
  bPort = rb.port;
  try {
    sender.send(Buffer.from([0x80, 1]), ra.port, '127.0.0.1');
    await until(() => b.length >= 1);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(a.length, 1, 'nothing read after the close');
    assert.deepEqual(b.map((r) => r.count), [1]);
    // the remaining socket goes on after the hold
    sender.send(Buffer.from([0x80, 4]), bPort, '127.0.0.1');
    await until(() => b.length >= 2);
    assert.equal(b.length, 2);
  } finally {
    rb.close();
    sender.close();
    mod.setReceiveHold!(0);
  }
});

test('a transport with a hold reads every datagram of a steady stream, and a thread ending mid-hold is cleaned up', { skip }, async () => {
  // in a worker: its hold is its own (this thread's stays 0)
  const { worker: w, port } = await startTransportWorker('globalThis.n = (globalThis.n ?? 0) + 1; if (globalThis.n === 400) parentPort.postMessage("all")', 5);
  const s = dgram.createSocket('udp4');
  const all = new Promise((r) => w.once('message', r));
  let sent = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < 4; i++, sent++) s.send(Buffer.from([0x80, sent & 0xff]), port, '127.0.0.1');
  }, 1);
  // the first 400 all read (a datagram lost would leave this waiting)
  await all;
  // datagrams still coming, the worker holding every few ms: it ends
  const code = await w.terminate();
  clearInterval(timer);
  s.close();
  assert.equal(code, 1);
  const t = new UdpTransport({ onMedia() {}, onStun() {}, onDtls() {} }, new BridgeCounters(), () => {}, false, true, true);
  assert.equal(await t.bind('127.0.0.1', port), port, 'the worker closed its socket');
  await t.close();
});
