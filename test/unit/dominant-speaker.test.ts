import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DominantSpeaker } from '../../src/bridge/speaker/dominant-speaker.ts';
import { rng } from '../helpers/random.ts';

const random = rng(7);

/** Level (RFC 6464, -dBov) of one 20 ms packet at time t of a given kind. */
type Kind = 'speech' | 'silence' | 'noise' | 'clicks';
function level(kind: Kind, t: number, phase = 0): number {
  switch (kind) {
    case 'speech': {
      // syllables: ~220 ms around -28 dBov, then ~80 ms dips around -65 dBov
      const p = (t + phase) % 300;
      return p < 220 ? 24 + ((random() * 9) | 0) : 60 + ((random() * 10) | 0);
    }
    case 'silence':
      return 120 + ((random() * 7) | 0);
    case 'noise':
      return 44 + ((random() * 4) | 0); // a steady fan at about -45 dBov
    case 'clicks':
      return t % 700 < 20 ? 20 : 120; // a keyboard: one loud packet now and then
  }
}

/**
 * Runs `script(t)` (source -> kind) from t0 to t1: a level every 20 ms per source, tick every 100 ms.
 * Returns the switches as [time, speaker].
 */
function drive(
  ds: DominantSpeaker<string>,
  t0: number,
  t1: number,
  script: (t: number) => Record<string, Kind>,
): Array<[number, string]> {
  const switches: Array<[number, string]> = [];
  for (let t = t0; t < t1; t += 20) {
    const kinds = script(t);
    let i = 0;
    for (const [src, kind] of Object.entries(kinds)) ds.onAudioLevel(src, level(kind, t, 97 * i++), t);
    if (t % 100 === 0) {
      const s = ds.tick(t);
      if (s !== null) switches.push([t, s]);
    }
  }
  return switches;
}

test('one speaks, another interrupts briefly (no switch), then speaks long (switch)', () => {
  const ds = new DominantSpeaker<string>();
  // 0-5 s: alice speaks
  let sw = drive(ds, 0, 5000, () => ({ alice: 'speech', bob: 'silence' }));
  assert.equal(sw.length, 1);
  assert.equal(sw[0][1], 'alice');
  assert.ok(sw[0][0] <= 800, `alice recognised at ${sw[0][0]} ms`);
  // 5-5.5 s: bob talks over alice for half a second
  sw = drive(ds, 5000, 6000, (t) => ({ alice: 'speech', bob: t < 5500 ? 'speech' : 'silence' }));
  assert.deepEqual(sw, []);
  // 6-6.5 s: alice pauses, bob says something short
  sw = drive(ds, 6000, 8000, (t) => ({ alice: t < 6600 ? 'silence' : 'speech', bob: t < 6500 ? 'speech' : 'silence' }));
  assert.deepEqual(sw, [], 'a 500 ms remark does not take the floor');
  assert.equal(ds.dominant, 'alice');
  // 8-12 s: alice stops, bob speaks at length
  sw = drive(ds, 8000, 12000, () => ({ alice: 'silence', bob: 'speech' }));
  assert.equal(sw.length, 1);
  assert.equal(sw[0][1], 'bob');
  assert.ok(sw[0][0] >= 8500 && sw[0][0] <= 9300, `bob takes over at ${sw[0][0]} ms`);
  // everybody silent: bob stays
  sw = drive(ds, 12000, 20000, () => ({ alice: 'silence', bob: 'silence' }));
  assert.deepEqual(sw, []);
  assert.equal(ds.dominant, 'bob');
});

