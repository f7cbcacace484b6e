// Temporal thinning in the layer selector (src/bridge/simulcast/layer-selector.ts) and the per-temporal-layer rate
// meters it reads (simulcast/temporal-rates.ts): a receiver short of a layer's full rate gets that layer at 15 or
// 7.5 fps before a smaller layer; hysteresis holds an upgrade after a downgrade; a layer without measured temporal
// layers is offered at its full rate only (as before).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_TEMPORAL_LAYERS, LayerSelector, createSourceDemand, optionRate, type SimulcastLayer } from '../../src/bridge/simulcast/layer-selector.ts';
import { TemporalRates } from '../../src/bridge/simulcast/temporal-rates.ts';

/** Chrome's three layers with L1T3 temporal layers: TL0 about half of all, TL0+TL1 about 70 %. */
function layers(temporal = true): SimulcastLayer[] {
  const l = (width: number, height: number, bps: number): SimulcastLayer => ({
    width,
    height,
    bitrateBps: bps,
    tl0Bps: temporal ? bps * 0.5 : 0,
    tl1Bps: temporal ? bps * 0.7 : 0,
  });
  return [l(320, 180, 150_000), l(640, 360, 500_000), l(1280, 720, 1_500_000)];
}

function stage(temporal = true) {
  const d = createSourceDemand(layers(temporal));
  d.tileWidth = 1280;
  d.tileHeight = 720;
  return d;
}

test('enough for the top layer: all of it, at the full frame rate', () => {
  const d = stage();
  new LayerSelector().allocate(3_000_000, [d], 0);
  assert.deepEqual([d.target, d.temporal], [2, ALL_TEMPORAL_LAYERS]);
});

test('short of the top layer: the top layer at 15 fps, then 7.5 fps, before the middle layer', () => {
  const cases: Array<[number, number, number]> = [
    [1_300_000, 2, 1], // 1.05 M for TL0+TL1 (x1.2 margin = 1.26 M) fits
    [1_000_000, 2, 0], // 750 k for TL0 (900 k with the margin) fits, TL0+TL1 does not
    [800_000, 1, ALL_TEMPORAL_LAYERS], // not even the top's TL0: the middle layer at its full rate
    [500_000, 1, 1],
  ];
  for (const [estimate, layer, temporal] of cases) {
    const d = stage();
    new LayerSelector().allocate(estimate, [d], 0);
    assert.deepEqual([d.target, d.temporal], [layer, temporal], `at ${estimate} bps`);
  }
});

test('below the full rate of the next smaller layer the larger layer is not thinned: down a layer, thinned in turn', () => {
  // 400 k: the top's TL0 (750 k) is out anyway; the middle layer whole (500 k) does not fit, so the top is not
  // offered thinned; the middle at TL0 (250 k x 1.2) does (the lowest layer, 150 k, fits whole)
  const d = stage();
  new LayerSelector().allocate(400_000, [d], 0);
  assert.deepEqual([d.target, d.temporal], [1, 0]);
  // a top layer whose TL0 is cheap (a still picture): at 300 k it would fit thinned, but the middle layer whole
  // does not, so the middle layer thinned it is
  const still = stage();
  still.layers[2].tl0Bps = 200_000;
  still.layers[2].tl1Bps = 250_000;
  new LayerSelector().allocate(300_000, [still], 0);
  assert.equal(still.target, 1);
});

test('without measured temporal layers: spatial layers only (the previous behaviour)', () => {
  const d = stage(false);
  new LayerSelector().allocate(1_300_000, [d], 0);
  assert.deepEqual([d.target, d.temporal], [1, ALL_TEMPORAL_LAYERS]);
  assert.equal(optionRate(d, 2, 1), 0);
  assert.equal(optionRate(d, 2, 0), 0);
});

test('a layer with two temporal layers (no TL2): TL1 is the full rate, only TL0 is offered below it', () => {
  const d = stage();
  d.layers[2].tl1Bps = d.layers[2].bitrateBps;
  assert.equal(optionRate(d, 2, 1), 0);
  assert.equal(optionRate(d, 2, 0), 750_000);
  new LayerSelector().allocate(1_300_000, [d], 0);
  assert.deepEqual([d.target, d.temporal], [2, 0]);
});

test('hysteresis: down at once, back up only after the hold and with the margin', () => {
  const sel = new LayerSelector(1.2, 4000);
  const d = stage();
  sel.allocate(3_000_000, [d], 0);
  assert.deepEqual([d.target, d.temporal], [2, ALL_TEMPORAL_LAYERS]);
  sel.allocate(1_150_000, [d], 250);
  assert.deepEqual([d.target, d.temporal], [2, 1], 'down to 15 fps at once');
  sel.allocate(3_000_000, [d], 1000);
  assert.deepEqual([d.target, d.temporal], [2, 1], 'held after the downgrade');
  // a little over TL0+TL1 keeps it (KEEP_TOLERANCE), no flapping down
  sel.allocate(1_000_000, [d], 1250);
  assert.deepEqual([d.target, d.temporal], [2, 1]);
  sel.allocate(3_000_000, [d], 4500);
  assert.deepEqual([d.target, d.temporal], [2, ALL_TEMPORAL_LAYERS], 'up after the hold');
});

test('two sources: the stage gets its layer at a lower frame rate, the filmstrip keeps the lowest layer', () => {
  const big = stage();
  const small = createSourceDemand(layers());
  small.tileWidth = 320;
  small.tileHeight = 180;
  new LayerSelector().allocate(1_200_000, [big, small], 0);
  assert.deepEqual([small.target, small.temporal], [0, ALL_TEMPORAL_LAYERS]);
  // 1.2 M - 150 k: the top's TL0 (750 k x 1.2 = 900 k) fits, its TL0+TL1 (1.26 M) does not
  assert.deepEqual([big.target, big.temporal], [2, 0]);
});

test('a tiny budget: the first source gets its lowest layer at a lower frame rate when that fits', () => {
  const d = stage();
  new LayerSelector().allocate(130_000, [d], 0);
  assert.deepEqual([d.target, d.temporal], [0, 1], 'TL0+TL1 (105 k x 1.2) fits');
  new LayerSelector().allocate(90_000, [d], 0);
  assert.deepEqual([d.target, d.temporal], [0, 0], 'TL0 (75 k x 1.2) fits');
  new LayerSelector().allocate(10_000, [d], 0);
  assert.deepEqual([d.target, d.temporal], [0, 0], 'nothing fits: the first still gets the lowest layer, at its cheapest (7.5 fps)');
  // without measured temporal layers there is only the full rate
  const plain = stage(false);
  new LayerSelector().allocate(10_000, [plain], 0);
  assert.deepEqual([plain.target, plain.temporal], [0, ALL_TEMPORAL_LAYERS]);
});

test('TemporalRates: rates per TID, cumulative; packets without a TID are not counted', () => {
  const r = new TemporalRates();
  for (let ms = 0; ms < 1000; ms += 10) {
    r.add(0, 500, ms); // 400 kbit/s
    r.add(1, 250, ms); // 200 kbit/s
    r.add(2, 250, ms); // 200 kbit/s
    r.add(5, 125, ms); // counted as TL2: 100 kbit/s
    r.add(-1, 1000, ms);
  }
  assert.equal(Math.round(r.upToBps(0, 999)), 400_000);
  assert.equal(Math.round(r.upToBps(1, 999)), 600_000);
  assert.equal(Math.round(r.upToBps(2, 999)), 900_000);
});
