// The bridge's native receive path (native/udp-receive.c through src/bridge/native/udp-receive.ts and the media
// transport, src/bridge/udp-transport.ts): datagrams that arrived while the event loop was busy are read in one
// recvmmsg batch, each with its own bytes, sender and kernel arrival time; bad datagrams are counted, not fatal;
// closing stops every callback, also with datagrams still queued in the kernel or in the batch being handled;
// connected sockets of a shared port read natively too; a worker thread that ends without closing is cleaned up.
// DTLS datagrams of a batch are handled one per event-loop turn (werift's promises run between them, as with
// dgram). The dgram fallback (nativeReceive off, or no module) is checked beside it. A table of SRTP peers makes the
// batch unprotect their datagrams before JavaScript sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { BridgeCounters } from '../../src/bridge/counters.ts';
import { nativeReceive, nativeUdp } from '../../src/bridge/native/udp-batch.ts';
import { DtlsTurns } from '../../src/bridge/native/dtls-turns.ts';
import { ipv4String, NativeReceiver } from '../../src/bridge/native/udp-receive.ts';
import { UdpTransport, type DatagramSink } from '../../src/bridge/udp-transport.ts';
import { SrtpSession } from '../../src/bridge/packet/srtp.ts';
import { nativeSrtp } from '../../src/bridge/native/srtp.ts';
import { startTransportWorker } from '../helpers/transport-worker.ts';

const rmod = nativeReceive(nativeUdp());
const skip = rmod === null ? 'native module not built' : false;

/** Runs a child Node that sends `script`'s datagrams to port while this thread's event loop is blocked. */
function sendWhileBlocked(port: number, script: string): void {
  execFileSync(process.execPath, ['-e', `const d=require('dgram').createSocket('udp4');const port=${port};${script}`]);
}

