// Which bridge a participant goes to: room by endpoint cap and CPU stress, the participant's region first,
// the conference's own bridges before new ones, the least loaded otherwise (src/focus/bridge-choice.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBridgeFor, chooseFirstBridge, hasRoom, type BridgeState } from '../../src/focus/bridge-choice.ts';

const bridge = (id: string, over: Partial<BridgeState> = {}): BridgeState => ({
  id,
  load: 0,
  maxEndpoints: 10,
  stress: 0.1,
  region: undefined,
  conferences: 0,
  ...over,
});
const map = (...bs: BridgeState[]) => new Map(bs.map((b) => [b.id, b]));
const MAX_STRESS = 0.85;

test('room: below the endpoint cap and below the stress limit', () => {
  assert.equal(hasRoom(bridge('a', { load: 9 }), MAX_STRESS), true);
  assert.equal(hasRoom(bridge('a', { load: 10 }), MAX_STRESS), false);
  assert.equal(hasRoom(bridge('a', { stress: 0.85 }), MAX_STRESS), false, 'a busy CPU counts as full');
});

test('a new conference: the participant’s region when it has room, else the least loaded', () => {
  const bs = [bridge('eu1', { region: 'eu', load: 5 }), bridge('us1', { region: 'us', load: 1 }), bridge('eu2', { region: 'eu', load: 3 })];
  assert.equal(chooseFirstBridge(bs, 'eu', MAX_STRESS)?.id, 'eu2', 'the least loaded of the region');
  assert.equal(chooseFirstBridge(bs, undefined, MAX_STRESS)?.id, 'us1', 'no region: the least loaded');
  assert.equal(chooseFirstBridge(bs, 'asia', MAX_STRESS)?.id, 'us1', 'a region without bridges: as if none');
  const full = [bridge('eu1', { region: 'eu', load: 10 }), bridge('us1', { region: 'us', load: 4 })];
  assert.equal(chooseFirstBridge(full, 'eu', MAX_STRESS)?.id, 'us1', 'the region full: elsewhere');
  const stressed = [bridge('a', { load: 0, stress: 0.95 }), bridge('b', { load: 6 })];
  assert.equal(chooseFirstBridge(stressed, undefined, MAX_STRESS)?.id, 'b', 'an idle-looking but busy bridge is skipped');
  const allBusy = [bridge('a', { load: 3, stress: 0.95 }), bridge('b', { load: 6, stress: 0.9 }), bridge('c', { load: 10, stress: 0.1 })];
  assert.equal(chooseFirstBridge(allBusy, undefined, MAX_STRESS)?.id, 'a', 'all busy: the least loaded below its cap all the same');
  assert.equal(chooseFirstBridge([bridge('a', { load: 10 })], undefined, MAX_STRESS), undefined);
  const tie = [bridge('a', { conferences: 3 }), bridge('b', { conferences: 1 })];
  assert.equal(chooseFirstBridge(tie, undefined, MAX_STRESS)?.id, 'b', 'same load: fewer conferences');
});

test('a running conference: its bridge in the participant’s region, then another of the region, then its own bridges', () => {
  const known = map(bridge('eu1', { region: 'eu', load: 2 }), bridge('us1', { region: 'us', load: 7 }), bridge('us2', { region: 'us', load: 0 }));
  // a us participant in a conference on eu1: the least loaded us bridge (the conference spans it)
  assert.equal(chooseBridgeFor({ spanned: ['eu1'], known, region: 'us', maxStress: MAX_STRESS }), 'us2');
  // the conference spans us1 already: that one, though us2 is emptier (one relay less)
  assert.equal(chooseBridgeFor({ spanned: ['eu1', 'us1'], known, region: 'us', maxStress: MAX_STRESS }), 'us1');
  // an eu participant stays on eu1
  assert.equal(chooseBridgeFor({ spanned: ['eu1', 'us1'], known, region: 'eu', maxStress: MAX_STRESS }), 'eu1');
  // no region: the conference's bridges in order
  assert.equal(chooseBridgeFor({ spanned: ['us1', 'eu1'], known, region: undefined, maxStress: MAX_STRESS }), 'us1');
});

test('a running conference whose bridges are full spills to the least loaded other bridge; none: undefined', () => {
  const known = map(bridge('a', { load: 10 }), bridge('b', { load: 4 }), bridge('c', { load: 2 }), bridge('d', { load: 1, stress: 0.9 }));
  assert.equal(chooseBridgeFor({ spanned: ['a'], known, region: undefined, maxStress: MAX_STRESS }), 'c');
  assert.equal(chooseBridgeFor({ spanned: ['a'], known: map(bridge('a', { load: 10 })), region: undefined, maxStress: MAX_STRESS }), undefined);
  // the conference's bridge busy, another one not: the other (the conference spans it); every bridge busy: its own
  const busy = map(bridge('a', { load: 2, stress: 0.9 }), bridge('b', { load: 5 }));
  assert.equal(chooseBridgeFor({ spanned: ['a'], known: busy, region: undefined, maxStress: MAX_STRESS }), 'b');
  const allBusy = map(bridge('a', { load: 2, stress: 0.9 }), bridge('b', { load: 5, stress: 0.95 }));
  assert.equal(chooseBridgeFor({ spanned: ['a'], known: allBusy, region: undefined, maxStress: MAX_STRESS }), 'a');
  // the region's bridges all full: placed as if regions did not exist
  const regional = map(bridge('eu1', { region: 'eu', load: 10 }), bridge('us1', { region: 'us', load: 1 }));
  assert.equal(chooseBridgeFor({ spanned: ['us1'], known: regional, region: 'eu', maxStress: MAX_STRESS }), 'us1');
});

test('a bridge the conference spans that focus no longer hears is left; plain senders go to the first bridge only', () => {
  const known = map(bridge('b', { load: 0 }));
  assert.equal(chooseBridgeFor({ spanned: ['gone', 'b'], known, region: undefined, maxStress: MAX_STRESS }), 'b');
  assert.equal(chooseBridgeFor({ spanned: ['gone'], known: map(), region: undefined, maxStress: MAX_STRESS, homeOnly: true }), undefined);
  const full = map(bridge('home', { load: 10 }), bridge('b', { load: 0 }));
  assert.equal(chooseBridgeFor({ spanned: ['home', 'b'], known: full, region: undefined, maxStress: MAX_STRESS, homeOnly: true }), undefined);
  assert.equal(chooseBridgeFor({ spanned: ['home', 'b'], known: map(bridge('home')), region: 'us', maxStress: MAX_STRESS, homeOnly: true }), 'home');
});
