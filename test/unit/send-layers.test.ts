// Which layers of a browser's camera the bridge asks it to send (send-layers.ts): with the bridge's own
// Conference, endpoints, downtracks and rewriters. Every layer up to the highest any receiver gets, switches
// with, or has a tile that asks for (paused or not); every layer while nobody shows it; never fewer than the
// lowest. A layer pauses only after LAYER_PAUSE_AFTER_MS unneeded and comes back at once; receivers elsewhere
// keep every layer; the browser hears it again every SEND_LAYERS_REPEAT_MS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import { judgeCamera, LAYER_PAUSE_AFTER_MS, neededLayers, SEND_LAYERS_REPEAT_MS } from '../../src/bridge/send-layers.ts';
import { createSourceDemand, tileLayer } from '../../src/bridge/simulcast/layer-selector.ts';
import { WorkerEgress } from '../../src/bridge/workers/worker-egress.ts';

const V = 0x1000;
const LAYERS = [0x3000, 0x3001, 0x3002];

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
  c.setSources(alice, [{ ssrc: V, kind: 'video', rtxSsrc: V + 1, rids: ['q', 'h', 'f'] }]);
  c.setSubscriptions(bob, [V]);
  c.setSubscriptions(carol, [V]);
  const camera = c.sources.get(V)!;
  LAYERS.forEach((ssrc, i) => c.addLayer(camera, i, ssrc, false));
  const dt = (e: Endpoint) => e.downtracks.get(V)!;
  /** What the allocation leaves: the receiver's target layer and the layer its tile asks for. */
  const set = (e: Endpoint, target: number, want: number) => {
    dt(e).rewriter!.setTarget(target);
    dt(e).wantLayer = want;
  };
  return { c, alice, bob, carol, camera, set };
}

test('neededLayers: every layer up to the highest a receiver gets or its tile asks for', () => {
  const { bob, carol, camera, set } = setup();
  assert.equal(neededLayers(camera), 0b111, 'nobody shows it yet: every layer, for whoever shows it first');
  set(bob, 0, 0);
  set(carol, 0, 0);
  assert.equal(neededLayers(camera), 0b001, 'thumbnails only: the lowest');
  set(carol, 1, 1);
  assert.equal(neededLayers(camera), 0b011, 'a tile for the middle layer');
  // carol's tile asks for the top layer, which is paused: she gets the middle one meanwhile
  set(carol, 1, 2);
  assert.equal(neededLayers(camera), 0b111);
  // a receiver on a layer above what its tile asks for (the selector had only that one): that one and below
  set(carol, 2, 1);
  assert.equal(neededLayers(camera), 0b111);
  // both on the top layer: the layers below it stay, to fall back on when a link dips
  set(bob, 2, 2);
  set(carol, 2, 2);
  assert.equal(neededLayers(camera), 0b111);
  // bob's tile off-screen, carol's a thumbnail: the lowest
  set(bob, -1, -1);
  set(carol, 0, 0);
  assert.equal(neededLayers(camera), 0b001);
  // both off-screen: every layer again
  set(carol, -1, -1);
  assert.equal(neededLayers(camera), 0b111);
});

test('neededLayers: a receiver on another media worker keeps every layer', () => {
  const { bob, carol, camera, set } = setup();
  set(carol, 0, 0);
  bob.egress = new WorkerEgress(1, { handOff: () => undefined, sendPeerUpdate: () => undefined });
  camera.owner.conference.rebuildSubscribers();
  assert.ok(camera.egresses.some((e) => !e.local));
  assert.equal(neededLayers(camera), 0b111);
});

