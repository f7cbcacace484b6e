// `tertulia status` about the bus: an admin trial saw stale or empty bridges and no reason when the server's NATS
// connection was lost. The status says what links the parts: in one process without NATS, that (nothing to lose);
// over NATS, its address without credentials and whether it is connected, and while not, for how long. Checked on
// the text, and on a real signal over a real nats-server (user and password in its URL) that is killed and
// started again, asked through the control socket as the command asks.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { connectControl } from '../../src/cli/control-client.ts';
import { statusText } from '../../src/cli/commands/status.ts';
import { loadConfig } from '../../src/config/config.ts';
import { serverStatusSchema, type ServerStatus } from '../../src/protocol/control-messages.ts';
import { startSignal } from '../../src/signal/index.ts';
import { waitUntil } from '../helpers/browser.ts';
import { startNatsServer } from '../helpers/nats.ts';
import { ONE_ADDRESS_TEST_CAPS, startTestSignal } from '../helpers/signal-client.ts';

const base = { ok: true as const, version: '0.1.0', uptimeSeconds: 60, participants: 0, rooms: [], recorders: [] };

test('status text: the bus in one process, NATS connected, NATS down for a while, and an older server that does not say', () => {
  const text = (bus: ServerStatus['bus'], bridges: ServerStatus['bridges'] = [{ id: 'a', endpoints: 1 }]) =>
    statusText(serverStatusSchema.parse({ ...base, bridges, ...(bus ? { bus } : {}) }));
  assert.match(text({ kind: 'memory', connected: true }), /^Bus: in this process \(every part runs here, no NATS\)$/m);
  assert.match(text({ kind: 'nats', server: 'nats://10.0.0.5:4222', connected: true }), /^Bus: NATS nats:\/\/10\.0\.0\.5:4222, connected$/m);
  const down = text({ kind: 'nats', server: 'nats://10.0.0.5:4222', connected: false, downSeconds: 75 }, []);
  assert.match(down, /^Bus: NATS nats:\/\/10\.0\.0\.5:4222, DOWN: reconnecting for 1m 15s; no part reaches the others meanwhile \(bridges and recorders below are as last heard\)$/m);
  assert.match(down, /^Bridges: 0 {2}\(none heard in 15 s: no meeting can start; the bus is down\)$/m);
  assert.ok(down.indexOf('Bus:') < down.indexOf('Bridges:'), 'the bus comes before the bridges it explains');
  assert.doesNotMatch(text(undefined), /^Bus:/m);
  assert.doesNotMatch(text(undefined, []), /the bus is down/);
});

test('status over the control socket, one process without NATS: the bus is in memory', async () => {
  const signal = await startTestSignal();
  try {
    const control = await connectControl(signal.dataDir);
    const reply = serverStatusSchema.parse(await control.ask({ op: 'status' }));
    control.close();
    assert.deepEqual(reply.bus, { kind: 'memory', connected: true });
  } finally {
    await signal.stop();
  }
});

describe('status over the control socket, signal over NATS', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-status-bus-'));
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  });

  test('the NATS server is killed: connected, then down for some seconds, then connected again; no credentials shown', { timeout: 60_000 }, async () => {
    const password = 'S3cret-pw-XYZ';
    const nats = await startNatsServer({ user: 'tertulia', password, jetstream: true });
    cleanup.push(() => nats.stop());
    const url = `nats://tertulia:${password}@127.0.0.1:${nats.port}`;
    const log = pino({ level: 'silent' });
    const webRoot = path.join(tmp, 'web');
    mkdirSync(webRoot, { recursive: true });
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Tertulia</title>');
    const dataDir = path.join(tmp, 'data');
    const config = loadConfig({
      env: { TERTULIA_CONFIG: '' },
      overrides: { listenAddress: '127.0.0.1', httpsPort: 0, httpPort: 0, dataDir, logLevel: 'silent', natsUrl: url, parts: ['web'], ...ONE_ADDRESS_TEST_CAPS },
    });
    const bus = await NatsBus.connect({ url, log, reconnectWaitMs: 200 });
    cleanup.push(() => bus.close());
    const server = await startSignal({ bus, config, log, webRoot });
    cleanup.push(() => server.close());
    const ask = async () => {
      const control = await connectControl(dataDir);
      const raw = await control.ask({ op: 'status' });
      control.close();
      assert.ok(!JSON.stringify(raw).includes(password), 'the reply holds no password');
      return serverStatusSchema.parse(raw);
    };
    const natsAddress = `nats://127.0.0.1:${nats.port}`;

    assert.deepEqual((await ask()).bus, { kind: 'nats', server: natsAddress, connected: true });

    await nats.kill();
    await waitUntil('the bus to see the connection lost', async () => bus.connected(), (c) => !c, 20_000);
    await new Promise((r) => setTimeout(r, 1600));
    const down = await ask();
    assert.equal(down.bus?.kind, 'nats');
    assert.equal(down.bus?.server, natsAddress);
    assert.equal(down.bus?.connected, false);
    assert.ok((down.bus?.downSeconds ?? -1) >= 1, `down for a second or more: ${JSON.stringify(down.bus)}`);
    const text = statusText(down);
    assert.match(text, new RegExp(`^Bus: NATS nats://127\\.0\\.0\\.1:${nats.port}, DOWN: reconnecting for 0m \\d+s`, 'm'));
    assert.ok(!text.includes(password) && !text.includes('tertulia@'), 'no credentials in the text');

    await nats.restart();
    await waitUntil('the bus to reconnect', async () => bus.connected(), (c) => c, 30_000);
    assert.deepEqual((await ask()).bus, { kind: 'nats', server: natsAddress, connected: true });
  });
});
