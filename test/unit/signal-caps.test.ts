// The caps of signal (caps.ts, ws.ts) as an attacker meets them: many WebSockets and rooms from one address,
// sockets that never join, and a bridge at its endpoint cap; each time another address still gets in. The
// server is real (HTTPS, WebSocket) with lowered caps; 127.0.0.2 is the "other address".
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Caps, DEFAULT_CAPS } from '../../src/signal/caps.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startFocus } from '../../src/focus/index.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { startSignal } from '../../src/signal/index.ts';
import { NO_BRIDGE_CAPACITY, subjects } from '../../src/protocol/bus-messages.ts';
import { JOIN_TIMEOUT_CLOSE_CODE, CAP_CLOSE_CODE } from '../../src/signal/ws.ts';
import { ONE_ADDRESS_TEST_CAPS, startTestSignal, WsClient, type TestSignal } from '../helpers/signal-client.ts';

const OTHER = '127.0.0.2';
let s: TestSignal | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

const joinsAsked = (t: TestSignal) => t.focusCalls.filter((c) => c.subject === subjects.focusJoin).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('caps per address', () => {
  test('the attack: 60 sockets from one address each making a room get 3 connections and 2 rooms; another address still gets in', async () => {
    s = await startTestSignal({ maxConnectionsPerAddress: 3, maxRoomsPerAddressPerMinute: 2 });
    const attempts = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const c = s!.client();
        try {
          return await c.tryJoin(`flood-${i}`, 'bot');
        } catch {
          return { type: 'closed' };
        }
      }),
    );
    const joined = attempts.filter((m) => m.type === 'joined');
    const refused = attempts.filter((m) => m.type === 'error');
    assert.equal(joined.length, 2, 'two rooms a minute');
    assert.equal(refused.length, 58);
    assert.ok(refused.every((m) => m.code === 'address-limit'), JSON.stringify(refused.find((m) => m.code !== 'address-limit')));
    assert.ok(refused.some((m) => /open connections/.test(m.message)));
    assert.ok(refused.some((m) => /new meetings/.test(m.message)));
    assert.equal(joinsAsked(s), 2, 'focus (and so the bridge) was asked for two endpoints only');
    const warnings = s.logs().split('\n').filter((l) => l.includes('"level":40') && l.includes('refused'));
    assert.equal(warnings.length, 1, 'one warning a minute per address, not one per refusal');

    const other = s.client({ localAddress: OTHER });
    assert.equal((await other.tryJoin('elsewhere', 'Ana')).type, 'joined');
  });

  test('a socket beyond the connection cap is told why and closed; a freed slot is usable again', async () => {
    s = await startTestSignal({ maxConnectionsPerAddress: 2 });
    const a = s.client();
    const b = s.client();
    await Promise.all([a.open(), b.open()]);
    const c = s.client();
    const refusal = await c.nextOfType('error');
    assert.equal(refusal.code, 'address-limit');
    assert.equal((await c.closed).code, CAP_CLOSE_CODE);
    const fromOther = s.client({ localAddress: OTHER });
    await fromOther.join('room', 'Other');
    a.close();
    await a.closed;
    await sleep(50);
    const d = s.client();
    assert.equal((await d.tryJoin('room', 'D')).type, 'joined');
  });

  test('participants per address: a third join from the address is refused until one leaves', async () => {
    s = await startTestSignal({ ...ONE_ADDRESS_TEST_CAPS, maxParticipantsPerAddress: 2 });
    const a = s.client();
    const b = s.client();
    await a.join('team', 'A');
    await b.join('team', 'B');
    const c = s.client();
    const r = await c.tryJoin('team', 'C');
    assert.equal(r.code, 'address-limit');
    assert.match(r.message, /participants from your address/);
    assert.equal((await s.client({ localAddress: OTHER }).tryJoin('team', 'Other')).type, 'joined');
    await a.send({ type: 'leave' });
    await b.nextOfType('participant-left');
    assert.equal((await c.tryJoin('team', 'C')).type, 'joined');
  });

  test('rooms per minute: joining an existing room is not creating one', async () => {
    s = await startTestSignal({ ...ONE_ADDRESS_TEST_CAPS, maxRoomsPerAddressPerMinute: 1 });
    await s.client().join('first', 'A');
    assert.equal((await s.client().tryJoin('second', 'B')).code, 'address-limit');
    assert.equal((await s.client().tryJoin('first', 'C')).type, 'joined');
    assert.equal((await s.client({ localAddress: OTHER }).tryJoin('second', 'Other')).type, 'joined');
  });

  test('IPv6 clients count by /64: a new address in the same /64 is the same client', () => {
    const caps = new Caps({ ...DEFAULT_CAPS, maxConnectionsPerAddress: 2 });
    assert.equal(caps.connect('2001:db8:0:1::1'), null);
    assert.equal(caps.connect('2001:db8:0:1:ffff::2'), null);
    assert.equal(caps.connect('2001:db8:0:1::3')?.code, 'address-limit');
    assert.equal(caps.connect('2001:db8:0:2::1'), null, 'another /64');
    assert.equal(caps.connect('::ffff:192.0.2.1'), null);
    assert.equal(caps.connect('192.0.2.1'), null, 'IPv4-mapped is the same IPv4 client');
    assert.equal(caps.connect('192.0.2.1')?.code, 'address-limit');
    caps.disconnect('2001:db8:0:1::1');
    assert.deepEqual(caps.countsOf('2001:db8:0:1::42'), { connections: 1, participants: 0 });
  });
});

