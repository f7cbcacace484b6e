/**
 * Send-side bandwidth estimation towards one receiver, from its transport-wide CC feedback, in the
 * spirit of Google Congestion Control (draft-ietf-rmcat-gcc-02):
 * - delay-based: inter-group delay variation -> trendline overuse detector -> AIMD rate control;
 * - loss-based: loss > 10 % -> multiply by (1 - 0.5 loss), loss < 2 % -> allow +5 % per interval;
 * - probing: an initial probe, exponential further probes while they succeed, and a periodic probe
 *   when the estimate has been stable for a while (so a capacity rise is found even when the bridge
 *   sends less than the estimate).
 * The estimate is min(delay-based, loss-based). Simulated or real time: every call takes `nowUs`;
 * there are no timers. Nothing allocates per packet or per feedback.
 */
import { forEachTwccStatus, twccReferenceTime } from '../packet/twcc.ts';
import { AimdRateControl } from './aimd.ts';
import { ProbeCluster } from './probe.ts';
import { BW_OVERUSING, InterArrival, TrendlineDetector } from './trendline.ts';

export interface SendSideBweOptions {
  startBps?: number;
  minBps?: number;
  maxBps?: number;
  /**
   * Most packets remembered for feedback lookup (power of two, default 8192). The history starts at
   * HISTORY_START_SIZE and doubles only when a packet still waiting for feedback would be overwritten.
   */
  historySize?: number;
  /**
   * Probe every 5 s while the estimate is stable (default true). The bridge turns it off: it asks for probes
   * itself (wantProbe) when the receiver's tiles want more than the estimate.
   */
  periodicProbes?: boolean;
}

/** A probe to send now: packets for `clusterId` at `rateBps` for `durationMs` (and at least minPackets). */
export interface ProbeRequest {
  clusterId: number;
  rateBps: number;
  durationMs: number;
  minPackets: number;
}

const ACKED_WINDOW_US = 500_000;
const LOSS_INTERVAL_US = 500_000;
const LOSS_MIN_PACKETS = 40;
const PROBE_DURATION_MS = 30;
const PROBE_MIN_PACKETS = 5;
const PROBE_TIMEOUT_US = 1_000_000;
const PROBE_INTERVAL_US = 5_000_000;
/** A probe the caller asks for (more is wanted than the estimate allows) at most this often. */
const WANTED_PROBE_INTERVAL_US = 2_500_000;
/** No probe this soon after the delay-based estimate went down (the path was just found congested). */
const PROBE_AFTER_DECREASE_US = 2_000_000;
/** A loss interval also ends after this long with at least LOSS_MIN_PACKETS / 4 packets (a low rate). */
const LOSS_MAX_INTERVAL_US = 2_000_000;

/** Slots the send history and the acknowledged-rate ring start with (each doubles on need, up to historySize). */
export const HISTORY_START_SIZE = 512;
/** The history grows for a packet awaiting feedback only while feedback came within this long (a silent receiver never grows it). */
const FEEDBACK_LIVE_US = 1_000_000;

// feedback state per sent packet
const FB_NONE = 0;
const FB_LOST = 1;
const FB_RECEIVED = 2;

export class SendSideBwe {
  readonly aimd: AimdRateControl;
  readonly detector = new TrendlineDetector();
  private readonly interArrival = new InterArrival();
  readonly minBps: number;
  readonly maxBps: number;
  /** Loss-based estimate (bps). */
  lossBasedBps: number;
  /** Loss fraction of the last loss interval, and its moving average over intervals. */
  lossRatio = 0;
  lossAverage = 0;

  // send history (grows by doubling, up to maxMask + 1 slots)
  private readonly maxMask: number;
  private mask: number;
  private hSeq: Int32Array;
  private hSend: Float64Array;
  private hSize: Uint16Array;
  private hCluster: Int32Array;
  private hState: Uint8Array;
  /** Newest send time of a packet any feedback reported on (received or lost), and when feedback last came. */
  private newestReportedSendUs = -Infinity;
  private lastFeedbackUs = -Infinity;

  // acknowledged rate: ring of (arrival, bytes) of received packets (grows by doubling, up to maxMask + 1)
  private aMask: number;
  private aArrival: Float64Array;
  private aBytes: Float64Array;
  private aHead = 0;
  private aTail = 0;
  private aSum = 0;
  private aFirstArrival = -1;
  private aMaxArrival = -Infinity;

  // loss interval
  private lossLost = 0;
  private lossTotal = 0;
  private lossSinceUs = -1;

  // reference time unwrapping
  private lastRef = 0;
  private refBase = 0;
  private haveRef = false;
  private refOffsetUs = 0;
  private latestSendInFeedback = -1;
  private matched = 0;