async function until(done: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

interface Got {
  kind: 'media' | 'stun' | 'dtls';
  bytes: Buffer;
  address: string;
  port: number;
  arrival: number;
}

function recordingSink(got: Got[], arrival: () => number): DatagramSink {
  // a copy of each: the views are valid only during the call
  const keep = (kind: Got['kind']) => (buf: Buffer, address: string, port: number) => got.push({ kind, bytes: Buffer.from(buf), address, port, arrival: arrival() });
  return { onMedia: keep('media'), onStun: keep('stun'), onDtls: keep('dtls') };
}

/** An RTP packet (payload type 96, `payload` bytes of `fill`) and what `sender` makes of it. */
function srtpPacket(sender: SrtpSession, seq: number, ssrc: number, payload: number, fill = seq & 0xff): { plain: Buffer; wire: Buffer } {
  const plain = Buffer.alloc(12 + payload, fill);
  plain[0] = 0x80;
  plain[1] = 96;
  plain.writeUInt16BE(seq, 2);
  plain.writeUInt32BE(ssrc, 8);
  const out = Buffer.alloc(plain.length + 16);
  return { plain, wire: out.subarray(0, sender.protectRtp(plain, plain.length, out)) };
}

test('ipv4String is the dotted quad, the same string object for the same address', () => {
  assert.equal(ipv4String(0x7f000001), '127.0.0.1');
  assert.equal(ipv4String(0xffffffff), '255.255.255.255');
  assert.equal(ipv4String(0x0a000005), '10.0.0.5');
  assert.equal(ipv4String(0), '0.0.0.0');
});

test('one recvmmsg batch: every datagram with its bytes, sender and kernel arrival time', { skip }, async () => {
  const mod = rmod!;
  const fd = mod.openUdp4('127.0.0.1', 0, false);
  const port = mod.localPort(fd);
  const got: Array<{ bytes: Buffer; address: string; port: number; arrival: number }> = [];
  let truncated = 0;
  const errors: number[] = [];
  const receiver = new NativeReceiver(
    mod,
    fd,
    0,
    (buf, address, p, arrival) => got.push({ bytes: Buffer.from(buf), address, port: p, arrival }),
    () => truncated++,
    (e) => errors.push(e),
  );
  const before = performance.now();
  try {
    // two senders, ten datagrams of different sizes and bytes, 20 ms apart, all while this loop is blocked
    sendWhileBlocked(
      port,
      `const e=require('dgram').createSocket('udp4');let k=0;const go=()=>{const b=Buffer.alloc(50+k*100,k);const s=k%2?e:d;` +
        `s.send(b,port,'127.0.0.1',()=>{if(++k===10){d.close();e.close()}else setTimeout(go,20)})};go();`,
    );
    const blockedUntil = performance.now();
    await until(() => got.length >= 10);
    assert.equal(got.length, 10);
    assert.deepEqual(errors, []);
    assert.equal(truncated, 0);
    const ports = new Set(got.map((g) => g.port));
    assert.equal(ports.size, 2, 'two senders');
    got.forEach((g, k) => {
      assert.equal(g.bytes.length, 50 + k * 100);
      assert.ok(g.bytes.every((b) => b === k), `datagram ${k} has its own bytes`);
      assert.equal(g.address, '127.0.0.1');
      assert.ok(g.arrival >= before - 1 && g.arrival <= blockedUntil + 1, `arrival ${g.arrival} within the block`);
    });
    // the kernel's times keep the senders' spacing although all were handled after the block
    for (let k = 1; k < 10; k++) assert.ok(got[k].arrival - got[k - 1].arrival >= 19, `spacing ${got[k].arrival - got[k - 1].arrival}`);
  } finally {
    receiver.close();
  }
});

test('the module reads what waited in one call to JavaScript', { skip }, async () => {
  const mod = rmod!;
  const fd = mod.openUdp4('127.0.0.1', 0, false);
  const port = mod.localPort(fd);
  const arena = new ArrayBuffer(mod.RECV_BATCH * mod.RECV_SLOT);
  const meta = new Uint32Array(mod.RECV_META);
  const ages = new Float64Array(mod.RECV_BATCH);
  const calls: number[] = [];
  const handle = mod.openReceiver(fd, arena, meta, ages, 0, (n) => calls.push(n));
  try {
    sendWhileBlocked(port, `let k=0;for(let i=0;i<20;i++)d.send(Buffer.from([0x80,i]),port,'127.0.0.1',()=>{if(++k===20)d.close()});`);
    await until(() => calls.reduce((a, b) => a + b, 0) >= 20);
    assert.deepEqual(calls, [20], 'one batch of 20');
    assert.equal(meta[0], 2);
    assert.equal(meta[1], 0x7f000001);
    assert.ok(ages[0] >= 0 && ages[0] < 5000, `age ${ages[0]}`);
  } finally {
    mod.closeReceiver(handle);
    mod.closeReceiver(handle); // idempotent
  }
});

test('bad arguments are errors; garbage, empty and oversized datagrams are counted, not fatal', { skip }, async () => {
  const mod = rmod!;
  const call = mod.openReceiver as unknown as (...a: unknown[]) => unknown;
  assert.throws(() => call(-1, new ArrayBuffer(1), new Uint32Array(1), new Float64Array(1), 0, () => {}), TypeError);
  assert.throws(() => call(0, new ArrayBuffer(16), new Uint32Array(4), new Float64Array(1), 0, () => {}), RangeError, 'arena too small');
  assert.throws(() => (mod.closeReceiver as unknown as (x: unknown) => void)({}), TypeError);
  assert.throws(() => mod.connectUdp4(0, 'nope', 1), TypeError);

  const counters = new BridgeCounters();
  const got: Got[] = [];
  const t = new UdpTransport(recordingSink(got, () => 0), counters, () => {}, { nativeReceive: true });
  const port = await t.bind('127.0.0.1', 0);
  try {
    assert.equal(t.batchedReceive, true);
    sendWhileBlocked(
      port,
      `const all=[Buffer.alloc(0),Buffer.alloc(9000,0x80),Buffer.from([0xff,1,2]),Buffer.from([0x80,1]),Buffer.from([0x00,1,2,3]),Buffer.from([22,254,253])];` +
        `let k=0;for(const b of all)d.send(b,port,'127.0.0.1',()=>{if(++k===all.length)d.close()});`,
    );
    // (DTLS datagrams of a batch are handled on their own turn after it)
    await until(() => counters.packetsIn >= 6 && got.length >= 3);
    assert.equal(counters.packetsIn, 6);
    assert.equal(counters.dropMalformed, 1, 'the 9000-byte datagram (larger than a slot)');
    assert.equal(counters.dropUnknownType, 2, 'the empty one and the 0xff one');
    assert.deepEqual(
      got.map((g) => [g.kind, [...g.bytes]]),
      [
        ['media', [0x80, 1]],
        ['stun', [0, 1, 2, 3]],
        ['dtls', [22, 254, 253]],
      ],
    );
    // and the socket still works
    sendWhileBlocked(port, `d.send(Buffer.from([0x81]),port,'127.0.0.1',()=>d.close());`);
    await until(() => got.length >= 4);
    assert.deepEqual([...got[3].bytes], [0x81]);
  } finally {
    await t.close();
  }
});

test('a DTLS datagram from an address no transport knows is dropped before it waits for a turn', { skip }, async () => {
  const counters = new BridgeCounters();
  const got: Got[] = [];
  const sink: DatagramSink = { ...recordingSink(got, () => 0), knowsDtlsPeer: () => false };
  const t = new UdpTransport(sink, counters, () => {}, { nativeReceive: true });
  const port = await t.bind('127.0.0.1', 0);
  try {
    sendWhileBlocked(port, `let k=0;for(let i=0;i<20;i++)d.send(Buffer.from([22,254,253,i]),port,'127.0.0.1',()=>{if(++k===20){d.send(Buffer.from([0x80,9]),port,'127.0.0.1',()=>d.close())}});`);
    await until(() => counters.packetsIn >= 21);
    await new Promise((r) => setImmediate(r));
    assert.equal(counters.dropUnknownAddress, 20, "a stranger's DTLS records are dropped, not queued");
    assert.deepEqual(got.map((g) => g.kind), ['media'], 'and nothing of them reached the sink');
  } finally {
    await t.close();
  }
});

test('close with datagrams waiting, and close from inside a batch: nothing is handled after it', { skip }, async () => {
  const counters = new BridgeCounters();
  let handled = 0;
  let closedAt = -1;
  let t: UdpTransport;
  const sink: DatagramSink = {
    onMedia() {
      handled++;
      // the third datagram of the batch closes the transport: the rest of the batch is not handled
      if (handled === 3) {
        closedAt = handled;
        void t.close();
      }
    },
    onStun() {},
    onDtls() {},
  };
  t = new UdpTransport(sink, counters, () => {}, { nativeReceive: true });
  const port = await t.bind('127.0.0.1', 0);
  sendWhileBlocked(port, `let k=0;for(let i=0;i<10;i++)d.send(Buffer.from([0x80,i]),port,'127.0.0.1',()=>{if(++k===10)d.close()});`);
  await until(() => closedAt > 0);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(handled, 3);

  // closed while datagrams wait in the kernel: none is handled, the port is free again
  let late = 0;
  const t2 = new UdpTransport({ onMedia: () => late++, onStun() {}, onDtls() {} }, new BridgeCounters(), () => {}, { nativeReceive: true });
  const port2 = await t2.bind('127.0.0.1', 0);
  sendWhileBlocked(port2, `let k=0;for(let i=0;i<5;i++)d.send(Buffer.from([0x80,i]),port,'127.0.0.1',()=>{if(++k===5)d.close()});`);
  await t2.close();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(late, 0);
  const again = new UdpTransport({ onMedia() {}, onStun() {}, onDtls() {} }, new BridgeCounters(), () => {}, { nativeReceive: true });
  assert.equal(await again.bind('127.0.0.1', port2), port2, 'the socket was closed');
  await again.close();
});

test('a connected socket of a shared port reads natively and closes cleanly', { skip }, async () => {
  const got: Got[] = [];
  const t = new UdpTransport(recordingSink(got, () => 0), new BridgeCounters(), () => {}, { reusePort: true, nativeReceive: true });
  const port = await t.bind('127.0.0.1', 0);
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  try {
    const close = await t.connectTo('127.0.0.1', peer.address().port);
    peer.send(Buffer.from([0x80, 7]), port, '127.0.0.1');
    await until(() => got.length >= 1);
    assert.deepEqual([...got[0].bytes], [0x80, 7]);
    assert.equal(got[0].port, peer.address().port);
    close();
    close(); // twice is fine
    // the main socket gets the peer's datagrams again
    peer.send(Buffer.from([0x80, 8]), port, '127.0.0.1');
    await until(() => got.length >= 2);
    assert.deepEqual([...got[1].bytes], [0x80, 8]);
    // and a send larger than a batch slot leaves through the module (there is no dgram socket)
    const big = new Promise<Buffer>((r) => peer.once('message', r));
    t.send(Buffer.alloc(1800, 3), 0, 1800, peer.address().port, '127.0.0.1');
    assert.equal((await big).length, 1800);
  } finally {
    peer.close();
    await t.close();
  }
});

test('a worker thread that ends with a receiver open is cleaned up (no crash, the port is freed)', { skip }, async () => {
  const { worker: w, port } = await startTransportWorker();
  // datagrams keep coming while it ends
  const s = dgram.createSocket('udp4');
  const timer = setInterval(() => s.send(Buffer.from([0x80, 1]), port, '127.0.0.1'), 1);
  await new Promise((r) => setTimeout(r, 50));
  const code2 = await w.terminate();
  clearInterval(timer);
  s.close();
  assert.equal(code2, 1);
  const t = new UdpTransport({ onMedia() {}, onStun() {}, onDtls() {} }, new BridgeCounters(), () => {}, { nativeReceive: true });
  assert.equal(await t.bind('127.0.0.1', port), port, 'the worker closed its socket');
  await t.close();
});

test('nativeReceive off: dgram reads the native socket, still dated by the kernel', { skip }, async () => {
  const got: Got[] = [];
  let t: UdpTransport;
  t = new UdpTransport(recordingSink(got, () => t.arrivalMs()), new BridgeCounters(), () => {}, { nativeReceive: false });
  const port = await t.bind('127.0.0.1', 0);
  try {
    assert.equal(t.batchedReceive, false);
    const before = performance.now();
    sendWhileBlocked(port, `let k=0;const go=()=>d.send(Buffer.from([0x80,k]),port,'127.0.0.1',()=>{if(++k===3)d.close();else setTimeout(go,50)});go();`);
    await until(() => got.length >= 3);
    assert.deepEqual(
      got.map((g) => g.bytes[1]),
      [0, 1, 2],
    );
    assert.ok(got[0].arrival >= before - 1);
    for (let k = 1; k < 3; k++) assert.ok(got[k].arrival - got[k - 1].arrival >= 49, `spacing ${got[k].arrival - got[k - 1].arrival}`);
  } finally {
    await t.close();
  }
});

test('DTLS datagrams of a batch: copies, one per turn, promises run between them; a flood is capped; stop drops the rest', async () => {
  const counters = new BridgeCounters();
  const log: string[] = [];
  const turns = new DtlsTurns((buf, address, port) => {
    log.push(`handle ${buf[0]} ${address}:${port}`);
    void Promise.resolve().then(() => log.push(`promise after ${buf[0]}`));
  }, counters);
  const arena = Buffer.from([22, 23, 24]);
  for (let i = 0; i < 3; i++) turns.add(arena.subarray(i, i + 1), '10.0.0.1', 5000 + i);
  arena.fill(0); // the arena is reused at once: each waits as its own copy
  assert.deepEqual(log, []);
  await until(() => log.length >= 6);
  assert.deepEqual(log, ['handle 22 10.0.0.1:5000', 'promise after 22', 'handle 23 10.0.0.1:5001', 'promise after 23', 'handle 24 10.0.0.1:5002', 'promise after 24']);
  for (let i = 0; i < 1030; i++) turns.add(Buffer.from([22]), '10.0.0.1', 1);
  assert.equal(counters.dropDtls, 6);
  turns.stop();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((log as string[]).filter((l) => l.startsWith('handle')).length, 3, 'nothing after stop');
});

test("SRTP peers: the batch unprotects a mapped peer's SRTP and SRTCP in place with its session's state, refuses what fails, leaves the rest", { skip: skip || nativeSrtp() === null || typeof rmod?.createSrtpPeers !== 'function' ? 'native modules not built' : false }, async () => {
  const mod = rmod!;
  const fd = mod.openUdp4('127.0.0.1', 0, false);
  const port = mod.localPort(fd);
  const peers = mod.createSrtpPeers!();
  const got: Array<{ bytes: Buffer; port: number; unprotected: number }> = [];
  const receiver = new NativeReceiver(mod, fd, 0, (buf, _a, p, _t, unprotected) => got.push({ bytes: Buffer.from(buf), port: p, unprotected }), () => {}, () => {}, { srtpPeers: peers });
  const key = Buffer.alloc(16, 3);
  const salt = Buffer.alloc(14, 5);
  const sender = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt);
  const receiving = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt);
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  await Promise.all([new Promise<void>((r) => a.bind(0, '127.0.0.1', r)), new Promise<void>((r) => b.bind(0, '127.0.0.1', r))]);
  const send = (s: dgram.Socket, buf: Buffer) => new Promise<void>((r) => s.send(buf, port, '127.0.0.1', () => r()));
  const rtp = (seq: number) => srtpPacket(sender, seq, 0x1234, 100);
  try {
    const ctx = receiving.nativeContexts!;
    assert.equal(mod.setSrtpPeer!(peers, 0x7f000001, a.address().port, ctx.rtp, ctx.rtcp), true);
    const p1 = rtp(1);
    const p2 = rtp(2);
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0x12, 0x34]);
    const srtcp = Buffer.alloc(rr.length + 20);
    const rtcpLen = sender.protectRtcp(rr, rr.length, srtcp);
    const bad = Buffer.from(p2.wire);
    bad[bad.length - 1] ^= 1;
    await send(a, p1.wire);
    await send(a, Buffer.from(p1.wire)); // a replay
    await send(a, bad); // a bad tag
    await send(a, p2.wire);
    await send(a, srtcp.subarray(0, rtcpLen));
    await send(b, p1.wire); // not a mapped peer: left as it came
    await until(() => got.length >= 6);
    assert.deepEqual(got.map((g) => g.unprotected), [p1.plain.length, -1, -1, p2.plain.length, rr.length, 0]);
    assert.deepEqual(got[0].bytes.subarray(0, p1.plain.length), p1.plain, 'plaintext in place');
    assert.equal(got[0].bytes.length, p1.wire.length, 'the view keeps the datagram length (counted as received)');
    assert.deepEqual(got[3].bytes.subarray(0, p2.plain.length), p2.plain);
    assert.deepEqual(got[4].bytes.subarray(0, rr.length), rr);
    assert.deepEqual(got[5].bytes, p1.wire);
    // the receiving session's own state moved: JavaScript sees the same replay window
    assert.equal(receiving.unprotectRtp(Buffer.from(p2.wire), p2.wire.length), -1, 'a replay through the session too');
    assert.equal(receiving.receiveRoc(0x1234), 0);
    // unmapped: left to JavaScript again
    mod.deleteSrtpPeer!(peers, 0x7f000001, a.address().port);
    const p3 = rtp(3);
    got.length = 0;
    await send(a, p3.wire);
    await until(() => got.length >= 1);
    assert.equal(got[0].unprotected, 0);
    assert.deepEqual(got[0].bytes, p3.wire);
    assert.throws(() => mod.setSrtpPeer!(peers, 1, 70000, ctx.rtp, ctx.rtcp), TypeError, 'a port beyond 65535');
    assert.throws(() => mod.setSrtpPeer!(peers, 1, 5, peers as never, ctx.rtcp), TypeError, 'a handle that is not an SRTP context');
    assert.throws(() => mod.setSrtpPeer!(ctx.rtp, 1, 5, ctx.rtp, ctx.rtcp), TypeError, 'a handle that is not a table of peers');
  } finally {
    receiver.close();
    a.close();
    b.close();
  }
});

