/**
 * Which simulcast layer each forwarded video source gets, for one receiver: the highest layer that both
 * the receiver's bandwidth estimate and the size of the tile showing it justify.
 *
 * Sources come in priority order (dominant speaker / on-stage first, then last-N order). Pass 1 gives
 * every visible source its lowest active layer while the budget lasts (the rest are suspended: -1), the
 * first visible one even over budget (a receiver always sees someone, and its feedback keeps flowing);
 * pass 2 upgrades sources in priority order as far as their tile and the remaining budget allow.
 * Hysteresis: a layer above the one a source had needs its bitrate x upgradeMargin to fit and is not
 * taken within upgradeHoldMs of that source's last downgrade; going down is immediate.
 * No allocation per call; the caller owns the SourceDemand objects and reuses them.
 */

export interface SimulcastLayer {
  width: number;
  height: number;
  /** Measured send rate of this layer (bps); 0 when the sender does not send it now. */
  bitrateBps: number;
}

export interface SourceDemand {
  /** Spatial layers, lowest first. */
  layers: SimulcastLayer[];
  /** Size of the tile the receiver shows the source in (CSS pixels x devicePixelRatio); 0 x 0 = off-screen. */
  tileWidth: number;
  tileHeight: number;
  /** Output: the selected spatial layer, -1 = none. Keep it between calls (it is the hysteresis state). */
  target: number;
  /** Hysteresis state: time of the last downgrade (ms), -Infinity initially. */
  lastDowngradeMs: number;
}

export function createSourceDemand(layers: SimulcastLayer[] = []): SourceDemand {
  return { layers, tileWidth: 0, tileHeight: 0, target: -1, lastDowngradeMs: -Infinity };
}

/**
 * The layer the tile needs: the lowest active layer at least 90 % of the tile in both dimensions, else
 * the highest active one; -1 when off-screen or nothing is sent.
 */
export function idealLayer(d: SourceDemand): number {
  if (!(d.tileWidth > 0) || !(d.tileHeight > 0)) return -1;
  let highest = -1;
  for (let i = 0; i < d.layers.length; i++) {
    const l = d.layers[i];
    if (!(l.bitrateBps > 0)) continue;
    highest = i;
    if (l.width >= 0.9 * d.tileWidth && l.height >= 0.9 * d.tileHeight) return i;
  }
  return highest;
}

/** Keeping a source's layer is allowed up to this factor over the budget. */
const KEEP_TOLERANCE = 1.1;

export class LayerSelector {
  upgradeMargin: number;
  upgradeHoldMs: number;
  /** Budget left over after the last allocate() (bps). */
  remainingBps = 0;

  constructor(upgradeMargin = 1.2, upgradeHoldMs = 4000) {
    this.upgradeMargin = upgradeMargin;
    this.upgradeHoldMs = upgradeHoldMs;
  }

  /** Sets demands[i].target for all sources; returns true when any target changed. */
  allocate(estimateBps: number, demands: readonly SourceDemand[], nowMs: number): boolean {
    let budget = estimateBps > 0 ? estimateBps : 0;
    let changed = false;
    const n = demands.length;
    const prev = this.prevScratch(n);
    let first = true;
    for (let i = 0; i < n; i++) {
      const d = demands[i];
      prev[i] = d.target;
      d.target = -1;
      const ideal = idealLayer(d);
      if (ideal < 0) continue;
      let lowest = -1;
      for (let l = 0; l <= ideal; l++) {
        if (d.layers[l].bitrateBps > 0) {
          lowest = l;
          break;
        }
      }
      if (lowest < 0) continue;
      const cost = this.cost(d, lowest, prev[i], nowMs);
      if (cost <= budget || first) {
        d.target = lowest;
        budget -= d.layers[lowest].bitrateBps;
        if (budget < 0) budget = 0;
      }
      first = false;
    }
    for (let i = 0; i < n; i++) {
      const d = demands[i];
      if (d.target < 0) continue;
      const ideal = idealLayer(d);
      const have = d.layers[d.target].bitrateBps;
      for (let l = ideal; l > d.target; l--) {
        const layer = d.layers[l];
        if (!(layer.bitrateBps > 0)) continue;
        if (this.cost(d, l, prev[i], nowMs) - have <= budget) {
          budget -= layer.bitrateBps - have;
          d.target = l;
          break;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const d = demands[i];
      if (d.target !== prev[i]) {
        changed = true;
        if (d.target < prev[i]) d.lastDowngradeMs = nowMs;
      }
    }
    this.remainingBps = budget;
    return changed;
  }

  /**
   * Budget needed for layer l of d: its bitrate, with the upgrade margin above the previous layer; keeping the
   * previous layer is allowed up to KEEP_TOLERANCE over budget (a layer's measured rate swings with its
   * keyframes: without it, a rate near the budget would flap, and every switch costs a keyframe).
   */
  private cost(d: SourceDemand, l: number, prev: number, nowMs: number): number {
    const rate = d.layers[l].bitrateBps;
    if (l === prev) return rate / KEEP_TOLERANCE;
    if (l < prev) return rate;
    if (nowMs - d.lastDowngradeMs < this.upgradeHoldMs) return Infinity;
    return rate * this.upgradeMargin;
  }

  /** Previous targets during allocate() (grows only when there are more sources than ever before). */
  private scratch = new Int32Array(16);
  private prevScratch(n: number): Int32Array {
    if (this.scratch.length < n) this.scratch = new Int32Array(n * 2);
    return this.scratch;
  }
}
