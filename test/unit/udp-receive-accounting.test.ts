// Every datagram sent to the bridge's media socket is accounted for: handled with its own bytes intact, or counted
// as dropped by the kernel (the socket's receive buffer was full while the event loop was busy). A flood of
// thousands of numbered RTP-sized datagrams arrives while this thread is blocked, more than the receive buffer
// holds; then one last datagram brings the kernel's final drop count (SO_RXQ_OVFL comes with a datagram read).
// Checked at the receive module itself, through the media transport with native receive on (the bridge's
// demultiplexer, counters.dropSocketFull), and on the dgram fallback, whose drops only /proc/net/udp knows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BridgeCounters } from '../../src/bridge/counters.ts';
import { nativeReceive, nativeUdp } from '../../src/bridge/native/udp-batch.ts';
import { NativeReceiver } from '../../src/bridge/native/udp-receive.ts';
import { UdpTransport } from '../../src/bridge/udp-transport.ts';
import { udpSocketDrops } from '../../src/loadtest/socket-drops.ts';

const rmod = nativeReceive(nativeUdp());
const skip = rmod === null ? 'native module not built' : false;

/** Datagrams in the flood (about 6 MB: more than any receive buffer here holds, 8 MB of kernel accounting). */
const FLOOD = 6000;
const SIZE = 1100;
/** The index of the last datagram, sent after the flood was read: it carries the kernel's final drop count. */
const LAST = FLOOD;

/**
 * A child sends datagrams `from`..`to` (inclusive) to port, each an RTP-looking packet: 0x80, payload type 96,
 * its index in bytes 4-7, every other byte (index * 31 + offset) & 255. Blocks this thread until it has sent them.
 */
function sendNumbered(port: number, from: number, to: number): void {
  const script =
    `const d=require('dgram').createSocket('udp4');let left=${to - from + 1};` +
    `for(let k=${from};k<=${to};k++){const b=Buffer.alloc(${SIZE});for(let j=8;j<b.length;j++)b[j]=(k*31+j)&255;` +
    `b[0]=0x80;b[1]=96;b.writeUInt16BE(k&0xffff,2);b.writeUInt32BE(k,4);d.send(b,${port},'127.0.0.1',()=>{if(--left===0)d.close()})}`;
  execFileSync(process.execPath, ['-e', script]);
}

/** Checks one datagram where it is handled (its bytes are valid only then): returns its index, or -1 when damaged. */
function numbered(buf: Buffer): number {
  if (buf.length !== SIZE || buf[0] !== 0x80 || buf[1] !== 96) return -1;
  const k = buf.readUInt32BE(4);
  if (buf.readUInt16BE(2) !== (k & 0xffff)) return -1;
  for (let j = 8; j < SIZE; j++) if (buf[j] !== ((k * 31 + j) & 255)) return -1;
  return k;
}

/** What a receiving side saw: each index once, intact. */
class Tally {
  readonly seen = new Uint8Array(LAST + 1);
  received = 0;
  damaged = 0;
  duplicates = 0;
  take(buf: Buffer): void {
    const k = numbered(buf);
    if (k < 0 || k > LAST) this.damaged++;
    else if (this.seen[k] !== 0) this.duplicates++;
    else {
      this.seen[k] = 1;
      this.received++;
    }
  }
}

async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/** Floods port while blocked, waits until the flood is read, sends the last datagram and waits for it. */
async function flood(port: number, tally: Tally, settled: () => boolean): Promise<void> {
  sendNumbered(port, 0, FLOOD - 1);
  // nothing more arrives: what the socket held is read once the loop runs
  let before = -1;
  while (tally.received !== before) {
    before = tally.received;
    await new Promise((r) => setTimeout(r, 100));
  }
  sendNumbered(port, LAST, LAST);
  await until(() => tally.seen[LAST] === 1 && settled());
}

