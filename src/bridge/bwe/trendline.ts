/**
 * Delay-based overuse detection (draft-ietf-rmcat-gcc-02 §5, as libwebrtc implements it):
 * - `InterArrival` groups packets sent within a 5 ms burst and yields, per completed group, the
 *   inter-departure and inter-arrival deltas to the previous group;
 * - `TrendlineDetector` accumulates the delay variation d = arrival delta - send delta, smooths it,
 *   fits a line (least squares) over the last 20 groups and compares the slope, scaled by the number of
 *   deltas, with an adaptive threshold: overusing / normal / underusing.
 * No allocation after construction; times in µs in, ms internally.
 */

export const BW_NORMAL = 0;
export const BW_UNDERUSING = 1;
export const BW_OVERUSING = 2;

const BURST_US = 5000;
const MAX_BURST_US = 100_000;

export class InterArrival {
  /** Outputs of the last add() that returned true (ms, bytes). */
  sendDeltaMs = 0;
  arrivalDeltaMs = 0;
  /** Arrival time (µs) of the group that just completed. */
  groupArrivalUs = 0;

  private curFirstSend = -1;
  private curLastSend = 0;
  private curFirstArrival = 0;
  private curLastArrival = 0;
  private prevLastSend = -1;
  private prevLastArrival = 0;
  private reordered = 0;

  reset(): void {
    this.curFirstSend = -1;
    this.prevLastSend = -1;
    this.reordered = 0;
  }

  /** Adds one received packet; true when a group completed and the deltas above are fresh. */
  add(sendUs: number, arrivalUs: number): boolean {
    if (this.curFirstSend < 0) {
      this.startGroup(sendUs, arrivalUs);
      return false;
    }
    if (sendUs < this.curFirstSend) return false; // reordered into an older group
    if (this.belongsToGroup(sendUs, arrivalUs)) {
      if (sendUs > this.curLastSend) this.curLastSend = sendUs;
      if (arrivalUs > this.curLastArrival) this.curLastArrival = arrivalUs;
      return false;
    }
    let ready = false;
    if (this.prevLastSend >= 0) {
      const sendDelta = this.curLastSend - this.prevLastSend;
      const arrivalDelta = this.curLastArrival - this.prevLastArrival;
      if (arrivalDelta < 0) {
        // arrival clock went backwards (or heavy reordering): start over after a few
        if (++this.reordered > 3) {
          this.reset();
          this.startGroup(sendUs, arrivalUs);
          return false;
        }
      } else {
        this.reordered = 0;
        this.sendDeltaMs = sendDelta / 1000;
        this.arrivalDeltaMs = arrivalDelta / 1000;
        this.groupArrivalUs = this.curLastArrival;
        ready = true;
      }
    }
    this.prevLastSend = this.curLastSend;
    this.prevLastArrival = this.curLastArrival;
    this.startGroup(sendUs, arrivalUs);
    return ready;
  }

  private startGroup(sendUs: number, arrivalUs: number): void {
    this.curFirstSend = sendUs;
    this.curLastSend = sendUs;
    this.curFirstArrival = arrivalUs;
    this.curLastArrival = arrivalUs;
  }

  private belongsToGroup(sendUs: number, arrivalUs: number): boolean {
    if (sendUs - this.curFirstSend <= BURST_US) return true;
    // a burst on the receiving side: packets that queued and then arrived together
    const arrivalDelta = arrivalUs - this.curLastArrival;
    const sendDelta = sendUs - this.curLastSend;
    if (arrivalDelta < 0) return true;
    return (
      arrivalDelta - sendDelta < 0 && arrivalDelta <= BURST_US && arrivalUs - this.curFirstArrival < MAX_BURST_US
    );
  }
}

const WINDOW = 20;
const SMOOTHING = 0.9;
const THRESHOLD_GAIN = 4;
const OVERUSE_TIME_MS = 10;
const K_UP = 0.0087;
const K_DOWN = 0.039;
const MAX_ADAPT_OFFSET_MS = 15;