test('the dominant speaker is marked silent about a second after stopping, and speaking again when back', () => {
  const ds = new DominantSpeaker<string>();
  drive(ds, 0, 3000, () => ({ alice: 'speech', bob: 'silence' }));
  assert.equal(ds.dominant, 'alice');
  assert.equal(ds.silent, false);
  // the gaps between syllables are no silence
  const silentAt: number[] = [];
  const watch = (t0: number, t1: number, kind: Kind) => {
    for (let t = t0; t < t1; t += 100) {
      drive(ds, t, t + 100, () => ({ alice: kind, bob: 'silence' }));
      if (ds.silent) silentAt.push(t + 100);
    }
  };
  watch(3000, 6000, 'speech');
  assert.deepEqual(silentAt, []);
  // alice stops: silent within about a second and a half, still the dominant speaker
  watch(6000, 9000, 'silence');
  assert.ok(silentAt.length > 0 && silentAt[0]! <= 7600, `silent from ${silentAt[0]} ms`);
  assert.equal(ds.dominant, 'alice');
  // she speaks again: no longer silent within a second, no switch
  silentAt.length = 0;
  watch(9000, 11_000, 'speech');
  assert.ok(silentAt.length > 0 && silentAt.length <= 10, `silent until ${silentAt.at(-1)} ms`);
  assert.equal(ds.silent, false);
  // a new speaker starts as speaking; a fan is silence
  drive(ds, 11_000, 15_000, () => ({ alice: 'noise', bob: 'speech' }));
  assert.equal(ds.dominant, 'bob');
  assert.equal(ds.silent, false);
  ds.remove('bob');
  assert.equal(ds.silent, false, 'nobody: not silent');
});

test('noise does not steal: a steady fan and a keyboard', () => {
  const ds = new DominantSpeaker<string>();
  let sw = drive(ds, 0, 6000, (t) => ({
    fan: 'noise',
    keys: 'clicks',
    alice: t >= 1000 ? 'speech' : 'silence',
  }));
  assert.deepEqual(
    sw.map((s) => s[1]),
    ['alice'],
  );
  sw = drive(ds, 6000, 16000, () => ({ fan: 'noise', keys: 'clicks', alice: 'silence' }));
  assert.deepEqual(sw, [], 'alice stays dominant while only noise is heard');
  assert.ok(ds.scores('fan')!.long <= 1);
  assert.ok(ds.scores('keys')!.medium < 1, 'a click is a fraction of one block');
});

test('talking over each other: the current speaker keeps the floor', () => {
  const ds = new DominantSpeaker<string>();
  drive(ds, 0, 3000, () => ({ alice: 'speech', bob: 'silence' }));
  assert.equal(ds.dominant, 'alice');
  const sw = drive(ds, 3000, 10000, () => ({ alice: 'speech', bob: 'speech' }));
  assert.deepEqual(sw, []);
});

test('recent speakers for last-N, removal of the dominant speaker', () => {
  const ds = new DominantSpeaker<string>();
  drive(ds, 0, 2000, () => ({ a: 'silence', b: 'silence', c: 'speech', d: 'silence' }));
  drive(ds, 2000, 4000, () => ({ a: 'silence', b: 'speech', c: 'silence', d: 'silence' }));
  drive(ds, 4000, 6000, () => ({ a: 'silence', b: 'silence', c: 'silence', d: 'silence' }));
  assert.equal(ds.dominant, 'b');
  assert.deepEqual(ds.recentSpeakers(10), ['b', 'c', 'a', 'd']);
  assert.deepEqual(ds.recentSpeakers(2), ['b', 'c']);
  ds.remove('b');
  assert.equal(ds.dominant, null);
  assert.deepEqual(ds.recentSpeakers(10), ['c', 'a', 'd']);
  const sw = drive(ds, 6000, 8000, () => ({ a: 'speech', c: 'silence', d: 'silence' }));
  assert.deepEqual(
    sw.map((s) => s[1]),
    ['a'],
  );
});

test('garbage levels and times are harmless', () => {
  const ds = new DominantSpeaker<number>();
  ds.onAudioLevel(1, -5, 0);
  ds.onAudioLevel(1, 500, 10);
  ds.onAudioLevel(1, NaN, 20);
  ds.onAudioLevel(1, 30, NaN);
  ds.onAudioLevel(1, 30, 5); // time going back
  ds.onAudioLevel(1, 30, 1e12); // a jump far ahead
  assert.equal(ds.tick(NaN), null);
  ds.tick(1e12 + 100);
  assert.ok(ds.scores(1)!.long <= 1);
  // levels out of range (-1 = no extension) are not loud speech
  const d2 = new DominantSpeaker<string>();
  for (let t = 0; t < 3000; t += 20) {
    d2.onAudioLevel('x', -1, t);
    d2.onAudioLevel('y', t % 40 ? 128 : NaN, t);
    d2.tick(t);
  }
  assert.equal(d2.dominant, null);
  assert.equal(d2.scores('x'), null, 'never registered');
});
