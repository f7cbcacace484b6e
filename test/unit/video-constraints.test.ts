// The receiver's tile sizes on their way to the bridge: the `receiver-video-constraints` message's validation,
// signal forwarding it to focus (rate-limited by dropping older sets), focus mapping (participant, camera/screen)
// to the SSRC the receiver sees, and the whole path signal -> focus -> bridge in one process over a MemoryBus.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Json } from '../../src/bus/bus.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startFocus } from '../../src/focus/index.ts';
import { startBridge, type BridgeHandle } from '../../src/bridge/index.ts';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import { startSignal, type SignalServer } from '../../src/signal/index.ts';
import { createLogger } from '../../src/log.ts';
import { bridgeConstraintsSchema, focusConstraintsSchema, subjects, type SignalOffer } from '../../src/protocol/bus-messages.ts';
import { clientMessageSchema } from '../../src/protocol/signal-messages.ts';
import { devicePixels, tileListKey, tileSizeList } from '../../src/web/media/tile-sizes.ts';
import { answerFor, type OwnSsrcs } from '../helpers/sdp-answer.ts';
import { startTestSignal, WsClient, type TestSignal } from '../helpers/signal-client.ts';
import { fakeBridge } from '../helpers/fake-bridge.ts'; // records what focus asks (focus's side of the contract; the real bridge is below)

const quiet = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');
const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, read: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(20);
  }
}

const tile = (participantId: string, source: 'camera' | 'screen', width: number, height: number) => ({ participantId, source, width, height });

describe('receiver-video-constraints: the message', () => {
  const parse = (tiles: unknown) => clientMessageSchema.safeParse({ type: 'receiver-video-constraints', tiles });

  test('a whole set of tiles parses, 0x0 and 16384 included', () => {
    const tiles = [tile('ab12cd34', 'camera', 640, 360), tile('ab12cd34', 'screen', 0, 0), tile('x'.repeat(64), 'camera', 16384, 16384)];
    const r = parse(tiles);
    assert.ok(r.success);
    assert.deepEqual(r.data, { type: 'receiver-video-constraints', tiles });
    assert.ok(parse([]).success);
    assert.ok(parse(Array.from({ length: 64 }, (_, i) => tile(`p${i}`, 'camera', 1, 1))).success);
  });

  test('bad sets are refused with the reason', () => {
    const bad: [unknown, RegExp][] = [
      [Array.from({ length: 65 }, (_, i) => tile(`p${i}`, 'camera', 1, 1)), /64/],
      [[tile('a', 'camera', 16385, 10)], /16384|too big/i],
      [[tile('a', 'camera', -1, 10)], /0|too small/i],
      [[tile('a', 'camera', 1.5, 10)], /int/i],
      [[tile('a', 'camera', Number.NaN, 10)], /number|NaN/i],
      [[tile('', 'camera', 1, 1)], /too small|at least|>=1/i],
      [[tile('x'.repeat(65), 'camera', 1, 1)], /too big|at most|<=64/i],
      [[tile('a', 'audio' as 'camera', 1, 1)], /camera|screen|option/i],
      [[{ ...tile('a', 'camera', 1, 1), extra: 1 }], /unrecognized|extra/i],
      [[{ participantId: 'a', source: 'camera', width: 1 }], /height|required|undefined/i],
      [[tile('a', 'camera', 1, 1), tile('a', 'camera', 2, 2)], /twice/],
      ['not an array', /array/i],
      [null, /array/i],
    ];
    for (const [tiles, reason] of bad) {
      const r = parse(tiles);
      assert.equal(r.success, false, JSON.stringify(tiles)?.slice(0, 80));
      assert.match(JSON.stringify(r.error!.issues), reason, JSON.stringify(r.error!.issues).slice(0, 300));
    }
    // the bus payloads carry the same limits
    assert.ok(focusConstraintsSchema.safeParse({ conferenceId: 'c', participantId: 'p', tiles: [tile('a', 'screen', 2, 2)] }).success);
    assert.equal(focusConstraintsSchema.safeParse({ conferenceId: 'c', participantId: 'p', tiles: [tile('a', 'screen', 2, 99999)] }).success, false);
    assert.ok(bridgeConstraintsSchema.safeParse({ conferenceId: 'c', endpointId: 'p', constraints: [{ ssrc: 0xffffffff, width: 1, height: 0 }] }).success);
    for (const c of [{ ssrc: 2 ** 32, width: 1, height: 1 }, { ssrc: 1, width: 1 }, { ssrc: 1, width: 1, height: 16385 }]) {
      assert.equal(bridgeConstraintsSchema.safeParse({ conferenceId: 'c', endpointId: 'p', constraints: [c] }).success, false, JSON.stringify(c));
    }
  });

  test("the web app's set: every remote video source, 0x0 unless measured; device pixels rounded and bounded", () => {
    const sources = [
      { mid: '3', participantId: 'B', kind: 'audio' as const },
      { mid: '4', participantId: 'B', kind: 'video' as const, role: 'video' as const },
      { mid: '5', participantId: 'B', kind: 'video' as const, role: 'screen' as const },
      { mid: '6', participantId: 'C', kind: 'video' as const, role: 'video' as const },
    ];
    const measured = new Map([['camera\nC', tile('C', 'camera', 320, 180)]]);
    assert.deepEqual(tileSizeList(measured, sources), [tile('C', 'camera', 320, 180), tile('B', 'camera', 0, 0), tile('B', 'screen', 0, 0)]);
    assert.equal(tileListKey(tileSizeList(measured, sources)), 'C/camera/320x180,B/camera/0x0,B/screen/0x0');
    const many = Array.from({ length: 80 }, (_, i) => ({ mid: String(i + 3), participantId: `p${String(i).padStart(2, '0')}`, kind: 'video' as const, role: 'video' as const }));
    const list = tileSizeList(new Map([['camera\np79', tile('p79', 'camera', 10, 10)]]), many);
    assert.equal(list.length, 64);
    assert.deepEqual(list[0], tile('p79', 'camera', 10, 10), 'visible tiles are kept first');
    assert.ok(clientMessageSchema.safeParse({ type: 'receiver-video-constraints', tiles: list }).success);
    assert.equal(devicePixels(100.4, 2), 201);
    assert.equal(devicePixels(99999, 1), 16384);
    assert.equal(devicePixels(-3, 1), 0);
    assert.equal(devicePixels(10, 0), 10);
  });
});

