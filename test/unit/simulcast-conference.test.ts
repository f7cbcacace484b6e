// Simulcast in the bridge's Conference: a camera sent as rid layers is one source receivers subscribe to,
// its layers (and their RTX streams) are learned as their packets arrive, and every receiver of a source
// has a Downtrack (a VP8 rewriter for simulcast) kept across subscriber rebuilds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import type { Source } from '../../src/bridge/source.ts';
import { Downtrack } from '../../src/bridge/downtrack.ts';
import { RetransmitBuffer } from '../../src/bridge/retransmit-buffer.ts';
import { RateMeter } from '../../src/bridge/simulcast/rate-meter.ts';
import { Vp8Rewriter } from '../../src/bridge/simulcast/vp8-rewriter.ts';

const V = 0x1000; // alice's simulcast camera as receivers see it
const VR = 0x1001; // and its RTX SSRC towards receivers
const A = 0x1002; // alice's microphone
const W = 0x2000; // bob's camera, no simulcast
const WR = 0x2001;
const L = [0x3000, 0x3001, 0x3002]; // the layers' SSRCs, learned from the rid extension
const LR = [0x4000, 0x4001, 0x4002]; // their RTX streams, learned from the repaired-rid extension

function setup() {
  const c = new Conference('c');
  const keyframes: Array<{ source: Source; layer: number }> = [];
  c.onKeyframeNeeded = (source, layer) => keyframes.push({ source, layer });
  const ep = (id: string) => {
    const e = new Endpoint(id, c, 0);
    c.endpoints.set(id, e);
    return e;
  };
  const alice = ep('alice');
  const bob = ep('bob');
  const carol = ep('carol');
  const aliceSources = () => [
    { ssrc: V, kind: 'video' as const, rtxSsrc: VR, rids: ['q', 'h', 'f'] },
    { ssrc: A, kind: 'audio' as const },
  ];
  c.setSources(alice, aliceSources());
  c.setSources(bob, [{ ssrc: W, kind: 'video', rtxSsrc: WR }]);
  return { c, alice, bob, carol, keyframes, aliceSources };
}

test('setSources with rids: a simulcast source without a retransmission buffer, its layers unknown', () => {
  const { c, alice, bob } = setup();
  const v = c.sources.get(V)!;
  assert.equal(v.ssrc, V);
  assert.equal(v.kind, 'video');
  assert.equal(v.owner, alice);
  assert.equal(v.primarySsrc, V);
  assert.equal(v.isRtx, false);
  assert.equal(v.rtx, null, 'its layers keep the packets');
  assert.deepEqual(v.rids, ['q', 'h', 'f']);
  assert.deepEqual(v.layers, [null, null, null]);
  assert.equal(v.rtxOutSsrc, VR);
  assert.equal(v.parent, null);
  assert.equal(v.layerIndex, -1);
  assert.equal(v.rate, null);
  // the RTX SSRC is a source of its own (a sender's RTX on it maps to V)
  const vr = c.sources.get(VR)!;
  assert.equal(vr.primarySsrc, V);
  assert.equal(vr.isRtx, true);
  assert.equal(vr.rtx, null);
  assert.equal(vr.rids, null);
  assert.deepEqual(vr.layers, []);
  assert.equal(vr.rtxOutSsrc, 0);
  // a plain camera keeps its packets itself
  const w = c.sources.get(W)!;
  assert.ok(w.rtx instanceof RetransmitBuffer);
  assert.equal(w.rids, null);
  assert.deepEqual(w.layers, []);
  assert.equal(w.rtxOutSsrc, WR);
  assert.equal(c.sources.get(WR)!.primarySsrc, W);
  // audio: no buffer, no RTX towards receivers, rids ignored
  const a = c.sources.get(A)!;
  assert.equal(a.rtx, null);
  assert.equal(a.rtxOutSsrc, 0);
  c.setSources(bob, [{ ssrc: W, kind: 'video', rtxSsrc: WR }, { ssrc: 0x2002, kind: 'audio', rids: ['x'] }]);
  assert.equal(c.sources.get(0x2002)!.rids, null);
  assert.deepEqual(c.sources.get(0x2002)!.layers, []);
  assert.deepEqual(alice.sources.map((s) => s.ssrc).sort(), [V, VR, A].sort());
  assert.deepEqual([...c.sources.keys()].sort(), [V, VR, A, W, WR, 0x2002].sort());
});

