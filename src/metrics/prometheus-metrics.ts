// /metrics: every part this process runs, in the Prometheus text format (prom-client). Nothing here runs on the
// media path: the parts' own counters (bridge/counters.ts, summed over media workers; the receivers' reports;
// rooms and participants) are read when the registry is scraped, by collect callbacks. In a deployment over
// NATS each process serves the metrics of its own parts; Prometheus scrapes each.
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { VERSION } from '../cli/version.ts';
import type { MetricsSources } from './metric-sources.ts';

/** Bridge counters exported as Prometheus counters: counters.ts field -> metric name and help. */
const BRIDGE_COUNTERS: [field: string, name: string, help: string][] = [
  ['packetsIn', 'packets_received_total', 'UDP/TCP packets received on the media ports (all kinds)'],
  ['bytesIn', 'bytes_received_total', 'Bytes received on the media ports (bits: times 8)'],
  ['packetsOut', 'packets_sent_total', 'Packets sent from the media ports (all kinds)'],
  ['bytesOut', 'bytes_sent_total', 'Bytes sent from the media ports (bits: times 8)'],
  ['rtpIn', 'rtp_received_total', 'RTP packets received from senders (after SRTP)'],
  ['rtpOut', 'rtp_forwarded_total', 'RTP packets forwarded to receivers'],
  ['rtcpIn', 'rtcp_received_total', 'RTCP packets received'],
  ['rtcpOut', 'rtcp_sent_total', 'RTCP packets sent'],
  ['retransmits', 'retransmissions_total', 'Packets retransmitted to receivers on their NACKs'],
  ['nackMisses', 'nacks_unanswered_total', 'NACKed packets no longer in the retransmission buffer'],
  ['keyframeRequests', 'keyframe_requests_total', 'Keyframe requests (PLI/FIR) sent to senders'],
  ['keyframeRequestsThrottled', 'keyframe_requests_throttled_total', 'Keyframe requests held back by the throttle'],
  ['layerSwitches', 'layer_switches_total', 'Simulcast spatial layer switches made for receivers'],
  ['videoSuspensions', 'video_suspensions_total', "Cameras suspended for a receiver that shows them, its bandwidth having no room for them"],
  ['probePackets', 'probe_packets_total', 'Padding probe packets sent to receivers (bandwidth estimation)'],
  ['pacedPackets', 'paced_packets_total', "Video packets that waited in a receiver's pacer queue before leaving"],
  ['nativeForwarded', 'native_forwarded_total', 'Received RTP packets the native module forwarded without JavaScript'],
  ['twccFeedbackSent', 'twcc_feedback_sent_total', 'Transport-cc feedback packets sent to senders'],
  ['sendErrors', 'send_errors_sampled_total', 'Failed sends, sampled one in 16'],
  ['udpSendCalls', 'udp_send_calls_total', 'UDP send system calls (a batch of datagrams sent in one call counts once)'],
];

/** Bucket groups of bridge/receiver-reports.ts: key prefix -> metric name part, help. */
const REPORT_GROUPS: [key: string, name: string, help: string][] = [
  ['loss', 'loss_ratio', 'fraction lost (0..1)'],
  ['rttMs', 'rtt_milliseconds', 'round-trip time (ms)'],
  ['jitterMs', 'jitter_milliseconds', 'interarrival jitter (ms)'],
];

/** The value of a promise-returning read shared by the callbacks of one scrape (and any within `ttlMs`). */
function shared<T>(read: () => Promise<T>, ttlMs = 500): () => Promise<T> {
  let at = 0;
  let value: Promise<T> | undefined;
  return () => {
    const now = Date.now();
    if (!value || now - at > ttlMs) {
      at = now;
      value = read();
    }
    return value;
  };
}

/** How often the event-loop delay histogram samples (a timer wake-up each time). */
export const EVENT_LOOP_SAMPLE_MS = 100;

