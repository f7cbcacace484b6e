// Bridge control plane over a MemoryBus: allocate / configure / subscribe / mute / expire, announce,
// and clear errors for bad payloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { BusCallError } from '../../src/bus/bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { bridgeAllocateReplySchema, subjects } from '../../src/protocol/bus-messages.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { candidatePriority, gatherCandidates } from '../../src/bridge/candidates.ts';

const fp = { algorithm: 'sha-256', value: 'AA:'.repeat(31) + 'AA' };

async function setup(settings: Record<string, unknown> = {}) {
  const bus = new MemoryBus();
  const announces: unknown[] = [];
  const events: unknown[] = [];
  bus.subscribe(subjects.bridgeAnnounce, (p) => announces.push(p));
  bus.subscribe(subjects.bridgeEvent, (p) => events.push(p));
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, ...settings });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: 'b1' });
  return { bus, bridge, announces, events };
}

test('bridge: allocate, configure, subscribe, mute, expire over the bus', async () => {
  const { bus, bridge, announces, events } = await setup();
  try {
    assert.equal(bridge.bridgeId, 'b1');
    assert.ok(bridge.mediaPort > 0);
    await new Promise((r) => setTimeout(r, 10));
    const first = announces[0] as { instance: string; stress: number };
    assert.deepEqual(announces[0], { bridgeId: 'b1', endpoints: 0, maxEndpoints: 500, instance: first.instance, stress: first.stress });
    assert.ok(first.stress >= 0 && first.stress <= 64, 'its CPU stress');
    assert.match((announces[0] as { instance: string }).instance, /^[0-9a-f]{12}$/);

    const reply = bridgeAllocateReplySchema.parse(
      await bus.request(subjects.bridgeAllocate('b1'), { conferenceId: 'c1', endpointId: 'alice' }),
    );
    assert.match(reply.ufrag, /^[A-Za-z0-9+/]{8,}$/);
    assert.ok(reply.pwd.length >= 24);
    assert.equal(reply.fingerprint.algorithm, 'sha-256');
    assert.match(reply.fingerprint.value, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(reply.fingerprint.value, bridge.fingerprint);
    assert.deepEqual(
      reply.candidates.map((c) => [c.ip, c.port, c.protocol, c.type]),
      [['127.0.0.1', bridge.mediaPort, 'udp', 'host']],
    );
    const bob = bridgeAllocateReplySchema.parse(
      await bus.request(subjects.bridgeAllocate('b1'), { conferenceId: 'c1', endpointId: 'bob' }),
    );
    assert.notEqual(bob.ufrag, reply.ufrag);
    assert.equal(bob.fingerprint.value, reply.fingerprint.value, 'one certificate per bridge');

    const configure = {
      conferenceId: 'c1',
      endpointId: 'alice',
      remoteUfrag: 'abcd',
      remotePwd: 'x'.repeat(24),
      remoteFingerprint: fp,
      sources: [
        { ssrc: 1111, kind: 'audio' },
        { ssrc: 2222, kind: 'video' },
      ],
    };
    assert.deepEqual(await bus.request(subjects.bridgeConfigure('b1'), configure), { ok: true });
    // reconfigure replaces the sources
    assert.deepEqual(
      await bus.request(subjects.bridgeConfigure('b1'), { ...configure, sources: [{ ssrc: 3333, kind: 'video' }] }),
      { ok: true },
    );
    // bob may now use 1111, which alice no longer sends; but not 3333
    await assert.rejects(
      bus.request(subjects.bridgeConfigure('b1'), {
        ...configure,
        endpointId: 'bob',
        sources: [{ ssrc: 3333, kind: 'video' }],
      }),
      /ssrc 3333 is already sent by endpoint alice/,
    );
    assert.deepEqual(
      await bus.request(subjects.bridgeConfigure('b1'), { ...configure, endpointId: 'bob', sources: [{ ssrc: 1111, kind: 'audio' }] }),
      { ok: true },
    );
    assert.deepEqual(
      await bus.request(subjects.bridgeSubscribe('b1'), { conferenceId: 'c1', endpointId: 'bob', ssrcs: [3333] }),
      { ok: true },
    );
    assert.deepEqual(
      await bus.request(subjects.bridgeMute('b1'), { conferenceId: 'c1', endpointId: 'alice', kind: 'audio', muted: true }),
      { ok: true },
    );

    assert.deepEqual(
      await bus.request(subjects.bridgeExpire('b1'), { conferenceId: 'c1', endpointId: 'alice' }),
      { ok: true },
    );
    // expire is idempotent
    assert.deepEqual(
      await bus.request(subjects.bridgeExpire('b1'), { conferenceId: 'c1', endpointId: 'alice' }),
      { ok: true },
    );
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events, [{ bridgeId: 'b1', conferenceId: 'c1', endpointId: 'alice', event: 'disconnected' }]);
    // after expiry alice's sources are free and she is unknown
    await assert.rejects(
      bus.request(subjects.bridgeMute('b1'), { conferenceId: 'c1', endpointId: 'alice', kind: 'audio', muted: true }),
      /unknown endpoint alice/,
    );
    assert.deepEqual(
      await bus.request(subjects.bridgeConfigure('b1'), { ...configure, endpointId: 'bob', sources: [{ ssrc: 3333, kind: 'video' }] }),
      { ok: true },
    );
  } finally {
    await bridge.close();
    await bus.close();
  }
});

