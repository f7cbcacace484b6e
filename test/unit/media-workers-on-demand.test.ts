// Media workers on demand (src/bridge/workers/on-demand-pool.ts, `mediaWorkersOnDemand`): an idle bridge runs
// no media worker but holds its media port (and ICE-TCP port); the first endpoint starts the workers (real
// worker threads joining the port's SO_REUSEPORT group), an empty bridge stops them after the idle delay, and the
// next endpoint starts them again. Also through startBridge and the bus: the resource counts show no worker
// while idle, and an allocation is answered once the workers run. No timing is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { createBridgeCertificate } from '../../src/bridge/certificate.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { OnDemandPool } from '../../src/bridge/workers/on-demand-pool.ts';

/** Whether a socket without SO_REUSEPORT can bind 127.0.0.1:port/udp now (false: someone holds it). */
function udpFree(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function tcpFree(port: number): Promise<boolean> {
  const s = net.createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port }, () => s.close(() => resolve(true)));
  });
}

async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen({ host: '127.0.0.1', port: 0 }, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(check(), what);
}

/** A pool of two workers on demand on 127.0.0.1, stopping idleStopMs after the bridge is empty. */
async function onDemandPool(bridgeId: string, idleStopMs: number, isIdle?: () => boolean): Promise<OnDemandPool> {
  return new OnDemandPool({
    count: 2,
    bridgeId,
    config: configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0 }),
    log: createLogger('silent'),
    certificate: await createBridgeCertificate(),
    bindAddress: '127.0.0.1',
    onEvent() {},
    stopWhenIdle: true,
    idleStopMs,
    isIdle,
  });
}

test('on-demand media workers: ports held while idle, started by the first need, stopped when idle, started again', { timeout: 120_000 }, async () => {
  const tcp = await freeTcpPort();
  const workers = await onDemandPool('on-demand', 50);
  const port = await workers.holdPorts(0, tcp);
  try {
    assert.ok(port > 0);
    assert.equal(workers.tcpPort, tcp);
    assert.equal(workers.pool, null, 'an idle bridge runs no worker');
    assert.equal(workers.current(), null);
    assert.equal(await udpFree(port), false, 'the media port is held while idle');
    assert.equal(await tcpFree(tcp), false, 'the ICE-TCP port is held while idle');
    workers.endpointsChanged(0); // nothing runs: nothing to stop
    assert.equal(workers.starts, 0);

    // two needs at once start the workers once
    const [a, b] = await Promise.all([workers.get(), workers.get()]);
    assert.equal(a, b);
    assert.equal(workers.starts, 1);
    assert.equal(a.port, port, 'the workers bound the port the bridge announced');
    assert.equal(await udpFree(port), false);
    assert.equal(await tcpFree(tcp), false, 'a worker listens on the ICE-TCP port now');
    const counters = await a.counters();
    assert.equal(counters.packetsIn, 0, 'both workers answer');

    // endpoints present: they keep running; an empty bridge stops them after the idle delay
    workers.endpointsChanged(1);
    workers.endpointsChanged(0);
    await until('the workers stop once the bridge is empty', () => workers.pool === null && workers.current() === null);
    await workers.settled();
    assert.equal(await udpFree(port), false, 'the media port stays held after they stopped');
    assert.equal(await tcpFree(tcp), false, 'the ICE-TCP port stays held after they stopped');

    // the next endpoint starts them again on the same port
    const again = await workers.get();
    assert.equal(workers.starts, 2);
    assert.equal(again.port, port);
    // a need while the stop delay runs cancels the stop
    workers.endpointsChanged(0);
    await workers.get();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(workers.pool, again, 'a need cancelled the pending stop');
  } finally {
    await workers.close();
  }
  assert.equal(await udpFree(port), true, 'close frees the media port');
  assert.equal(await tcpFree(tcp), true, 'close frees the ICE-TCP port');
});

test('on-demand media workers: a stop that comes to run after a join gives up; a join during a stop gets new workers', { timeout: 120_000 }, async () => {
  let endpoints = 0;
  const workers = await onDemandPool('on-demand-race', 10, () => endpoints === 0);
  await workers.holdPorts(0, 0);
  try {
    const first = await workers.get();
    // the idle timer fires and queues the stop; an endpoint arrives before the stop runs (its get() was
    // answered with the running pool): the stop sees the bridge is not empty and leaves the workers running
    workers.endpointsChanged(0);
    endpoints = 1; // bridge.allocate counted it; its endpointsChanged has not come yet
    await new Promise((r) => setTimeout(r, 50));
    await workers.settled();
    assert.equal(workers.pool, first, 'the workers a join was given are not stopped under it');
    // the bridge empties again and the stop runs; a join from then on waits for workers started after it
    endpoints = 0;
    workers.endpointsChanged(0);
    await until('the stop has begun', () => workers.pool === null);
    endpoints = 1;
    const next = await workers.get();
    assert.notEqual(next, first, 'never the workers going away');
    assert.equal(workers.starts, 2);
    assert.equal((await next.counters()).packetsIn, 0, 'the new workers answer');
  } finally {
    await workers.close();
  }
});

