// The video-quality setting's two halves outside the browser: the bridge's Conference leaves an audio-only
// receiver (maxReceiveHeight 0) out of every video source's subscribers (cameras and screens; audio stays) and
// puts it back; and which of a sender's simulcast layers stay on under a cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import { activeLayers, isVideoQuality, layerScales, maxHeightOf } from '../../src/web/media/video-quality.ts';

test('bridge: an audio-only receiver gets no video, then gets it back (and those sources need a keyframe)', () => {
  const c = new Conference('c');
  const ids = ['a', 'b', 'x'];
  const eps = new Map(ids.map((id) => [id, new Endpoint(id, c, 0)]));
  for (const [id, ep] of eps) c.endpoints.set(id, ep);
  const base = { a: 1, b: 2, x: 3 } as Record<string, number>;
  for (const [id, ep] of eps) {
    const n = base[id]!;
    c.setSources(ep, [{ ssrc: n, kind: 'video', role: 'video' }, { ssrc: n + 100, kind: 'audio' }, { ssrc: n + 200, kind: 'video', role: 'screen' }]);
  }
  for (const [id, ep] of eps) c.setSubscriptions(ep, ids.filter((o) => o !== id).flatMap((o) => [base[o]!, base[o]! + 100, base[o]! + 200]));
  const subs = (ssrc: number) => c.sources.get(ssrc)!.subscribers.map((e) => e.id).sort().join(',');
  assert.equal(subs(2), 'a,x');

  const a = eps.get('a')!;
  a.maxReceiveHeight = 0;
  assert.deepEqual(c.refreshSubscribers(), []);
  assert.equal(subs(2), 'x', "no camera for a");
  assert.equal(subs(202), 'x', 'no screen either');
  assert.equal(subs(102), 'a,x', 'audio as before');
  for (const ssrc of [2, 3, 202, 203]) assert.ok(!c.sources.get(ssrc)!.downtracks.some((d) => d.receiver === a), 'nothing is forwarded to it');

  a.maxReceiveHeight = 180; // low definition: every video again (the layer choice caps it)
  assert.deepEqual(c.refreshSubscribers().map((s) => s.ssrc).sort((p, q) => p - q), [2, 3, 202, 203]);
  assert.equal(subs(2), 'a,x');
  assert.equal(subs(203), 'a,b');
});

test('sender: layers taller than the cap are switched off, never the lowest', () => {
  const all = [4, 2, 1];
  assert.deepEqual(activeLayers(all, 720, undefined), [true, true, true]);
  assert.deepEqual(activeLayers(all, 720, 360), [true, true, false]);
  assert.deepEqual(activeLayers(all, 720, 180), [true, false, false]);
  assert.deepEqual(activeLayers(all, 720, 0), [true, false, false]);
  assert.deepEqual(activeLayers(all, 480, 360), [true, true, false], '480p camera: 120, 240 on; 480 off');
  assert.deepEqual(activeLayers([2, 1], 0, 180), [true, true], 'size unknown: everything');
  // what the bridge says somebody needs, with the sender's own cap: both apply, the lowest always on
  const rids = ['q', 'h', 'f'];
  assert.deepEqual(activeLayers(all, 720, undefined, rids, new Set(['q', 'f'])), [true, false, true]);
  assert.deepEqual(activeLayers(all, 720, 360, rids, new Set(['q', 'f'])), [true, false, false]);
  assert.deepEqual(activeLayers(all, 720, undefined, rids, new Set(['h'])), [true, true, false], 'the lowest whatever the bridge says');
  assert.deepEqual(activeLayers(all, 720, undefined, rids, null), [true, true, true], 'the bridge said nothing');
  assert.deepEqual(activeLayers(all, 720, undefined, [undefined, undefined, undefined], new Set(['q'])), [true, true, true], 'encodings without rids');
  // a small camera: the encodings Chrome will not send are off; the cap applies to the sizes actually sent
  assert.deepEqual(activeLayers([2, 1, 0], 360, undefined), [true, true, false]);
  assert.deepEqual(activeLayers([2, 1, 0], 360, 180), [true, false, false], '640x360 capped at 180: 320x180 only');
  assert.deepEqual(activeLayers([1, 0, 0], 180, undefined), [true, false, false]);
});

test('sender: the layers Chrome sends from a small camera end at its own size', () => {
  assert.deepEqual(layerScales(3, 1280, 720), [4, 2, 1]);
  assert.deepEqual(layerScales(3, 960, 540), [4, 2, 1]);
  assert.deepEqual(layerScales(3, 640, 480), [2, 1, 0], 'VGA: two layers, 320x240 and 640x480');
  assert.deepEqual(layerScales(3, 640, 360), [2, 1, 0], '360p: 320x180 and 640x360, not 160x90 and 320x180');
  assert.deepEqual(layerScales(3, 320, 180), [1, 0, 0], '180p: sent at 320x180, not 80x45');
  assert.deepEqual(layerScales(3, 0, 0), [4, 2, 1], 'size unknown: every layer');
  assert.deepEqual(layerScales(2, 1280, 720), [2, 1]);
});

test('settings: the four choices and their caps', () => {
  assert.deepEqual(['high', 'standard', 'low', 'audio-only'].map((q) => (isVideoQuality(q) ? maxHeightOf(q) : 'bad')), [undefined, 360, 180, 0]);
  assert.equal(isVideoQuality('ultra'), false);
  assert.equal(isVideoQuality(undefined), false);
});