describe('overall caps', () => {
  test('rooms on the server: a new room beyond maxRooms is refused with server-full, existing rooms stay open', async () => {
    s = await startTestSignal({ ...ONE_ADDRESS_TEST_CAPS, maxRooms: 2 });
    await s.client().join('one', 'A');
    await s.client().join('two', 'B');
    const r = await s.client({ localAddress: OTHER }).tryJoin('three', 'C');
    assert.equal(r.code, 'server-full');
    assert.equal((await s.client({ localAddress: OTHER }).tryJoin('two', 'D')).type, 'joined');
  });

  test('participants per room', async () => {
    s = await startTestSignal({ ...ONE_ADDRESS_TEST_CAPS, maxParticipantsPerRoom: 2 });
    await s.client().join('small', 'A');
    await s.client().join('small', 'B');
    assert.equal((await s.client().tryJoin('SMALL', 'C')).code, 'room-full');
  });

  test('a bridge at its endpoint cap is not chosen: the joiner is told server-full and leaves the room', { timeout: 30_000 }, async () => {
    const bus = new MemoryBus();
    const config = loadConfig({
      env: { TERTULIA_CONFIG: '' },
      overrides: { listenAddress: '127.0.0.1', httpsPort: 0, httpPort: 0, mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1, logLevel: 'silent', maxEndpointsPerBridge: 2, ...ONE_ADDRESS_TEST_CAPS },
    });
    const log = createLogger('silent');
    const focus = startFocus({ bus, config, log, bridgeWaitMs: 3000 });
    const bridge = await startBridge({ bus, config, log, bridgeId: 'small-bridge' });
    const signal = await startSignal({ bus, config, log });
    const clients: WsClient[] = [];
    const client = () => {
      const c = new WsClient(signal.httpsPort);
      clients.push(c);
      return c;
    };
    try {
      const a = client();
      const b = client();
      await a.join('meet', 'A');
      await a.nextOfType('offer', 10_000);
      await b.join('other-meet', 'B');
      await b.nextOfType('offer', 10_000);
      // the one bridge has 2 endpoints: a third participant (either room) gets no media and is told so
      const c = client();
      await c.join('meet', 'C');
      const err = await c.nextOfType('error', 10_000);
      assert.equal(err.code, 'server-full');
      const left = await a.nextOfType('participant-left', 5000);
      assert.ok(left.id);
      const d = client();
      await d.join('new-meet', 'D');
      assert.equal((await d.nextOfType('error', 10_000)).code, 'server-full');
      // a place freed is usable again (once focus saw the leave, and the bridge's next announcement, within 5 s)
      b.close();
      const deadline = Date.now() + 12_000;
      for (;;) {
        const e = client();
        await e.join('meet', 'E');
        const m = await e.next((x) => x.type === 'offer' || x.type === 'error', 10_000);
        if (m.type === 'offer') break;
        assert.equal(m.code, 'server-full');
        assert.ok(Date.now() < deadline, 'the freed place was never given again');
        e.close();
        await sleep(500);
      }
    } finally {
      for (const c of clients) c.ws.terminate();
      await signal.close();
      await bridge.close();
      await focus.close();
    }
  });
});

