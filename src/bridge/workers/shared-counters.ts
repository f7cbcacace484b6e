// Each media worker's packet counters (counters.ts) on shared memory: the worker copies them there ten times a
// second while it receives or sends media (once a second otherwise, media-worker.ts), and the control thread sums
// every worker's copy when it is read, without a message either way (the control thread used to ask every worker
// for them ten times a second, a wake-up and two structured clones each). A copy may be up to COPY_EVERY_MS old
// (a second for a worker without media); the exact sums (the benchmark, a worker's final counters) are asked for
// by message (pool.ts `counters()`).
import { BridgeCounters } from '../counters.ts';

/** How often a worker with media copies its counters to its shared slot. */
export const COPY_EVERY_MS = 100;

/** The counters' names, in their order in a slot. */
const FIELDS: readonly string[] = Object.keys(new BridgeCounters());

/** One worker's slot: a Float64Array of every counter. */
export class SharedCounters {
  readonly sab: SharedArrayBuffer;
  private readonly values: Float64Array;

  constructor(sab: SharedArrayBuffer = new SharedArrayBuffer(FIELDS.length * Float64Array.BYTES_PER_ELEMENT)) {
    this.sab = sab;
    this.values = new Float64Array(sab);
  }

  /** The worker's side: copies its counters into the slot. */
  write(counters: BridgeCounters): void {
    const c = counters as unknown as Record<string, number>;
    const v = this.values;
    for (let i = 0; i < FIELDS.length; i++) v[i] = c[FIELDS[i]!]!;
  }

  /** The control thread's side: adds the slot's counters to `sum`. */
  addTo(sum: Record<string, number>): void {
    const v = this.values;
    for (let i = 0; i < FIELDS.length && i < v.length; i++) sum[FIELDS[i]!] = (sum[FIELDS[i]!] ?? 0) + v[i]!;
  }
}