test('UdpTransport.setSrtpPeer: a mapped address reaches the sink unprotected (unprotectedLength), unmapped as it came', { skip: skip || nativeSrtp() === null || typeof rmod?.createSrtpPeers !== 'function' ? 'native modules not built' : false }, async () => {
  const seen: Array<{ bytes: Buffer; unprotected: number }> = [];
  let t: UdpTransport | null = null;
  const sink: DatagramSink = { onMedia: (buf) => seen.push({ bytes: Buffer.from(buf), unprotected: t!.unprotectedLength }), onStun: () => {}, onDtls: () => {} };
  t = new UdpTransport(sink, new BridgeCounters(), () => {}, { nativeReceive: true });
  const port = await t.bind('127.0.0.1', 0);
  const key = Buffer.alloc(16, 1);
  const salt = Buffer.alloc(14, 2);
  const sender = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt);
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const packet = (seq: number) => srtpPacket(sender, seq, 77, 28, 9).wire;
  const send = (buf: Buffer) => new Promise<void>((r) => s.send(buf, port, '127.0.0.1', () => r()));
  try {
    t.setSrtpPeer('127.0.0.1', s.address().port, new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt));
    await send(packet(1));
    await until(() => seen.length >= 1);
    assert.equal(seen[0].unprotected, 40);
    assert.equal(t.unprotectedLength, 0, 'only while its datagram is handled');
    t.setSrtpPeer('127.0.0.1', s.address().port, null);
    t.setSrtpPeer('::1', 5000, null); // not IPv4: nothing to map, no error
    const second = packet(2);
    await send(second);
    await until(() => seen.length >= 2);
    assert.equal(seen[1].unprotected, 0);
    assert.deepEqual(seen[1].bytes, second);
  } finally {
    s.close();
    await t.close();
  }
});

