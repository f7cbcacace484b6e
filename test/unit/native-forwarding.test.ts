// The native routes (native/routes.c, src/bridge/native-forwarding.ts) through a real Bridge without browsers: a
// steady simulcast layer is forwarded by the module, and whatever the routes depend on changing takes effect at
// once: a receiver unsubscribed or gone gets nothing more, a muted camera goes nowhere, a receiver that joins gets
// the camera too. Every packet is counted once, either way. What JavaScript handles in a batch takes effect for the
// rest of that batch. And the module refuses what is not its own.
import dgram from 'node:dgram';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { Bridge } from '../../src/bridge/bridge.ts';
import { createBridgeCertificate } from '../../src/bridge/certificate.ts';
import { nativeUdp } from '../../src/bridge/native/udp-batch.ts';
import { routesModule } from '../../src/bridge/native/routes.ts';
import { rtpHeaderLength, rtpSeq, rtpSsrc, rtpTimestamp } from '../../src/bridge/packet/rtp.ts';
import { buildBindingRequest } from '../../src/bridge/packet/stun.ts';
import { sleep, waitFor } from '../helpers/fake-browser.ts';
import { rng } from '../helpers/random.ts';
import { Camera, LR2, RIDS, SimulcastBrowser, V, VR, extensions, rtpPacket } from '../helpers/simulcast-sender.ts';

const CONF = 'conf';
const mod = routesModule(nativeUdp());
const skip = mod === null ? 'native module not built' : false;

interface Setup {
  bridge: Bridge;
  port: number;
  /** ICE credentials the bridge gave each endpoint. */
  allocs: Record<string, { ufrag: string; pwd: string }>;
  join(id: string, sources: Parameters<Bridge['configure']>[0]['sources']): Promise<SimulcastBrowser>;
}

/** A one-thread bridge on loopback (routes on or off) and fake browsers that join it through ICE and DTLS. */
async function setup(t: { after(fn: () => Promise<void> | void): void }, nativeForward: boolean): Promise<Setup> {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1, nativeForward });
  const bridge = new Bridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: 'routes', certificate: await createBridgeCertificate() });
  const port = await bridge.udp.bind('127.0.0.1', 0);
  assert.equal(bridge.udp.nativeRoutes !== null, nativeForward);
  const browsers: SimulcastBrowser[] = [];
  t.after(async () => {
    for (const b of browsers) b.close();
    await bridge.close();
    await bus.close();
  });
  const allocs: Setup['allocs'] = {};
  async function join(id: string, sources: Parameters<Bridge['configure']>[0]['sources']): Promise<SimulcastBrowser> {
    const b = await SimulcastBrowser.create(id, port, [1]);
    browsers.push(b);
    const alloc = bridge.allocate(CONF, id);
    allocs[id] = alloc;
    await b.iceCheck(alloc.ufrag, alloc.pwd, `${id}u`);
    bridge.configure({ conferenceId: CONF, endpointId: id, remoteUfrag: `${id}u`, remotePwd: 'p'.repeat(24), remoteFingerprint: { algorithm: 'sha-256', value: b.fingerprint }, sources });
    await b.connectDtls();
    await waitFor(`${id} connected`, () => bridge.conferences.get(CONF)?.endpoints.get(id)?.connected === true);
    return b;
  }
  return { bridge, port, allocs, join };
}

/** Alice sends the simulcast camera, bob receives its top layer (after its keyframe). */
async function aliceToBob(s: Setup): Promise<{ alice: SimulcastBrowser; bob: SimulcastBrowser; cam: Camera; media: () => Buffer[] }> {
  const alice = await s.join('alice', [{ ssrc: V, kind: 'video', rtxSsrc: VR, rids: RIDS }]);
  const bob = await s.join('bob', []);
  s.bridge.subscribe(CONF, 'bob', [V]);
  const media = () => bob.rtp.filter((p) => rtpSsrc(p) === V);
  const cam = new Camera(alice);
  cam.frame();
  await waitFor('layers learned', () => s.bridge.conferences.get(CONF)!.sources.get(V)!.layers.every((l) => l !== null));
  s.bridge.allocateLayers();
  cam.frame([2]);
  await waitFor('the top layer at bob', () => media().length >= 2);
  return { alice, bob, cam, media };
}

