// A receiver's downlink shared between what it gets besides simulcast cameras and the cameras (downlink.ts), with
// the bridge's own Conference, endpoints, downtracks and rate meters: the audio it is sent comes off its estimate
// before the cameras share the rest, so on a narrow link a second camera is suspended rather than sent over the
// link's rate; a camera it shows but gets no layer of is told (once per change, in priority order), and told no
// more once the estimate has room again; an off-screen camera or one whose sender sends nothing is not "suspended" (and
// a tile scrolled back gets its camera at once); a list told goes with the last camera, and is told again (not
// counted again) by a thread the receiver moves to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import { allocateLayers } from '../../src/bridge/downlink.ts';
import type { SendSideBwe } from '../../src/bridge/bwe/send-side-bwe.ts';

const CAMERAS = { alice: 0x1000, bob: 0x2000 } as const;
const MICS = { alice: 0x1100, bob: 0x2100 } as const;
/** Kbit/s of each camera's layers (320, 640, 1280 wide). */
const LAYER_KBPS = [150, 500, 1500];

function setup() {
  const c = new Conference('c');
  const ep = (id: string) => {
    const e = new Endpoint(id, c, 0);
    c.endpoints.set(id, e);
    e.connected = true;
    return e;
  };
  const alice = ep('alice');
  const bob = ep('bob');
  const carol = ep('carol');
  for (const [who, e] of [['alice', alice], ['bob', bob]] as const) {
    c.setSources(e, [
      { ssrc: CAMERAS[who], kind: 'video', rtxSsrc: CAMERAS[who] + 1, rids: ['q', 'h', 'f'] },
      { ssrc: MICS[who], kind: 'audio' },
    ]);
    const camera = c.sources.get(CAMERAS[who])!;
    [0, 1, 2].forEach((i) => c.addLayer(camera, i, CAMERAS[who] + 0x10 + i, false));
  }
  c.setSubscriptions(carol, [CAMERAS.alice, MICS.alice, CAMERAS.bob, MICS.bob]);
  // carol's estimate, as her transport-cc feedback would have made it
  let estimateKbps = 5000;
  carol.bwe = { estimateBps: () => estimateKbps * 1000, wantProbe: () => {} } as unknown as SendSideBwe;
  const told: string[][] = [];
  let added = 0;
  /** Cameras whose senders send nothing now. */
  const silent = new Set<string>();
  let nowMs = 0;
  /** One allocation period: every layer sends its rate, carol is sent `audioKbps` of audio; then the allocation. */
  const step = (audioKbps: number) => {
    for (let t = 0; t < 250; t += 50) {
      nowMs += 50;
      for (const [who, ssrc] of Object.entries(CAMERAS)) {
        if (silent.has(who)) continue;
        const camera = c.sources.get(ssrc)!;
        camera.layers.forEach((layer, i) => layer!.rate!.add((LAYER_KBPS[i]! * 50) / 8, nowMs));
      }
      for (const ssrc of Object.values(MICS)) carol.downtracks.get(ssrc)!.bytes += (audioKbps / 2) * 50 / 8;
    }
    allocateLayers(c, nowMs, () => {}, (receiver, ids, newly) => {
      assert.equal(receiver, carol);
      told.push(ids);
      added += newly;
    });
  };
  const layerOf = (who: keyof typeof CAMERAS) => carol.downtracks.get(CAMERAS[who])!.rewriter!.targetLayer;
  return { c, carol, told, step, layerOf, silent, setEstimate: (kbps: number) => (estimateKbps = kbps), added: () => added };
}

test('a wide link: every camera, nothing suspended (told once that nothing is)', () => {
  const s = setup();
  for (let i = 0; i < 8; i++) s.step(80);
  assert.equal(s.layerOf('alice'), 2);
  assert.equal(s.layerOf('bob'), 2);
  assert.deepEqual(s.told, [[]], 'the first allocation tells the state; nothing after without a change');
});

