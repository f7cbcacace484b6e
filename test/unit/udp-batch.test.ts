// The bridge's native send module (native/udp-batch.c through src/bridge/native/udp-batch.ts): a batch of
// datagrams to several receivers in one sendmmsg, each with its own bytes and destination; what cannot be
// batched is refused (the transport then sends it with dgram); bad arguments are clear errors, not crashes.
// And the arrival times the transport gives transport-cc: the kernel's, also for datagrams read late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { BridgeCounters } from '../../src/bridge/counters.ts';
import { BATCH_SLOT, MAX_BATCH, SendBatch, ipv4Number, nativeUdp } from '../../src/bridge/native/udp-batch.ts';
import { UdpTransport } from '../../src/bridge/udp-transport.ts';

function hasCompiler(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v cc || command -v gcc'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('ipv4Number parses dotted quads only', () => {
  assert.equal(ipv4Number('127.0.0.1'), 0x7f000001);
  assert.equal(ipv4Number('255.255.255.255'), 0xffffffff);
  assert.equal(ipv4Number('10.0.0.5'), 0x0a000005);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', 'a.b.c.d', '::1', '1.2.3.4 ', '1234.1.1.1']) {
    assert.equal(ipv4Number(bad), -1, bad);
  }
});

test('the native module is built where a C compiler is (scripts/build-native.sh)', { skip: process.platform !== 'linux' }, () => {
  if (hasCompiler()) assert.notEqual(nativeUdp(), null, 'native/build/udp-batch.node should load');
});

test('a batch reaches every receiver with its own bytes', { skip: nativeUdp() === null ? 'native module not built' : false }, async () => {
  const mod = nativeUdp()!;
  const receivers = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise<dgram.Socket>((resolve) => {
          const r = dgram.createSocket('udp4');
          r.bind(0, '127.0.0.1', () => resolve(r));
        }),
    ),
  );
  const got: Array<Buffer[]> = receivers.map(() => []);
  receivers.forEach((r, i) => r.on('message', (m) => got[i].push(m)));
  const fd = mod.openUdp4('127.0.0.1', 0, false);
  const sender = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sender.bind({ fd }, resolve));
  try {
    const batch = new SendBatch(mod, fd);
    const scratch = Buffer.alloc(1200);
    for (let k = 0; k < 30; k++) {
      const i = k % 3;
      scratch.fill(k, 0, 100 + k * 30);
      assert.equal(batch.add(scratch, 0, 100 + k * 30, receivers[i].address().port, '127.0.0.1'), true);
      scratch.fill(0xee); // the batch copied it: reusing the buffer at once is fine
    }
    assert.equal(batch.add(Buffer.alloc(BATCH_SLOT + 1), 0, BATCH_SLOT + 1, receivers[0].address().port, '127.0.0.1'), false, 'too large');
    assert.equal(batch.add(scratch, 0, 10, receivers[0].address().port, 'localhost'), false, 'not an address');
    assert.equal(batch.count, 30);
    assert.equal(batch.flush(), 0, 'nothing failed');
    assert.equal(batch.count, 0);
    const deadline = Date.now() + 2000;
    while (got.reduce((n, g) => n + g.length, 0) < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 3; i++) {
      assert.equal(got[i].length, 10);
      got[i].forEach((m, j) => {
        const k = j * 3 + i;
        assert.equal(m.length, 100 + k * 30);
        assert.ok(m.every((b) => b === k));
      });
    }
    // a full batch refuses more (the transport sends it first)
    for (let k = 0; k < MAX_BATCH; k++) batch.add(scratch, 0, 20, receivers[0].address().port, '127.0.0.1');
    assert.equal(batch.add(scratch, 0, 20, receivers[0].address().port, '127.0.0.1'), false);
    batch.flush();
  } finally {
    sender.close();
    for (const r of receivers) r.close();
  }
});

