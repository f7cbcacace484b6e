/**
 * The send rate of each temporal layer of one simulcast layer (VP8: the descriptor's TID), so the layer selector
 * can offer a receiver short of bandwidth a larger layer at a lower frame rate (Chrome's L1T3: TL0 = 7.5 fps,
 * TL0+TL1 = 15 fps, all = 30 fps) before a smaller layer. TIDs above 2 count as TL2. Packets without a TID
 * (no temporal layers, padding) are not counted: then every rate here is 0 and no reduced frame rate is offered.
 * add() per packet allocates nothing.
 */
import { RateMeter } from './rate-meter.ts';

/** Temporal layers told apart: TL0, TL1, TL2 and above. */
export const TEMPORAL_LAYERS = 3;

export class TemporalRates {
  private readonly meters: RateMeter[] = [];

  constructor(windowMs = 1000, bins = 10) {
    for (let t = 0; t < TEMPORAL_LAYERS; t++) this.meters.push(new RateMeter(windowMs, bins));
  }

  /** A packet of `bytes` with temporal layer id `tid` (-1: none, not counted). */
  add(tid: number, bytes: number, nowMs: number): void {
    if (tid < 0) return;
    this.meters[tid < TEMPORAL_LAYERS ? tid : TEMPORAL_LAYERS - 1].add(bytes, nowMs);
  }

  /** The rate (bps) of temporal layers 0..t together. */
  upToBps(t: number, nowMs: number): number {
    let sum = 0;
    for (let i = 0; i <= t && i < TEMPORAL_LAYERS; i++) sum += this.meters[i].rateBps(nowMs);
    return sum;
  }
}