test('a narrow link: the audio comes off first, so the second camera is suspended (and told), then back', () => {
  // 300 kbit/s and nothing but the cameras: both lowest layers fit (2 x 150)
  const quiet = setup();
  for (let i = 0; i < 8; i++) quiet.step(0);
  quiet.setEstimate(300);
  for (let i = 0; i < 8; i++) quiet.step(0);
  assert.deepEqual([quiet.layerOf('alice'), quiet.layerOf('bob')], [0, 0]);
  assert.deepEqual(quiet.told, [[]]);

  // the same link with 80 kbit/s of audio sent to carol: room for one camera only
  const s = setup();
  for (let i = 0; i < 8; i++) s.step(80);
  s.told.length = 0;
  s.setEstimate(300);
  for (let i = 0; i < 8; i++) s.step(80);
  assert.deepEqual([s.layerOf('alice'), s.layerOf('bob')].sort(), [-1, 0], 'one camera on its lowest layer, the other suspended');
  const suspended = s.layerOf('alice') === -1 ? 'alice' : 'bob';
  assert.deepEqual(s.told, [[suspended]], 'told once');
  assert.equal(s.added(), 1, 'one suspension counted');

  // the link widens: both again, and told that nothing is suspended any more
  s.told.length = 0;
  s.setEstimate(600);
  for (let i = 0; i < 24; i++) s.step(80);
  assert.ok(s.layerOf('alice') >= 0 && s.layerOf('bob') >= 0);
  assert.deepEqual(s.told, [[]]);
});

test('not suspended: a camera off-screen, turned off, or whose sender sends nothing; each time told once', () => {
  const s = setup();
  const narrow = () => {
    s.setEstimate(300);
    for (let i = 0; i < 8; i++) s.step(80);
  };
  narrow();
  assert.equal(s.told.at(-1)!.length, 1);
  const off = s.layerOf('alice') === -1 ? 'alice' : 'bob';
  const count = s.told.length;
  // carol scrolled the suspended one off-screen: a tile of 0 x 0
  s.carol.videoConstraints.set(CAMERAS[off], { ssrc: CAMERAS[off], width: 0, height: 0 });
  s.step(80);
  s.step(80);
  assert.deepEqual(s.told.slice(count), [[]], 'an off-screen camera is not shown paused (told once)');
  // back on screen: paused again (the budget has not changed)
  s.carol.videoConstraints.delete(CAMERAS[off]);
  s.step(80);
  assert.deepEqual(s.told.at(-1), [off]);
  // its owner turns the camera off: not shown at all
  s.c.endpoints.get(off)!.videoMuted = true;
  s.step(80);
  assert.deepEqual(s.told.at(-1), []);
  s.c.endpoints.get(off)!.videoMuted = false;
  s.step(80);
  assert.deepEqual(s.told.at(-1), [off]);
  // its sender stops sending (a frozen camera, a lost uplink): nothing to pause
  s.silent.add(off);
  for (let i = 0; i < 6; i++) s.step(80);
  assert.deepEqual(s.told.at(-1), [], 'a camera that sends nothing is not shown paused');
});

test('a tile scrolled off and back on a wide link gets its camera at once, and is never told paused', () => {
  const s = setup();
  for (let i = 0; i < 8; i++) s.step(80);
  s.carol.videoConstraints.set(CAMERAS.bob, { ssrc: CAMERAS.bob, width: 0, height: 0 });
  s.step(80);
  assert.equal(s.layerOf('bob'), -1);
  s.carol.videoConstraints.delete(CAMERAS.bob);
  s.step(80);
  assert.ok(s.layerOf('bob') >= 0, 'no hold after being off-screen');
  assert.deepEqual(s.told, [[]]);
});

test('a list told goes when the last camera does; another thread sending to the receiver tells it again', () => {
  const s = setup();
  s.setEstimate(300);
  for (let i = 0; i < 8; i++) s.step(80);
  const paused = s.told.at(-1)!;
  assert.equal(paused.length, 1);
  assert.equal(s.added(), 1);
  // the receiver's egress moves to another thread and back: the list is told again, not counted again
  s.carol.receiverShare!.moved();
  s.step(80);
  assert.deepEqual(s.told.at(-1), paused);
  assert.equal(s.added(), 1, 'not a new suspension');
  // no camera any more (both senders gone): told that nothing is paused
  s.c.setSubscriptions(s.carol, [MICS.alice, MICS.bob]);
  s.step(80);
  assert.deepEqual(s.told.at(-1), []);
});