describe('signal: receiver-video-constraints go to focus', () => {
  let ts: TestSignal;
  let calls: any[];
  before(async () => {
    ts = await startTestSignal();
    calls = [];
    ts.bus.handle(subjects.focusConstraints, (p) => {
      calls.push(p);
      return { ok: true };
    });
  });
  after(() => ts.stop());

  test('forwarded for the sender, after its join; bad input gets bad-message and changes nothing', async () => {
    const c = ts.client();
    const e = await c.expectError({ type: 'receiver-video-constraints', tiles: [] });
    assert.equal(e.code, 'not-joined');
    const joined = await c.join('Sala', 'Ana');
    const tiles = [tile('ab12cd34', 'camera', 640, 360), tile('ab12cd34', 'screen', 0, 0)];
    await c.send({ type: 'receiver-video-constraints', tiles });
    const got = await eventually('focus.constraints', () => calls.at(-1));
    assert.deepEqual(got, { conferenceId: 'sala', participantId: joined.selfId, tiles });
    const joinAt = ts.focusCalls.findIndex((x) => x.subject === subjects.focusJoin && x.payload.participantId === joined.selfId);
    assert.ok(joinAt >= 0, 'focus.join went first');

    for (const bad of [
      { type: 'receiver-video-constraints', tiles: [tile('a', 'camera', 20000, 1)] },
      { type: 'receiver-video-constraints', tiles: Array.from({ length: 65 }, (_, i) => tile(`p${i}`, 'camera', 1, 1)) },
      { type: 'receiver-video-constraints', tiles: [{ participantId: 'a', source: 'camera', width: '640', height: 360 }] },
      { type: 'receiver-video-constraints' },
    ]) {
      const err = await c.expectError(bad);
      assert.equal(err.code, 'bad-message');
      assert.match(err.message, /^invalid message: tiles/);
    }
    await tick(300);
    assert.equal(calls.length, 1, 'nothing bad reached focus');
    c.close();
  });

  test('too frequent: older sets are dropped (no error), the latest one arrives', async () => {
    const c = ts.client();
    const joined = await c.join('Rapida', 'Ben');
    await tick(300); // past the interval since... nothing yet; the first set goes at once
    const before = calls.length;
    for (let i = 1; i <= 20; i++) await c.send({ type: 'receiver-video-constraints', tiles: [tile('x1', 'camera', i, i)] });
    await eventually('the latest set', () => (calls.at(-1)?.tiles[0].width === 20 ? true : undefined));
    await tick(400);
    const mine = calls.slice(before).filter((x) => x.participantId === joined.selfId);
    assert.ok(mine.length >= 1 && mine.length <= 3, `${mine.length} requests for 20 sets`);
    assert.deepEqual(mine.at(-1).tiles, [tile('x1', 'camera', 20, 20)]);
    assert.equal(c.received.filter((m) => m.type === 'error').length, 0, 'no error for dropped sets');
    assert.equal(c.ws.readyState, c.ws.OPEN);
    c.close();
  });
});

