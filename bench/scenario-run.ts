// Runs one scenario: a fresh bridge process, the synthetic participants spread over driver processes
// (driver-pool.ts), a nominal-load measurement and (unless short) a search for the highest load held with under
// 1% loss. A step where a driver fell behind or neared a full core is marked driver-limited (driver-limits.ts).
// Publishers send their camera as rid simulcast; every receiver tells the bridge it shows each video in a
// tile of the scenario's size (1280x720 by default: the top layer) and sends transport-cc feedback every
// FEEDBACK_INTERVAL_MS, so the bridge's bandwidth estimate for it can grow past its 1 Mbit/s start (three
// top layers need ~4.3 Mbit/s with the selector's upgrade margin). Which layer each receiver got is reported.
import { performance } from 'node:perf_hooks';
import { BridgeProcess, type BridgeStats } from './bridge-control.ts';
import { nowUs32, ssrcBase } from '../src/loadtest/participant.ts';
import { AUDIO_FRAME_MS, VIDEO_FPS, type BenchMedia } from '../src/loadtest/media.ts';
import type { DirectParticipantPlan } from '../src/loadtest/plan.ts';
import { DEFAULT_TILE, type Scenario } from './scenarios.ts';
import { DelayHistogram } from '../src/loadtest/delay-histogram.ts';
import { DriverPool } from './driver-pool.ts';
import { driverLimit, type DriverStep } from './driver-limits.ts';
import { udpSocketDrops } from '../src/loadtest/socket-drops.ts';

export const LOSS_LIMIT = 0.01;
/** A load is held when loss < LOSS_LIMIT, no errors and the p99 delay shows no standing queue. */
export const DELAY_LIMIT_US = 200_000;

export function holds(m: Measurement): boolean {
  return m.loss < LOSS_LIMIT && m.errors === 0 && m.delayP99Us < DELAY_LIMIT_US;
}
const WARMUP_MS = 1000;
/** After a step, the bridge's RTP in is read every DRAIN_MS until it stops growing (DRAIN_MAX_MS at most). */
const DRAIN_MS = 400;
const DRAIN_MAX_MS = 5000;
export { FEEDBACK_INTERVAL_MS } from '../src/loadtest/direct-role.ts';
/** BENCH_TWCC_FEEDBACK=0: receivers send no feedback (the bridge's estimate for them stays at its start value). */
const FEEDBACK = process.env.BENCH_TWCC_FEEDBACK !== '0';
/**
 * Before the first measurement the load runs at x1 until every receiver gets every camera on the layer its
 * tile needs (checked every SETTLE_CHECK_MS, SETTLE_STABLE_CHECKS times in a row), SETTLE_MAX_MS at most:
 * the bridge's estimate starts at 1 Mbit/s and its probes and the selector's hysteresis take seconds.
 */
const SETTLE_MAX_MS = 20_000;
const SETTLE_CHECK_MS = 500;
const SETTLE_STABLE_CHECKS = 2;

/** The layer the bridge's selector should pick for a tile: the lowest at least 90 % of it, else the top. */
export function wantedLayer(media: BenchMedia, tile: { width: number; height: number }): number {
  const i = media.layers.findIndex((l) => l.width >= 0.9 * tile.width && l.height >= 0.9 * tile.height);
  return i >= 0 ? i : media.layers.length - 1;
}

/** Which simulcast layers the receivers got inside the window. */
export interface LayerReport {
  /** Layer labels, lowest first ("q 320x180"). */
  labels: string[];
  /** Received video packets and bytes by layer. */
  packets: number[];
  bytes: number[];
  /** Receiver × video source streams by the layer of their last packet in the window. */
  streamsAt: number[];
  /** Receiver × video source pairs that should get video, and how many got none. */
  streams: number;
  missing: number;
  /** Publishers' mean send rate per layer (bit/s, packets with headers and SRTP). */
  sentBps: number[];
}

