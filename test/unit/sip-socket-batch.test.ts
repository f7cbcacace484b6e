// The SIP gateway's gathered sends to its phones (src/sip/media/socket-batch.ts): datagrams from many sockets,
// each leaving from its own socket's port (what a phone expects) with its own bytes, in one native call at the end
// of the callback (native/udp-batch.c `sendEach`), and the same through dgram without the module (the fallback);
// a buffer reused at once after send; too large datagrams and sockets without a descriptor through dgram; a
// socket's queued datagrams sent before it closes; bad arguments to the native call are errors, not crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { BATCH_SLOT, nativeUdp } from '../../src/bridge/native/udp-batch.ts';
import { RtpPortRange, RtpSession } from '../../src/sip/media/rtp-session.ts';
import { SocketBatch } from '../../src/sip/media/socket-batch.ts';

const mod = nativeUdp();
const noSendEach = mod?.sendEach ? false : 'native module (sendEach) not built';

function bound(fd?: number): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    if (fd === undefined) s.bind(0, '127.0.0.1', () => resolve(s));
    else s.bind({ fd }, () => resolve(s));
  });
}

/** Receives on one socket until `count` datagrams came: [source port, bytes] each. */
function collect(receiver: dgram.Socket, count: number): Promise<Array<[number, Buffer]>> {
  const got: Array<[number, Buffer]> = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} datagrams came`)), 5000);
    receiver.on('message', (m, rinfo) => {
      got.push([rinfo.port, m]);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

/** Three senders (opened natively when `native`), 30 datagrams of distinct sizes and bytes, through `batch`. */
async function sendThrough(batch: SocketBatch, native: boolean): Promise<{ got: Array<[number, Buffer]>; senderPorts: number[] }> {
  const receiver = await bound();
  const senders = await Promise.all([0, 1, 2].map(async () => {
    const fd = native ? mod!.openUdp4('127.0.0.1', 0, false) : -1;
    return { socket: await bound(fd >= 0 ? fd : undefined), fd };
  }));
  try {
    const pending = collect(receiver, 30);
    const scratch = Buffer.alloc(1200);
    for (let k = 0; k < 30; k++) {
      const s = senders[k % 3]!;
      const length = 50 + k * 20;
      scratch.fill(k, 0, length);
      batch.send(s.socket, s.fd, scratch, length, receiver.address().port, '127.0.0.1');
      // gathered sends copied it; a dgram send has it in flight: only then is the buffer left alone
      if (batch.native && s.fd >= 0) scratch.fill(0xee);
      else await new Promise((r) => setImmediate(r));
    }
    const got = await pending;
    return { got, senderPorts: senders.map((s) => s.socket.address().port) };
  } finally {
    receiver.close();
    for (const s of senders) s.socket.close();
  }
}

function check(got: Array<[number, Buffer]>, senderPorts: number[]): void {
  const byLength = new Map(got.map(([port, m]) => [m.length, { port, m }]));
  for (let k = 0; k < 30; k++) {
    const d = byLength.get(50 + k * 20);
    assert.ok(d, `datagram ${k} came`);
    assert.equal(d.port, senderPorts[k % 3], `datagram ${k} left from its own socket's port`);
    assert.ok(d.m.every((b) => b === k), `datagram ${k} has its own bytes`);
  }
}

test('gathered sends leave from each socket in one native call at the end of the callback', { skip: noSendEach }, async () => {
  const batch = new SocketBatch(mod);
  assert.equal(batch.native, true);
  const { got, senderPorts } = await sendThrough(batch, true);
  check(got, senderPorts);
  assert.equal(batch.counters.batched, 30);
  assert.equal(batch.counters.viaDgram, 0);
  assert.equal(batch.counters.failed, 0);
  assert.equal(batch.counters.flushes, 1, 'one native call for the 30');
});

test('without the module every datagram goes through dgram, with the same result', async () => {
  const batch = new SocketBatch(null);
  assert.equal(batch.native, false);
  const { got, senderPorts } = await sendThrough(batch, false);
  check(got, senderPorts);
  assert.equal(batch.counters.viaDgram, 30);
  assert.equal(batch.counters.batched, 0);
});

test('a socket dgram opened, or a datagram larger than a slot, goes through dgram beside the gathered ones', { skip: noSendEach }, async () => {
  const batch = new SocketBatch(mod);
  const receiver = await bound();
  const plain = await bound();
  const fd = mod!.openUdp4('127.0.0.1', 0, false);
  const native = await bound(fd);
  try {
    const pending = collect(receiver, 3);
    batch.send(plain, -1, Buffer.alloc(100, 1), 100, receiver.address().port, '127.0.0.1');
    batch.send(native, fd, Buffer.alloc(BATCH_SLOT + 10, 2), BATCH_SLOT + 10, receiver.address().port, '127.0.0.1');
    batch.send(native, fd, Buffer.alloc(200, 3), 200, receiver.address().port, '127.0.0.1');
    const got = await pending;
    assert.deepEqual(got.map(([, m]) => m.length).sort((a, b) => a - b), [100, 200, BATCH_SLOT + 10]);
    assert.equal(batch.counters.viaDgram, 2);
    assert.equal(batch.counters.batched, 1);
  } finally {
    receiver.close();
    plain.close();
    native.close();
  }
});

test("a call's RTP session sends its queued packets before its socket closes", async () => {
  const batch = new SocketBatch(mod);
  const receiver = await bound();
  const session = await RtpSession.open(new RtpPortRange(47000, 47099), '127.0.0.1', batch);
  try {
    session.setRemote('127.0.0.1', receiver.address().port);
    const pending = collect(receiver, 2);
    session.send(Buffer.alloc(172, 7), 172);
    session.send(Buffer.alloc(172, 8), 172);
    session.close(); // in the same callback as the sends
    const got = await pending;
    assert.deepEqual(got.map(([port]) => port), [session.port, session.port], 'from the RTP port of the SDP');
    assert.equal(session.counters.sent, 2);
  } finally {
    receiver.close();
  }
});

test('sendEach refuses bad arguments with an error and skips bad descriptors', { skip: noSendEach }, () => {
  const sendEach = mod!.sendEach!;
  const arena = new ArrayBuffer(64);
  const call = sendEach as unknown as (...args: unknown[]) => number;
  assert.throws(() => call(1, arena), TypeError);
  assert.throws(() => call(new Int32Array(1), arena, new Int32Array(1), new Int32Array(1), new Uint32Array(1), new Uint16Array(1), 2), RangeError);
  // a descriptor that is not a socket, a negative one, and a slot outside the arena: none sent, no crash
  const notSocket = openSync('/dev/null', 'r');
  const n = sendEach(Int32Array.of(notSocket, -1, notSocket), arena, Int32Array.of(0, 0, 60), Int32Array.of(8, 8, 8), Uint32Array.of(0x7f000001, 0x7f000001, 0x7f000001), Uint16Array.of(9, 9, 9), 3);
  closeSync(notSocket);
  assert.equal(n, 0);
});