test('addLayer: a layer source with its own buffer and rate; its RTX maps to the layer', () => {
  const { c, alice, bob } = setup();
  const v = c.sources.get(V)!;
  const l1 = c.addLayer(v, 1, L[1], false)!;
  assert.ok(l1 !== null);
  assert.equal(l1.ssrc, L[1]);
  assert.equal(l1.kind, 'video');
  assert.equal(l1.owner, alice);
  assert.equal(l1.primarySsrc, L[1]);
  assert.equal(l1.isRtx, false);
  assert.ok(l1.rtx instanceof RetransmitBuffer);
  assert.equal(l1.parent, v);
  assert.equal(l1.layerIndex, 1);
  assert.ok(l1.rate instanceof RateMeter);
  assert.equal(l1.parentOfRtx, null);
  assert.equal(l1.rids, null);
  assert.equal(c.sources.get(L[1]), l1);
  assert.deepEqual(v.layers, [null, l1, null]);
  assert.ok(!alice.sources.includes(l1), "a layer is not one of the endpoint's listed sources");

  const l0 = c.addLayer(v, 0, L[0], false)!;
  const l2 = c.addLayer(v, 2, L[2], false)!;
  assert.deepEqual(v.layers, [l0, l1, l2]);
  assert.deepEqual([l0.layerIndex, l2.layerIndex], [0, 2]);
  assert.notEqual(l0.rtx, l1.rtx);

  // RTX of layer 0 (repaired rid): maps to the layer's SSRC, forgotten with the simulcast source
  const r0 = c.addLayer(v, 0, LR[0], true)!;
  assert.ok(r0 !== null);
  assert.equal(r0.ssrc, LR[0]);
  assert.equal(r0.primarySsrc, L[0]);
  assert.equal(r0.isRtx, true);
  assert.equal(r0.rtx, null);
  assert.equal(r0.parentOfRtx, v);
  assert.equal(r0.parent, null);
  assert.equal(r0.layerIndex, -1);
  assert.equal(r0.rate, null);
  assert.equal(r0.owner, alice);
  assert.equal(c.sources.get(LR[0]), r0);
  assert.deepEqual(v.layers, [l0, l1, l2], 'an RTX stream is not a layer');
  assert.equal(c.sources.get(r0.primarySsrc), l0);

  // refused: an SSRC already taken (by a layer, an RTX stream, the source itself, another endpoint)
  const before = new Map(c.sources);
  assert.equal(c.addLayer(v, 0, L[1], false), null);
  assert.equal(c.addLayer(v, 0, LR[0], true), null);
  assert.equal(c.addLayer(v, 1, V, true), null);
  assert.equal(c.addLayer(v, 1, W, true), null, "bob's camera");
  assert.equal(c.addLayer(v, 1, WR, false), null);
  // refused: the layer already has an SSRC
  assert.equal(c.addLayer(v, 2, 0x5555, false), null);
  // refused: index out of range
  assert.equal(c.addLayer(v, 3, 0x5555, false), null);
  assert.equal(c.addLayer(v, -1, 0x5555, false), null);
  assert.equal(c.addLayer(v, 3, 0x5555, true), null);
  assert.deepEqual(new Map(c.sources), before, 'nothing added by refused calls');
  assert.deepEqual(v.layers, [l0, l1, l2]);
  void bob;
});

test('addLayer: RTX before its layer, and a source without rids', () => {
  const { c } = setup();
  const v = c.sources.get(V)!;
  assert.equal(c.addLayer(v, 2, LR[2], true), null, 'the RTX stream of a layer not seen yet');
  assert.equal(c.sources.has(LR[2]), false);
  const l2 = c.addLayer(v, 2, L[2], false)!;
  const r2 = c.addLayer(v, 2, LR[2], true)!;
  assert.equal(r2.primarySsrc, l2.ssrc);
  assert.deepEqual(v.layers, [null, null, l2]);
  // a plain camera has no layers
  const w = c.sources.get(W)!;
  assert.equal(c.addLayer(w, 0, 0x6000, false), null);
  assert.equal(c.addLayer(w, 0, 0x6000, true), null);
  assert.equal(c.sources.has(0x6000), false);
});