export interface Measurement {
  load: number;
  seconds: number;
  sent: number;
  expected: number;
  received: number;
  loss: number;
  /** Opus: 1 − received / (sent × receivers); video: sequence gaps in each received stream. */
  audioLoss: number;
  videoLoss: number;
  layers: LayerReport;
  /** Bridge: padding-only probe packets (counted in bridgeRtpOut), transport-cc feedback in, layer switches. */
  probePackets: number;
  /** Datagrams the bridge sent per UDP send system call in the window (NaN: a bridge without the counter). */
  datagramsPerSendCall: number;
  twccFeedbackIn: number;
  layerSwitches: number;
  /** Bridge: RTP packets received in the window, and those of them the native routes forwarded without JavaScript. */
  bridgeRtpInWindow: number;
  nativeForwarded: number;
  /** Publishers: PLI/FIR entries received for a layer, and the jumps to the next keyframe they caused. */
  keyframeRequests: number;
  keyframeJumps: number;
  bridgeRtpIn: number;
  bridgeRtpOut: number;
  /** RTP packets the bridge sent inside the window (media and probes: what µs/pkt divides by). */
  bridgeRtpOutWindow: number;
  fwdPps: number;
  fwdMbps: number;
  /** Bridge process CPU (user + system) per RTP packet it sent (media and bandwidth probes), µs. */
  cpuPerPacketUs: number;
  /** The same per media packet sent (probe packets left out of the count, their cost kept in). */
  cpuPerMediaPacketUs: number;
  /** Bridge process CPU as a share of one core. */
  bridgeCpu: number;
  /** Driver processes' CPU as a share of one core: summed over them, and the busiest one's. */
  driverCpu: number;
  driverCpuMax: number;
  drivers: number;
  /** Frames the drivers sent over LATE_MS late (send-schedule.ts), and of how many. */
  lateSends: number;
  framesScheduled: number;
  /** Why this step measured the drivers rather than the bridge (driver-limits.ts), or null. */
  driverLimited: string | null;
  /** Each driver process: its CPU and schedule (what driverLimited is decided on) and what its participants counted. */
  perDriver: Array<DriverStep & { sent: number; sentAudio: number; received: number; receivedAudio: number }>;
  delayP50Us: number;
  delayP99Us: number;
  decryptErrors: number;
  decrypted: number;
  errors: number;
  /** What `errors` is made of (non-zero entries are printed). */
  errorCounts: Record<string, number>;
  senderSkips: number;
  /**
   * Where packets were lost, from the step's start to the drained end: the bridge's drop counters that grew
   * (`drop*`, counters.ts), the kernel's drops at the bridge's media port (/proc/net/udp: every socket of it,
   * whichever path reads it) and at the drivers' sockets. Loss the drivers cause (skipped frames, late reads) is
   * none of these.
   */
  drops?: { bridge: Record<string, number>; bridgeSocket: number; driverSockets: number };
}

export interface ScenarioResult {
  scenario: Scenario;
  /** How long the receivers' layers took to settle before the first measurement (null: no video). */
  settle: { seconds: number; settled: boolean; layer: string } | null;
  participants: number;
  profile: string;
  connectSeconds: number;
  nominal: Measurement;
  /** Highest load factor measured with loss < 1% (null: none, or not searched). */
  capacity: Measurement | null;
  steps: Measurement[];
  rssIdle: number;
  rssEnd: number;
  memPerParticipant: number;
  rssSamples: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Packets per second a participant sends and receives at x1: what spreads participants evenly over drivers. */
export function participantCost(s: Scenario, media: BenchMedia, plan: DirectParticipantPlan, wanted: number): number {
  const framePackets = (l: number) => {
    const frames = media.layers[l]!.frames;
    return frames.reduce((n, f) => n + f.chunks.length, 0) / Math.max(1, frames.length);
  };
  const audioPps = 1000 / AUDIO_FRAME_MS;
  let sendPps = 0;
  if (plan.publishesVideo) for (let l = 0; l < media.layers.length; l++) sendPps += framePackets(l) * VIDEO_FPS;
  if (plan.publishesAudio) sendPps += audioPps;
  const cameras = s.videoPublishers - (plan.publishesVideo ? 1 : 0);
  const voices = Math.max(s.audioPublishers, s.videoPublishers) - (plan.publishesAudio ? 1 : 0);
  return sendPps + cameras * framePackets(wanted) * VIDEO_FPS + voices * audioPps;
}

export class ScenarioRun {
  readonly scenario: Scenario;
  private readonly media: BenchMedia;
  private readonly bridgeConfig: Record<string, unknown>;
  private readonly driverCount: number;
  private bridge: BridgeProcess | null = null;
  private plans: DirectParticipantPlan[] = [];
  private pool: DriverPool | null = null;
  private readonly delays = new DelayHistogram();