  // probing
  private readonly probe: ProbeRequest = { clusterId: 0, rateBps: 0, durationMs: 0, minPackets: 0 };
  private nextClusterId = 1;
  private readonly cluster = new ProbeCluster();
  private pendingProbeBps: number;
  private lastProbeUs = -Infinity;
  private probeTargetBps = 0;

  private readonly onStatusCb: (seq: number, received: boolean, arrivalUs: number) => void;
  private readonly periodicProbes: boolean;

  constructor(opts: SendSideBweOptions = {}) {
    this.minBps = opts.minBps ?? 30_000;
    this.periodicProbes = opts.periodicProbes ?? true;
    this.maxBps = opts.maxBps ?? 20_000_000;
    const start = opts.startBps ?? 300_000;
    this.aimd = new AimdRateControl(start, this.minBps, this.maxBps);
    this.lossBasedBps = this.maxBps;
    this.pendingProbeBps = 3 * this.aimd.estimateBps;
    let max = 256;
    while (max < (opts.historySize ?? 8192) && max < 32768) max <<= 1;
    this.maxMask = max - 1;
    const size = max < HISTORY_START_SIZE ? max : HISTORY_START_SIZE;
    this.mask = size - 1;
    this.aMask = size - 1;
    // allocated at the first packet sent (allocateHistory): every media worker has an estimator per endpoint, one sends
    this.hSeq = new Int32Array(0);
    this.hSend = new Float64Array(0);
    this.hSize = new Uint16Array(0);
    this.hCluster = new Int32Array(0);
    this.hState = new Uint8Array(0);
    this.aArrival = new Float64Array(0);
    this.aBytes = new Float64Array(0);
    this.onStatusCb = this.onStatus.bind(this);
  }

  /** The target send rate towards this receiver (bps). */
  estimateBps(): number {
    const e = this.aimd.estimateBps < this.lossBasedBps ? this.aimd.estimateBps : this.lossBasedBps;
    return e < this.minBps ? this.minBps : e;
  }

  /** Acknowledged (received) rate over the last 500 ms of arrivals, -1 while unknown. */
  ackedBps(): number {
    const span = this.aMaxArrival - this.aFirstArrival;
    if (this.aFirstArrival < 0 || span < 150_000) return -1;
    return (this.aSum * 8e6) / (span < ACKED_WINDOW_US ? span : ACKED_WINDOW_US);
  }

  /** Every packet sent to the receiver with a transport-wide sequence number (probe packets: clusterId). */
  onPacketSent(transportSeq: number, sizeBytes: number, sendTimeUs: number, probeClusterId = -1): void {
    const seq = transportSeq & 0xffff;
    if (this.hSeq.length === 0) this.allocateHistory();
    let i = seq & this.mask;
    if (this.hState[i] === FB_NONE && this.hSeq[i] >= 0 && this.mask < this.maxMask && this.hSend[i] > this.newestReportedSendUs && sendTimeUs - this.lastFeedbackUs < FEEDBACK_LIVE_US) {
      // the packet there still waits for its feedback: keep it, with twice the history
      this.growHistory();
      i = seq & this.mask;
    }
    this.hSeq[i] = seq;
    this.hSend[i] = sendTimeUs;
    this.hSize[i] = sizeBytes > 0xffff ? 0xffff : sizeBytes;
    this.hCluster[i] = probeClusterId;
    this.hState[i] = FB_NONE;
    if (probeClusterId >= 0 && probeClusterId === this.cluster.id) this.cluster.sent++;
  }

  /** A transport-cc feedback packet (RTPFB FMT=15) from the receiver. Returns false when malformed. */
  onFeedback(buf: Buffer, off: number, len: number, nowUs: number): boolean {
    if (off < 0 || len < 20 || off + len > buf.length) return false;
    // unwrap the 24-bit reference time so arrival times stay on one axis (committed once valid)
    const ref = twccReferenceTime(buf, off);
    const base = this.haveRef ? this.refBase + ((((ref - this.lastRef) & 0xffffff) << 8) >> 8) : ref;
    this.refOffsetUs = (base - ref) * 64000;
    this.latestSendInFeedback = -1;
    this.matched = 0;
    if (forEachTwccStatus(buf, off, len, this.onStatusCb) < 0) return false;
    this.lastFeedbackUs = nowUs;
    this.haveRef = true;
    this.refBase = base;
    this.lastRef = ref;
    if (this.matched === 0) return true; // nothing we know of (stale or foreign feedback)
    if (this.latestSendInFeedback >= 0) {
      let rtt = (nowUs - this.latestSendInFeedback) / 1000;
      if (rtt < 1) rtt = 1;
      else if (rtt > 2000) rtt = 2000;
      this.aimd.rttMs = 0.9 * this.aimd.rttMs + 0.1 * rtt;
    }
    // delay-based
    const acked = this.ackedBps();
    if (this.detector.state === BW_OVERUSING) {
      if (this.aimd.timeToReduceFurther(nowUs, acked)) this.aimd.update(BW_OVERUSING, acked, nowUs);
    } else {
      this.aimd.update(this.detector.state, acked, nowUs);
    }
    this.updateLossBased(nowUs);
    this.updateProbe(nowUs);
    return true;
  }