test('the receive module: a flood larger than the socket buffer is read intact or counted as dropped by the kernel', { skip }, async () => {
  const mod = rmod!;
  const fd = mod.openUdp4('127.0.0.1', 0, false);
  const port = mod.localPort(fd);
  const tally = new Tally();
  let kernelDrops = 0;
  const errors: number[] = [];
  // a small buffer (the kernel doubles it): most of the flood cannot wait in it
  const receiver = new NativeReceiver(mod, fd, 256 * 1024, (buf) => tally.take(buf), () => tally.damaged++, (e) => errors.push(e), { onKernelDrops: (n) => (kernelDrops += n) });
  try {
    await flood(port, tally, () => tally.received + kernelDrops >= LAST + 1);
    assert.deepEqual(errors, []);
    assert.equal(tally.damaged, 0, 'no datagram handled with bytes not its own');
    assert.equal(tally.duplicates, 0);
    assert.ok(kernelDrops > 0, 'the flood overflowed the socket buffer');
    assert.ok(tally.received > 0);
    assert.equal(tally.received + kernelDrops, LAST + 1, `${tally.received} read + ${kernelDrops} dropped by the kernel`);
    assert.equal(udpSocketDrops(new Set([port])), kernelDrops, "the kernel's count agrees with /proc/net/udp");
  } finally {
    receiver.close();
  }
});

for (const native of [true, false]) {
  test(`the media transport, ${native ? 'native receive' : 'dgram reads'}: every datagram of a flood is handled intact or counted as dropped`, { skip }, async () => {
    const counters = new BridgeCounters();
    const tally = new Tally();
    const other: number[] = [];
    const sink = {
      onMedia: (buf: Buffer) => tally.take(buf),
      onStun: () => other.push(0),
      onDtls: () => other.push(1),
    };
    const t = new UdpTransport(sink, counters, () => {}, { nativeReceive: native });
    const port = await t.bind('127.0.0.1', 0);
    try {
      assert.equal(t.batchedReceive, native);
      // dgram's drops are not the bridge's to know: /proc/net/udp (the same count the kernel gives the module)
      const drops = () => (native ? counters.dropSocketFull : (udpSocketDrops(new Set([port])) ?? 0));
      await flood(port, tally, () => tally.received + drops() >= LAST + 1);
      assert.deepEqual(other, []);
      assert.equal(tally.damaged, 0, 'no datagram handled with bytes not its own');
      assert.equal(tally.duplicates, 0);
      assert.equal(counters.packetsIn, tally.received, 'every datagram read was handed on');
      assert.equal(counters.dropError, 0);
      assert.equal(tally.received + drops(), LAST + 1, `${tally.received} read + ${drops()} dropped by the kernel`);
      assert.ok(drops() > 0, `the flood overflowed the socket buffer (${tally.received} read)`);
      if (native) assert.equal(udpSocketDrops(new Set([port])), counters.dropSocketFull, "the module's count agrees with /proc/net/udp");
      else assert.equal(counters.dropSocketFull, 0, 'dgram reads cannot see the count');
    } finally {
      await t.close();
    }
  });
}

for (const native of [true, false]) {
  test(`a connected socket of the shared port holds what its peer sent during a stall, as the main socket does (${native ? 'native receive' : 'dgram reads'})`, { skip }, async () => {
    const counters = new BridgeCounters();
    const tally = new Tally();
    const t = new UdpTransport({ onMedia: (buf: Buffer) => tally.take(buf), onStun() {}, onDtls() {} }, counters, () => {}, { reusePort: true, nativeReceive: native });
    const port = await t.bind('127.0.0.1', 0);
    // a free port for the peer (the child binds it after the bridge's socket connected to it)
    const probe = (await import('node:dgram')).createSocket('udp4');
    const peerPort = await new Promise<number>((r) => probe.bind(0, '127.0.0.1', () => r(probe.address().port)));
    await new Promise<void>((r) => probe.close(() => r()));
    try {
      await t.connectTo('127.0.0.1', peerPort);
      // 1500 datagrams (~1.6 MB): far beyond the kernel's default buffer (~208 KiB), within the main socket's
      const n = 1500;
      const script =
        `const d=require('dgram').createSocket('udp4');d.bind(${peerPort},'127.0.0.1',()=>{let left=${n};` +
        `for(let k=0;k<${n};k++){const b=Buffer.alloc(${SIZE});for(let j=8;j<b.length;j++)b[j]=(k*31+j)&255;` +
        `b[0]=0x80;b[1]=96;b.writeUInt16BE(k&0xffff,2);b.writeUInt32BE(k,4);d.send(b,${port},'127.0.0.1',()=>{if(--left===0)d.close()})}})`;
      execFileSync(process.execPath, ['-e', script]);
      await until(() => tally.received >= n);
      assert.equal(tally.damaged, 0);
      assert.equal(tally.duplicates, 0);
      assert.equal(udpSocketDrops(new Set([port])), 0, 'the kernel dropped none at the bridge port');
      assert.equal(tally.received, n);
      assert.equal(counters.dropSocketFull, 0);
    } finally {
      await t.close();
    }
  });
}