  /** `drivers`: how many driver processes run the participants (at most one per participant). */
  constructor(scenario: Scenario, media: BenchMedia, bridgeConfig: Record<string, unknown> = {}, drivers = 1) {
    this.scenario = scenario;
    this.media = media;
    this.bridgeConfig = bridgeConfig;
    this.driverCount = Math.max(1, Math.floor(drivers));
  }

  async run(opts: { searchCapacity: boolean; seconds?: number; stepSeconds: number; warmUpSeconds?: number; log: (s: string) => void }): Promise<ScenarioResult> {
    const s = this.scenario;
    try {
      const bridge = (this.bridge = await BridgeProcess.start(this.bridgeConfig));
      await bridge.request('gc');
      const idle = await bridge.stats();
      let index = 0;
      for (let r = 0; r < s.rooms; r++) {
        for (let k = 0; k < s.perRoom; k++) {
          this.plans.push({
            conferenceId: `${s.name}-room${r}`,
            endpointId: `p${k}`,
            index: index++,
            publishesAudio: k < s.audioPublishers || k < s.videoPublishers,
            publishesVideo: k < s.videoPublishers,
          });
        }
      }
      const tile = s.tile ?? DEFAULT_TILE;
      const wanted = wantedLayer(this.media, tile);
      const tConnect = performance.now();
      const { pool, profile } = await DriverPool.connect(
        bridge,
        this.plans,
        this.plans.map((p) => participantCost(s, this.media, p, wanted)),
        this.driverCount,
        FEEDBACK,
      );
      this.pool = pool;
      for (let r = 0; r < s.rooms; r++) {
        const room = this.plans.slice(r * s.perRoom, (r + 1) * s.perRoom);
        for (const p of room) {
          const others = room.filter((o) => o !== p);
          const ssrcs = others.flatMap((o) => [...(o.publishesAudio ? [ssrcBase(o.index)] : []), ...(o.publishesVideo ? [ssrcBase(o.index) + 1] : [])]);
          await bridge.request('subscribe', { conferenceId: p.conferenceId, endpointId: p.endpointId, ssrcs });
          // what focus relays from the browser's receiver-video-constraints: every camera in a tile this large
          const constraints = others.filter((o) => o.publishesVideo).map((o) => ({ ssrc: ssrcBase(o.index) + 1, ...tile }));
          if (constraints.length > 0) await bridge.request('constraints', { conferenceId: p.conferenceId, endpointId: p.endpointId, constraints });
        }
      }
      const connectSeconds = (performance.now() - tConnect) / 1000;
      opts.log(
        `  ${this.plans.length} participants connected in ${connectSeconds.toFixed(1)} s (${profile}), ` +
          `over ${pool.size} driver process${pool.size > 1 ? 'es' : ''} (${pool.groups.map((g) => g.length).join(' + ')})`,
      );

      const settle = await this.settle(opts.log);
      const rssSamples: number[] = [];
      const warmUpMs = opts.warmUpSeconds !== undefined && opts.warmUpSeconds >= 0 ? opts.warmUpSeconds * 1000 : WARMUP_MS;
      const nominal = await this.measure(1, opts.seconds ?? s.seconds, rssSamples, warmUpMs);
      opts.log(`  load x1: ${describe(nominal)}`);
      const steps: Measurement[] = [nominal];
      let capacity: Measurement | null = holds(nominal) ? nominal : null;
      if (opts.searchCapacity) {
        const up = [1.5, 2, 3, 4, 6, 8, 12, 16];
        const down = [0.5, 0.25, 0.125];
        for (const f of capacity ? up : down) {
          const m = await this.measure(f, opts.stepSeconds, null);
          steps.push(m);
          opts.log(`  load x${f}: ${describe(m)}`);
          const ok = holds(m);
          if (ok && (capacity === null || f > capacity.load)) capacity = m;
          if (capacity !== null && !ok) break;
          if (capacity !== null && f < 1) break;
        }
      }
      await bridge.request('gc');
      const end = await bridge.stats();
      const n = this.plans.length;
      return {
        scenario: s,
        settle,
        participants: n,
        profile,
        connectSeconds,
        nominal,
        capacity,
        steps,
        rssIdle: idle.rss,
        rssEnd: end.rss,
        memPerParticipant: (end.rss - idle.rss) / n,
        rssSamples,
      };
    } finally {
      await this.close();
    }
  }