test('layers are forgotten when the simulcast source is replaced or removed, or its endpoint leaves', () => {
  const { c, alice, aliceSources } = setup();
  const learn = (v: Source) => {
    const layers = L.map((ssrc, i) => c.addLayer(v, i, ssrc, false)!);
    const rtx = [c.addLayer(v, 0, LR[0], true)!, c.addLayer(v, 2, LR[2], true)!];
    return { layers, rtx };
  };
  const v = c.sources.get(V)!;
  const { layers } = learn(v);
  assert.ok([...L, LR[0], LR[2]].every((s) => c.sources.has(s)));

  // the same list again: the source, its layers and their RTX streams stay
  c.setSources(alice, aliceSources());
  assert.equal(c.sources.get(V), v);
  assert.deepEqual(v.layers, layers);
  assert.ok([...L, LR[0], LR[2]].every((s) => c.sources.has(s)));

  // other rids: a new source; the old one's layers and RTX streams are gone
  c.setSources(alice, [{ ssrc: V, kind: 'video', rtxSsrc: VR, rids: ['q', 'h'] }, { ssrc: A, kind: 'audio' }]);
  const v2 = c.sources.get(V)!;
  assert.notEqual(v2, v);
  assert.deepEqual(v2.rids, ['q', 'h']);
  assert.deepEqual(v2.layers, [null, null]);
  assert.deepEqual(v.layers, [null, null, null], 'the old source lets go of its layers');
  for (const s of [...L, LR[0], LR[2]]) assert.equal(c.sources.has(s), false, `ssrc ${s} forgotten`);
  assert.equal(c.sources.get(A)!.kind, 'audio');
  assert.equal(c.sources.get(VR)!.primarySsrc, V);
  // the SSRCs can be learned again, for the new source
  const again = c.addLayer(v2, 1, L[2], false)!;
  assert.equal(again.parent, v2);

  // another RTX SSRC towards receivers also replaces the source
  c.setSources(alice, [{ ssrc: V, kind: 'video', rtxSsrc: 0x1111, rids: ['q', 'h'] }]);
  const v3 = c.sources.get(V)!;
  assert.notEqual(v3, v2);
  assert.equal(v3.rtxOutSsrc, 0x1111);
  assert.equal(c.sources.has(L[2]), false);
  assert.equal(c.sources.has(VR), false);
  assert.equal(c.sources.has(A), false);

  // the camera no longer sent
  const l30 = c.addLayer(v3, 0, L[0], false)!;
  assert.equal(c.addLayer(v3, 0, LR[0], true)!.primarySsrc, l30.ssrc);
  assert.equal(c.addLayer(v3, 2, L[2], false), null, 'only two layers now');
  c.setSources(alice, [{ ssrc: A, kind: 'audio' }]);
  assert.deepEqual([...c.sources.keys()].sort(), [A, W, WR].sort());

  // the endpoint leaves
  c.setSources(alice, aliceSources());
  learn(c.sources.get(V)!);
  assert.equal(c.sources.size, 3 + 3 + 2 + 2);
  c.removeEndpoint(alice);
  assert.deepEqual([...c.sources.keys()].sort(), [W, WR].sort());
  assert.equal(c.endpoints.has('alice'), false);
});

