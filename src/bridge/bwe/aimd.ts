/**
 * AIMD rate control for the delay-based estimate (draft-ietf-rmcat-gcc-02 §5.5, libwebrtc's
 * AimdRateControl): overuse -> decrease to 0.85 x the acknowledged rate; normal -> increase,
 * multiplicatively (8 %/s) far from the last known link capacity, additively (about one packet per
 * response time) near it; underuse -> hold. The increase never goes above 1.5 x acknowledged + 10 kbps.
 */
import { BW_NORMAL, BW_OVERUSING, BW_UNDERUSING } from './trendline.ts';

const HOLD = 0;
const INCREASE = 1;
const BETA = 0.85;

/** Running estimate of the link capacity, fed with the acknowledged rate at each overuse (kbps). */
class LinkCapacity {
  estimateKbps = -1;
  deviation = 0.4;

  has(): boolean {
    return this.estimateKbps >= 0;
  }
  reset(): void {
    this.estimateKbps = -1;
  }
  onOveruse(ackedBps: number): void {
    const sample = ackedBps / 1000;
    const a = 0.05;
    this.estimateKbps = this.estimateKbps < 0 ? sample : (1 - a) * this.estimateKbps + a * sample;
    const norm = this.estimateKbps > 1 ? this.estimateKbps : 1;
    const err = this.estimateKbps - sample;
    this.deviation = (1 - a) * this.deviation + (a * err * err) / norm;
    if (this.deviation < 0.4) this.deviation = 0.4;
    else if (this.deviation > 2.5) this.deviation = 2.5;
  }
  upperBps(): number {
    if (this.estimateKbps < 0) return Infinity;
    return (this.estimateKbps + 3 * Math.sqrt(this.estimateKbps * this.deviation)) * 1000;
  }
  lowerBps(): number {
    if (this.estimateKbps < 0) return 0;
    const v = this.estimateKbps - 3 * Math.sqrt(this.estimateKbps * this.deviation);
    return v > 0 ? v * 1000 : 0;
  }
}

export class AimdRateControl {
  estimateBps: number;
  readonly minBps: number;
  readonly maxBps: number;
  /** Smoothed round-trip time (ms), set by the owner. */
  rttMs = 100;
  lastDecreaseUs = -Infinity;
  private readonly link = new LinkCapacity();
  private state = HOLD;
  private lastChangeUs = -1;

  constructor(startBps: number, minBps: number, maxBps: number) {
    this.minBps = minBps;
    this.maxBps = maxBps;
    this.estimateBps = clamp(startBps, minBps, maxBps);
  }

  /** An explicit estimate (a probe result): it replaces the current one. */
  setEstimate(bps: number, nowUs: number): void {
    this.estimateBps = clamp(bps, this.minBps, this.maxBps);
    this.lastChangeUs = nowUs;
  }

  /** Reduce again on overuse only once per RTT (10..200 ms), or when the acked rate halved. */
  timeToReduceFurther(nowUs: number, ackedBps: number): boolean {
    let rtt = this.rttMs;
    if (rtt < 10) rtt = 10;
    else if (rtt > 200) rtt = 200;
    if (nowUs - this.lastDecreaseUs >= rtt * 1000) return true;
    return ackedBps > 0 && ackedBps < this.estimateBps / 2;
  }

  /** One detector signal (BW_*) with the acknowledged rate (bps, <= 0 when unknown). */
  update(signal: number, ackedBps: number, nowUs: number): number {
    if (this.lastChangeUs < 0) this.lastChangeUs = nowUs;
    if (signal === BW_OVERUSING) {
      this.decrease(ackedBps, nowUs);
      return this.estimateBps;
    }
    if (signal === BW_UNDERUSING) this.state = HOLD;
    else if (signal === BW_NORMAL && this.state === HOLD) this.state = INCREASE;
    if (this.state === INCREASE) {
      const limit = ackedBps > 0 ? 1.5 * ackedBps + 10_000 : Infinity;
      if (ackedBps > this.link.upperBps()) this.link.reset();
      let dt = (nowUs - this.lastChangeUs) / 1e6;
      if (dt > 1) dt = 1;
      if (dt < 0) dt = 0;
      const cur = this.estimateBps;
      if (cur < limit) {
        let inc: number;
        if (this.link.has()) {
          inc = this.nearMaxIncreaseBpsPerS() * dt;
        } else {
          inc = cur * (Math.pow(1.08, dt) - 1);
          if (inc < 1000 * dt) inc = 1000 * dt;
        }
        const next = cur + inc;
        this.estimateBps = clamp(next < limit ? next : limit, this.minBps, this.maxBps);
      }
    }
    this.lastChangeUs = nowUs;
    return this.estimateBps;
  }

  private decrease(ackedBps: number, nowUs: number): void {
    const cur = this.estimateBps;
    let next = ackedBps > 0 ? BETA * ackedBps : BETA * cur;
    if (next > cur && this.link.has()) next = BETA * this.link.estimateKbps * 1000;
    if (next < cur) this.estimateBps = clamp(next, this.minBps, this.maxBps);
    if (ackedBps > 0) {
      if (ackedBps < this.link.lowerBps()) this.link.reset();
      this.link.onOveruse(ackedBps);
    }
    this.state = HOLD;
    this.lastChangeUs = nowUs;
    this.lastDecreaseUs = nowUs;
  }

  /** About one average packet per response time (RTT + 100 ms), at 30 frames per second. */
  private nearMaxIncreaseBpsPerS(): number {
    const bitsPerFrame = this.estimateBps / 30;
    const packetsPerFrame = Math.ceil(bitsPerFrame / (1200 * 8));
    const avgPacketBits = bitsPerFrame / packetsPerFrame;
    const responseS = (this.rttMs + 100) / 1000;
    const v = avgPacketBits / responseS;
    return v > 4000 ? v : 4000;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