  /** Runs the load at x1 until the receivers get the layer their tiles need (see SETTLE_MAX_MS). */
  private async settle(log: (s: string) => void): Promise<ScenarioResult['settle']> {
    const s = this.scenario;
    if (s.videoPublishers === 0) return null;
    const wanted = wantedLayer(this.media, s.tile ?? DEFAULT_TILE);
    const label = `${this.media.layers[wanted].rid} ${this.media.layers[wanted].width}x${this.media.layers[wanted].height}`;
    const pool = this.pool!;
    const t0 = performance.now();
    let streams = 0;
    for (const p of this.plans) streams += s.videoPublishers - (p.publishesVideo ? 1 : 0);
    let stable = 0;
    let onWanted = 0;
    await pool.all({ op: 'load', factor: 1 });
    try {
      while (performance.now() - t0 < SETTLE_MAX_MS && stable < SETTLE_STABLE_CHECKS) {
        await pool.all({ op: 'window', startUs: nowUs32(), lengthUs: 3_600_000_000 });
        await sleep(SETTLE_CHECK_MS);
        onWanted = (await pool.all<number>({ op: 'layer-count', layer: wanted })).reduce((a, b) => a + b, 0);
        stable = onWanted === streams ? stable + 1 : 0;
      }
    } finally {
      await pool.all({ op: 'stop-load' });
    }
    const seconds = (performance.now() - t0) / 1000;
    const settled = stable >= SETTLE_STABLE_CHECKS;
    log(
      settled
        ? `  layers settled after ${seconds.toFixed(1)} s: every receiver gets every camera on ${label}`
        : `  layers not settled after ${seconds.toFixed(1)} s: ${onWanted} of ${streams} receiver × camera streams on ${label}`,
    );
    return { seconds, settled, layer: label };
  }

