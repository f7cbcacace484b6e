/**
 * Which simulcast layer each forwarded video source gets, for one receiver: the highest layer that both
 * the receiver's bandwidth estimate and the size of the tile showing it justify.
 *
 * Sources come in priority order (dominant speaker / on-stage first, then last-N order). Pass 1 gives
 * every visible source its lowest active layer while the budget lasts (the rest are suspended: -1), the
 * first visible one even over budget (a receiver always sees someone, and its feedback keeps flowing), then at its
 * lowest frame rate;
 * pass 2 upgrades sources in priority order as far as their tile and the remaining budget allow.
 * Temporal thinning: a layer whose temporal layers are measured is also offered at a lower frame rate (its TL0+TL1,
 * then its TL0 alone: 15 and 7.5 fps of Chrome's 30), and these come before the next smaller layer: a receiver
 * between two layers (the smaller fits whole, the larger does not) gets the larger layer's picture at a lower
 * frame rate. Below the smaller layer's full rate the larger one is not thinned (its keyframes alone would overrun
 * the link): the receiver goes down a layer, and that one may be thinned in turn. The options of a source
 * are ranked (layer, temporal): (l, all) > (l, TL1) > (l, TL0) > (l-1, all) > ...
 * Hysteresis: an option above the one a source had needs its bitrate x upgradeMargin to fit and is not
 * taken within upgradeHoldMs of that source's last downgrade; going down is immediate. A suspended source
 * comes back after its own hold, which doubles (up to MAX_RESUME_HOLD_MS) each time it is suspended again within
 * RESUME_TRIAL_MS of coming back (the link could not carry it after all: each try costs a keyframe and a burst), and
 * is upgradeHoldMs again once a return lasted.
 * No allocation per call; the caller owns the SourceDemand objects and reuses them.
 */

export interface SimulcastLayer {
  width: number;
  height: number;
  /** Measured send rate of this layer (bps); 0 when the sender does not send it now. */
  bitrateBps: number;
  /** Measured rates of its temporal layer 0 alone and of 0 and 1 together (bps); 0: not measured (no reduced frame rate offered). */
  tl0Bps?: number;
  tl1Bps?: number;
}

/** demand.temporal: every temporal layer (the full frame rate). */
export const ALL_TEMPORAL_LAYERS = 2;

export interface SourceDemand {
  /** Spatial layers, lowest first. */
  layers: SimulcastLayer[];
  /** Size of the tile the receiver shows the source in (CSS pixels x devicePixelRatio); 0 x 0 = off-screen. */
  tileWidth: number;
  tileHeight: number;
  /** Output: the selected spatial layer, -1 = none. Keep it between calls (it is the hysteresis state). */
  target: number;
  /** Output: its highest temporal layer: 0 (TL0 only), 1 (TL0+TL1), ALL_TEMPORAL_LAYERS (all). */
  temporal: number;
  /** Hysteresis state: time of the last downgrade (ms), -Infinity initially. */
  lastDowngradeMs: number;
  /**
   * Hysteresis state: how long a suspension for the budget holds (ms; 0: none was, upgradeHoldMs), and when the
   * source came back from one (-Infinity: not on trial).
   */
  resumeHoldMs: number;
  resumedAtMs: number;
}

/** A source suspended again within this long of coming back had its return fail. */
export const RESUME_TRIAL_MS = 10_000;
/** The longest a suspended source waits before it is tried again. */
export const MAX_RESUME_HOLD_MS = 16_000;

