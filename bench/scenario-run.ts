// Runs one scenario: a fresh bridge process, the synthetic participants, a nominal-load measurement and
// (unless short) a search for the highest load held with under 1% loss.
// Publishers send their camera as rid simulcast; every receiver tells the bridge it shows each video in a
// tile of the scenario's size (1280x720 by default: the top layer) and sends transport-cc feedback every
// FEEDBACK_INTERVAL_MS, so the bridge's bandwidth estimate for it can grow past its 1 Mbit/s start (three
// top layers need ~4.3 Mbit/s with the selector's upgrade margin). Which layer each receiver got is reported.
import { performance } from 'node:perf_hooks';
import { BridgeProcess, type BridgeStats } from './bridge-control.ts';
import { Participant, createClientCertificate, measureWindow, nowUs32, type ClientCertificate } from '../src/loadtest/participant.ts';
import { AUDIO_FRAME_MS, VIDEO_FPS, type BenchMedia } from '../src/loadtest/media.ts';
import { DEFAULT_TILE, type Scenario } from './scenarios.ts';
import { DelayHistogram } from '../src/loadtest/delay-histogram.ts';

export const LOSS_LIMIT = 0.01;
/** A load is held when loss < LOSS_LIMIT, no errors and the p99 delay shows no standing queue. */
export const DELAY_LIMIT_US = 200_000;

export function holds(m: Measurement): boolean {
  return m.loss < LOSS_LIMIT && m.errors === 0 && m.delayP99Us < DELAY_LIMIT_US;
}
const CONNECT_CONCURRENCY = 8;
const WARMUP_MS = 1000;
const DRAIN_MS = 400;
/** A sender more than this many frames behind its schedule skips ahead (the driver is overloaded). */
const MAX_CATCH_UP = 3;
const TICK_MS = 4;
/** Receivers' transport-cc feedback interval: Chrome's at video bitrates (5 % of the rate, at least every 50 ms). */
export const FEEDBACK_INTERVAL_MS = 50;
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
  twccFeedbackIn: number;
  layerSwitches: number;
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
  /** Driver (this process) CPU as a share of one core. */
  driverCpu: number;
  delayP50Us: number;
  delayP99Us: number;
  decryptErrors: number;
  decrypted: number;
  errors: number;
  /** What `errors` is made of (non-zero entries are printed). */
  errorCounts: Record<string, number>;
  senderSkips: number;
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

class Load {
  private readonly publishers: Participant[];
  private readonly media: BenchMedia;
  private timer: NodeJS.Timeout | null = null;
  private t0 = 0;
  private factor = 1;
  private readonly videoSent: number[];
  private readonly audioSent: number[];
  private readonly offsetsMs: number[];
  skips = 0;

  constructor(publishers: Participant[], media: BenchMedia) {
    this.publishers = publishers;
    this.media = media;
    this.videoSent = publishers.map(() => 0);
    this.audioSent = publishers.map(() => 0);
    // spread the publishers' frame times over one frame interval
    this.offsetsMs = publishers.map((_, i) => ((i * 7) % 33) + (i % 20));
  }

  start(factor: number): void {
    this.stop();
    this.factor = factor;
    this.t0 = performance.now();
    this.videoSent.fill(0);
    this.audioSent.fill(0);
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = performance.now();
    const { audio } = this.media;
    for (let i = 0; i < this.publishers.length; i++) {
      const p = this.publishers[i];
      const elapsed = now - this.t0 - this.offsetsMs[i];
      if (elapsed < 0) continue;
      if (p.publishesVideo) {
        const due = Math.floor((elapsed * VIDEO_FPS * this.factor) / 1000) + 1;
        if (due - this.videoSent[i] > MAX_CATCH_UP) {
          this.skips += due - this.videoSent[i] - 1;
          this.videoSent[i] = due - 1;
        }
        while (this.videoSent[i] < due) {
          this.videoSent[i]++;
          p.sendVideoFrame();
        }
      }
      if (p.publishesAudio) {
        const due = Math.floor((elapsed * this.factor) / AUDIO_FRAME_MS) + 1;
        if (due - this.audioSent[i] > MAX_CATCH_UP) {
          this.skips += due - this.audioSent[i] - 1;
          this.audioSent[i] = due - 1;
        }
        while (this.audioSent[i] < due) p.sendAudioFrame(audio[this.audioSent[i]++ % audio.length]);
      }
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectAll(bridge: BridgeProcess, participants: Participant[], cert: ClientCertificate): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < participants.length) await participants[next++].connect(bridge, cert);
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
}

export class ScenarioRun {
  readonly scenario: Scenario;
  private readonly media: BenchMedia;
  private readonly bridgeConfig: Record<string, unknown>;
  private bridge: BridgeProcess | null = null;
  private participants: Participant[] = [];
  private load: Load | null = null;
  private feedbackTimer: NodeJS.Timeout | null = null;
  private readonly delays = new DelayHistogram();