test('UdpTransport: an address remapped during a batch (a check moved it) gets nothing of that batch that the old keys unprotected', { skip: skip || nativeSrtp() === null || typeof rmod?.createSrtpPeers !== 'function' ? 'native modules not built' : false }, async () => {
  const key = Buffer.alloc(16, 4);
  const salt = Buffer.alloc(14, 6);
  const seen: number[] = [];
  let t: UdpTransport | null = null;
  let remapTo: SrtpSession | null = null;
  let senderPort = 0;
  const sink: DatagramSink = {
    onMedia: () => {
      seen.push(t!.unprotectedLength);
      // the first datagram's handling moves the address to another transport's keys (as a connectivity check does)
      if (remapTo !== null) t!.setSrtpPeer('127.0.0.1', senderPort, remapTo);
      remapTo = null;
    },
    onStun: () => {},
    onDtls: () => {},
  };
  t = new UdpTransport(sink, new BridgeCounters(), () => {}, { nativeReceive: true });
  const port = await t.bind('127.0.0.1', 0);
  const sender = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt);
  const wire = (seq: number) => srtpPacket(sender, seq, 99, 18, 1).wire.toString('hex');
  const batch = [wire(1), wire(2), wire(3)];
  const later = wire(4);
  try {
    // the child binds a port free a moment ago, known before the batch is sent
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    senderPort = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    t.setSrtpPeer('127.0.0.1', senderPort, new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt));
    remapTo = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt);
    sendWhileBlocked(
      port,
      `d.bind(${senderPort},'127.0.0.1',()=>{const w=${JSON.stringify(batch)};let k=0;const go=()=>d.send(Buffer.from(w[k],'hex'),port,'127.0.0.1',()=>{if(++k===w.length)d.close();else go()});go()});`,
    );
    await until(() => seen.length >= 3);
    assert.deepEqual(seen, [30, -1, -1], 'the first unprotected with the keys of then; the rest of its batch dropped');
    sendWhileBlocked(port, `d.bind(${senderPort},'127.0.0.1',()=>d.send(Buffer.from('${later}','hex'),port,'127.0.0.1',()=>d.close()));`);
    await until(() => seen.length >= 4);
    assert.equal(seen[3], 30, 'the next batch is unprotected with the new keys');
  } finally {
    await t.close();
  }
});