export function buildRegistry(sources: MetricsSources): Registry {
  const registry = new Registry();
  // the event-loop delay histogram samples every 100 ms, not prom-client's 10: its timer woke the main thread 100
  // times a second, ~0.3-0.8 % of a core on a small VM, whether anyone was connected or not (docs/BENCHMARKS.md)
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const reg = <M extends Metric>(m: M): M => {
    registry.registerMetric(m);
    return m;
  };
  const gauge = (name: string, help: string, read: () => number | undefined, labels: Record<string, string> = {}) =>
    reg(
      new Gauge({
        name,
        help,
        labelNames: Object.keys(labels),
        registers: [],
        collect() {
          const v = read();
          if (v !== undefined) this.set(labels, v);
        },
      }),
    );

  gauge('tertulia_info', 'Version and the parts this process runs (value 1)', () => 1, { version: VERSION, parts: sources.parts.join(',') });

  const { signal, focus, bridge, recorder, sip } = sources;
  if (signal) {
    const counts = () => signal.resourceCounts();
    gauge('tertulia_signal_rooms', 'Meetings (rooms) on this signal server', () => counts()['signal.rooms']);
    gauge('tertulia_signal_participants', 'Participants in meetings on this signal server', () => counts()['signal.participants']);
    gauge('tertulia_signal_websockets', 'Open WebSocket connections', () => counts()['signal.sockets']);
    for (const m of signal.metrics.list()) reg(m);
  }
  if (sources.turn) {
    const turn = sources.turn;
    gauge('tertulia_turn_up', 'TURN server (coturn) child: 1 running, 0 down (absent when coturn does not run here)', () => turn.up());
    gauge('tertulia_turn_tls_connections', 'TURN over TLS connections through the HTTPS port now open', () => turn.tlsCounters?.open);
  }
  if (focus) {
    const counts = () => focus.resourceCounts();
    gauge('tertulia_focus_conferences', 'Conferences focus runs', () => counts()['focus.conferences']);
    gauge('tertulia_focus_participants', 'Participants of those conferences (browsers and plain-RTP senders)', () => counts()['focus.participants']);
    gauge('tertulia_focus_bridges', 'Bridges focus knows (heard within bridgeFailureTimeout)', () => counts()['focus.bridges']);
    gauge('tertulia_focus_leader', 'This focus leads (runs the conferences): 1; stands by for the leader lease: 0', () => counts()['focus.leader']);
    // every bridge of the deployment as focus sees it: one scrape of machine A shows the load of all of them
    reg(
      new Gauge({
        name: 'tertulia_focus_bridge_endpoints',
        help: 'Endpoints on each bridge focus knows (what it announced or focus placed there, the larger)',
        labelNames: ['bridge'],
        registers: [],
        collect() {
          this.reset();
          for (const b of focus.bridgeLoads()) this.set({ bridge: b.bridgeId }, b.endpoints);
        },
      }),
    );
  }
  if (bridge) {
    const labels = { bridge: bridge.bridgeId };
    gauge('tertulia_bridge_conferences', 'Conferences on this bridge', () => bridge.load().conferences, labels);
    gauge('tertulia_bridge_endpoints', 'Endpoints (participants, plain-RTP and relay transports) on this bridge', () => bridge.load().endpoints, labels);
    gauge('tertulia_bridge_endpoints_max', "This bridge's cap on endpoints (maxEndpointsPerBridge)", () => bridge.load().maxEndpoints, labels);
    gauge('tertulia_bridge_largest_conference_endpoints', 'Endpoints of the largest conference on this bridge', () => bridge.load().largestConference, labels);
    const counters = shared(() => bridge.readCounters());
    for (const [field, name, help] of BRIDGE_COUNTERS) {
      reg(
        new Counter({
          name: `tertulia_bridge_${name}`,
          help,
          labelNames: ['bridge'],
          registers: [],
          async collect() {
            const c = await counters();
            this.reset();
            this.inc(labels, c[field] ?? 0);
          },
        }),
      );
    }
    reg(
      new Counter({
        name: 'tertulia_bridge_dropped_packets_total',
        help: 'Packets the bridge dropped, by reason (bridge/counters.ts: stun, dtls, srtp, unknownAddress, muted, ...)',
        labelNames: ['bridge', 'reason'],
        registers: [],
        async collect() {
          const c = await counters();
          this.reset();
          for (const [k, v] of Object.entries(c)) {
            if (k.startsWith('drop')) this.inc({ ...labels, reason: k[4]!.toLowerCase() + k.slice(5) }, v);
          }
        },
      }),
    );
    // process CPU time over RTP packets forwarded, since the previous scrape (worker threads' CPU included)
    let last: { cpuUs: number; forwarded: number } | undefined;
    reg(
      new Gauge({
        name: 'tertulia_bridge_cpu_microseconds_per_forwarded_packet',
        help: 'Process CPU time (µs) per RTP packet forwarded, since the previous scrape; absent when none was forwarded',
        labelNames: ['bridge'],
        registers: [],
        async collect() {
          const c = await counters();
          const u = process.cpuUsage();
          const now = { cpuUs: u.user + u.system, forwarded: c.rtpOut ?? 0 };
          this.reset();
          if (last && now.forwarded > last.forwarded) this.set(labels, (now.cpuUs - last.cpuUs) / (now.forwarded - last.forwarded));
          last = now;
        },
      }),
    );
    const reports = shared(() => bridge.readReceiverReports());
    for (const [key, name, help] of REPORT_GROUPS) {
      reg(
        new Gauge({
          name: `tertulia_bridge_receivers_by_${name}`,
          help: `Receiver streams by their receiver's last reported ${help}: how many at or below le (cumulative; le="+Inf" is all that reported)`,
          labelNames: ['bridge', 'le'],
          registers: [],
          async collect() {
            const r = await reports();
            this.reset();
            for (const [k, v] of Object.entries(r)) if (k.startsWith(`${key}.le.`)) this.set({ ...labels, le: k.slice(key.length + 4) }, v);
            this.set({ ...labels, le: '+Inf' }, r[`${key}.count`] ?? 0);
          },
        }),
      );
      reg(
        new Gauge({
          name: `tertulia_bridge_receivers_${name}_average`,
          help: `Average of the receivers' last reported ${help}; absent when none reported`,
          labelNames: ['bridge'],
          registers: [],
          async collect() {
            const r = await reports();
            this.reset();
            const n = r[`${key}.count`] ?? 0;
            if (n > 0) this.set(labels, (r[`${key}.sum`] ?? 0) / n);
          },
        }),
      );
    }
  }
  if (recorder) {
    const labels = { recorder: recorder.recorderId };
    const running = (streams: boolean) => [...recorder.recordings.values()].filter((r) => r.isStream === streams).length;
    gauge('tertulia_recorder_recordings_active', 'Recordings running on this recorder', () => running(false), labels);
    gauge('tertulia_recorder_live_streams_active', 'Live streams running on this recorder', () => running(true), labels);
    gauge('tertulia_recorder_recordings_max', "This recorder's cap (maxRecordingsPerRecorder: recordings and live streams together)", () => sources.maxRecordings, labels);
  }
  if (sip) {
    const directions = ['in', 'out'] as const;
    reg(
      new Gauge({
        name: 'tertulia_sip_calls_active',
        help: 'Phone calls in meetings on this SIP gateway, by direction (in: dialled in; out: Invite by phone)',
        labelNames: ['gateway', 'direction'],
        registers: [],
        collect() {
          for (const direction of directions) this.set({ gateway: sip.gatewayId, direction }, sip.callStats.activeCalls(direction));
        },
      }),
    );
    /** A counter of the gateway's since it started: one series per key of what `read` gives, as label `label`. */
    const countedBy = (name: string, help: string, label: string, read: () => Record<string, number>) =>
      reg(
        new Counter({
          name,
          help,
          labelNames: ['gateway', label],
          registers: [],
          collect() {
            this.reset();
            for (const [key, n] of Object.entries(read())) this.inc({ gateway: sip.gatewayId, [label]: key }, n);
          },
        }),
      );
    countedBy('tertulia_sip_calls_total', 'Phone calls that reached a meeting on this SIP gateway since it started, by direction', 'direction', () =>
      Object.fromEntries(directions.map((d) => [d, sip.callStats.totalCalls(d)])),
    );
    countedBy(
      'tertulia_sip_refused_calls_total',
      'Calls (INVITEs) the SIP gateway refused since it started, by SIP status (404: no such meeting, 403: not allowed in, 488: an unusable offer, 503: full...)',
      'status',
      () => sip.refusedCalls(),
    );
    countedBy(
      'tertulia_sip_malformed_messages_total',
      'SIP messages the gateway could not take, by reason (unparsable: not SIP, answered 400 when it could be; oversized: over 64 KB on TCP/TLS, the connection closed; badVia: no readable Via; tlsHandshake: a connection to the TLS port that failed its handshake)',
      'reason',
      () => sip.malformedMessages(),
    );
  }
  return registry;
}