test('bridge: bad payloads are rejected with a clear error and the bridge keeps working', async () => {
  const { bus, bridge } = await setup();
  try {
    const bad: Array<[string, unknown, RegExp]> = [
      [subjects.bridgeAllocate('b1'), { conferenceId: 'c1' }, /bad bridge.b1.allocate request: endpointId/],
      [subjects.bridgeAllocate('b1'), null, /bad bridge.b1.allocate request/],
      [subjects.bridgeAllocate('b1'), { conferenceId: '', endpointId: 'x' }, /conferenceId/],
      [subjects.bridgeConfigure('b1'), { conferenceId: 'c1', endpointId: 'x' }, /bad bridge.b1.configure request/],
      [
        subjects.bridgeConfigure('b1'),
        { conferenceId: 'c1', endpointId: 'x', remoteUfrag: 'u', remotePwd: 'p', remoteFingerprint: fp, sources: [{ ssrc: -1, kind: 'audio' }] },
        /sources\.0\.ssrc/,
      ],
      [subjects.bridgeSubscribe('b1'), { conferenceId: 'c1', endpointId: 'x', ssrcs: ['a'] }, /bad bridge.b1.subscribe request: ssrcs\.0/],
      [subjects.bridgeMute('b1'), { conferenceId: 'c1', endpointId: 'x', kind: 'smell', muted: true }, /bad bridge.b1.mute request: kind/],
      [subjects.bridgeExpire('b1'), 'expire everything', /bad bridge.b1.expire request/],
    ];
    for (const [subject, payload, re] of bad) {
      await assert.rejects(bus.request(subject, payload as never), (e: unknown) => e instanceof BusCallError && e.code === 'bad-request' && re.test(e.message), `${subject} ${JSON.stringify(payload)}`);
    }
    // well-formed but wrong
    await assert.rejects(
      bus.request(subjects.bridgeConfigure('b1'), {
        conferenceId: 'nope',
        endpointId: 'x',
        remoteUfrag: 'u',
        remotePwd: 'p',
        remoteFingerprint: fp,
        sources: [],
      }),
      (e: unknown) => e instanceof BusCallError && e.code === 'not-found' && /unknown endpoint x in conference nope/.test(e.message),
    );
    await bus.request(subjects.bridgeAllocate('b1'), { conferenceId: 'c1', endpointId: 'x' });
    await assert.rejects(
      bus.request(subjects.bridgeConfigure('b1'), {
        conferenceId: 'c1',
        endpointId: 'x',
        remoteUfrag: 'u',
        remotePwd: 'p',
        remoteFingerprint: { algorithm: 'md5', value: 'AA:BB' },
        sources: [],
      }),
      /unsupported fingerprint algorithm/,
    );
    await assert.rejects(
      bus.request(subjects.bridgeConfigure('b1'), {
        conferenceId: 'c1',
        endpointId: 'x',
        remoteUfrag: 'u',
        remotePwd: 'p',
        remoteFingerprint: fp,
        sources: [
          { ssrc: 5, kind: 'audio' },
          { ssrc: 5, kind: 'video' },
        ],
      }),
      /ssrc 5 is listed twice/,
    );
    // still alive
    const reply = bridgeAllocateReplySchema.parse(
      await bus.request(subjects.bridgeAllocate('b1'), { conferenceId: 'c2', endpointId: 'y' }),
    );
    assert.ok(reply.ufrag.length >= 8);
  } finally {
    await bridge.close();
    await bus.close();
  }
});