export class TrendlineDetector {
  /** BW_NORMAL, BW_UNDERUSING or BW_OVERUSING. */
  state = BW_NORMAL;
  /** Last slope of the smoothed accumulated delay (ms per ms). */
  trend = 0;
  threshold = 12.5;

  private readonly xs = new Float64Array(WINDOW);
  private readonly ys = new Float64Array(WINDOW);
  private count = 0;
  private head = 0;
  private numDeltas = 0;
  private firstArrivalMs = -1;
  private accumulated = 0;
  private smoothed = 0;
  private prevTrend = 0;
  private timeOverUsing = -1;
  private overuseCounter = 0;
  private lastThresholdUpdateMs = -1;

  /** One group delta. Returns the new state. */
  update(arrivalDeltaMs: number, sendDeltaMs: number, arrivalUs: number): number {
    const arrivalMs = arrivalUs / 1000;
    if (this.numDeltas < 1000) this.numDeltas++;
    if (this.firstArrivalMs < 0) this.firstArrivalMs = arrivalMs;
    this.accumulated += arrivalDeltaMs - sendDeltaMs;
    this.smoothed = SMOOTHING * this.smoothed + (1 - SMOOTHING) * this.accumulated;
    this.xs[this.head] = arrivalMs - this.firstArrivalMs;
    this.ys[this.head] = this.smoothed;
    this.head = (this.head + 1) % WINDOW;
    if (this.count < WINDOW) this.count++;
    if (this.count === WINDOW) this.trend = this.slope();
    this.detect(sendDeltaMs, arrivalMs);
    return this.state;
  }

  private slope(): number {
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < WINDOW; i++) {
      sx += this.xs[i];
      sy += this.ys[i];
    }
    const mx = sx / WINDOW;
    const my = sy / WINDOW;
    let num = 0;
    let den = 0;
    for (let i = 0; i < WINDOW; i++) {
      const dx = this.xs[i] - mx;
      num += dx * (this.ys[i] - my);
      den += dx * dx;
    }
    return den > 0 ? num / den : this.trend;
  }

  private detect(tsDeltaMs: number, nowMs: number): void {
    if (this.numDeltas < 2) {
      this.state = BW_NORMAL;
      return;
    }
    const trend = this.trend;
    const modified = (this.numDeltas < 60 ? this.numDeltas : 60) * trend * THRESHOLD_GAIN;
    if (modified > this.threshold) {
      if (this.timeOverUsing < 0) this.timeOverUsing = tsDeltaMs / 2;
      else this.timeOverUsing += tsDeltaMs;
      this.overuseCounter++;
      if (this.timeOverUsing > OVERUSE_TIME_MS && this.overuseCounter > 1 && trend >= this.prevTrend) {
        this.timeOverUsing = 0;
        this.overuseCounter = 0;
        this.state = BW_OVERUSING;
      }
    } else if (modified < -this.threshold) {
      this.timeOverUsing = -1;
      this.overuseCounter = 0;
      this.state = BW_UNDERUSING;
    } else {
      this.timeOverUsing = -1;
      this.overuseCounter = 0;
      this.state = BW_NORMAL;
    }
    this.prevTrend = trend;
    this.updateThreshold(modified, nowMs);
  }

  private updateThreshold(modified: number, nowMs: number): void {
    if (this.lastThresholdUpdateMs < 0) this.lastThresholdUpdateMs = nowMs;
    const abs = modified < 0 ? -modified : modified;
    if (abs > this.threshold + MAX_ADAPT_OFFSET_MS) {
      // a spike (e.g. a route change): do not adapt to it
      this.lastThresholdUpdateMs = nowMs;
      return;
    }
    const k = abs < this.threshold ? K_DOWN : K_UP;
    let dt = nowMs - this.lastThresholdUpdateMs;
    if (dt > 100) dt = 100;
    if (dt < 0) dt = 0;
    this.threshold += k * (abs - this.threshold) * dt;
    if (this.threshold < 6) this.threshold = 6;
    else if (this.threshold > 600) this.threshold = 600;
    this.lastThresholdUpdateMs = nowMs;
  }
}