  private onStatus(seq: number, received: boolean, arrivalUs: number): void {
    const i = seq & this.mask;
    if (this.hSeq[i] !== seq) return;
    this.matched++;
    if (this.hSend[i] > this.newestReportedSendUs) this.newestReportedSendUs = this.hSend[i];
    const st = this.hState[i];
    if (!received) {
      if (st === FB_NONE) {
        this.hState[i] = FB_LOST;
        this.lossLost++;
        this.lossTotal++;
      }
      return;
    }
    if (st === FB_RECEIVED) return;
    if (st === FB_LOST) this.lossLost--;
    else this.lossTotal++;
    this.hState[i] = FB_RECEIVED;
    const send = this.hSend[i];
    const size = this.hSize[i];
    if (send > this.latestSendInFeedback) this.latestSendInFeedback = send;
    if (!(arrivalUs === arrivalUs)) return; // received without a time
    const arrival = arrivalUs + this.refOffsetUs;
    this.addAcked(arrival, size);
    if (this.interArrival.add(send, arrival)) {
      const ia = this.interArrival;
      this.detector.update(ia.arrivalDeltaMs, ia.sendDeltaMs, ia.groupArrivalUs);
    }
    if (this.hCluster[i] >= 0 && this.hCluster[i] === this.cluster.id) this.cluster.addReceived(send, arrival, size);
  }

  private addAcked(arrival: number, bytes: number): void {
    if (this.aFirstArrival < 0) this.aFirstArrival = arrival;
    if (arrival > this.aMaxArrival) this.aMaxArrival = arrival;
    // full, with the oldest still inside the window: twice the ring rather than forget it
    if (((this.aHead + 1) & this.aMask) === this.aTail && this.aMask < this.maxMask && this.aArrival[this.aTail] >= this.aMaxArrival - ACKED_WINDOW_US) this.growAcked();
    const mask = this.aMask;
    if (((this.aHead + 1) & mask) === this.aTail) {
      this.aSum -= this.aBytes[this.aTail];
      this.aTail = (this.aTail + 1) & mask;
    }
    this.aArrival[this.aHead] = arrival;
    this.aBytes[this.aHead] = bytes;
    this.aSum += bytes;
    this.aHead = (this.aHead + 1) & mask;
    const from = this.aMaxArrival - ACKED_WINDOW_US;
    while (this.aTail !== this.aHead && this.aArrival[this.aTail] < from) {
      this.aSum -= this.aBytes[this.aTail];
      this.aTail = (this.aTail + 1) & mask;
    }
    if (this.aFirstArrival < from) this.aFirstArrival = from;
  }

  /** Slots in the send history now (0 before the first packet sent; it grows on need). */
  get historySlots(): number {
    return this.hSeq.length;
  }

  private allocateHistory(): void {
    const size = this.mask + 1;
    this.hSeq = new Int32Array(size).fill(-1);
    this.hSend = new Float64Array(size);
    this.hSize = new Uint16Array(size);
    this.hCluster = new Int32Array(size);
    this.hState = new Uint8Array(size);
    this.aArrival = new Float64Array(this.aMask + 1);
    this.aBytes = new Float64Array(this.aMask + 1);
  }

  /** Twice the send history; every packet it holds moves to its slot in the new one. */
  private growHistory(): void {
    const n = (this.mask + 1) * 2;
    const mask = n - 1;
    const seqs = new Int32Array(n).fill(-1);
    const send = new Float64Array(n);
    const size = new Uint16Array(n);
    const cluster = new Int32Array(n);
    const state = new Uint8Array(n);
    for (let i = 0; i <= this.mask; i++) {
      const seq = this.hSeq[i];
      if (seq < 0) continue;
      const j = seq & mask;
      seqs[j] = seq;
      send[j] = this.hSend[i];
      size[j] = this.hSize[i];
      cluster[j] = this.hCluster[i];
      state[j] = this.hState[i];
    }
    this.mask = mask;
    this.hSeq = seqs;
    this.hSend = send;
    this.hSize = size;
    this.hCluster = cluster;
    this.hState = state;
  }

  /** Twice the acknowledged-rate ring, its entries kept in order from index 0. */
  private growAcked(): void {
    const n = (this.aMask + 1) * 2;
    const arrival = new Float64Array(n);
    const bytes = new Float64Array(n);
    let k = 0;
    for (let i = this.aTail; i !== this.aHead; i = (i + 1) & this.aMask) {
      arrival[k] = this.aArrival[i];
      bytes[k] = this.aBytes[i];
      k++;
    }
    this.aMask = n - 1;
    this.aArrival = arrival;
    this.aBytes = bytes;
    this.aTail = 0;
    this.aHead = k;
  }