// the same steps with the routes off: JavaScript forwards everything, the same way
for (const nativeForward of [true, false]) {
test(`the native routes follow the control plane at once: subscribers, joins and leaves, mutes (nativeForward: ${nativeForward})`, { skip, timeout: 60_000 }, async (t) => {
  const { bridge, join } = await setup(t, nativeForward);
  /** At least `min` packets forwarded natively since `before` (none with the routes off; counted once booked). */
  const natively = (before: number, min: number, what: string) => {
    const n = bridge.countersNow().nativeForwarded - before;
    if (nativeForward) assert.ok(n >= min, `${what}: ${n} forwarded natively`);
    else assert.equal(n, 0, `${what}: nothing natively with the routes off`);
  };
  const A = 0x0d0d0d01;
  const S = 0x0d0d0d02;
  const alice = await join('alice', [
    { ssrc: V, kind: 'video', rtxSsrc: VR, rids: RIDS },
    { ssrc: A, kind: 'audio' },
    { ssrc: S, kind: 'video' },
  ]);
  const bob = await join('bob', []);
  const carol = await join('carol', []);
  bridge.subscribe(CONF, 'bob', [V]);
  bridge.subscribe(CONF, 'carol', [V]);
  const c = bridge.counters;
  const media = (b: SimulcastBrowser) => b.rtp.filter((p) => rtpSsrc(p) === V);
  const cam = new Camera(alice);
  cam.frame();
  await waitFor('layers learned', () => bridge.conferences.get(CONF)!.sources.get(V)!.layers.every((l) => l !== null));
  bridge.allocateLayers();
  cam.frame([2]);
  await waitFor('the top layer at both', () => media(bob).length >= 2 && media(carol).length >= 2);

  /** Sends `frames` frames of every layer and waits until `want` has them (2 packets a frame of the top layer). */
  async function frames(n: number, want: SimulcastBrowser[], none: SimulcastBrowser[]): Promise<void> {
    const before = new Map([...want, ...none].map((b) => [b, media(b).length]));
    for (let i = 0; i < n; i++) {
      cam.frame();
      await sleep(2);
    }
    for (const b of want) await waitFor(`${2 * n} more at ${b.id}`, () => media(b).length >= before.get(b)! + 2 * n);
    await sleep(40);
    for (const b of want) assert.equal(media(b).length, before.get(b)! + 2 * n, `${b.id}: every packet once`);
    for (const b of none) assert.equal(media(b).length, before.get(b)!, `${b.id}: nothing`);
  }

  // steady: the module forwards
  let native = bridge.countersNow().nativeForwarded;
  await frames(10, [bob, carol], []);
  natively(native, 20, "the top layer's 20 packets (and the other layers')");
  for (const b of [bob, carol]) {
    const got = media(b);
    for (let i = 1; i < got.length; i++) assert.equal(rtpSeq(got[i]), (rtpSeq(got[i - 1]) + 1) & 0xffff, `${b.id}: consecutive numbers`);
  }

  // carol unsubscribes: from the very next packet she gets nothing, bob everything
  bridge.subscribe(CONF, 'carol', []);
  await frames(5, [bob], [carol]);

  // carol again, and dave joins: both get the camera, natively again once steady
  bridge.subscribe(CONF, 'carol', [V]);
  const dave = await join('dave', []);
  bridge.subscribe(CONF, 'dave', [V]);
  bridge.allocateLayers();
  cam.frame([2]);
  await waitFor('carol and dave get the top layer', () => media(carol).length > 0 && media(dave).length >= 2);
  native = bridge.countersNow().nativeForwarded;
  await frames(8, [bob, carol, dave], []);
  natively(native, 16, 'steady again');

  // plain sources: alice's microphone (its levels reach the dominant speaker) and a screen without simulcast
  for (const id of ['bob', 'carol', 'dave']) bridge.subscribe(CONF, id, [V, A, S]);
  await sleep(5); // the routes are built again in an immediate
  const conference = bridge.conferences.get(CONF)!;
  const of = (b: SimulcastBrowser, ssrc: number) => b.rtp.filter((p) => rtpSsrc(p) === ssrc).length;
  const plainBefore = bridge.countersNow().nativeForwarded;
  const heardBefore = [bob, carol, dave].map((b) => [of(b, A), of(b, S)]);
  let seq = 0;
  for (let i = 0; i < 20; i++) {
    // Opus with an audio level (RFC 6464: 0 is loudest), quiet and loud in turn (speech stands out of its noise
    // floor), and a transport-wide number; a screen packet
    const ext = Buffer.from([0xbe, 0xde, 0x00, 0x02, 0x10, i % 2 === 0 ? 100 : 5, 0x31, 0x00, seq & 0xff, 0, 0, 0]);
    alice.send(rtpPacket(111, 500 + i, 960 * i, A, false, ext, Buffer.alloc(60, 0x33)));
    alice.send(rtpPacket(96, 900 + i, 3000 * i, S, true, extensions('x', false, 4000 + i), Buffer.from([0x90, 0x80, 0x00 + i, 0x01, 0, 0, 0, 0])));
    seq++;
    await sleep(2);
  }
  for (const [k, b] of [bob, carol, dave].entries()) {
    await waitFor(`${b.id}: 20 audio and 20 screen packets`, () => of(b, A) >= heardBefore[k][0] + 20 && of(b, S) >= heardBefore[k][1] + 20);
  }
  natively(plainBefore, 40, 'plain sources');
  conference.speakers.tick(Date.now() + 500); // closes the blocks her levels fell in
  assert.ok((conference.speakers.scores('alice')?.medium ?? 0) > 0, "alice's levels reached the dominant speaker");
  // a moderator mutes alice's microphone: her audio goes nowhere
  bridge.mute(CONF, 'alice', 'audio', true);
  const silent = of(bob, A);
  alice.send(rtpPacket(111, 600, 960 * 30, A, false, Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0x05, 0, 0]), Buffer.alloc(60, 0x33)));
  await sleep(40);
  assert.equal(of(bob, A), silent, 'muted audio is not forwarded');

  // bob leaves: no error, the others go on
  bridge.expire(CONF, 'bob');
  await frames(4, [carol, dave], [bob]);
  // alice's camera is muted by the server: nobody gets it, and it is counted as muted
  const muted = c.dropMuted;
  bridge.mute(CONF, 'alice', 'video', true);
  const whileMuted = [carol, dave].map((b) => media(b).length);
  for (let i = 0; i < 5; i++) cam.frame();
  await waitFor('muted packets dropped', () => c.dropMuted - muted >= 5 * 4);
  await sleep(40);
  assert.deepEqual([carol, dave].map((b) => media(b).length), whileMuted, 'nothing while muted');
  // unmuted: it goes on (from a keyframe, should the media clock's allocation have moved them meanwhile)
  // (its layers' rates were 0 meanwhile: the allocation may have stopped them, and the fake camera does not answer
  // the keyframe requests a browser would: the rates come back, the allocation runs, the keyframes come)
  bridge.mute(CONF, 'alice', 'video', false);
  for (let i = 0; i < 5; i++) cam.frame();
  await sleep(20);
  bridge.allocateLayers();
  cam.frame([0, 1, 2]);
  cam.frame();
  await waitFor('the camera again', () => media(carol).length > whileMuted[0] && media(dave).length > whileMuted[1]);
  assert.equal(c.dropError, 0);
  assert.equal(c.protectErrors, 0);
});
}