describe('focus: tile sizes become constraints by the SSRC the receiver sees', () => {
  const CONF = 'sala';
  let bus: MemoryBus;
  let focus: { close(): Promise<void> };
  let calls: { subject: string; payload: any }[];
  let offers: SignalOffer[];

  const join = (id: string) => bus.request(subjects.focusJoin, { conferenceId: CONF, participantId: id });
  const lastOffer = (id: string) => offers.filter((o) => o.participantId === id).at(-1)!;
  const answer = (id: string, own: OwnSsrcs) => {
    const offer = lastOffer(id);
    return bus.request(subjects.focusAnswer, { conferenceId: CONF, participantId: id, sdp: answerFor(offer.sdp, own), version: offer.version });
  };
  const sizes = (id: string, tiles: Json[]) => bus.request(subjects.focusConstraints, { conferenceId: CONF, participantId: id, tiles });
  const constraintsOf = (id: string) => calls.filter((c) => c.subject === 'constraints' && c.payload.endpointId === id).map((c) => c.payload.constraints);

  beforeEach(() => {
    bus = new MemoryBus();
    calls = [];
    offers = [];
    bus.subscribe(subjects.signalOffer, (o) => offers.push(o as SignalOffer));
    focus = startFocus({ bus, config: loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent' } }), log: quiet, bridgeWaitMs: 300 });
    fakeBridge(bus, 'b1', calls);
    bus.publish(subjects.bridgeAnnounce, { bridgeId: 'b1', endpoints: 0 });
  });
  afterEach(() => focus.close());

  test("camera -> the 'video' m-line's SSRC, screen -> the 'screen' one; unknown ones skipped; re-sent when a source appears", async () => {
    await join('A');
    await tick();
    await answer('A', { audio: 11, video: 12 });
    await join('B');
    await tick();
    await answer('B', { audio: 21, video: 22, screen: 23 });
    await tick();
    await answer('A', { audio: 11, video: 12 });
    await tick();
    assert.deepEqual(calls.filter((c) => c.subject === 'subscribe' && c.payload.endpointId === 'A').at(-1)!.payload.ssrcs, [21, 22, 23]);
    assert.deepEqual(constraintsOf('A'), [], 'nothing before the browser reported sizes');

    // C's camera is not there yet, nobody is "Z", and B sends no audio-as-video: skipped
    assert.deepEqual(
      await sizes('A', [tile('B', 'camera', 640, 360), tile('B', 'screen', 1280, 720), tile('Z', 'camera', 100, 100), tile('C', 'camera', 320, 180)]),
      { ok: true },
    );
    assert.deepEqual(constraintsOf('A'), [
      [
        { ssrc: 22, width: 640, height: 360 },
        { ssrc: 23, width: 1280, height: 720 },
      ],
    ]);
    assert.deepEqual(calls.at(-1)!.payload.conferenceId, CONF);

    // C joins with a camera: once A receives it, the kept sizes go again, C's camera included
    await join('C');
    await tick();
    await answer('C', { audio: 31, video: 32 });
    await tick();
    assert.equal(constraintsOf('A').length, 1, 'not before A subscribed to C');
    await answer('A', { audio: 11, video: 12 });
    await tick();
    assert.deepEqual(constraintsOf('A').at(-1), [
      { ssrc: 22, width: 640, height: 360 },
      { ssrc: 23, width: 1280, height: 720 },
      { ssrc: 32, width: 320, height: 180 },
    ]);

    // B stops sharing: its screen is no longer received, so its size is no longer sent
    await answer('B', { audio: 21, video: 22 });
    await tick();
    await answer('A', { audio: 11, video: 12 });
    await tick();
    assert.deepEqual(constraintsOf('A').at(-1), [
      { ssrc: 22, width: 640, height: 360 },
      { ssrc: 32, width: 320, height: 180 },
    ]);

    // a set that names nothing A receives sends nothing; a later one replaces the kept set
    const n = constraintsOf('A').length;
    await sizes('A', [tile('Z', 'screen', 10, 10)]);
    assert.equal(constraintsOf('A').length, n);
    await sizes('A', [tile('C', 'camera', 0, 0)]);
    assert.deepEqual(constraintsOf('A').at(-1), [{ ssrc: 32, width: 0, height: 0 }]);
    assert.deepEqual(constraintsOf('B'), [], "B's browser said nothing");
  });

  test('bad requests get a clear error; an unknown receiver too', async () => {
    await join('A');
    await tick();
    await assert.rejects(sizes('A', [tile('B', 'camera', 1, 20000)]), /bad focus.constraints request: tiles\.0\.height/);
    await assert.rejects(bus.request(subjects.focusConstraints, { conferenceId: CONF, participantId: 'A' }), /bad focus.constraints request: tiles/);
    await assert.rejects(sizes('nobody', []), /participant nobody is not in conference sala/);
    await assert.rejects(bus.request(subjects.focusConstraints, { conferenceId: 'other', participantId: 'A', tiles: [] }), /no conference other/);
    assert.deepEqual(await sizes('A', []), { ok: true });
  });
});

describe('signal -> focus -> bridge, every part real, in one process', () => {
  let tmp: string;
  let bus: MemoryBus;
  let signal: SignalServer;
  let focus: { close(): Promise<void> };
  let bridge: BridgeHandle;
  let logText = '';

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-constraints-'));
    const webRoot = path.join(tmp, 'web');
    mkdirSync(webRoot, { recursive: true });
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Tertulia</title>');
    const config = loadConfig({
      env: { TERTULIA_CONFIG: '' },
      overrides: { listenAddress: '127.0.0.1', httpsPort: 0, httpPort: 0, mediaPort: 0, tcpMediaPort: 0, dataDir: path.join(tmp, 'data'), logLevel: 'debug' },
    });
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logText += chunk.toString();
        cb();
      },
    });
    const log = pino({ level: 'debug', base: undefined }, sink);
    bus = new MemoryBus();
    bridge = await startBridge({ bus, config, log, bridgeId: 'b1' });
    focus = startFocus({ bus, config, log });
    signal = await startSignal({ bus, config, log, webRoot });
  });
  after(async () => {
    await signal.close();
    await focus.close();
    await bridge.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** The bridge's "video constraints" log lines (its debug line for each accepted request). */
  const bridgeLines = () =>
    logText
      .split('\n')
      .filter((l) => l.includes('"msg":"video constraints"'))
      .map((l) => JSON.parse(l) as { endpointId: string; constraints: { ssrc: number; width: number; height: number }[] });

  /** A browser stand-in: answers every offer like Chrome (sending `own`), remembers the latest sources. */
  function browser(own: OwnSsrcs, ufrag: string): { client: WsClient; sources: () => SignalOffer['sources'] } {
    const client = new WsClient(signal.httpsPort);
    let sources: SignalOffer['sources'] = [];
    client.ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.type !== 'offer') return;
      sources = m.sources;
      client.ws.send(JSON.stringify({ type: 'answer', sdp: answerFor(m.sdp, own, ufrag), version: m.version }));
    });
    return { client, sources: () => sources };
  }

  test("Ana's tile size for Ben's camera reaches the bridge as a constraint on Ben's camera SSRC", async () => {
    const ana = browser({ audio: 1001, video: 1002 }, 'anaufrag');
    const ben = browser({ audio: 2001, video: 2002, screen: 2003 }, 'benufrag');
    const a = await ana.client.join('Tamano', 'Ana');
    const b = await ben.client.join('Tamano', 'Ben');
    await eventually("Ben's camera in Ana's offer", () => (ana.sources().some((s) => s.participantId === b.selfId && s.role === 'video') ? true : undefined), 5000);

    await ana.client.send({ type: 'receiver-video-constraints', tiles: [tile(b.selfId, 'camera', 640, 360), tile(b.selfId, 'screen', 0, 0), tile('nobody', 'camera', 9, 9)] });
    const line = await eventually('the bridge to get the constraints', () => bridgeLines().find((l) => l.endpointId === a.selfId && l.constraints.some((c) => c.ssrc === 2002)), 5000);
    assert.deepEqual(
      [...line.constraints].sort((x, y) => x.ssrc - y.ssrc),
      [
        { ssrc: 2002, width: 640, height: 360 },
        { ssrc: 2003, width: 0, height: 0 },
      ],
    );
    assert.ok(!bridgeLines().some((l) => l.endpointId === b.selfId), 'Ben reported nothing');

    // the bridge refuses bad requests clearly and keeps working
    await assert.rejects(
      bus.request(subjects.bridgeConstraints('b1'), { conferenceId: 'tamano', endpointId: a.selfId, constraints: [{ ssrc: -1, width: 1, height: 1 }] }),
      /bad bridge\.b1\.constraints request: constraints\.0\.ssrc/,
    );
    await assert.rejects(
      bus.request(subjects.bridgeConstraints('b1'), { conferenceId: 'tamano', endpointId: 'ghost', constraints: [] }),
      /unknown endpoint ghost/,
    );
    assert.deepEqual(
      await bus.request(subjects.bridgeConstraints('b1'), { conferenceId: 'tamano', endpointId: a.selfId, constraints: [{ ssrc: 2002, width: 320, height: 180 }] }),
      { ok: true },
    );
    ana.client.close();
    ben.client.close();
  });
});