test('bridge: a bridge.discover (a focus that just started) gets an announcement at once, throttled', async () => {
  const { bus, bridge, announces } = await setup({ bridgeHeartbeat: 10 }); // no heartbeat within the test
  try {
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(announces.length, 1, 'the announcement at start');
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 20; i++) bus.publish(subjects.bridgeDiscover, {});
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(announces.length, 2, 'one more, however many asked');
    // the same, but for the CPU stress measured since
    const { stress: _s1, ...again } = announces[1] as { stress: number };
    const { stress: _s0, ...before } = announces[0] as { stress: number };
    assert.deepEqual(again, before);
  } finally {
    await bridge.close();
  }
});

test('bridge: drain says goodbye in its announcement, refuses new endpoints, and ends when its conferences are gone', async () => {
  const { bus, bridge, announces } = await setup();
  try {
    await bus.request(subjects.bridgeAllocate('b1'), { conferenceId: 'c1', endpointId: 'alice' });
    assert.equal(await bridge.drain(200), false, 'a conference is left when the drain time is up');
    assert.equal(bridge.draining, true);
    assert.equal((announces.at(-1) as { draining?: boolean }).draining, true, 'the goodbye goes out at once');
    await assert.rejects(bus.request(subjects.bridgeAllocate('b1'), { conferenceId: 'c2', endpointId: 'bob' }), (e: unknown) => e instanceof BusCallError && e.code === 'unavailable');
    // an endpoint it already has may be allocated again (focus re-allocating it), nothing new
    await bus.request(subjects.bridgeAllocate('b1'), { conferenceId: 'c1', endpointId: 'alice' });
    const drained = bridge.drain(30_000);
    await bus.request(subjects.bridgeExpire('b1'), { conferenceId: 'c1', endpointId: 'alice' });
    assert.equal(await drained, true, 'drained once its last conference is gone');
  } finally {
    await bridge.close();
  }
});

test('bridge candidates: public address first, interfaces, loopback last; RFC 8445 priorities', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [
      { address: '10.0.0.5', family: 'IPv4', internal: false },
      { address: 'fe80::1', family: 'IPv6', internal: false },
    ],
    eth1: [{ address: '192.168.1.7', family: 'IPv4', internal: false }],
  } as never;
  const c = gatherCandidates({ listenAddress: '0.0.0.0', publicAddress: '203.0.113.9', port: 10000 }, interfaces);
  assert.deepEqual(
    c.map((x) => x.ip),
    ['203.0.113.9', '10.0.0.5', '192.168.1.7', '127.0.0.1'],
  );
  for (let i = 1; i < c.length; i++) assert.ok(c[i - 1].priority > c[i].priority);
  assert.equal(c[0].priority, candidatePriority(126, 65535));
  assert.equal(c[0].priority, 126 * 2 ** 24 + 65535 * 256 + 255);
  assert.ok(c.every((x) => x.port === 10000 && x.protocol === 'udp' && x.type === 'host'));
  assert.equal(new Set(c.map((x) => x.foundation)).size, c.length);

  const bound = gatherCandidates({ listenAddress: '10.0.0.5', publicAddress: '', port: 4000 }, interfaces);
  assert.deepEqual(bound.map((x) => x.ip), ['10.0.0.5']);
});
