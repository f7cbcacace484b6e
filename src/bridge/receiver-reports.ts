// What receivers report about the streams the bridge sends them (RTCP receiver report blocks, kept by each
// downtrack): loss, round-trip time and jitter, summed into bucket counts for /metrics. Read when the metrics are
// scraped, never on the packet path. Bucket counts add up over media workers (each counts the downtracks it sends).
import type { Conference } from './conference.ts';

/** Upper bounds of the buckets: fraction lost (0..1), round-trip time (ms), jitter (ms). */
export const LOSS_BUCKETS = [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5] as const;
export const RTT_MS_BUCKETS = [10, 25, 50, 100, 200, 400, 800, 1600] as const;
export const JITTER_MS_BUCKETS = [5, 10, 20, 40, 80, 160] as const;

function count(out: Record<string, number>, name: string, bounds: readonly number[], value: number): void {
  // cumulative, as Prometheus buckets: every bound at or above the value
  for (const b of bounds) if (value <= b) out[`${name}.le.${b}`]! += 1;
  out[`${name}.count`]! += 1;
  out[`${name}.sum`]! += value;
}

/**
 * Over the downtracks this thread sends (the endpoint's egress is here) whose receiver sent a report:
 * `loss.le.<b>`, `rttMs.le.<b>`, `jitterMs.le.<b>` (cumulative counts), and each one's `.count` and `.sum`.
 */
export function receiverReportBuckets(conferences: Iterable<Conference>): Record<string, number> {
  const out: Record<string, number> = {};
  // every bucket from the start, zero or not (a series that appears later confuses rate() and dashboards)
  for (const [name, bounds] of [['loss', LOSS_BUCKETS], ['rttMs', RTT_MS_BUCKETS], ['jitterMs', JITTER_MS_BUCKETS]] as const) {
    for (const b of bounds) out[`${name}.le.${b}`] = 0;
    out[`${name}.count`] = 0;
    out[`${name}.sum`] = 0;
  }
  for (const conference of conferences) {
    for (const endpoint of conference.endpoints.values()) {
      if (!endpoint.egress.local) continue;
      for (const dt of endpoint.downtracks.values()) {
        if (!dt.reported) continue;
        count(out, 'loss', LOSS_BUCKETS, dt.fractionLost);
        if (dt.rttMs >= 0) count(out, 'rttMs', RTT_MS_BUCKETS, dt.rttMs);
        count(out, 'jitterMs', JITTER_MS_BUCKETS, dt.jitterMs);
      }
    }
  }
  return out;
}