export function createSourceDemand(layers: SimulcastLayer[] = []): SourceDemand {
  return { layers, tileWidth: 0, tileHeight: 0, target: -1, temporal: ALL_TEMPORAL_LAYERS, lastDowngradeMs: -Infinity, resumeHoldMs: 0, resumedAtMs: -Infinity };
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

/**
 * The layer the tile asks for whatever is sent now: as idealLayer, over every layer not taller than `maxHeight`
 * (the lowest always counts; 0: no cap), sent now or not (a paused layer can be sent again) but seen once (a
 * size: one the sender never sent, its camera too small for it or its own cap, is not asked for); -1 when
 * off-screen.
 */
export function tileLayer(d: SourceDemand, maxHeight: number): number {
  if (!(d.tileWidth > 0) || !(d.tileHeight > 0)) return -1;
  let highest = -1;
  for (let i = 0; i < d.layers.length; i++) {
    const l = d.layers[i];
    if (i > 0 && (!(l.width > 0) || (maxHeight > 0 && l.height > maxHeight))) break;
    highest = i;
    if (l.width >= 0.9 * d.tileWidth && l.height >= 0.9 * d.tileHeight) return i;
  }
  return highest;
}

/** Shown and sent, but given no layer (by the last allocate(): the budget had no room for it). */
export function isSuspended(d: SourceDemand): boolean {
  return d.target < 0 && idealLayer(d) >= 0;
}

/** Keeping a source's layer is allowed up to this factor over the budget. */
const KEEP_TOLERANCE = 1.1;

/** A (layer, temporal) option's rank: higher is better; -1: none. */
function rank(layer: number, temporal: number): number {
  return layer < 0 ? -1 : layer * (ALL_TEMPORAL_LAYERS + 1) + temporal;
}

/**
 * The rate of layer l of d at temporal layers up to t; 0 when that option is not offered (not measured, or no
 * cheaper than the option above it: a layer without that many temporal layers).
 */
export function optionRate(d: SourceDemand, l: number, t: number): number {
  const layer = d.layers[l];
  const full = layer.bitrateBps;
  if (t >= ALL_TEMPORAL_LAYERS) return full;
  const tl1 = layer.tl1Bps ?? 0;
  if (t === 1) return tl1 > 0 && tl1 < 0.9 * full ? tl1 : 0;
  const tl0 = layer.tl0Bps ?? 0;
  const above = tl1 > 0 && tl1 < 0.9 * full ? tl1 : full;
  return tl0 > 0 && tl0 < 0.9 * above ? tl0 : 0;
}

export class LayerSelector {
  upgradeMargin: number;
  upgradeHoldMs: number;
  /** Budget left over after the last allocate() (bps). */
  remainingBps = 0;

  constructor(upgradeMargin = 1.2, upgradeHoldMs = 4000) {
    this.upgradeMargin = upgradeMargin;
    this.upgradeHoldMs = upgradeHoldMs;
  }

  /** Sets demands[i].target and .temporal for all sources; returns true when any changed. */
  allocate(estimateBps: number, demands: readonly SourceDemand[], nowMs: number): boolean {
    let budget = estimateBps > 0 ? estimateBps : 0;
    let changed = false;
    const n = demands.length;
    const prev = this.prevScratch(n);
    let first = true;
    for (let i = 0; i < n; i++) {
      const d = demands[i];
      prev[i] = rank(d.target, d.temporal);
      d.target = -1;
      d.temporal = ALL_TEMPORAL_LAYERS;
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
      // the lowest layer at the highest frame rate that fits; the first source even over budget
      let t = ALL_TEMPORAL_LAYERS;
      for (; t >= 0; t--) {
        const rate = optionRate(d, lowest, t);
        if (rate > 0 && this.cost(d, lowest, t, rate, prev[i], nowMs) <= budget) break;
      }
      if (t >= 0 || first) {
        // the first over budget: its cheapest option (its lowest frame rate), not a full rate that overruns the link more
        if (t < 0) for (t = 0; t < ALL_TEMPORAL_LAYERS && !(optionRate(d, lowest, t) > 0); t++);
        d.target = lowest;
        d.temporal = t;
        budget -= optionRate(d, lowest, t);
        if (budget < 0) budget = 0;
      }
      first = false;
    }
    for (let i = 0; i < n; i++) {
      const d = demands[i];
      if (d.target < 0) continue;
      const ideal = idealLayer(d);
      const have = optionRate(d, d.target, d.temporal);
      const haveRank = rank(d.target, d.temporal);
      upgrade: for (let l = ideal; l >= d.target; l--) {
        if (!(d.layers[l].bitrateBps > 0)) continue;
        // a lower frame rate of layer l only between layers: when the next smaller one would fit whole (below
        // that, the larger layer's keyframes alone overrun the link: go down a layer instead)
        const thinnable = l === 0 || have + budget >= d.layers[l - 1].bitrateBps;
        for (let t = ALL_TEMPORAL_LAYERS; t >= 0; t--) {
          if (rank(l, t) <= haveRank) break upgrade;
          if (t < ALL_TEMPORAL_LAYERS && !thinnable) break;
          const rate = optionRate(d, l, t);
          if (rate > 0 && this.cost(d, l, t, rate, prev[i], nowMs) - have <= budget) {
            budget -= rate - have;
            d.target = l;
            d.temporal = t;
            break upgrade;
          }
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const d = demands[i];
      const now = rank(d.target, d.temporal);
      if (now !== prev[i]) {
        changed = true;
        if (now < prev[i]) d.lastDowngradeMs = nowMs;
        if (isSuspended(d)) {
          // suspended for the budget: a return from the last such suspension that did not last holds twice as long
          const hold = d.resumeHoldMs > 0 ? d.resumeHoldMs : this.upgradeHoldMs;
          d.resumeHoldMs = nowMs - d.resumedAtMs < RESUME_TRIAL_MS ? Math.min(2 * hold, MAX_RESUME_HOLD_MS) : this.upgradeHoldMs;
          d.resumedAtMs = -Infinity;
        } else if (now >= 0 && prev[i] < 0 && d.resumeHoldMs > 0) d.resumedAtMs = nowMs; // back from a suspension: on trial
      }
      if (now < 0 && idealLayer(d) < 0) {
        // off-screen, or nothing sent (whatever it had before): no word on the link
        d.resumeHoldMs = 0;
        d.resumedAtMs = -Infinity;
      }
    }
    this.remainingBps = budget;
    return changed;
  }

  /**
   * Budget needed for option (l, t) of d at `rate`: its rate, with the upgrade margin above the previous option;
   * keeping the previous option is allowed up to KEEP_TOLERANCE over budget (a layer's measured rate swings with
   * its keyframes: without it, a rate near the budget would flap, and every spatial switch costs a keyframe).
   */
  private cost(d: SourceDemand, l: number, t: number, rate: number, prevRank: number, nowMs: number): number {
    const r = rank(l, t);
    if (r === prevRank) return rate / KEEP_TOLERANCE;
    if (r < prevRank) return rate;
    // back on screen (or sent again) after no layer for another reason than the budget: no hold
    if (prevRank < 0 && d.resumeHoldMs === 0) return rate * this.upgradeMargin;
    const hold = prevRank < 0 ? d.resumeHoldMs : this.upgradeHoldMs;
    if (nowMs - d.lastDowngradeMs < hold) return Infinity;
    return rate * this.upgradeMargin;
  }

  /** Previous ranks during allocate() (grows only when there are more sources than ever before). */
  private scratch = new Int32Array(16);
  private prevScratch(n: number): Int32Array {
    if (this.scratch.length < n) this.scratch = new Int32Array(n * 2);
    return this.scratch;
  }
}
