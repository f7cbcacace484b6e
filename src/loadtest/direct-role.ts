// The benchmark's side of a driver process (driver-process.ts): participants of a bridge under test driven
// directly (participant.ts: real ICE, DTLS, SRTP, simulcast VP8 and Opus), their send schedule and their
// transport-cc feedback. The parent (bench/driver-pool.ts) asks over IPC (plan.ts's DirectOp, one reply per
// request); the bridge's allocate/configure go through the parent, which owns the bridge process.
import { performance } from 'node:perf_hooks';
import { DelayHistogram } from './delay-histogram.ts';
import { loadMedia, type BenchMedia } from './media.ts';
import { Participant, createClientCertificate, measureWindow, type DirectBridge } from './participant.ts';
import { SendSchedule } from './send-schedule.ts';
import { udpSocketDrops } from './socket-drops.ts';
import type { DirectOp, DriverCpu, DriverTally, FromDriver, ToDriver } from './plan.ts';

const CONNECT_CONCURRENCY = 8;
/**
 * Before a tally, the receivers read what is still queued for them (a busy machine can leave seconds of packets
 * in the sockets): counted once nothing arrived for QUIET_MS, TALLY_WAIT_MAX_MS at most. Otherwise a driver that
 * gets its tally request before its backlog would count late packets as lost.
 */
const QUIET_MS = 100;
const TALLY_WAIT_MAX_MS = 5000;
/** Receivers' transport-cc feedback interval: Chrome's at video bitrates (5 % of the rate, at least every 50 ms). */
export const FEEDBACK_INTERVAL_MS = 50;

type Send = (m: FromDriver) => void;

export class DirectRole {
  private readonly send: Send;
  private media: BenchMedia | null = null;
  private participants: Participant[] = [];
  private schedule: SendSchedule | null = null;
  private feedbackTimer: NodeJS.Timeout | null = null;
  private readonly delays = new DelayHistogram();
  private readonly bridgeWaits = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private nextBridgeId = 1;
  private kf0 = 0;
  private jumps0 = 0;
  private cpuMark = process.cpuUsage();
  private wallMark = performance.now();
  private dropsMark = 0;

  constructor(send: Send) {
    this.send = send;
  }

  /** A request from the parent: answered once, never thrown. */
  handle(m: Extract<ToDriver, { type: 'direct' }>): void {
    this.run(m.op).then(
      (result) => this.send({ type: 'direct-reply', id: m.id, ok: true, result: result ?? null }),
      (e: Error) => this.send({ type: 'direct-reply', id: m.id, ok: false, error: String(e?.message ?? e).slice(0, 500) }),
    );
  }

  /** The parent's answer to one of our bridge requests. */
  bridgeReply(m: Extract<ToDriver, { type: 'bridge-reply' }>): void {
    const w = this.bridgeWaits.get(m.id);
    if (!w) return;
    this.bridgeWaits.delete(m.id);
    if (m.ok) w.resolve(m.result);
    else w.reject(new Error(m.error ?? 'bridge request failed'));
  }

  private async run(o: DirectOp): Promise<unknown> {
    switch (o.op) {
      case 'connect':
        return this.connect(o);
      case 'load':
        if (!(o.factor > 0 && o.factor <= 1000)) throw new Error(`bad load factor ${o.factor}`);
        this.schedule?.start(o.factor);
        return null;
      case 'stop-load':
        this.schedule?.stop();
        return null;
      case 'window':
        measureWindow.startUs = o.startUs >>> 0;
        measureWindow.lengthUs = o.lengthUs;
        for (const p of this.participants) p.resetCounters();
        this.delays.reset();
        this.kf0 = this.participants.reduce((n, p) => n + p.keyframeRequests, 0);
        this.jumps0 = this.participants.reduce((n, p) => n + p.keyframeJumps, 0);
        return null;
      case 'layer-count': {
        let n = 0;
        for (const p of this.participants) for (const st of p.streams.values()) if (st.kind === 'video' && st.layer === o.layer) n++;
        return n;
      }
      case 'mark':
        this.cpuMark = process.cpuUsage();
        this.wallMark = performance.now();
        this.dropsMark = this.socketDrops();
        return null;
      case 'since-mark': {
        const c = process.cpuUsage(this.cpuMark);
        return {
          cpuUs: c.user + c.system,
          wallUs: (performance.now() - this.wallMark) * 1000,
          socketDrops: Math.max(0, this.socketDrops() - this.dropsMark),
        } satisfies DriverCpu;
      }
      case 'tally':
        await this.quiet();
        return this.tally();
      case 'close':
        this.close();
        return null;
      default:
        throw new Error('unknown request');
    }
  }

