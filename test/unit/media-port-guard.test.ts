// One media port, one bridge (issue 13, item 7): the media workers bind the port with SO_REUSEPORT, which
// would let a second Tertulia of the same user join and silently take part of the traffic. The attack here is
// the honest mistake: a second bridge, in this process or a second `tertulia start`, on a port in use; it must
// fail with a message naming the port, with native sends and with Node's dgram, and leave the first one working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { MediaPortInUseError, claimMediaPort, guardPath } from '../../src/bridge/port-guard.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.ts';
import { findTurnserver } from '../../src/turn/turn-service.ts';
import { startServer } from '../helpers/server.ts';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

test('the guard: a claimed port cannot be claimed again until released', async () => {
  const port = await freeUdpPort();
  const g = await claimMediaPort(port);
  await assert.rejects(claimMediaPort(port), (e: unknown) => e instanceof MediaPortInUseError && e.port === port);
  await g.release();
  const again = await claimMediaPort(port);
  await again.release();
  await again.release(); // idempotent
});

test('the guard without abstract sockets: a socket file, and one left by a dead process is taken over', async () => {
  const port = await freeUdpPort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tertulia-guard-'));
  const where = path.join(dir, path.basename(guardPath(port, false)));
  try {
    const g = await claimMediaPort(port, where);
    await assert.rejects(claimMediaPort(port, where), MediaPortInUseError);
    await g.release();
    fs.writeFileSync(where, ''); // what a process killed with SIGKILL leaves behind (nobody listens)
    const g2 = await claimMediaPort(port, where);
    await assert.rejects(claimMediaPort(port, where), MediaPortInUseError);
    await g2.release();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const [workers, nativeSend] of [
  [2, true],
  [2, false],
  [1, true],
  [1, false],
] as const) {
  test(`a second bridge on a media port in use fails clearly (mediaWorkers ${workers}, nativeSend ${nativeSend})`, async (t) => {
    const port = await freeUdpPort();
    const bus = new MemoryBus();
    // workers from the start: the datagram check below needs one reading the port (with workers on demand, the
    // default, an idle bridge's placeholder holds the port and reads nothing; media-workers-on-demand.test.ts)
    const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: port, tcpMediaPort: 0, mediaWorkers: workers, mediaWorkersOnDemand: false, nativeSend });
    const first = await startBridge({ bus, config, log, bridgeId: 'first' });
    t.after(async () => {
      await first.close();
      await bus.close();
    });
    assert.equal(first.mediaPort, port);
    const second = await startBridge({ bus, config: configSchema.parse({ ...config, listenAddress: '0.0.0.0' }), log, bridgeId: 'second' }).then(
      async (b) => {
        await b.close();
        return new Error('the second bridge started on the same media port');
      },
      (e: unknown) => e,
    );
    assert.ok(second instanceof MediaPortInUseError, String(second));
    assert.ok(second.message.includes(`media port ${port}/udp is already used by another Tertulia bridge`), second.message);
    // the first still has its port, alone: a datagram reaches it
    const before = (await first.readCounters()).packetsIn ?? 0;
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.send(Buffer.from([0xff, 1]), port, '127.0.0.1', () => r()));
    s.close();
    const deadline = Date.now() + 3000;
    while (((await first.readCounters()).packetsIn ?? 0) === before) {
      assert.ok(Date.now() < deadline, 'the first bridge receives');
      await new Promise((r) => setTimeout(r, 50));
    }
    // once the first is gone, the port can be used again
    await first.close();
    const third = await startBridge({ bus, config, log, bridgeId: 'third' });
    assert.equal(third.mediaPort, port);
    await third.close();
  });
}