// What JavaScript handles in a batch comes first for what follows it in that batch (found in review: the module
// used to forward the whole batch before JavaScript got to the datagrams it left): a receiver's new path, and a
// retransmission that fills a hole before newer packets of its layer.
for (const nativeForward of [true, false]) {
  test(`a path nominated in a batch holds for the rest of that batch (nativeForward: ${nativeForward})`, { skip, timeout: 60_000 }, async (t) => {
    const s = await setup(t, nativeForward);
    const { cam, media } = await aliceToBob(s);
    for (let i = 0; i < 5; i++) cam.frame();
    await sleep(50);
    const before = media().length;
    // bob's browser nominates another address (a STUN check with USE-CANDIDATE from a new socket), then alice's frames
    const moved = await new Promise<dgram.Socket>((resolve) => {
      const sock = dgram.createSocket('udp4');
      sock.bind(0, '127.0.0.1', () => resolve(sock));
    });
    t.after(() => moved.close());
    let atNew = 0;
    moved.on('message', (m) => {
      if (m[0] >= 128 && m[0] <= 191 && (m[1] & 0x7f) === 96) atNew++;
    });
    moved.send(buildBindingRequest({ username: `${s.allocs.bob.ufrag}:bobu`, key: s.allocs.bob.pwd, priority: 2130706431, useCandidate: true, iceControlling: 42n }), s.port, '127.0.0.1');
    for (let i = 0; i < 5; i++) cam.frame();
    await waitFor("the top layer's 10 packets at bob's new address", () => atNew >= 10);
    await sleep(30);
    assert.equal(atNew, 10);
    assert.equal(media().length, before, 'none at the old address');
  });

  test(`a retransmission ahead of newer packets of its layer in one batch goes first (nativeForward: ${nativeForward})`, { skip, timeout: 60_000 }, async (t) => {
    const s = await setup(t, nativeForward);
    const { alice, cam, media } = await aliceToBob(s);
    // the top layer's RTX stream, learned from its repaired rid (a padding-only probe)
    const padding = s.bridge.counters.dropPadding;
    alice.send(rtpPacket(97, 2, 0, LR2, false, extensions('f', true, cam.tw++), Buffer.alloc(0), 200));
    await waitFor('its RTX stream learned', () => s.bridge.counters.dropPadding > padding);
    for (let i = 0; i < 3; i++) {
      for (const p of cam.layerFrame(2, false)) alice.send(p);
      await sleep(2);
    }
    await sleep(30);
    // a frame whose first packet is lost on the way in
    const [lost, second] = cam.layerFrame(2, false);
    alice.send(second);
    await sleep(30);
    const before = media().length;
    // the retransmission of the lost packet, then two newer frames, sent at once
    const payload = Buffer.concat([lost.subarray(2, 4), lost.subarray(rtpHeaderLength(lost, lost.length))]);
    alice.send(rtpPacket(97, 3, rtpTimestamp(lost), LR2, false, extensions('f', true, cam.tw++), payload));
    for (let i = 0; i < 2; i++) for (const p of cam.layerFrame(2, false)) alice.send(p);
    await waitFor('the retransmission and 4 more at bob', () => media().length >= before + 5);
    await sleep(30);
    const got = media().slice(before).map(rtpSeq);
    const first = got[0];
    assert.deepEqual(got, [0, 2, 3, 4, 5].map((d) => (first + d) & 0xffff), 'the filled hole first, then the newer packets in order');
  });
}