test('a bridge with mediaWorkersOnDemand runs no worker while idle and starts them for the first endpoint', { timeout: 120_000 }, async () => {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 2, mediaWorkersOnDemand: true });
  const bridge = await startBridge({ bus, config, log: createLogger('silent'), bridgeId: 'od' });
  try {
    const idle = await bridge.resourceCounts();
    assert.ok(!Object.keys(idle).some((k) => k.startsWith('mediaWorkers.')), `no worker while idle: ${JSON.stringify(idle)}`);
    assert.equal(await udpFree(bridge.mediaPort), false, 'the media port is held');
    // starting workers takes seconds on a busy machine: this request waits longer than focus's default
    const reply = (await bus.request('bridge.od.allocate', { conferenceId: 'c1', endpointId: 'e1' }, 60_000)) as { ufrag: string };
    assert.ok(reply.ufrag.length > 0);
    const running = await bridge.resourceCounts();
    assert.equal(running['bridge.endpoints'], 1);
    assert.equal(running['mediaWorkers.bridge.endpoints'], 2, 'both workers know the endpoint');
    const counters = await bridge.readCounters();
    assert.equal(counters.packetsIn, 0);
  } finally {
    await bridge.close();
  }
});

test('a warm-up starts idle workers without an endpoint; they stop after the hold unless a join came', { timeout: 120_000 }, async () => {
  let endpoints = 0;
  const workers = await onDemandPool('warm', 50, () => endpoints === 0);
  await workers.holdPorts(0, 0);
  try {
    workers.warm(300);
    await until('a warm-up starts the workers', () => workers.pool !== null);
    assert.equal(workers.starts, 1);
    // the bridge's maintenance tick reports an empty bridge meanwhile: the hold, not the idle delay, decides
    workers.endpointsChanged(0);
    await new Promise((r) => setTimeout(r, 150));
    assert.notEqual(workers.pool, null, 'still held for the join');
    await until('no join came: they stop after the hold', () => workers.pool === null);
    await workers.settled();

    // warmed, then the join comes: they run on with it
    workers.warm(100);
    await until('started again', () => workers.pool !== null);
    endpoints = 1;
    const pool = await workers.get();
    workers.endpointsChanged(1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(workers.pool, pool, 'the join keeps them');
    assert.equal(workers.starts, 2);
  } finally {
    await workers.close();
  }
});

test('a bridge with mediaWorkersOnDemand starts its workers when a join screen warms it up (bridge.warm)', { timeout: 120_000 }, async () => {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 2, mediaWorkersOnDemand: true });
  const bridge = await startBridge({ bus, config, log: createLogger('silent'), bridgeId: 'warmed' });
  try {
    const running = async () => Object.keys(await bridge.resourceCounts()).some((k) => k.startsWith('mediaWorkers.'));
    assert.equal(await running(), false, 'no worker while idle');
    bus.publish('bridge.warm', {});
    let started = false;
    for (let i = 0; i < 600 && !started; i++) {
      await new Promise((r) => setTimeout(r, 50));
      started = await running();
    }
    assert.ok(started, 'the warm-up started the workers with nobody joined');
  } finally {
    await bridge.close();
  }
});

test('a bridge whose media workers run from the start counts their packets in its "bridge stopped" summary', { timeout: 120_000 }, async () => {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 2, mediaWorkersOnDemand: false });
  const lines: string[] = [];
  const bridge = await startBridge({ bus, config, log: createLogger('info', { write: (line: string) => void lines.push(line) }), bridgeId: 'always' });
  let closed = false;
  try {
    // stray datagrams: each counted in (and dropped) by whichever worker the kernel gives it to; nothing reads the
    // counters before the stop (a read would copy them to the bridge's own)
    const s = dgram.createSocket('udp4');
    for (let i = 0; i < 20; i++) s.send(Buffer.from([0x80, 0x60, 0, i, 1, 2, 3, 4, 5, 6, 7, 8]), bridge.mediaPort, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 2000));
    s.close();
    await bridge.close();
    closed = true;
    const summary = lines.map((l) => JSON.parse(l) as { msg: string; counters?: { packetsIn: number } }).find((l) => l.msg === 'bridge stopped');
    assert.ok(summary?.counters, 'the bridge logged its summary');
    assert.ok(summary.counters.packetsIn >= 20, `the summary counts the workers' packets: ${summary.counters.packetsIn}`);
  } finally {
    if (!closed) await bridge.close();
  }
});