test('bad arguments are errors, a busy port is EADDRINUSE', { skip: nativeUdp() === null ? 'native module not built' : false }, async () => {
  const mod = nativeUdp()!;
  assert.throws(() => mod.openUdp4('not an address', 0, false), TypeError);
  assert.throws(() => mod.openUdp4('127.0.0.1', 70000, false), TypeError);
  const fd = mod.openUdp4('127.0.0.1', 0, false);
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind({ fd }, resolve));
  try {
    assert.throws(() => mod.openUdp4('127.0.0.1', s.address().port, false), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    const call = mod.sendBatch as unknown as (...args: unknown[]) => number;
    assert.throws(() => call(fd, 'x'), TypeError);
    const ab = new ArrayBuffer(64);
    const one = () => [new Int32Array(1), new Int32Array(1), new Uint32Array(1), new Uint16Array(1)];
    assert.throws(() => call(fd, ab, ...one(), 2), RangeError, 'count larger than the arrays');
    // offsets outside the arena send an empty datagram rather than read outside it
    const [o, l, a, p] = one() as [Int32Array, Int32Array, Uint32Array, Uint16Array];
    o[0] = 60;
    l[0] = 100;
    a[0] = 0x7f000001;
    p[0] = s.address().port;
    assert.equal(call(fd, ab, o, l, a, p, 1), 1);
  } finally {
    s.close();
  }
});

/**
 * Three RTP-looking datagrams sent 100 ms apart while the event loop is blocked (execFileSync runs the sender
 * to its end): the handler runs for all three at once afterwards; arrivalMs() is when each reached the host.
 */
async function arrivalsWhileBlocked(nativeSend: boolean): Promise<{ arrivals: number[]; handled: number[] }> {
  const arrivals: number[] = [];
  const handled: number[] = [];
  let transport: UdpTransport;
  const sink = {
    onStun() {},
    onDtls() {},
    onMedia() {
      handled.push(performance.now());
      arrivals.push(transport.arrivalMs());
    },
  };
  transport = new UdpTransport(sink, new BridgeCounters(), () => {}, { nativeSend });
  const port = await transport.bind('127.0.0.1', 0);
  try {
    const sender = `const d=require('dgram').createSocket('udp4');const b=Buffer.alloc(20);b[0]=0x80;let i=0;` + `const go=()=>d.send(b,${port},'127.0.0.1',()=>{if(++i===3)d.close();else setTimeout(go,100)});go();`;
    execFileSync(process.execPath, ['-e', sender]);
    const end = Date.now() + 5000;
    while (handled.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  } finally {
    await transport.close();
  }
  return { arrivals, handled };
}

test('arrival times come from the kernel: datagrams read late keep the times they arrived', { skip: nativeUdp() === null ? 'native module not built' : false }, async () => {
  const { arrivals, handled } = await arrivalsWhileBlocked(true);
  assert.equal(arrivals.length, 3);
  // the sender waited at least 100 ms between sends; the handler saw all three after the block
  assert.ok(arrivals[1]! - arrivals[0]! >= 99 && arrivals[2]! - arrivals[1]! >= 99, `arrivals ${arrivals.map((a) => a.toFixed(1)).join(', ')}`);
  for (let i = 0; i < 3; i++) assert.ok(arrivals[i]! <= handled[i]!, 'an arrival is never after its handling');
});

test('without the native module arrival times are the handling times (the fallback)', async () => {
  const { arrivals, handled } = await arrivalsWhileBlocked(false);
  assert.equal(arrivals.length, 3);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(arrivals[i]! - handled[i]!) < 50, `arrival ${arrivals[i]} handled ${handled[i]}`);
});

test('setThreadName names the calling thread only, cut to the kernel\'s 15 bytes; a non-string is an error', { skip: nativeUdp() === null ? 'native module not built' : false }, async () => {
  const { Worker } = await import('node:worker_threads');
  const { readdirSync, readFileSync } = await import('node:fs');
  const names = () => readdirSync('/proc/self/task').map((t) => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim());
  const mainName = readFileSync('/proc/self/comm', 'utf8').trim();
  const url = new URL('../../src/bridge/native/udp-batch.ts', import.meta.url).href;
  const w = new Worker(`import(${JSON.stringify(url)}).then((m) => { require('node:worker_threads').parentPort.postMessage(m.nativeUdp().setThreadName('tertulia-media7-and-more')); setInterval(() => {}, 1000); });`, { eval: true });
  try {
    assert.equal(await new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject))), true);
    assert.ok(names().includes('tertulia-media7'), names().join(', '));
    assert.equal(readFileSync('/proc/self/comm', 'utf8').trim(), mainName, 'the main thread keeps its name');
  } finally {
    await w.terminate();
  }
  assert.throws(() => nativeUdp()!.setThreadName!(42 as unknown as string), /setThreadName\(name\)/);
});
