// Runs one scenario: a fresh bridge process, the synthetic participants, a nominal-load measurement and
// (unless short) a search for the highest load held with under 1% loss.
import { performance } from 'node:perf_hooks';
import { BridgeProcess, type BridgeStats } from './bridge-control.ts';
import { Participant, createClientCertificate, measureWindow, nowUs32, type ClientCertificate } from './clients/participant.ts';
import { AUDIO_FRAME_MS, VIDEO_FPS, type BenchMedia } from './media.ts';
import type { Scenario } from './scenarios.ts';
import { DelayHistogram } from './stats.ts';

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

export interface Measurement {
  load: number;
  seconds: number;
  sent: number;
  expected: number;
  received: number;
  loss: number;
  bridgeRtpIn: number;
  bridgeRtpOut: number;
  fwdPps: number;
  fwdMbps: number;
  /** Bridge process CPU (user + system) per forwarded RTP packet, µs. */
  cpuPerPacketUs: number;
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
    const { video, audio } = this.media;
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
        while (this.videoSent[i] < due) p.sendVideoFrame(video[this.videoSent[i]++ % video.length]);
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
              delays: this.delays,
            }),
          );
        }
      }
      const tConnect = performance.now();
      await connectAll(bridge, this.participants, cert);
      for (let r = 0; r < s.rooms; r++) {
        const room = this.participants.slice(r * s.perRoom, (r + 1) * s.perRoom);
        for (const p of room) {
          const ssrcs = room.filter((o) => o !== p).flatMap((o) => o.sources.map((x) => x.ssrc));
          await bridge.request('subscribe', { conferenceId: p.conferenceId, endpointId: p.endpointId, ssrcs });
        }
      }
      const connectSeconds = (performance.now() - tConnect) / 1000;
      opts.log(`  ${this.participants.length} participants connected in ${connectSeconds.toFixed(1)} s (${this.participants[0].profile})`);

      this.load = new Load(this.participants.filter((p) => p.publishesAudio || p.publishesVideo), this.media);
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

  /** Sends at `factor` times real time for `seconds` (after a warm-up) and measures. */
  private async measure(factor: number, seconds: number, rssSamples: number[] | null): Promise<Measurement> {
    const bridge = this.bridge!;
    const load = this.load!;
    const receivers = this.participants;
    for (const p of receivers) {
      p.sent = p.sentBytes = 0;
      p.rx.rtp = p.rx.bytes = p.rx.decrypted = p.rx.decryptErrors = 0;
    }
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

    const perRoomMinusOne = this.scenario.perRoom - 1;
    let sent = 0;
    let received = 0;
    let bytes = 0;
    let decrypted = 0;
    let decryptErrors = 0;
    let sendErrors = 0;
    for (const p of receivers) {
      sent += p.sent;
      received += p.rx.rtp;
      bytes += p.rx.bytes;
      decrypted += p.rx.decrypted;
      decryptErrors += p.rx.decryptErrors;
      sendErrors += p.sendErrors;
    }
    const expected = sent * perRoomMinusOne;
    const fwd = b.counters.rtpOut - a.counters.rtpOut;
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
      bridgeRtpIn: c.counters.rtpIn - a.counters.rtpIn,
      bridgeRtpOut: c.counters.rtpOut - a.counters.rtpOut,
      fwdPps: received / windowS,
      fwdMbps: (bytes * 8) / windowS / 1e6,
      cpuPerPacketUs: fwd > 0 ? cpu / fwd : NaN,
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
    for (const p of this.participants) p.close();
    this.participants = [];
    await this.bridge?.close();
    this.bridge = null;
  }
}

export function describe(m: Measurement): string {
  return (
    `${Math.round(m.fwdPps)} pkt/s, ${m.fwdMbps.toFixed(1)} Mbit/s, loss ${(m.loss * 100).toFixed(2)}%, ` +
    `bridge ${m.cpuPerPacketUs.toFixed(1)} µs/pkt (${(m.bridgeCpu * 100).toFixed(0)}% of a core), ` +
    `driver ${(m.driverCpu * 100).toFixed(0)}%, delay p50 ${(m.delayP50Us / 1000).toFixed(2)} ms p99 ${(m.delayP99Us / 1000).toFixed(2)} ms` +
    (m.errors
      ? `, ${m.errors} errors (${Object.entries(m.errorCounts)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : '') +
    (m.senderSkips ? `, driver skipped ${m.senderSkips} frames` : '')
  );
}
