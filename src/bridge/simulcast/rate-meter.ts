/**
 * Bitrate of one stream over a sliding window of fixed bins (default 10 x 100 ms), allocation-free.
 * The router keeps one per simulcast layer SSRC: add() per packet, rateBps() when allocating layers.
 */
export class RateMeter {
  private readonly bins: Float64Array;
  private readonly binMs: number;
  private lastBin = 0;
  private started = false;
  private total = 0;

  constructor(windowMs = 1000, bins = 10) {
    this.bins = new Float64Array(bins);
    this.binMs = windowMs / bins;
  }

  add(bytes: number, nowMs: number): void {
    this.advance(nowMs);
    this.bins[mod(this.lastBin, this.bins.length)] += bytes;
    this.total += bytes;
  }

  /** Bits per second over the window ending now (0 when nothing arrived within it). */
  rateBps(nowMs: number): number {
    this.advance(nowMs);
    return (this.total * 8000) / (this.binMs * this.bins.length);
  }

  private advance(nowMs: number): void {
    const bin = Math.floor(nowMs / this.binMs);
    if (!this.started) {
      this.started = true;
      this.lastBin = bin;
      return;
    }
    if (bin <= this.lastBin) return;
    const n = this.bins.length;
    if (bin - this.lastBin >= n) {
      this.bins.fill(0);
      this.total = 0;
    } else {
      for (let b = this.lastBin + 1; b <= bin; b++) {
        this.total -= this.bins[mod(b, n)];
        this.bins[mod(b, n)] = 0;
      }
    }
    this.lastBin = bin;
  }
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