  private updateLossBased(nowUs: number): void {
    if (this.lossSinceUs < 0) this.lossSinceUs = nowUs;
    const elapsed = nowUs - this.lossSinceUs;
    if (elapsed < LOSS_INTERVAL_US) return;
    if (this.lossTotal < LOSS_MIN_PACKETS && (elapsed < LOSS_MAX_INTERVAL_US || this.lossTotal < LOSS_MIN_PACKETS / 4)) return;
    const p = this.lossLost > 0 ? this.lossLost / this.lossTotal : 0;
    this.lossRatio = p;
    this.lossAverage = 0.7 * this.lossAverage + 0.3 * p;
    if (p > 0.1) {
      const cur = this.estimateBps();
      const base = this.lossBasedBps < cur ? this.lossBasedBps : cur;
      this.lossBasedBps = Math.max(this.minBps, base * (1 - 0.5 * p));
    } else if (p < 0.02) {
      this.lossBasedBps = Math.min(this.maxBps, this.lossBasedBps * 1.05 + 1000);
    }
    this.lossLost = 0;
    this.lossTotal = 0;
    this.lossSinceUs = nowUs;
  }

  /**
   * The sender would use `wantedBps` (e.g. the layers the receiver's tiles need) but the estimate is lower:
   * probe towards it soon, unless a probe ran in the last WANTED_PROBE_INTERVAL_US or the path was just
   * found congested.
   */
  wantProbe(wantedBps: number, nowUs: number): void {
    if (this.cluster.active || this.pendingProbeBps > 0) return;
    const est = this.estimateBps();
    if (wantedBps <= est * 1.1 || est >= this.maxBps) return;
    if (nowUs - this.lastProbeUs < WANTED_PROBE_INTERVAL_US || nowUs - this.aimd.lastDecreaseUs < PROBE_AFTER_DECREASE_US) return;
    if (this.lossAverage >= 0.1) return;
    this.pendingProbeBps = Math.min(wantedBps, 2 * est);
  }

  /** A probe to send now, or null. The returned object is reused: read it before the next call. */
  probeRequest(nowUs: number): ProbeRequest | null {
    this.updateProbe(nowUs);
    if (this.cluster.active) return null;
    let rate = this.pendingProbeBps;
    this.pendingProbeBps = 0;
    const est = this.estimateBps();
    if (
      rate <= 0 &&
      this.periodicProbes &&
      nowUs - this.lastProbeUs >= PROBE_INTERVAL_US &&
      nowUs - this.aimd.lastDecreaseUs >= PROBE_INTERVAL_US &&
      this.lossAverage < 0.05
    ) {
      rate = 2 * est;
    }
    if (rate > this.maxBps) rate = this.maxBps;
    if (rate <= est * 1.1) return null;
    const p = this.probe;
    p.clusterId = this.nextClusterId;
    this.nextClusterId = (this.nextClusterId + 1) & 0x7fffffff;
    p.rateBps = rate;
    p.durationMs = PROBE_DURATION_MS;
    p.minPackets = PROBE_MIN_PACKETS;
    this.cluster.start(p.clusterId, rate, nowUs);
    this.probeTargetBps = rate;
    this.lastProbeUs = nowUs;
    return p;
  }

  private updateProbe(nowUs: number): void {
    const c = this.cluster;
    if (!c.active) return;
    const timedOut = nowUs - c.startUs > PROBE_TIMEOUT_US;
    const sentAll = nowUs - c.startUs >= PROBE_DURATION_MS * 1000;
    const enough = c.received >= PROBE_MIN_PACKETS && c.received >= 0.8 * c.sent;
    if (!timedOut && !(sentAll && enough)) return;
    const result = c.finish(PROBE_MIN_PACKETS);
    if (result > 0) this.onProbeResult(result, nowUs);
  }

  /**
   * A measured probe rate (bps). Raises the estimate when higher; a probe that got through at 70 % or
   * more of its target asks for a further probe at twice the result.
   */
  onProbeResult(bps: number, nowUs: number): void {
    if (!(bps > 0)) return;
    if (bps > this.aimd.estimateBps) this.aimd.setEstimate(bps, nowUs);
    if (bps > this.lossBasedBps && this.lossAverage < 0.1) {
      this.lossBasedBps = bps < this.maxBps ? bps : this.maxBps;
    }
    if (this.probeTargetBps > 0 && bps >= 0.7 * this.probeTargetBps && 2 * bps <= this.maxBps * 2) {
      this.pendingProbeBps = 2 * bps;
    }
    this.probeTargetBps = 0;
  }
}