test('bridge with 2 media workers: constraints are applied by every worker before the reply', { timeout: 60_000 }, async () => {
  const bus = new MemoryBus();
  const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 2, logLevel: 'silent' } });
  const bridge = await startBridge({ bus, config, log: quiet, bridgeId: 'w2' });
  try {
    assert.equal(bridge.mediaWorkers, 2);
    await bus.request(subjects.bridgeAllocate('w2'), { conferenceId: 'c', endpointId: 'ana' });
    assert.deepEqual(await bus.request(subjects.bridgeConstraints('w2'), { conferenceId: 'c', endpointId: 'ana', constraints: [{ ssrc: 7, width: 640, height: 360 }] }), { ok: true });
    await assert.rejects(bus.request(subjects.bridgeConstraints('w2'), { conferenceId: 'c', endpointId: 'ana', constraints: [{ ssrc: 7, width: 640 }] }), /bad bridge\.w2\.constraints request/);
  } finally {
    await bridge.close();
  }
});

test('bridge: a receiver forgets the tile sizes of sources it no longer receives (a long meeting does not collect them)', () => {
  const c = new Conference('c');
  const receiver = new Endpoint('r', c, 0);
  c.endpoints.set('r', receiver);
  // people come and go: each brings a camera the receiver is told to show
  for (let i = 1; i <= 50; i++) {
    const ep = new Endpoint(`p${i}`, c, 0);
    c.endpoints.set(ep.id, ep);
    c.setSources(ep, [{ ssrc: 1000 + i, kind: 'video' }]);
    c.setSubscriptions(receiver, [1000 + i]);
    receiver.setVideoConstraints([{ ssrc: 1000 + i, width: 1280, height: 720 }]);
    c.removeEndpoint(ep);
    c.endpoints.delete(ep.id);
  }
  assert.deepEqual([...receiver.videoConstraints.keys()], [1050], 'only the one it still receives');
  c.setSubscriptions(receiver, []);
  assert.equal(receiver.videoConstraints.size, 0);
  assert.equal(receiver.stageSsrc, 0, 'no stage left');
});
