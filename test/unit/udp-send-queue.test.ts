// The native send queue (native/udp-send-queue.c through SendBatch in src/bridge/native/udp-batch.ts and the media
// transport, src/bridge/udp-transport.ts): datagrams queued while a received datagram is handled leave in that
// event-loop turn's check phase with no call from JavaScript, counted as send calls; a timer's sends queue an
// immediate so the turn reaches its check phase at once; a closed or collected queue sends nothing more; a worker thread that ends with one
// open is cleaned up. Without the queue (an older module) the immediate sends everything (the fallback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import v8 from 'node:v8';
import vm from 'node:vm';
import { BridgeCounters } from '../../src/bridge/counters.ts';
import { nativeUdp, SendBatch, type UdpBatchModule } from '../../src/bridge/native/udp-batch.ts';
import { UdpTransport, type DatagramSink } from '../../src/bridge/udp-transport.ts';
import { startTransportWorker } from '../helpers/transport-worker.ts';

const mod = nativeUdp();
const skip = mod === null || typeof mod.openSendQueue !== 'function' ? 'native module (with its send queue) not built' : false;

async function until(done: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function bound(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

const rtp = (seq: number) => Buffer.from([0x80, 96, seq >> 8, seq & 255, 0, 0, 0, 0, 0, 0, 0, 1]);

/**
 * A send queue on a socket of its own, a receiver that records what arrives (the fourth byte: the sequence
 * number's low byte) and a trigger socket: send(onMessage) makes the trigger's next datagram run onMessage in a
 * socket callback (the poll phase).
 */
async function queueFixture() {
  const receiver = await bound();
  const got: number[] = [];
  receiver.on('message', (m) => got.push(m[3]!));
  const trigger = await bound();
  const fd = mod!.openUdp4('127.0.0.1', 0, false);
  const batch = new SendBatch(mod!, fd, true);
  return {
    got,
    batch,
    to: receiver.address().port,
    trigger: (onMessage: () => void) => {
      trigger.once('message', onMessage);
      trigger.send(Buffer.from([1]), trigger.address().port, '127.0.0.1');
    },
    close: () => {
      batch.close();
      mod!.closeFd!(fd);
      receiver.close();
      trigger.close();
    },
  };
}

test('queued in a socket callback: the datagrams leave in that turn, with no flush from JavaScript', { skip }, async () => {
  const f = await queueFixture();
  assert.equal(f.batch.sendsInCheckPhase, true);
  let queuedThen = -1;
  let afterTurn = -1;
  try {
    f.trigger(() => {
      for (let i = 0; i < 5; i++) f.batch.add(rtp(i), 0, 12, f.to, '127.0.0.1');
      queuedThen = f.batch.count;
      // an immediate queued now runs after the module's check: the queue is empty by then
      setImmediate(() => (afterTurn = f.batch.count));
    });
    await until(() => f.got.length === 5);
    assert.deepEqual(f.got, [0, 1, 2, 3, 4], 'every datagram, in order');
    assert.equal(queuedThen, 5);
    assert.equal(afterTurn, 0, 'sent in the same turn');
    const counts = { calls: 0, failures: 0 };
    f.batch.takeCheckPhaseCounts(counts);
    assert.deepEqual(counts, { calls: 1, failures: 0 }, 'one sendmmsg for the five');
    f.batch.takeCheckPhaseCounts(counts);
    assert.deepEqual(counts, { calls: 0, failures: 0 }, 'taken once');
  } finally {
    f.close();
  }
});

test('a refused datagram is counted as failed; the others leave', { skip }, async () => {
  const f = await queueFixture();
  try {
    f.trigger(() => {
      f.batch.add(rtp(1), 0, 12, f.to, '127.0.0.1');
      // broadcast without SO_BROADCAST: the kernel refuses it (EACCES)
      f.batch.add(rtp(2), 0, 12, 9, '255.255.255.255');
      f.batch.add(rtp(3), 0, 12, f.to, '127.0.0.1');
    });
    await until(() => f.got.length === 2);
    assert.deepEqual(f.got, [1, 3]);
    const counts = { calls: 0, failures: 0 };
    await until(() => (f.batch.takeCheckPhaseCounts(counts), counts.calls > 0));
    assert.deepEqual(counts, { calls: 1, failures: 1 });
  } finally {
    f.close();
  }
});

test('a closed queue sends nothing more; one collected without close stops too', { skip }, async () => {
  const f = await queueFixture();
  try {
    f.trigger(() => {
      f.batch.add(rtp(1), 0, 12, f.to, '127.0.0.1');
      f.batch.close();
      f.batch.close(); // idempotent
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(f.got.length, 0, 'dropped with the queue');
    assert.equal(f.batch.count, 0);
    assert.equal(f.batch.sendsInCheckPhase, false);
    // many queues left to the garbage collector: each stops when collected (no send on a closed descriptor)
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const fds: number[] = [];
    for (let i = 0; i < 50; i++) {
      const fd = mod!.openUdp4('127.0.0.1', 0, false);
      fds.push(fd);
      new SendBatch(mod!, fd, true).add(rtp(i), 0, 12, f.to, '127.0.0.1');
    }
    // the first turn's check sends what they queued; later turns find them empty, then collected
    await until(() => f.got.length === 50);
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const fd of fds) mod!.closeFd!(fd);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(f.got.length, 50);
  } finally {
    f.close();
  }
});

test('bad arguments to openSendQueue are errors, not crashes', { skip }, () => {
  const open = mod!.openSendQueue as unknown as (...args: unknown[]) => unknown;
  assert.throws(() => open(-1), TypeError);
  const arrays = () => [new ArrayBuffer(64), new Int32Array(1), new Int32Array(1), new Uint32Array(1), new Uint16Array(1)];
  assert.throws(() => open(3, ...arrays(), new Int32Array(2)), RangeError, 'state too short');
  assert.throws(() => open(3, ...arrays(), new Float64Array(3)), TypeError);
  assert.throws(() => (mod!.closeSendQueue as unknown as (q: unknown) => void)({}), TypeError);
});

/** A media transport that echoes every media datagram to `to`, from the receive callback or from a timer. */
async function echoTransport(to: number, fromTimer: boolean, m: UdpBatchModule | null = mod) {
  const counters = new BridgeCounters();
  let transport: UdpTransport;
  const calls: number[] = [];
  const sink: DatagramSink = {
    onStun() {},
    onDtls() {},
    onMedia(buf) {
      const copy = Buffer.from(buf);
      const echo = () => {
        transport.send(copy, 0, copy.length, to, '127.0.0.1');
        // the JavaScript flush counts its call at once; the module's counts come with syncCounters
        setImmediate(() => calls.push(counters.udpSendCalls));
      };
      if (fromTimer) setTimeout(echo, 1);
      else echo();
    },
  };
  transport = new UdpTransport(sink, counters, () => {}, { nativeSend: m !== null, nativeReceive: true });
  const port = await transport.bind('127.0.0.1', 0);
  return { transport, port, counters, calls };
}

test('the media transport: echoes from the receive callback and from a timer leave by the queue, one call a turn', { skip }, async () => {
  const receiver = await bound();
  const got: number[] = [];
  receiver.on('message', (m) => got.push(m[3]!));
  const direct = await echoTransport(receiver.address().port, false);
  const timed = await echoTransport(receiver.address().port, true);
  const sender = await bound();
  try {
    for (let i = 0; i < 4; i++) {
      sender.send(rtp(i), direct.port, '127.0.0.1');
      sender.send(rtp(10 + i), timed.port, '127.0.0.1');
      // the next pair only after both echoes came back: one datagram per transport per turn, however loaded the
      // machine (two arriving together would rightly leave in one call)
      await until(() => got.length === 2 * (i + 1));
    }
    await until(() => got.length === 8);
    assert.deepEqual(
      got.filter((s) => s < 10),
      [0, 1, 2, 3],
    );
    assert.deepEqual(
      got.filter((s) => s >= 10),
      [10, 11, 12, 13],
    );
    // from the receive callback: no JavaScript flush (that would count each turn's call at once: 1, 2, 3, 4); the
    // calls are the module's, added when the next turn queues its first datagram, or on sync
    assert.deepEqual(direct.calls, [0, 1, 2, 3]);
    assert.equal(direct.counters.packetsOut, 4);
    direct.transport.syncCounters();
    assert.equal(direct.counters.udpSendCalls, 4);
    assert.equal(direct.counters.sendErrors, 0);
    // from a timer: an immediate is queued (so the turn goes on to its check phase without waiting in the poll
    // phase); the module's check, which runs before Node's, sends them, and the immediate finds nothing left
    assert.equal(timed.calls.length, 4);
    timed.transport.syncCounters();
    assert.equal(timed.counters.udpSendCalls, 4);
    assert.equal(timed.counters.packetsOut, 4);
  } finally {
    await direct.transport.close();
    await timed.transport.close();
    receiver.close();
    sender.close();
  }
});

test('a module without the send queue (built before it): the immediate sends everything (the fallback)', { skip }, async () => {
  const old: UdpBatchModule = { ...mod!, openSendQueue: undefined, closeSendQueue: undefined, SEND_QUEUE_STATE: undefined };
  const fd = old.openUdp4('127.0.0.1', 0, false);
  assert.equal(new SendBatch(old, fd, true).sendsInCheckPhase, false);
  old.closeFd!(fd);
  const receiver = await bound();
  const got: number[] = [];
  receiver.on('message', (m) => got.push(m[3]!));
  // the transport loads the module itself: the fallback is what SendBatch does without the queue, checked above;
  // here the dgram-only transport (no module) echoes from its receive callback
  const plain = await echoTransport(receiver.address().port, false, null);
  const sender = await bound();
  try {
    for (let i = 0; i < 3; i++) sender.send(rtp(i), plain.port, '127.0.0.1');
    await until(() => got.length === 3);
    assert.deepEqual(got.sort(), [0, 1, 2]);
  } finally {
    await plain.transport.close();
    receiver.close();
    sender.close();
  }
});

test('a worker thread that ends with a send queue open and sending is cleaned up', { skip }, async () => {
  const receiver = await bound();
  let got = 0;
  receiver.on('message', () => got++);
  const { worker: w, port } = await startTransportWorker(`t.send(Buffer.from(b), 0, b.length, ${receiver.address().port}, '127.0.0.1');`);
  const s = dgram.createSocket('udp4');
  const timer = setInterval(() => s.send(rtp(1), port, '127.0.0.1'), 1);
  await until(() => got > 10);
  const code2 = await w.terminate();
  clearInterval(timer);
  s.close();
  receiver.close();
  assert.equal(code2, 1);
  assert.ok(got > 10, 'it echoed while it ran');
});