test("a participant's own garbage, properly encrypted, on a routed layer: nothing breaks, the stream goes on", { skip, timeout: 60_000 }, async (t) => {
  const s = await setup(t, true);
  const { alice, cam, media } = await aliceToBob(s);
  for (let i = 0; i < 3; i++) cam.frame();
  await sleep(30);
  const rnd = rng(7);
  const top = s.bridge.conferences.get(CONF)!.sources.get(V)!.layers[2]!.ssrc;
  const natively = s.bridge.countersNow().nativeForwarded;
  for (let i = 0; i < 3000; i++) {
    // an RTP header with the top layer's SSRC (sometimes CSRCs, padding, an extension of any profile and length),
    // then random bytes: what a malicious browser can send, encrypted with its own keys
    const len = 12 + Math.floor(rnd() * 300);
    const p = Buffer.alloc(len);
    for (let k = 0; k < len; k++) p[k] = Math.floor(rnd() * 256);
    p[0] = 0x80 | (p[0] & 0x3f);
    p[1] = rnd() < 0.8 ? 96 | (p[1] & 0x80) : p[1] & 0x7f;
    p.writeUInt32BE(top, 8);
    // numbers that go on (the browser's SRTP refuses a ROC below 0)
    p.writeUInt16BE((cam.seq[2] + i) & 0xffff, 2);
    // a header that fits (the browser's own SRTP would refuse anything else): CSRCs, an extension block of its length
    const base = 12 + 4 * (p[0] & 0x0f);
    let hl = base;
    if (base + 4 > len) {
      p[0] &= 0xe0;
      hl = 12;
    } else if ((p[0] & 0x10) !== 0) {
      const words = Math.floor((rnd() * (len - base - 4)) / 4);
      p.writeUInt16BE(rnd() < 0.7 ? 0xbede : 0x1000 | (p[base + 1] & 0x0f), base);
      p.writeUInt16BE(words, base + 2);
      hl = base + 4 + 4 * words;
    }
    // padding that fits after the header (of any count: the bridge checks it), or none
    if ((p[0] & 0x20) !== 0 && len > hl) p[len - 1] = Math.floor(rnd() * 16);
    else p[0] &= 0xdf;
    alice.send(p);
    if (i % 100 === 0) await sleep(1);
  }
  await sleep(100);
  assert.ok(s.bridge.countersNow().nativeForwarded - natively > 100, 'the module took some of it');
  // the camera goes on for bob (from a keyframe, should the garbage have looked like a switch), its numbers after the
  // garbage's (the SRTP replay window would refuse older ones, rightly)
  cam.seq[2] = (cam.seq[2] + 3000) & 0xffff;
  const before = media().length;
  s.bridge.allocateLayers();
  cam.frame([0, 1, 2]);
  for (let i = 0; i < 3; i++) cam.frame();
  await waitFor('the camera again at bob', () => media().length > before);
  assert.equal(s.bridge.countersNow().dropError, 0);
});

