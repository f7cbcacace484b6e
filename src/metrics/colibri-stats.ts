// A stats document with the field names of Jitsi Videobridge's /colibri/stats where they mean the same, so Jitsi
// dashboards and autoscalers read Tertulia: `download` is what the bridge receives from participants, `upload`
// what it sends them (as in Jitsi); bit rates in kbit/s, packet rates per second, over the last sampling period
// (5 s, read from the bridge's counters by a timer, not per packet). stress_level is the bridge's endpoints over its
// cap (maxEndpointsPerBridge), 0..1. In a process without a bridge the rates are 0 and the counts are focus's
// (else signal's).
import type { MetricsSources } from './metric-sources.ts';
import { VERSION } from '../cli/version.ts';

const SAMPLE_MS = 5000;

interface Sample {
  at: number;
  bytesIn: number;
  bytesOut: number;
  rtpIn: number;
  rtpOut: number;
}

export class ColibriStats {
  private readonly sources: MetricsSources;
  private last: Sample | undefined;
  private rates = { bitRateDownload: 0, bitRateUpload: 0, packetRateDownload: 0, packetRateUpload: 0 };
  private readonly timer: NodeJS.Timeout | undefined;
  private totals: Record<string, number> = {};

  constructor(sources: MetricsSources) {
    this.sources = sources;
    if (sources.bridge) {
      void this.sample();
      this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
      this.timer.unref();
    }
  }

  private async sample(): Promise<void> {
    const c = await this.sources.bridge!.readCounters().catch(() => undefined);
    if (!c) return;
    const now: Sample = { at: performance.now(), bytesIn: c.bytesIn ?? 0, bytesOut: c.bytesOut ?? 0, rtpIn: c.rtpIn ?? 0, rtpOut: c.rtpOut ?? 0 };
    const prev = this.last;
    if (prev && now.at > prev.at) {
      const s = (now.at - prev.at) / 1000;
      this.rates = {
        bitRateDownload: Math.round(((now.bytesIn - prev.bytesIn) * 8) / 1000 / s),
        bitRateUpload: Math.round(((now.bytesOut - prev.bytesOut) * 8) / 1000 / s),
        packetRateDownload: Math.round((now.rtpIn - prev.rtpIn) / s),
        packetRateUpload: Math.round((now.rtpOut - prev.rtpOut) / s),
      };
    }
    this.last = now;
    this.totals = c;
  }

  async document(): Promise<Record<string, unknown>> {
    const { bridge, focus, signal } = this.sources;
    let conferences = 0;
    let participants = 0;
    let largest = 0;
    let stress = 0;
    const extra: Record<string, unknown> = {};
    if (bridge) {
      const load = bridge.load();
      conferences = load.conferences;
      participants = load.endpoints;
      largest = load.largestConference;
      stress = load.maxEndpoints > 0 ? Math.min(1, load.endpoints / load.maxEndpoints) : 0;
      const reports = await bridge.readReceiverReports();
      const avg = (k: string) => ((reports[`${k}.count`] ?? 0) > 0 ? (reports[`${k}.sum`] ?? 0) / reports[`${k}.count`]! : 0);
      Object.assign(extra, {
        rtt_aggregate: avg('rttMs'),
        jitter_aggregate: avg('jitterMs'),
        loss_rate_upload: avg('loss'),
        total_packets_received: this.totals.rtpIn ?? 0,
        total_packets_sent: this.totals.rtpOut ?? 0,
        total_bytes_received: this.totals.bytesIn ?? 0,
        total_bytes_sent: this.totals.bytesOut ?? 0,
        total_keyframes_requested: this.totals.keyframeRequests ?? 0,
        relay_id: bridge.bridgeId,
      });
    } else if (focus) {
      const c = focus.resourceCounts();
      conferences = c['focus.conferences'] ?? 0;
      participants = c['focus.participants'] ?? 0;
    } else if (signal) {
      const c = signal.resourceCounts();
      conferences = c['signal.rooms'] ?? 0;
      participants = c['signal.participants'] ?? 0;
    }
    return {
      conferences,
      participants,
      endpoints: participants,
      largest_conference: largest,
      inactive_conferences: 0,
      p2p_conferences: 0,
      bit_rate_download: this.rates.bitRateDownload,
      bit_rate_upload: this.rates.bitRateUpload,
      packet_rate_download: this.rates.packetRateDownload,
      packet_rate_upload: this.rates.packetRateUpload,
      stress_level: stress,
      graceful_shutdown: bridge?.draining ?? false,
      drain: bridge?.draining ?? false,
      healthy: true,
      ...extra,
      version: VERSION,
      current_timestamp: new Date().toISOString().replace('T', ' ').replace('Z', ''),
    };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
