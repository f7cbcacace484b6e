// Last-N in the bridge's Conference: with lastN = 1 each endpoint's video subscribers are limited to those
// for whom it is the most recent speaker (never themselves); the order follows the audio levels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import { DETACHED_EGRESS } from '../../src/bridge/egress.ts';
import { RW } from '../../src/bridge/simulcast/vp8-rewriter.ts';

function setup(lastN: number) {
  const c = new Conference('c');
  c.lastN = lastN;
  const ids = ['a', 'b', 'x'];
  const eps = new Map(ids.map((id) => [id, new Endpoint(id, c, 0)]));
  for (const [id, ep] of eps) c.endpoints.set(id, ep);
  const video = { a: 1, b: 2, x: 3 } as Record<string, number>;
  for (const [id, ep] of eps) c.setSources(ep, [{ ssrc: video[id]!, kind: 'video' }, { ssrc: video[id]! + 100, kind: 'audio' }]);
  for (const [id, ep] of eps) c.setSubscriptions(ep, ids.filter((o) => o !== id).flatMap((o) => [video[o]!, video[o]! + 100]));
  const subs = (ssrc: number) => c.sources.get(ssrc)!.subscribers.map((e) => e.id).sort().join(',');
  /** `id` talks (speech-like: loud 70% of each second) for `seconds`, from `fromMs`. */
  const talk = (id: string, fromMs: number, seconds: number) => {
    for (let t = fromMs; t < fromMs + seconds * 1000; t += 20) {
      c.speakers.onAudioLevel(id, t % 1000 < 700 ? 20 : 127, t);
      if (t % 300 === 0) c.speakers.tick(t);
    }
    c.speakers.tick(fromMs + seconds * 1000);
  };
  return { c, subs, talk };
}

test('last-N = 1: video goes to whoever has the source as most recent speaker; audio to everyone', () => {
  const { c, subs, talk } = setup(1);
  talk('b', 0, 4);
  assert.deepEqual(c.updateSpeakerOrder(), [], 'before the first order everyone had everything: only losses');
  assert.equal(subs(2), 'a,x', "b speaks: a and x receive b's video");
  assert.equal(subs(1), 'b', "b's own first choice is the next in order, a");
  assert.equal(subs(3), '', 'x never spoke and is nobody\'s first');
  assert.equal(subs(102), 'a,x', 'audio is not limited');
  assert.equal(subs(101), 'b,x');

  talk('a', 4000, 4);
  assert.deepEqual(c.updateSpeakerOrder().map((s) => s.ssrc), [1], "x gains a's video (and gets a keyframe for it)");
  assert.equal(subs(1), 'b,x', 'now a is the most recent speaker');
  assert.equal(subs(2), 'a', 'b stays first for a');
  assert.deepEqual(c.updateSpeakerOrder(), [], 'nothing changed: no rebuild');
});

test('last-N = 0: everyone receives everyone', () => {
  const { c, subs, talk } = setup(0);
  talk('b', 0, 3);
  assert.deepEqual(c.updateSpeakerOrder(), []);
  assert.equal(subs(1), 'b,x');
  assert.equal(subs(2), 'a,x');
  assert.equal(subs(3), 'a,b');
});

test("last-N keeps a receiver's stage (its largest tile) and every screen share", () => {
  const { c, subs, talk } = setup(1);
  talk('b', 0, 4);
  c.updateSpeakerOrder();
  assert.equal(subs(3), '', 'x is nobody\'s last N');
  // a pins x: x's camera is a's largest tile
  const a = c.endpoints.get('a')!;
  assert.equal(a.setVideoConstraints([{ ssrc: 2, width: 320, height: 180 }, { ssrc: 3, width: 1280, height: 720 }]), true);
  assert.deepEqual(c.refreshSubscribers().map((s) => s.ssrc), [3], "x's camera gains a receiver (it needs a keyframe)");
  assert.equal(subs(3), 'a');
  assert.equal(subs(2), 'a,x', 'the last-N choice stays too');
  // equal tiles (tile view): no stage
  assert.equal(a.setVideoConstraints([{ ssrc: 2, width: 640, height: 360 }, { ssrc: 3, width: 640, height: 360 }]), true);
  assert.equal(a.stageSsrc, 0);
  c.refreshSubscribers();
  assert.equal(subs(3), '');
  // x shares its screen: everyone gets it whatever last-N says
  const x = c.endpoints.get('x')!;
  c.setSources(x, [{ ssrc: 3, kind: 'video', role: 'video' }, { ssrc: 103, kind: 'audio' }, { ssrc: 33, kind: 'video', role: 'screen' }]);
  for (const ep of [a, c.endpoints.get('b')!]) c.setSubscriptions(ep, [...ep.subscriptions, 33]);
  assert.equal(subs(33), 'a,b');
  assert.equal(subs(3), '', 'its camera still follows last-N');
});

test('last-N: a simulcast camera coming back to a receiver restarts at a keyframe of its layer', () => {
  const c = new Conference('c');
  c.lastN = 1;
  const keyframes: number[] = [];
  c.onKeyframeNeeded = (_source, layer) => keyframes.push(layer);
  const eps = ['a', 'b', 'x'].map((id) => new Endpoint(id, c, 0));
  for (const ep of eps) c.endpoints.set(ep.id, ep);
  const [a, b, x] = eps;
  c.setSources(a, [{ ssrc: 1, kind: 'video', rids: ['q', 'h', 'f'] }]);
  c.setSources(b, [{ ssrc: 2, kind: 'video' }]);
  for (const ep of [b, x]) c.setSubscriptions(ep, [1, 2].filter((s) => c.sources.get(s)!.owner !== ep));
  const order = (ids: string[]) => c.applySpeakerOrder(ids);
  order(['a', 'b', 'x']);
  const rw = x.downtracks.get(1)!.rewriter!;
  rw.setTarget(2);
  const rwState = new Int32Array(rw.state);
  rwState[RW.currentLayer] = 2; // as after the keyframe of layer 2 arrived
  keyframes.length = 0;
  order(['b', 'a', 'x']);
  assert.equal(c.sources.get(1)!.subscribers.includes(x), false, 'x no longer gets a');
  assert.equal(x.downtracks.get(1)!.rewriter, rw, 'its rewriter is kept (numbering continues)');
  order(['a', 'b', 'x']);
  assert.equal(c.sources.get(1)!.subscribers.includes(x), true);
  assert.equal(rw.currentLayer, -1, 'nothing forwarded until a keyframe');
  assert.deepEqual(keyframes, [2], 'a keyframe of the layer x had is asked for');
  // with media workers only the worker that sends to x asks
  order(['b', 'a', 'x']);
  x.egress = { ...DETACHED_EGRESS, local: false };
  rwState[RW.currentLayer] = 2;
  keyframes.length = 0;
  order(['a', 'b', 'x']);
  assert.deepEqual(keyframes, []);
  assert.equal(rw.currentLayer, 2);
});