test('a participant who leaves right after speaking is no speaker any more (what was forwarded is booked first)', { skip, timeout: 60_000 }, async (t) => {
  const s = await setup(t, true);
  const A = 0x0d0d0d01;
  const alice = await s.join('alice', [{ ssrc: A, kind: 'audio' }]);
  const bob = await s.join('bob', []);
  s.bridge.subscribe(CONF, 'bob', [A]);
  await sleep(5);
  const conference = s.bridge.conferences.get(CONF)!;
  for (let i = 0; i < 10; i++) {
    alice.send(rtpPacket(111, 700 + i, 960 * i, A, false, Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, i % 2 === 0 ? 100 : 5, 0, 0]), Buffer.alloc(60, 0x33)));
  }
  await waitFor('bob hears alice', () => bob.rtp.filter((p) => rtpSsrc(p) === A).length >= 10);
  // her last packets may still wait to be booked (a batch forwarded whole calls no JavaScript): she leaves now
  s.bridge.expire(CONF, 'alice');
  await sleep(80); // the media clock books whatever was left
  assert.equal(conference.speakers.scores('alice'), null, 'no speaker state for alice after she left');
});

test('the routes module refuses what is not its own', { skip }, () => {
  const m = mod!;
  assert.throws(() => m.createRoutes({}, new Int32Array(4), new Float64Array(64), new ArrayBuffer(4096), new Int32Array(6)), TypeError, "not a send queue");
  assert.throws(() => m.setRoute({}, 0, 1, 0, 0, 0, new Int32Array(0), [], []), TypeError, 'not routes');
  assert.throws(() => m.setRouteTransport({}, 0, null, new Int32Array(4)), TypeError, 'not routes');
  assert.throws(() => m.clearRoutes({}), TypeError);
  assert.throws(() => m.setRoutesClock({}, 0), TypeError);
});