  constructor(scenario: Scenario, media: BenchMedia, bridgeConfig: Record<string, unknown> = {}) {
    this.scenario = scenario;
    this.media = media;
    this.bridgeConfig = bridgeConfig;
  }

  async run(opts: { searchCapacity: boolean; seconds?: number; stepSeconds: number; log: (s: string) => void }): Promise<ScenarioResult> {
    const s = this.scenario;
    try {
      const bridge = (this.bridge = await BridgeProcess.start(this.bridgeConfig));
      await bridge.request('gc');
      const idle = await bridge.stats();
      const cert = await createClientCertificate();
      let index = 0;
      for (let r = 0; r < s.rooms; r++) {
        for (let k = 0; k < s.perRoom; k++) {
          this.participants.push(
            new Participant({
              conferenceId: `${s.name}-room${r}`,
              endpointId: `p${k}`,
              index: index++,
              publishesAudio: k < s.audioPublishers || k < s.videoPublishers,
              publishesVideo: k < s.videoPublishers,
              media: this.media,
              delays: this.delays,
            }),
          );
        }
      }
      const tConnect = performance.now();
      await connectAll(bridge, this.participants, cert);
      if (FEEDBACK) {
        const participants = this.participants;
        this.feedbackTimer = setInterval(() => {
          for (const p of participants) p.sendTransportFeedback();
        }, FEEDBACK_INTERVAL_MS);
      }
      const tile = s.tile ?? DEFAULT_TILE;
      for (let r = 0; r < s.rooms; r++) {
        const room = this.participants.slice(r * s.perRoom, (r + 1) * s.perRoom);
        for (const p of room) {
          const others = room.filter((o) => o !== p);
          const ssrcs = others.flatMap((o) => o.sources.map((x) => x.ssrc));
          await bridge.request('subscribe', { conferenceId: p.conferenceId, endpointId: p.endpointId, ssrcs });
          // what focus relays from the browser's receiver-video-constraints: every camera in a tile this large
          const constraints = others.filter((o) => o.publishesVideo).map((o) => ({ ssrc: o.videoSsrc, ...tile }));
          if (constraints.length > 0) await bridge.request('constraints', { conferenceId: p.conferenceId, endpointId: p.endpointId, constraints });
        }
      }
      const connectSeconds = (performance.now() - tConnect) / 1000;
      opts.log(`  ${this.participants.length} participants connected in ${connectSeconds.toFixed(1)} s (${this.participants[0].profile})`);

      this.load = new Load(this.participants.filter((p) => p.publishesAudio || p.publishesVideo), this.media);
      const settle = await this.settle(opts.log);
      const rssSamples: number[] = [];
      const nominal = await this.measure(1, opts.seconds ?? s.seconds, rssSamples);
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
      const n = this.participants.length;
      return {
        scenario: s,
        settle,
        participants: n,
        profile: this.participants[0].profile,
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
    const load = this.load!;
    const t0 = performance.now();
    let streams = 0;
    for (const p of this.participants) streams += s.videoPublishers - (p.publishesVideo ? 1 : 0);
    let stable = 0;
    let onWanted = 0;
    load.start(1);
    try {
      while (performance.now() - t0 < SETTLE_MAX_MS && stable < SETTLE_STABLE_CHECKS) {
        for (const p of this.participants) p.resetCounters();
        measureWindow.startUs = nowUs32();
        measureWindow.lengthUs = 3_600_000_000;
        await sleep(SETTLE_CHECK_MS);
        onWanted = 0;
        for (const p of this.participants) {
          for (const st of p.streams.values()) if (st.kind === 'video' && st.layer === wanted) onWanted++;
        }
        stable = onWanted === streams ? stable + 1 : 0;
      }
    } finally {
      load.stop();
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

  /** Sends at `factor` times real time for `seconds` (after a warm-up) and measures. */
  private async measure(factor: number, seconds: number, rssSamples: number[] | null): Promise<Measurement> {
    const bridge = this.bridge!;
    const load = this.load!;
    const receivers = this.participants;
    for (const p of receivers) p.resetCounters();
    const kf0 = receivers.reduce((n, p) => n + p.keyframeRequests, 0);
    const jumps0 = receivers.reduce((n, p) => n + p.keyframeJumps, 0);
    this.delays.reset();
    load.skips = 0;
    measureWindow.startUs = (nowUs32() + WARMUP_MS * 1000) >>> 0;
    measureWindow.lengthUs = seconds * 1_000_000;
    const s0 = await bridge.stats();
    load.start(factor);
    await sleep(WARMUP_MS);
    const a = await bridge.stats();
    const driverA = process.cpuUsage();
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
    const driverB = process.cpuUsage(driverA);
    const wall = (performance.now() - tA) * 1000;
    load.stop();
    await sleep(DRAIN_MS);
    const c = await bridge.stats();
    if (rssSamples) rssSamples.push(c.rss);

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
    let sent = 0;
    let sentAudio = 0;
    let received = 0;
    let receivedAudio = 0;
    let videoExpected = 0;
    let videoReceived = 0;
    let bytes = 0;
    let decrypted = 0;
    let decryptErrors = 0;
    let sendErrors = 0;
    let videoPublishers = 0;
    for (const p of receivers) {
      sent += p.sent;
      sentAudio += p.sentAudio;
      received += p.rx.rtp;
      receivedAudio += p.rx.audio;
      bytes += p.rx.bytes;
      decrypted += p.rx.decrypted;
      decryptErrors += p.rx.decryptErrors;
      sendErrors += p.sendErrors + p.rtcpErrors;
      if (p.publishesVideo) {
        videoPublishers++;
        for (let l = 0; l < nLayers; l++) layers.sentBps[l] += (p.sentLayerBytes[l] * 8) / seconds;
      }
      // every camera of the room but its own
      layers.streams += sc.videoPublishers - (p.publishesVideo ? 1 : 0);
      for (const st of p.streams.values()) {
        if (st.kind !== 'video') continue;
        videoExpected += st.lastSeq - st.firstSeq + 1;
        videoReceived += st.packets;
        for (let l = 0; l < nLayers; l++) {
          layers.packets[l] += st.layerPackets[l];
          layers.bytes[l] += st.layerBytes[l];
        }
        if (st.layer >= 0) layers.streamsAt[st.layer]++;
      }
    }
    for (let l = 0; l < nLayers; l++) layers.sentBps[l] /= Math.max(1, videoPublishers);
    layers.missing = layers.streams - layers.streamsAt.reduce((a, b) => a + b, 0);
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
    return {
      errorCounts,
      load: factor,
      seconds,
      sent,
      expected,
      received,
      loss: expected === 0 ? 1 : Math.max(0, 1 - received / expected),
      audioLoss: audioExpected === 0 ? 0 : Math.max(0, 1 - receivedAudio / audioExpected),
      videoLoss: videoExpected === 0 ? 0 : Math.max(0, 1 - videoReceived / videoExpected),
      layers,
      probePackets: probes,
      twccFeedbackIn: delta(a, b, 'twccFeedbackIn'),
      layerSwitches: delta(a, b, 'layerSwitches'),
      keyframeRequests: receivers.reduce((n, p) => n + p.keyframeRequests, 0) - kf0,
      keyframeJumps: receivers.reduce((n, p) => n + p.keyframeJumps, 0) - jumps0,
      bridgeRtpIn: c.counters.rtpIn - a.counters.rtpIn,
      bridgeRtpOut: c.counters.rtpOut - a.counters.rtpOut,
      bridgeRtpOutWindow: fwd,
      fwdPps: received / windowS,
      fwdMbps: (bytes * 8) / windowS / 1e6,
      cpuPerPacketUs: fwd > 0 ? cpu / fwd : NaN,
      cpuPerMediaPacketUs: fwd - probes > 0 ? cpu / (fwd - probes) : NaN,
      bridgeCpu: cpu / wall,
      driverCpu: (driverB.user + driverB.system) / wall,
      delayP50Us: this.delays.quantile(0.5),
      delayP99Us: this.delays.quantile(0.99),
      decrypted,
      decryptErrors,
      errors: decryptErrors + bridgeErrors + sendErrors + errorCounts.disconnected,
      senderSkips: load.skips,
    };
  }

  private async close(): Promise<void> {
    this.load?.stop();
    if (this.feedbackTimer) clearInterval(this.feedbackTimer);
    this.feedbackTimer = null;
    for (const p of this.participants) p.close();
    this.participants = [];
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
    `, ${(m.bridgeCpu * 100).toFixed(0)}% of a core, ` +
    `driver ${(m.driverCpu * 100).toFixed(0)}%, delay p50 ${(m.delayP50Us / 1000).toFixed(2)} ms p99 ${(m.delayP99Us / 1000).toFixed(2)} ms` +
    (m.errors
      ? `, ${m.errors} errors (${Object.entries(m.errorCounts)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : '') +
    (m.senderSkips ? `, driver skipped ${m.senderSkips} frames` : '') +
    (video
      ? `\n      receivers' cameras by layer at the end: ${layerSummary(m.layers)}; video packets ${layerShares(m.layers)}; ` +
        `sent per publisher ${m.layers.sentBps.map((b, i) => `${m.layers.labels[i].split(' ')[0]} ${(b / 1e6).toFixed(2)}`).join(' ')} Mbit/s; ` +
        `bridge: ${m.layerSwitches} layer switches, ${m.probePackets} probe packets, ${m.twccFeedbackIn} feedback in; ` +
        `publishers: ${m.keyframeRequests} keyframe requests, ${m.keyframeJumps} jumps to a keyframe`
      : '')
  );
}
