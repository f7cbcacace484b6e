// Which layers of a browser's camera the bridge asks it to send (send-layers.ts): with the bridge's own
// Conference, endpoints, downtracks and rewriters. Every layer while a receiver is short of its tile's layer,
// the layers receivers get otherwise, never fewer than the lowest; a layer pauses only after
// LAYER_PAUSE_AFTER_MS unneeded and comes back at once; receivers elsewhere keep every layer.
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
  return { c, alice, bob, carol, camera, dt: (e: Endpoint) => e.downtracks.get(V)! };
}

test('neededLayers: the layers receivers get, and every layer up to its tile for a receiver short of it', () => {
  const { bob, carol, camera, dt } = setup();
  assert.equal(neededLayers(camera), 0b111, 'nobody shows it yet: every layer, for whoever shows it first');
  for (const e of [bob, carol]) {
    dt(e).rewriter!.setTarget(2);
    dt(e).wantLayer = 2;
  }
  assert.equal(neededLayers(camera), 0b101, 'both on the top layer: the middle one is not needed');
  // carol's link allows only the lowest: she is short of her tile's layer, and keeps every layer below it
  dt(carol).rewriter!.setTarget(0);
  assert.equal(neededLayers(camera), 0b111);
  // carol's tile shrinks to the middle layer's size, which she gets
  dt(carol).rewriter!.setTarget(1);
  dt(carol).wantLayer = 1;
  assert.equal(neededLayers(camera), 0b111, 'bob on f, carol on h');
  // bob's tile off-screen, carol's a thumbnail: only the lowest
  dt(bob).rewriter!.setTarget(-1);
  dt(bob).wantLayer = -1;
  dt(carol).rewriter!.setTarget(0);
  dt(carol).wantLayer = 0;
  assert.equal(neededLayers(camera), 0b001);
  // both off-screen: every layer again
  dt(carol).rewriter!.setTarget(-1);
  dt(carol).wantLayer = -1;
  assert.equal(neededLayers(camera), 0b111);
});

test('neededLayers: a receiver on another media worker keeps every layer', () => {
  const { bob, camera } = setup();
  bob.egress = new WorkerEgress(1, { handOff: () => undefined, sendPeerUpdate: () => undefined });
  camera.owner.conference.rebuildSubscribers();
  assert.ok(camera.egresses.some((e) => !e.local));
  assert.equal(neededLayers(camera), 0b111);
});

test('judgeCamera: every layer at first, a layer paused after LAYER_PAUSE_AFTER_MS unneeded, back at once', () => {
  const { bob, carol, camera, dt } = setup();
  for (const e of [bob, carol]) {
    dt(e).rewriter!.setTarget(2);
    dt(e).wantLayer = 2;
  }
  let t = 1000;
  assert.equal(judgeCamera(camera, t), 0b111, 'first word: every layer (a new bridge starts the browser afresh)');
  assert.equal(judgeCamera(camera, (t += 250)), -1, 'unchanged: nothing to say');
  t += LAYER_PAUSE_AFTER_MS - 500;
  assert.equal(judgeCamera(camera, t), -1, 'not yet unneeded long enough');
  t += 500;
  assert.equal(judgeCamera(camera, t), 0b101, 'the middle layer pauses');
  assert.equal(judgeCamera(camera, (t += 250)), -1);
  assert.equal(judgeCamera(camera, (t += SEND_LAYERS_REPEAT_MS)), 0b101, 'said again while a layer is paused');
  // carol's link drops: she is short of the top layer, and the middle one comes back at the next judgment
  dt(carol).rewriter!.setTarget(0);
  assert.equal(judgeCamera(camera, (t += 250)), 0b111);
  // she is back on the top layer: the middle one pauses again only after the hold
  dt(carol).rewriter!.setTarget(2);
  assert.equal(judgeCamera(camera, (t += 250)), -1);
  assert.equal(judgeCamera(camera, (t += LAYER_PAUSE_AFTER_MS)), 0b101);
  // both show it as a thumbnail: the top layer pauses too, never the lowest
  for (const e of [bob, carol]) {
    dt(e).rewriter!.setTarget(0);
    dt(e).wantLayer = 0;
  }
  assert.equal(judgeCamera(camera, (t += 250)), -1, 'the top layer was needed a moment ago');
  assert.equal(judgeCamera(camera, (t += LAYER_PAUSE_AFTER_MS)), 0b001);
  // a tile asks for the top layer again: it comes back at once, with the middle one to fall back on meanwhile
  dt(bob).wantLayer = 2;
  assert.equal(judgeCamera(camera, (t += 250)), 0b111);
});

test('tileLayer: the layer a tile asks for, paused layers counted, a receive cap respected', () => {
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
});
