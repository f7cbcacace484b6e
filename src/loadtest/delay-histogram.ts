// One-way delays of received media, for the load tester's and the benchmark's reports.

/** One-way delays in 10 µs buckets up to 500 ms; later samples land in the last bucket. */
export class DelayHistogram {
  static readonly BUCKET_US = 10;
  private readonly buckets = new Uint32Array(50_000);
  count = 0;

  add(us: number): void {
    let i = (us / DelayHistogram.BUCKET_US) | 0;
    if (i >= this.buckets.length || i < 0) i = this.buckets.length - 1;
    this.buckets[i]++;
    this.count++;
  }

  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
  }

  /** The q-quantile (0..1) in µs (upper edge of its bucket); NaN with no samples. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i];
      if (seen >= target) return (i + 1) * DelayHistogram.BUCKET_US;
    }
    return NaN;
  }

  /** The non-empty buckets as [index, count] pairs: small enough to send to another process. */
  sparse(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.buckets.length; i++) if (this.buckets[i]! > 0) out.push([i, this.buckets[i]!]);
    return out;
  }

  /** Adds another histogram's `sparse()` (indexes out of range are ignored). */
  addSparse(pairs: Array<[number, number]>): void {
    for (const [i, n] of pairs) {
      if (!Number.isInteger(i) || i < 0 || i >= this.buckets.length || !(n > 0)) continue;
      this.buckets[i] += n;
      this.count += n;
    }
  }
}