test('focus passes over a less loaded bridge that is at its cap', { timeout: 30_000 }, async () => {
  const bus = new MemoryBus();
  const settings = (maxEndpointsPerBridge: number) =>
    loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1, logLevel: 'silent', maxEndpointsPerBridge } });
  const log = createLogger('silent');
  const focus = startFocus({ bus, config: settings(100), log, bridgeWaitMs: 3000 });
  const small = await startBridge({ bus, config: settings(1), log, bridgeId: 'small' });
  const join = (conferenceId: string, participantId: string) => bus.request(subjects.focusJoin, { conferenceId, participantId }, 10_000);
  try {
    await join('a', 'p1'); // the only bridge: small, now at its cap of 1
    await assert.rejects(join('a', 'p2'), new RegExp(NO_BRIDGE_CAPACITY));
    const big = await startBridge({ bus, config: settings(10), log, bridgeId: 'big' });
    try {
      await join('b', 'p1');
      await join('b', 'p2'); // big has 2, small 1: small is less loaded, but full
      await join('c', 'p1'); // would fail if small were chosen (the bridge refuses beyond its cap too)
      await assert.rejects(bus.request(subjects.bridgeAllocate('small'), { conferenceId: 'z', endpointId: 'x' }), new RegExp(NO_BRIDGE_CAPACITY));
    } finally {
      await big.close();
    }
  } finally {
    await small.close();
    await focus.close();
  }
});

describe('sockets that never join', () => {
  test('are closed after joinTimeout; a joined one, one at a password prompt and one in a lobby are not', { timeout: 20_000 }, async () => {
    s = await startTestSignal({ joinTimeout: 1, promptTimeout: 60 });
    const idle = s.client();
    await idle.open();
    const host = s.client();
    await host.join('guarded', 'Host');
    await host.send({ type: 'lock-room', password: 'secret' });
    await host.nextOfType('room-state');
    const atPrompt = s.client();
    assert.equal((await atPrompt.tryJoin('guarded', 'Typing')).code, 'password-required');
    const lobbyHost = s.client();
    await lobbyHost.join('waiting-room', 'Host2');
    await lobbyHost.send({ type: 'set-lobby', enabled: true });
    await lobbyHost.nextOfType('room-state');
    const knocking = s.client();
    assert.equal((await knocking.tryJoin('waiting-room', 'Knock')).type, 'lobby-wait');

    const started = Date.now();
    const err = await idle.nextOfType('error', 5000);
    assert.equal(err.code, 'join-timeout');
    assert.equal((await idle.closed).code, JOIN_TIMEOUT_CLOSE_CODE);
    assert.ok(Date.now() - started < 4000);
    await sleep(2500); // well past joinTimeout for everyone
    for (const c of [host, atPrompt, lobbyHost, knocking]) assert.equal(c.ws.readyState, c.ws.OPEN);
    // the prompt was answered: in
    assert.equal((await atPrompt.tryJoin('guarded', 'Typing', { password: 'secret' })).type, 'joined');
  });
});