test('judgeCamera: every layer at first, a layer paused after LAYER_PAUSE_AFTER_MS unneeded, back at once, said again every SEND_LAYERS_REPEAT_MS', () => {
  const { bob, carol, camera, set } = setup();
  set(bob, 1, 1);
  set(carol, 0, 0);
  let t = 1000;
  assert.equal(judgeCamera(camera, t), 0b111, 'first word: every layer (a new bridge starts the browser afresh)');
  assert.equal(judgeCamera(camera, (t += 250)), -1, 'unchanged: nothing to say');
  t += LAYER_PAUSE_AFTER_MS - 500;
  assert.equal(judgeCamera(camera, t), -1, 'not yet unneeded long enough');
  t += 500;
  assert.equal(judgeCamera(camera, t), 0b011, 'the top layer pauses');
  assert.equal(judgeCamera(camera, (t += 250)), -1);
  assert.equal(judgeCamera(camera, (t += SEND_LAYERS_REPEAT_MS)), 0b011, 'said again');
  // bob's tile grows: the top layer comes back at the next judgment
  set(bob, 1, 2);
  assert.equal(judgeCamera(camera, (t += 250)), 0b111);
  // and small again: it pauses only after the hold
  set(bob, 0, 0);
  assert.equal(judgeCamera(camera, (t += 250)), -1);
  t += LAYER_PAUSE_AFTER_MS;
  assert.equal(judgeCamera(camera, t), 0b001, 'both upper layers pause together');
  assert.equal(judgeCamera(camera, (t += SEND_LAYERS_REPEAT_MS)), 0b001, 'said again');
  // nobody shows it any more: every layer
  set(bob, -1, -1);
  set(carol, -1, -1);
  assert.equal(judgeCamera(camera, (t += 250)), 0b111);
  assert.equal(judgeCamera(camera, (t += SEND_LAYERS_REPEAT_MS)), 0b111, 'said again, every layer too (a lost word must not leave a layer off)');
});

test('judgeCamera: a layer never received is never paused (the sender may turn it on later)', () => {
  const c = new Conference('c');
  const alice = new Endpoint('alice', c, 0);
  const bob = new Endpoint('bob', c, 0);
  for (const e of [alice, bob]) {
    c.endpoints.set(e.id, e);
    e.connected = true;
  }
  c.setSources(alice, [{ ssrc: V, kind: 'video', rtxSsrc: V + 1, rids: ['q', 'h', 'f'] }]);
  c.setSubscriptions(bob, [V]);
  const camera = c.sources.get(V)!;
  // the sender's own cap (or a small camera): only the two lower layers ever came
  c.addLayer(camera, 0, LAYERS[0]!, false);
  c.addLayer(camera, 1, LAYERS[1]!, false);
  bob.downtracks.get(V)!.rewriter!.setTarget(0);
  bob.downtracks.get(V)!.wantLayer = 0;
  assert.equal(judgeCamera(camera, 0), 0b111);
  assert.equal(judgeCamera(camera, LAYER_PAUSE_AFTER_MS), 0b101, 'the middle layer pauses; the top one, never seen, does not');
});

test('tileLayer: the layer a tile asks for, paused layers counted, never-seen layers and a receive cap not', () => {
  const d = createSourceDemand([
    { width: 320, height: 180, bitrateBps: 150_000 },
    { width: 640, height: 360, bitrateBps: 0 },
    { width: 1280, height: 720, bitrateBps: 0 },
  ]);
  assert.equal(tileLayer(d, -1), -1, 'off-screen');
  d.tileWidth = 600;
  d.tileHeight = 338;
  assert.equal(tileLayer(d, -1), 1, 'the middle layer, paused or not');
  d.tileWidth = 830;
  d.tileHeight = 467;
  assert.equal(tileLayer(d, -1), 2);
  assert.equal(tileLayer(d, 360), 1, 'the receiver takes nothing taller than 360');
  assert.equal(tileLayer(d, 100), 0, 'the lowest whatever the cap');
  d.layers[2]!.width = 0;
  d.layers[2]!.height = 0;
  assert.equal(tileLayer(d, -1), 1, 'a layer the sender never sent is not asked for');
});