test('a port taken by another program (no SO_REUSEPORT) is named in the error', async (t) => {
  const other = dgram.createSocket('udp4');
  const port = await new Promise<number>((r) => other.bind(0, '127.0.0.1', () => r(other.address().port)));
  t.after(() => other.close());
  const bus = new MemoryBus();
  t.after(() => bus.close());
  for (const nativeSend of [true, false]) {
    const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: port, tcpMediaPort: 0, mediaWorkers: 2, nativeSend });
    await assert.rejects(
      startBridge({ bus, config, log, bridgeId: 'b' }),
      (e: unknown) => e instanceof MediaPortInUseError && /another program/.test(e.message) && e.message.includes(`${port}/udp`),
    );
  }
});

test('two `tertulia start` on one media port: the second exits with a message naming the port', { timeout: 180_000 }, async (t) => {
  const first = await startServer({ TERTULIA_MEDIA_WORKERS: '2' });
  t.after(() => first.stop());
  for (const nativeSend of ['true', 'false']) {
    const env = { TERTULIA_MEDIA_PORT: String(first.mediaPort), TERTULIA_MEDIA_WORKERS: '2', TERTULIA_NATIVE_SEND: nativeSend };
    const message = await startServer(env).then(
      async (second) => {
        await second.stop();
        return 'the second server started on the same media port';
      },
      (e: unknown) => (e as Error).message,
    );
    assert.match(message, /server exited with 1/);
    assert.ok(message.includes(`tertulia: cannot start: media port ${first.mediaPort}/udp is already used by another Tertulia bridge`), message);
  }
  assert.ok(first.alive(), 'the first server runs on');
});

test('a second bridge with an id another running bridge has on the bus is refused; once that one stopped, the id is free', async () => {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1 });
  const first = await startBridge({ bus, config, log, bridgeId: 'same-id' });
  try {
    await assert.rejects(startBridge({ bus, config, log, bridgeId: 'same-id' }), /another running bridge has the id same-id: give each bridge its own --bridge-id/);
    // the first bridge still answers as before
    assert.deepEqual(await bus.request('bridge.same-id.ping', {}), { ok: true });
  } finally {
    await first.close();
  }
  const again = await startBridge({ bus, config, log, bridgeId: 'same-id' });
  await again.close();
  await bus.close();
});

test('a second `tertulia start` on a data directory in use exits before any part starts; the first keeps its coturn', { timeout: 180_000, skip: findTurnserver() ? false : 'coturn is not installed' }, async (t) => {
  const turnPort = String(await freeTcpPort());
  const turn = { TERTULIA_TURN: 'on', TERTULIA_TURN_PORT: turnPort, TERTULIA_TURN_RELAY_PORT_MIN: '46200', TERTULIA_TURN_RELAY_PORT_MAX: '46299' };
  const first = await startServer(turn);
  t.after(() => first.stop());
  const pidFile = path.join(first.dataDir, 'turn', 'turnserver.pid');
  const confFile = path.join(first.dataDir, 'turn', 'turnserver.conf');
  const deadline = Date.now() + 20_000;
  while (!fs.existsSync(pidFile)) {
    assert.ok(Date.now() < deadline, 'the first server\'s coturn wrote no pid file');
    await new Promise((r) => setTimeout(r, 100));
  }
  const coturn = Number(fs.readFileSync(pidFile, 'utf8').trim());
  const conf = fs.readFileSync(confFile, 'utf8');
  // the same data directory, other ports (and another relay range, which must not reach the first's configuration)
  const message = await startServer({ ...turn, TERTULIA_DATA_DIR: first.dataDir, TERTULIA_TURN_RELAY_PORT_MIN: '46300', TERTULIA_TURN_RELAY_PORT_MAX: '46399' }).then(
    async (second) => {
      await second.stop();
      return 'the second server started';
    },
    (e: unknown) => (e as Error).message,
  );
  assert.match(message, /server exited with 1/);
  assert.ok(message.includes(`tertulia: cannot start: another Tertulia server runs with the data directory ${first.dataDir}`), message);
  assert.ok(first.alive(), 'the first server runs on');
  assert.doesNotThrow(() => process.kill(coturn, 0), 'its coturn runs on');
  assert.equal(fs.readFileSync(confFile, 'utf8'), conf, 'its coturn configuration is untouched');
});