  /** Sends at `factor` times real time for `seconds` (after `warmUpMs` of it) and measures. */
  private async measure(factor: number, seconds: number, rssSamples: number[] | null, warmUpMs = WARMUP_MS): Promise<Measurement> {
    const bridge = this.bridge!;
    const pool = this.pool!;
    this.delays.reset();
    await pool.all({ op: 'window', startUs: (nowUs32() + warmUpMs * 1000) >>> 0, lengthUs: seconds * 1_000_000 });
    const s0 = await bridge.stats();
    const bridgeSocket0 = udpSocketDrops(new Set([bridge.port])) ?? 0;
    await pool.all({ op: 'load', factor });
    await sleep(warmUpMs);
    const a = await bridge.stats();
    await pool.all({ op: 'mark' });
    const tA = performance.now();
    let b: BridgeStats;
    if (rssSamples) {
      // sample the bridge's memory every 10 s (a long run shows whether it stays flat)
      rssSamples.push(a.rss);
      const end = tA + seconds * 1000;
      while (performance.now() + 10_000 < end) {
        await sleep(10_000);
        rssSamples.push((await bridge.stats()).rss);
      }
      await sleep(Math.max(0, end - performance.now()));
    } else {
      await sleep(seconds * 1000);
    }
    b = await bridge.stats();
    const driverCpu = await pool.cpu();
    const wall = (performance.now() - tA) * 1000;
    await pool.all({ op: 'stop-load' });
    // the bridge first reads what is still queued for it (a busy machine leaves a backlog): until its RTP in stops
    let c = await bridge.stats();
    for (const end = performance.now() + DRAIN_MAX_MS; ; ) {
      await sleep(DRAIN_MS);
      const next = await bridge.stats();
      const still = next.counters.rtpIn !== c.counters.rtpIn;
      c = next;
      if (!still || performance.now() > end) break;
    }
    if (rssSamples) rssSamples.push(c.rss);
    const bridgeSocket = (udpSocketDrops(new Set([bridge.port])) ?? 0) - bridgeSocket0;
    const bridgeDrops: Record<string, number> = {};
    for (const [k, v] of Object.entries(c.counters)) {
      const n = v - (s0.counters[k] ?? 0);
      if (k.startsWith('drop') && n > 0) bridgeDrops[k] = n;
    }
    const tallies = await pool.tally();

    const sc = this.scenario;
    const perRoomMinusOne = sc.perRoom - 1;
    const media = this.media;
    const nLayers = media.layers.length;
    const layers: LayerReport = {
      labels: media.layers.map((l) => `${l.rid} ${l.width}x${l.height}`),
      packets: new Array<number>(nLayers).fill(0),
      bytes: new Array<number>(nLayers).fill(0),
      streamsAt: new Array<number>(nLayers).fill(0),
      streams: 0,
      missing: 0,
      sentBps: new Array<number>(nLayers).fill(0),
    };
    const sum = (k: 'sent' | 'sentAudio' | 'received' | 'receivedAudio' | 'bytes' | 'decrypted' | 'decryptErrors' | 'sendErrors' | 'videoExpected' | 'videoReceived' | 'videoPublishers' | 'keyframeRequests' | 'keyframeJumps' | 'skips' | 'late' | 'frames') =>
      tallies.reduce((n, t) => n + t[k], 0);
    for (const t of tallies) {
      for (let l = 0; l < nLayers; l++) {
        layers.packets[l] += t.layerPackets[l] ?? 0;
        layers.bytes[l] += t.layerBytes[l] ?? 0;
        layers.streamsAt[l] += t.streamsAt[l] ?? 0;
        layers.sentBps[l] += ((t.sentLayerBytes[l] ?? 0) * 8) / seconds;
      }
      this.delays.addSparse(t.delays);
    }
    const videoPublishers = sum('videoPublishers');
    // every camera of the room but its own
    for (const p of this.plans) layers.streams += sc.videoPublishers - (p.publishesVideo ? 1 : 0);
    for (let l = 0; l < nLayers; l++) layers.sentBps[l] /= Math.max(1, videoPublishers);
    layers.missing = layers.streams - layers.streamsAt.reduce((x, y) => x + y, 0);
    const sentAudio = sum('sentAudio');
    const received = sum('received');
    const decryptErrors = sum('decryptErrors');
    const sendErrors = sum('sendErrors');
    const videoExpected = sum('videoExpected');
    const audioExpected = sentAudio * perRoomMinusOne;
    const expected = audioExpected + videoExpected;
    const fwd = b.counters.rtpOut - a.counters.rtpOut;
    const probes = delta(a, b, 'probePackets');
    const cpu = b.cpuUserUs - a.cpuUserUs + (b.cpuSystemUs - a.cpuSystemUs);
    const windowS = seconds;
    // errors of this step only (the bridge's counters run from its start)
    const errorCounts: Record<string, number> = { decryptErrors, sendErrors, disconnected: c.disconnected - s0.disconnected };
    let bridgeErrors = 0;
    for (const k of ['dropSrtp', 'dropError', 'protectErrors', 'sendErrors', 'dropMalformed']) {
      const n = (c.counters[k] ?? 0) - (s0.counters[k] ?? 0);
      errorCounts[`bridge.${k}`] = n;
      bridgeErrors += n;
    }
    const driverShares = driverCpu.map((d) => (d.wallUs > 0 ? d.cpuUs / d.wallUs : 0));
    const driverSteps = tallies.map((t, i) => ({
      cpu: driverShares[i] ?? 0,
      skips: t.skips,
      late: t.late,
      frames: t.frames,
      socketDrops: driverCpu[i]?.socketDrops ?? 0,
      sent: t.sent,
      sentAudio: t.sentAudio,
      received: t.received,
      receivedAudio: t.receivedAudio,
    }));
    return {
      errorCounts,
      load: factor,
      seconds,
      sent: sum('sent'),
      expected,
      received,
      loss: expected === 0 ? 1 : Math.max(0, 1 - received / expected),
      audioLoss: audioExpected === 0 ? 0 : Math.max(0, 1 - sum('receivedAudio') / audioExpected),
      videoLoss: videoExpected === 0 ? 0 : Math.max(0, 1 - sum('videoReceived') / videoExpected),
      layers,
      probePackets: probes,
      datagramsPerSendCall: delta(a, b, 'udpSendCalls') > 0 ? delta(a, b, 'packetsOut') / delta(a, b, 'udpSendCalls') : NaN,
      twccFeedbackIn: delta(a, b, 'twccFeedbackIn'),
      layerSwitches: delta(a, b, 'layerSwitches'),
      bridgeRtpInWindow: delta(a, b, 'rtpIn'),
      nativeForwarded: delta(a, b, 'nativeForwarded'),
      keyframeRequests: sum('keyframeRequests'),
      keyframeJumps: sum('keyframeJumps'),
      bridgeRtpIn: c.counters.rtpIn - a.counters.rtpIn,
      bridgeRtpOut: c.counters.rtpOut - a.counters.rtpOut,
      bridgeRtpOutWindow: fwd,
      fwdPps: received / windowS,
      fwdMbps: (sum('bytes') * 8) / windowS / 1e6,
      cpuPerPacketUs: fwd > 0 ? cpu / fwd : NaN,
      cpuPerMediaPacketUs: fwd - probes > 0 ? cpu / (fwd - probes) : NaN,
      bridgeCpu: cpu / wall,
      driverCpu: driverShares.reduce((x, y) => x + y, 0),
      driverCpuMax: Math.max(0, ...driverShares),
      drivers: driverShares.length,
      delayP50Us: this.delays.quantile(0.5),
      delayP99Us: this.delays.quantile(0.99),
      decrypted: sum('decrypted'),
      decryptErrors,
      errors: decryptErrors + bridgeErrors + sendErrors + errorCounts.disconnected,
      senderSkips: sum('skips'),
      lateSends: sum('late'),
      framesScheduled: sum('frames'),
      driverLimited: driverLimit(driverSteps),
      perDriver: driverSteps,
      drops: { bridge: bridgeDrops, bridgeSocket, driverSockets: driverSteps.reduce((n, d) => n + d.socketDrops, 0) },
    };
  }