test('rebuildSubscribers: every receiver has an Downtrack, a rewriter only for simulcast, kept across rebuilds', () => {
  const { c, alice, bob, carol, keyframes, aliceSources } = setup();
  const v = c.sources.get(V)!;
  const w = c.sources.get(W)!;
  const a = c.sources.get(A)!;
  L.forEach((ssrc, i) => c.addLayer(v, i, ssrc, false));
  c.addLayer(v, 1, LR[1], true);

  c.setSubscriptions(bob, [V, A]);
  assert.deepEqual(v.subscribers, [bob]);
  assert.equal(v.downtracks.length, 1);
  const bv = v.downtracks[0];
  assert.ok(bv instanceof Downtrack);
  assert.equal(bv.source, v);
  assert.equal(bv.receiver, bob);
  assert.equal(bob.downtracks.get(V), bv);
  assert.ok(bv.rewriter instanceof Vp8Rewriter);
  assert.equal(bv.rewriter.outSsrc, V, 'receivers see the simulcast source SSRC');
  assert.equal(bv.rewriter.targetLayer, -1);
  assert.equal(bv.demand!.layers.length, 3);
  assert.equal(bv.demand!.target, -1);
  assert.ok(bv.rtxSeq >= 0 && bv.rtxSeq < 0x8000);
  // the rewriter asks the conference for keyframes of the layer it waits for
  bv.rewriter.setTarget(2);
  assert.deepEqual(keyframes, [{ source: v, layer: 2 }]);
  // audio: a stream without rewriter
  assert.deepEqual(a.subscribers, [bob]);
  assert.equal(a.downtracks.length, 1);
  assert.equal(a.downtracks[0].rewriter, null);
  assert.equal(a.downtracks[0].demand, null);
  assert.equal(bob.downtracks.get(A), a.downtracks[0]);
  // the layers themselves have no receivers (nobody subscribes to their SSRCs)
  for (const l of v.layers) {
    assert.deepEqual(l!.subscribers, []);
    assert.deepEqual(l!.downtracks, []);
  }

  c.setSubscriptions(alice, [W]);
  assert.deepEqual(w.subscribers, [alice]);
  const aw = w.downtracks[0];
  assert.equal(aw.source, w);
  assert.equal(aw.receiver, alice);
  assert.equal(aw.rewriter, null, 'a plain camera: no rewriter');
  assert.equal(aw.demand, null);
  assert.equal(alice.downtracks.get(W), aw);

  // carol subscribes too: bob's stream (with its rewriter state) is the same object, carol gets her own
  c.setSubscriptions(carol, [V, W]);
  assert.deepEqual(v.subscribers, [bob, carol]);
  assert.equal(v.downtracks.length, 2);
  assert.equal(v.downtracks[0], bv);
  assert.equal(bv.rewriter.targetLayer, 2);
  const cv = v.downtracks[1];
  assert.notEqual(cv, bv);
  assert.equal(cv.receiver, carol);
  assert.ok(cv.rewriter instanceof Vp8Rewriter);
  assert.notEqual(cv.rewriter, bv.rewriter);
  assert.equal(carol.downtracks.get(V), cv);
  assert.deepEqual(w.subscribers, [alice, carol]);
  assert.equal(w.downtracks[0], aw);
  // any other rebuild keeps them too
  c.setSources(alice, aliceSources());
  c.setSources(bob, [{ ssrc: W, kind: 'video', rtxSsrc: WR }]);
  c.rebuildSubscribers();
  assert.equal(c.sources.get(V), v);
  assert.deepEqual(v.downtracks, [bv, cv]);
  assert.deepEqual(w.downtracks, [aw, w.downtracks[1]]);
  assert.equal(bob.downtracks.get(V), bv);
  // downtracks[i] belongs to subscribers[i]
  for (const s of [v, w, a]) s.subscribers.forEach((e, i) => assert.equal(s.downtracks[i].receiver, e));

  // bob unsubscribes from V: his stream is dropped; subscribing again starts a new one
  c.setSubscriptions(bob, [A]);
  assert.deepEqual(v.subscribers, [carol]);
  assert.deepEqual(v.downtracks, [cv]);
  assert.equal(bob.downtracks.has(V), false);
  assert.equal(bob.downtracks.get(A), a.downtracks[0]);
  c.setSubscriptions(bob, [A, V]);
  const bv2 = bob.downtracks.get(V)!;
  assert.notEqual(bv2, bv);
  assert.equal(bv2.rewriter!.targetLayer, -1, 'a fresh rewriter');
  assert.deepEqual(v.downtracks, [bv2, cv]);

  // the source replaced (other rids): new streams for the new source
  c.setSources(alice, [{ ssrc: V, kind: 'video', rtxSsrc: VR, rids: ['h', 'f'] }, { ssrc: A, kind: 'audio' }]);
  const nv = c.sources.get(V)!;
  assert.deepEqual(nv.subscribers, [bob, carol]);
  assert.equal(nv.downtracks.length, 2);
  assert.equal(nv.downtracks[0].source, nv);
  assert.notEqual(nv.downtracks[0], bv2);
  assert.equal(nv.downtracks[0].demand!.layers.length, 2);
  assert.equal(bob.downtracks.get(V), nv.downtracks[0]);
  assert.equal(carol.downtracks.get(V), nv.downtracks[1]);

  // the camera goes away: the receivers' streams of it go too
  c.setSources(alice, [{ ssrc: A, kind: 'audio' }]);
  assert.equal(bob.downtracks.has(V), false);
  assert.equal(carol.downtracks.has(V), false);
  assert.equal(bob.downtracks.get(A), c.sources.get(A)!.downtracks[0]);

  // the sender leaves: nobody keeps a stream of its sources
  c.setSources(alice, aliceSources());
  assert.equal(bob.downtracks.get(V)!.source, c.sources.get(V));
  c.removeEndpoint(alice);
  assert.equal(bob.downtracks.has(V), false);
  assert.equal(bob.downtracks.has(A), false);
  assert.equal(carol.downtracks.has(V), false);
  assert.equal(carol.downtracks.get(W), w.downtracks[0]);
  assert.deepEqual(w.subscribers, [carol]);
});

test('rebuildSubscribers: a closed receiver gets nothing', () => {
  const { c, bob } = setup();
  c.setSubscriptions(bob, [V]);
  const v = c.sources.get(V)!;
  assert.equal(v.downtracks.length, 1);
  bob.closed = true;
  c.rebuildSubscribers();
  assert.deepEqual(v.subscribers, []);
  assert.deepEqual(v.downtracks, []);
});
