// NatsBus beyond the shared contract: bad messages from the wire, credentials, a server that goes away and
// comes back, a server that is not there yet. Real nats-server on a free loopback port.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { BusTimeoutError } from '../../src/bus/bus.ts';
import { NatsBus, parseNatsUrl, redactNatsUrl } from '../../src/bus/nats-bus.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { waitUntil } from '../helpers/browser.ts';

/** A logger that keeps every line, to check what was (and was not) logged. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines, text: () => lines.join('\n') };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('NatsBus', () => {
  const servers: NatsServer[] = [];
  const buses: NatsBus[] = [];
  after(async () => {
    for (const b of buses) await b.close();
    for (const s of servers) await s.stop();
  });

  test('server addresses: credentials are taken out of the URL and never shown', () => {
    assert.deepEqual(parseNatsUrl('nats://ana:s3cr%40t@10.0.0.5:4222'), { servers: ['nats://10.0.0.5:4222'], user: 'ana', password: 's3cr@t' });
    assert.deepEqual(parseNatsUrl('nats://tok3n@10.0.0.5:4222, 10.0.0.6'), { servers: ['nats://10.0.0.5:4222', 'nats://10.0.0.6'], token: 'tok3n' });
    assert.equal(redactNatsUrl('nats://ana:s3cr3t@10.0.0.5:4222,nats://tok@h:1'), 'nats://10.0.0.5:4222,nats://h:1');
    // no scheme, or a password with "@" or "/" in it (not percent-encoded): still nothing of it is shown
    assert.equal(redactNatsUrl('ana:s3cr3t@10.0.0.5:4222'), '10.0.0.5:4222');
    assert.equal(redactNatsUrl('nats://ana:p@ss/w0rd@10.0.0.5:4222, tok3n@h:1'), 'nats://10.0.0.5:4222,h:1');
    assert.deepEqual(parseNatsUrl('ana:p@ss@10.0.0.5:4222'), { servers: ['nats://10.0.0.5:4222'], user: 'ana', password: 'p@ss' });
    assert.throws(
      () => parseNatsUrl('nats://ana:p/ss@10.0.0.5:4222'),
      (e: Error) => !e.message.includes('p/ss') && /percent-encode/.test(e.message),
    );
    assert.throws(() => parseNatsUrl('http://10.0.0.5:4222'), /not a NATS server address/);
    assert.throws(() => parseNatsUrl(''), /no NATS server address/);
  });

  test('malformed messages from the wire are dropped or refused, never delivered', async () => {
    const server = await startNatsServer();
    servers.push(server);
    const { log, text } = capturingLogger();
    const bus = await NatsBus.connect({ url: server.url, log, firstConnectTimeoutMs: 10_000 });
    buses.push(bus);
    const raw = await connect({ servers: server.url });
    try {
      const got: unknown[] = [];
      bus.subscribe('t.event', (p) => got.push(p));
      let handled = 0;
      bus.handle('t.req', (p) => {
        handled++;
        return { echo: p as never };
      });
      await raw.flush();
      await bus.request('t.req', 'warm-up'); // our SUBs are in force
      raw.publish('t.event', enc.encode('{not json'));
      raw.publish('t.event', new Uint8Array([0xff, 0xfe, 0x7b]));
      raw.publish('t.event', enc.encode('{"fine":true}'));
      await waitUntil('the valid event', async () => got.length, (n) => n >= 1, 5000);
      assert.deepEqual(got, [{ fine: true }]);
      assert.match(text(), /dropped a malformed bus message/);

      const reply = await raw.request('t.req', enc.encode('nope'), { timeout: 2000 });
      assert.deepEqual(JSON.parse(dec.decode(reply.data)), { ok: false, error: 'payload is not JSON', name: 'Error' });
      assert.equal(handled, 1, 'the handler never saw the bad request');

      // a responder that does not speak the envelope
      const sub = raw.subscribe('t.weird', { callback: (_e, m) => void m.respond(enc.encode('{"ok":"yes"}')) });
      await raw.flush();
      await assert.rejects(bus.request('t.weird', null), /malformed reply on t\.weird/);
      sub.unsubscribe();
    } finally {
      await raw.close();
    }
  });

  test('user/password: the right ones connect; wrong ones give a clear error and are never logged', async () => {
    const server = await startNatsServer({ user: 'tertulia', password: 'pa55-w0rd-XYZ' });
    servers.push(server);
    const good = capturingLogger();
    const bus = await NatsBus.connect({ url: server.url, user: 'tertulia', password: 'pa55-w0rd-XYZ', log: good.log, firstConnectTimeoutMs: 10_000 });
    buses.push(bus);
    bus.handle('auth.ping', () => 'pong');
    assert.equal(await bus.request('auth.ping', null), 'pong');

    const bad = capturingLogger();
    await assert.rejects(
      NatsBus.connect({ url: server.url, user: 'tertulia', password: 'wrong-PASSWORD-123', log: bad.log, reconnectWaitMs: 200, firstConnectTimeoutMs: 1000 }),
      (e: Error) => /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*(authoriz|authenticat).*check natsUser/i.test(e.message) && !e.message.includes('wrong-PASSWORD'),
    );
    // a user without a password (a new shell without TERTULIA_NATS_PASSWORD), and no credentials at all: said so
    await assert.rejects(
      NatsBus.connect({ url: server.url, user: 'tertulia', log: bad.log, reconnectWaitMs: 200, firstConnectTimeoutMs: 600 }),
      /natsUser is set but no password was given: set TERTULIA_NATS_PASSWORD/,
    );
    await assert.rejects(NatsBus.connect({ url: server.url, log: bad.log, reconnectWaitMs: 200, firstConnectTimeoutMs: 600 }), /no credentials were given/);
    // also in the URL
    await assert.rejects(
      NatsBus.connect({ url: `nats://tertulia:wrong-PASSWORD-123@127.0.0.1:${server.port}`, log: bad.log, reconnectWaitMs: 200, firstConnectTimeoutMs: 600 }),
      (e: Error) => !e.message.includes('wrong-PASSWORD'),
    );
    for (const l of [good, bad]) {
      assert.ok(!l.text().includes('pa55-w0rd-XYZ'), 'the password is not logged');
      assert.ok(!l.text().includes('wrong-PASSWORD-123'), 'a wrong password is not logged either');
    }
    assert.match(bad.text(), /cannot connect to NATS/);
  });

  test('token in the URL', async () => {
    const server = await startNatsServer({ token: 'T0KEN-abc' });
    servers.push(server);
    const l = capturingLogger();
    const bus = await NatsBus.connect({ url: `nats://T0KEN-abc@127.0.0.1:${server.port}`, log: l.log, firstConnectTimeoutMs: 10_000 });
    buses.push(bus);
    bus.handle('tok.ping', () => 'pong');
    assert.equal(await bus.request('tok.ping', null), 'pong');
    assert.ok(!l.text().includes('T0KEN-abc'));
    assert.equal(bus.server, `nats://127.0.0.1:${server.port}`);
  });

  test('the server goes away and comes back: logged, requests time out meanwhile, then everything works again', async () => {
    const server = await startNatsServer();
    servers.push(server);
    const la = capturingLogger();
    const a = await NatsBus.connect({ url: server.url, log: la.log, reconnectWaitMs: 200, firstConnectTimeoutMs: 10_000 });
    const b = await NatsBus.connect({ url: server.url, log: pino({ level: 'silent' }), reconnectWaitMs: 200, firstConnectTimeoutMs: 10_000 });
    buses.push(a, b);
    const events: unknown[] = [];
    b.subscribe('rc.event', (p) => events.push(p));
    b.handle('rc.req', (p) => ({ got: p as never }));
    // b's subscriptions reach the server on b's connection: a may ask a moment too early
    await waitUntil(
      'the handler on the other connection',
      async () => a.request('rc.req', 1, 1000).then((r) => JSON.stringify(r), (e: Error) => e.name),
      (r) => r === '{"got":1}',
      5000,
    );

    await server.kill();
    await waitUntil('the disconnect to be logged', async () => la.text(), (t) => /lost the NATS connection/.test(t), 10_000);
    await assert.rejects(a.request('rc.req', 2, 300), BusTimeoutError);
    a.publish('rc.event', 'while down'); // must not throw

    await server.restart();
    await waitUntil('the reconnect to be logged', async () => la.text(), (t) => /reconnected to NATS/.test(t), 20_000);
    // b re-subscribes on its own reconnect; retry until it has
    await waitUntil(
      'requests to work again',
      async () => a.request('rc.req', 3, 1000).then((r) => JSON.stringify(r), (e: Error) => e.name),
      (r) => r === '{"got":3}',
      20_000,
    );
    a.publish('rc.event', 'after');
    await waitUntil('an event after the restart', async () => events.includes('after'), (x) => x, 5000);
  });

  test('started before the server: keeps trying (logged), connects when it appears', async () => {
    const port = await freeTcpPort();
    const l = capturingLogger();
    const connecting = NatsBus.connect({ url: `nats://127.0.0.1:${port}`, log: l.log, reconnectWaitMs: 200 });
    await waitUntil('the failure to be logged', async () => l.text(), (t) => /cannot connect to NATS/.test(t), 10_000);
    // a server on exactly that port
    const { spawn } = await import('node:child_process');
    const { NATS_SERVER } = await import('../helpers/nats.ts');
    const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    try {
      const bus = await connecting;
      buses.push(bus);
      bus.handle('late.ping', () => 'pong');
      assert.equal(await bus.request('late.ping', null), 'pong');
      await bus.close();
    } finally {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await done;
    }
  });
});