  private async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
    this.plans = [];
    await this.bridge?.close();
    this.bridge = null;
  }
}

function delta(a: BridgeStats, b: BridgeStats, counter: string): number {
  return (b.counters[counter] ?? 0) - (a.counters[counter] ?? 0);
}

/** "f 1280x720 141 of 141" (receiver × camera streams by the layer they ended the window on), or "" without video. */
export function layerSummary(r: LayerReport | undefined): string {
  if (r === undefined || r.streams === 0) return '';
  const parts = r.labels.map((label, i) => [label, r.streamsAt[i]] as const).filter(([, n]) => n > 0).map(([label, n]) => `${label} ${n}`);
  if (r.missing > 0) parts.push(`none ${r.missing}`);
  return `${parts.join(', ')} of ${r.streams}`;
}

/** Share of received video packets per layer: "q 0.1% h 0.4% f 99.5%". */
export function layerShares(r: LayerReport | undefined): string {
  if (r === undefined) return '–';
  const total = r.packets.reduce((a, b) => a + b, 0);
  if (total === 0) return '–';
  return r.labels.map((label, i) => `${label.split(' ')[0]} ${((r.packets[i] / total) * 100).toFixed(1)}%`).join(' ');
}

export function describe(m: Measurement): string {
  const video = m.layers.streams > 0;
  return (
    `${Math.round(m.fwdPps)} pkt/s, ${m.fwdMbps.toFixed(1)} Mbit/s, loss ${(m.loss * 100).toFixed(2)}%` +
    (video ? ` (audio ${(m.audioLoss * 100).toFixed(2)}%, video ${(m.videoLoss * 100).toFixed(2)}%)` : '') +
    ', ' +
    `bridge ${m.cpuPerPacketUs.toFixed(1)} µs/pkt` +
    (m.probePackets > 0 ? ` (${m.cpuPerMediaPacketUs.toFixed(1)} per media packet: ${((m.probePackets / m.bridgeRtpOutWindow) * 100).toFixed(1)}% were probes)` : '') +
    `, ${(m.bridgeCpu * 100).toFixed(0)}% of a core` +
    (Number.isFinite(m.datagramsPerSendCall) ? ` (${m.datagramsPerSendCall.toFixed(1)} datagrams per send call)` : '') +
    ', ' +
    `driver${m.drivers > 1 ? `s ${(m.driverCpu * 100).toFixed(0)}% (busiest ${(m.driverCpuMax * 100).toFixed(0)}%)` : ` ${(m.driverCpu * 100).toFixed(0)}%`}, delay p50 ${(m.delayP50Us / 1000).toFixed(2)} ms p99 ${(m.delayP99Us / 1000).toFixed(2)} ms` +
    (m.errors
      ? `, ${m.errors} errors (${Object.entries(m.errorCounts)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : '') +
    (m.senderSkips ? `, drivers skipped ${m.senderSkips} frames` : '') +
    (m.drops
      ? `\n      drops: bridge ${Object.entries(m.drops.bridge).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; ` +
        `kernel at the bridge's port ${m.drops.bridgeSocket}, at the drivers' sockets ${m.drops.driverSockets}`
      : '') +
    (m.driverLimited ? `\n      DRIVER-LIMITED (${m.driverLimited}): this step measured the benchmark, not the bridge` : '') +
    (video
      ? `\n      receivers' cameras by layer at the end: ${layerSummary(m.layers)}; video packets ${layerShares(m.layers)}; ` +
        `sent per publisher ${m.layers.sentBps.map((b, i) => `${m.layers.labels[i].split(' ')[0]} ${(b / 1e6).toFixed(2)}`).join(' ')} Mbit/s; ` +
        `bridge: ${m.layerSwitches} layer switches, ${m.probePackets} probe packets, ${m.twccFeedbackIn} feedback in, ` +
        `${m.nativeForwarded} of ${m.bridgeRtpInWindow} received RTP packets forwarded natively; ` +
        `publishers: ${m.keyframeRequests} keyframe requests, ${m.keyframeJumps} jumps to a keyframe`
      : '')
  );
}
