// What the metrics listener reads from the parts of this process: only what their handles already offer
// (startSignal, startFocus, startBridge, startRecorder), described here by shape, so no part imports this folder
// and this folder imports no part's internals.
import type { Metric } from 'prom-client';
import type { Bus } from '../bus/bus.ts';
import type { PartName } from '../config/config.ts';

export interface MetricsSources {
  parts: PartName[];
  bus: Bus;
  signal?: {
    resourceCounts(): Record<string, number>;
    metrics: { list(): Metric[] };
  };
  /** TURN (with signal): up() is 1/0 while coturn runs here, undefined otherwise; the TLS path's connection counters. */
  turn?: { up(): number | undefined; tlsCounters?: { piped: number; open: number } };
  focus?: {
    resourceCounts(): Record<string, number>;
    bridgeLoads(): { bridgeId: string; endpoints: number; maxEndpoints: number; conferences: number }[];
  };
  bridge?: {
    bridgeId: string;
    /** Packet counters (bridge/counters.ts), summed over the media workers. */
    readCounters(): Promise<Record<string, number>>;
    /** Receivers' report bucket counts (bridge/receiver-reports.ts). */
    readReceiverReports(): Promise<Record<string, number>>;
    load(): { conferences: number; endpoints: number; maxEndpoints: number; largestConference: number };
    /** It was told to stop (SIGTERM) and waits for its conferences to move away. */
    readonly draining?: boolean;
  };
  /** The recorder's running jobs: recordings and live streams (`isStream`). */
  recorder?: { recorderId: string; recordings: ReadonlyMap<string, { readonly isStream: boolean }> };
  /** The SIP gateway's calls in meetings, now and since it started, by direction; calls refused, by status; messages it could not take, by reason. */
  sip?: {
    gatewayId: string;
    callStats: { activeCalls(direction: 'in' | 'out'): number; totalCalls(direction: 'in' | 'out'): number };
    malformedMessages(): Record<string, number>;
    refusedCalls(): Record<string, number>;
  };
  /** The recorder's cap (maxRecordingsPerRecorder). */
  maxRecordings: number;
}