  private async connect(o: Extract<DirectOp, { op: 'connect' }>): Promise<{ profile: string }> {
    if (this.participants.length > 0) throw new Error('already connected');
    const media = (this.media = loadMedia());
    this.participants = o.participants.map(
      (p) => new Participant({ conferenceId: p.conferenceId, endpointId: p.endpointId, index: p.index, publishesAudio: p.publishesAudio, publishesVideo: p.publishesVideo, media, delays: this.delays }),
    );
    const cert = await createClientCertificate();
    const bridge: DirectBridge = { port: o.port, request: (op, payload) => this.bridgeRequest(op, payload) };
    let next = 0;
    const worker = async () => {
      while (next < this.participants.length) await this.participants[next++]!.connect(bridge, cert);
    };
    await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
    if (o.feedback) {
      const participants = this.participants;
      this.feedbackTimer = setInterval(() => {
        for (const p of participants) p.sendTransportFeedback();
      }, FEEDBACK_INTERVAL_MS);
    }
    const publishing = o.participants.flatMap((plan, i) => (plan.publishesAudio || plan.publishesVideo ? [{ plan, p: this.participants[i]! }] : []));
    this.schedule = new SendSchedule(
      publishing.map((x) => x.p),
      media.audio,
      publishing.map((x) => x.plan.index),
    );
    return { profile: this.participants[0]?.profile ?? 'none' };
  }

  private bridgeRequest(op: 'allocate' | 'configure', payload: Record<string, unknown>): Promise<unknown> {
    const id = this.nextBridgeId++;
    return new Promise((resolve, reject) => {
      this.bridgeWaits.set(id, { resolve, reject });
      this.send({ type: 'bridge-request', id, op, payload });
    });
  }

  /** Datagrams the kernel dropped at this driver's participants' sockets so far (full receive buffers). */
  private socketDrops(): number {
    return udpSocketDrops(new Set(this.participants.map((p) => p.localPort).filter((p) => p > 0))) ?? 0;
  }

  /** Resolves once no RTP packet arrived for QUIET_MS (TALLY_WAIT_MAX_MS at most). */
  private async quiet(): Promise<void> {
    const received = () => this.participants.reduce((n, p) => n + p.rx.rtp, 0);
    const end = performance.now() + TALLY_WAIT_MAX_MS;
    let before = received();
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, QUIET_MS));
      const now = received();
      if (now === before) return;
      before = now;
    }
  }

  private tally(): DriverTally {
    const nLayers = this.media?.layers.length ?? 0;
    const t: DriverTally = {
      sent: 0,
      sentAudio: 0,
      received: 0,
      receivedAudio: 0,
      bytes: 0,
      decrypted: 0,
      decryptErrors: 0,
      sendErrors: 0,
      videoExpected: 0,
      videoReceived: 0,
      layerPackets: new Array<number>(nLayers).fill(0),
      layerBytes: new Array<number>(nLayers).fill(0),
      streamsAt: new Array<number>(nLayers).fill(0),
      sentLayerBytes: new Array<number>(nLayers).fill(0),
      videoPublishers: 0,
      keyframeRequests: this.participants.reduce((n, p) => n + p.keyframeRequests, 0) - this.kf0,
      keyframeJumps: this.participants.reduce((n, p) => n + p.keyframeJumps, 0) - this.jumps0,
      delays: this.delays.sparse(),
      skips: this.schedule?.skips ?? 0,
      late: this.schedule?.late ?? 0,
      frames: this.schedule?.frames ?? 0,
    };
    for (const p of this.participants) {
      t.sent += p.sent;
      t.sentAudio += p.sentAudio;
      t.received += p.rx.rtp;
      t.receivedAudio += p.rx.audio;
      t.bytes += p.rx.bytes;
      t.decrypted += p.rx.decrypted;
      t.decryptErrors += p.rx.decryptErrors;
      t.sendErrors += p.sendErrors + p.rtcpErrors;
      if (p.publishesVideo) {
        t.videoPublishers++;
        for (let l = 0; l < nLayers; l++) t.sentLayerBytes[l]! += p.sentLayerBytes[l]!;
      }
      for (const st of p.streams.values()) {
        if (st.kind !== 'video') continue;
        t.videoExpected += st.lastSeq - st.firstSeq + 1;
        t.videoReceived += st.packets;
        for (let l = 0; l < nLayers; l++) {
          t.layerPackets[l]! += st.layerPackets[l]!;
          t.layerBytes[l]! += st.layerBytes[l]!;
        }
        if (st.layer >= 0) t.streamsAt[st.layer]!++;
      }
    }
    return t;
  }

  close(): void {
    this.schedule?.stop();
    if (this.feedbackTimer) clearInterval(this.feedbackTimer);
    this.feedbackTimer = null;
    for (const p of this.participants) p.close();
    this.participants = [];
    for (const w of this.bridgeWaits.values()) w.reject(new Error('closing'));
    this.bridgeWaits.clear();
  }
}
