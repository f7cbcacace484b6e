// The control loop per receiver (bridge -> browser direction): which simulcast layer (and frame rate: temporal layers) of each camera it gets
// (its bandwidth estimate and tile sizes decide, see simulcast/layer-selector.ts), keyframe re-requests while
// a rewriter waits for a switch, paced bandwidth probes, and the estimator each receiver gets. Runs from timers, never per packet.
// The estimate is for everything the receiver is sent: what it gets besides simulcast cameras (audio, screens,
// plain video; measured from its downtracks' byte counters) comes off it before the cameras share the rest. A camera
// the receiver shows but gets no layer of (its estimate left no room) is suspended: the receiver is told which
// (`onSuspended`, on change), so its page shows those tiles paused rather than frozen on a last frame.
import type { Conference } from './conference.ts';
import type { Endpoint } from './endpoint.ts';
import type { Source } from './source.ts';
import type { Downtrack } from './downtrack.ts';
import type { Router } from './router.ts';
import { MAX_PROBE_PACKET } from './packet/rtx.ts';
import { ALL_TEMPORAL_LAYERS, LayerSelector, idealLayer, isSuspended, tileLayer, type SourceDemand } from './simulcast/layer-selector.ts';
import { ALL_TEMPORAL } from './simulcast/vp8-rewriter.ts';
import { SendSideBwe } from './bwe/send-side-bwe.ts';
import { FAR_RATE_TTL_MS } from './relay-feedback.ts';
import { MAX_SUSPENDED_VIDEOS } from '../protocol/signal-messages.ts';

/** How often layers are re-allocated. */
export const ALLOCATION_INTERVAL_MS = 250;
/** A receiver that never reported a tile size for a camera is taken to show it this large. */
const DEFAULT_TILE = { width: 1280, height: 720 };
/** Probe packets are sent in bursts this far apart (the probe's send rate is measured over them). */
const PROBE_STEP_MS = 5;

/** Where a receiver's bandwidth estimate starts (probes find more), its floor and its ceiling. */
const DOWNLINK_START_BPS = 1_000_000;
const DOWNLINK_MIN_BPS = 100_000;
const DOWNLINK_MAX_BPS = 10_000_000;

/**
 * The estimate of one receiver's downlink (made where the bridge sends to it). No periodic probes: the
 * allocation asks for one (wantProbe) when the receiver's tiles want more than the estimate.
 */
export function createDownlinkEstimator(): SendSideBwe {
  return new SendSideBwe({ startBps: DOWNLINK_START_BPS, minBps: DOWNLINK_MIN_BPS, maxBps: DOWNLINK_MAX_BPS, periodicProbes: false });
}

/**
 * What a forwarded packet counts in the receiver's estimate beyond its RTP bytes: SRTP's authentication tag (the
 * estimator counts each packet as sent, RTP and SRTP, not IP and UDP: the estimate is in the same units).
 */
const PACKET_OVERHEAD_BYTES = 10;

/**
 * Per receiver, across allocations: the rate of what it gets besides simulcast cameras, and the cameras last told
 * suspended.
 */
export class ReceiverShare {
  private plainBytes = -1;
  private plainAtMs = 0;
  /** Smoothed rate of its audio, screens and plain video (bps). */
  plainBps = 0;
  /** The cameras last told suspended (their speakers, in priority order). */
  suspended: readonly string[] = [];
  /** The next allocation tells the list whatever it is (nothing told from this thread yet). */
  retell = true;

  /** The plain downtracks' bytes on the wire so far: the smoothed rate follows. */
  measurePlain(bytes: number, nowMs: number): number {
    const dt = nowMs - this.plainAtMs;
    if (this.plainBytes >= 0 && bytes >= this.plainBytes && dt > 0) {
      const bps = ((bytes - this.plainBytes) * 8000) / dt;
      this.plainBps = this.plainBps === 0 ? bps : 0.7 * this.plainBps + 0.3 * bps;
    }
    this.plainBytes = bytes;
    this.plainAtMs = nowMs;
    return this.plainBps;
  }

  /** Another thread sends to the receiver now (or again): its measure starts afresh, and its list is told again. */
  moved(): void {
    this.plainBytes = -1;
    this.plainBps = 0;
    this.retell = true;
  }
}

/**
 * The receiver's cameras suspended now (shown, sent, no layer: `isSuspended`): their speakers in priority order (at
 * most MAX_SUSPENDED_VIDEOS), or null when that is what was told last.
 */
function suspendedChange(share: ReceiverShare, demands: readonly SourceDemand[], streams: readonly Downtrack[], order: readonly number[]): string[] | null {
  const now: string[] = [];
  for (const i of order) if (isSuspended(demands[i]) && now.length < MAX_SUSPENDED_VIDEOS) now.push(streams[i].source.speakerId);
  const told = share.suspended;
  return !share.retell && now.length === told.length && now.every((id, k) => id === told[k]) ? null : now;
}

/** Tells the receiver's new list (and how many of its cameras were not on the last one). */
function tellSuspended(ep: Endpoint, share: ReceiverShare, now: string[], onSuspended: (receiver: Endpoint, participantIds: string[], added: number) => void): void {
  let added = 0;
  for (const id of now) if (!share.suspended.includes(id)) added++;
  share.suspended = now;
  share.retell = false;
  onSuspended(ep, now, added);
}

/** A receiver's target layer of one simulcast source changed. */
export interface LayerChange {
  receiver: Endpoint;
  source: Source;
  layer: number;
  estimateBps: number;
  tileWidth: number;
  tileHeight: number;
}

/**
 * A layer's send rate: as measured here, or for a layer that comes over a relay at least what the far bridge
 * measured where the camera is (a layer not crossing the relay yet measures 0 here, and must still be choosable).
 */
export function layerRateBps(layer: Source, nowMs: number): number {
  const here = layer.rate!.rateBps(nowMs);
  return layer.owner.relay && nowMs - layer.farRateMs <= FAR_RATE_TTL_MS ? Math.max(here, layer.farRateBps) : here;
}

/** Re-runs layer selection for every receiver of a simulcast source in `conference`. */
export function allocateLayers(
  conference: Conference,
  nowMs: number,
  onChange: (change: LayerChange) => void,
  /** The cameras `receiver` shows but gets none of changed: all of them now, and how many of them are new. */
  onSuspended: (receiver: Endpoint, participantIds: string[], added: number) => void = () => {},
): void {
  const demands: SourceDemand[] = [];
  const streams: Downtrack[] = [];
  for (const ep of conference.endpoints.values()) {
    // media workers: the worker that sends to it decides (its estimate lives there)
    if (!ep.connected || !ep.egress.local || ep.downtracks.size === 0) continue;
    demands.length = 0;
    streams.length = 0;
    let plainBytes = 0;
    for (const st of ep.downtracks.values()) {
      const d = st.demand;
      if (d === null) {
        plainBytes += st.bytes + st.packets * PACKET_OVERHEAD_BYTES;
        continue;
      }
      const source = st.source;
      for (let i = 0; i < d.layers.length; i++) {
        const layer = source.layers[i];
        const l = d.layers[i];
        if (layer === null || layer === undefined) {
          l.bitrateBps = 0;
          continue;
        }
        l.bitrateBps = layerRateBps(layer, nowMs);
        // its frame rates below the full one (temporal layers measured here; none over a relay)
        const tr = layer.temporalRates;
        l.tl0Bps = tr === null ? 0 : tr.upToBps(0, nowMs);
        l.tl1Bps = tr === null ? 0 : tr.upToBps(1, nowMs);
        // until a keyframe told its size: the scale Chrome uses (4:2:1 from the top layer)
        const scale = 2 ** (d.layers.length - 1 - i);
        l.width = layer.width > 0 ? layer.width : DEFAULT_TILE.width / scale;
        l.height = layer.height > 0 ? layer.height : DEFAULT_TILE.height / scale;
        // the receiver's video-quality cap: a taller layer counts as not sent (the lowest always may be chosen)
        if (i > 0 && ep.maxReceiveHeight > 0 && l.height > ep.maxReceiveHeight) l.bitrateBps = 0;
      }
      const c = ep.videoConstraints.get(source.ssrc);
      const shown = source.subscribers.includes(ep) && !source.owner.videoMuted;
      d.tileWidth = shown ? (c?.width ?? DEFAULT_TILE.width) : 0;
      d.tileHeight = shown ? (c?.height ?? DEFAULT_TILE.height) : 0;
      st.wantLayer = tileLayer(d, ep.maxReceiveHeight);
      demands.push(d);
      streams.push(st);
    }
    const share = (ep.receiverShare ??= new ReceiverShare());
    const plainBps = share.measurePlain(plainBytes, nowMs);
    if (demands.length === 0) {
      // no camera any more: a list told before goes
      if (share.suspended.length > 0) tellSuspended(ep, share, [], onSuspended);
      continue;
    }
    // the largest tiles first: the stage before the filmstrip
    const order = demands.map((_, i) => i).sort((a, b) => demands[b].tileWidth * demands[b].tileHeight - demands[a].tileWidth * demands[a].tileHeight);
    const sortedDemands = order.map((i) => demands[i]);
    const selector = (ep.layerSelector ??= new LayerSelector());
    const estimate = ep.bwe !== null ? ep.bwe.estimateBps() : Infinity;
    selector.allocate(Math.max(0, estimate - plainBps), sortedDemands, nowMs);
    const suspended = suspendedChange(share, demands, streams, order);
    if (suspended !== null) tellSuspended(ep, share, suspended, onSuspended);
    if (ep.bwe !== null) {
      // what the tiles would use besides the rest: when the estimate does not allow it, find out whether the path does
      let wanted = plainBps;
      for (const d of demands) {
        const ideal = idealLayer(d);
        if (ideal >= 0) wanted += d.layers[ideal].bitrateBps * selector.upgradeMargin;
      }
      if (wanted > estimate) ep.bwe.wantProbe(wanted, nowMs * 1000);
    }
    for (const i of order) {
      const rw = streams[i].rewriter!;
      const before = rw.targetLayer;
      const t = demands[i].temporal;
      rw.setTarget(demands[i].target, t >= ALL_TEMPORAL_LAYERS ? ALL_TEMPORAL : t);
      if (rw.targetLayer !== before) {
        const d = demands[i];
        onChange({ receiver: ep, source: streams[i].source, layer: rw.targetLayer, estimateBps: estimate, tileWidth: d.tileWidth, tileHeight: d.tileHeight });
      }
      // still waiting for the switch: ask again (the router throttles)
      else if (rw.needsKeyframe) conference.onKeyframeNeeded(streams[i].source, rw.targetLayer);
    }
  }
}

/** Sends the bandwidth probes receivers' estimators ask for, paced in PROBE_STEP_MS bursts. */
export class ProbeSender {
  private readonly router: Router;
  private readonly active = new Set<Endpoint>();

  constructor(router: Router) {
    this.router = router;
  }

  /** Starts a probe for `ep` when its estimator wants one and it receives a video with an RTX SSRC. */
  maybeProbe(ep: Endpoint, nowUs: number): void {
    if (ep.bwe === null || !ep.connected || this.active.has(ep)) return;
    let stream: Downtrack | null = null;
    for (const st of ep.downtracks.values()) {
      if (st.rtxOutSsrc !== 0 && st.source.subscribers.includes(ep)) {
        stream = st;
        break;
      }
    }
    if (stream === null) return;
    const req = ep.bwe.probeRequest(nowUs);
    if (req === null) return;
    const { clusterId, rateBps, durationMs, minPackets } = req;
    // paced by the clock: each step sends what is due since the start (timers fire late on a busy machine)
    const start = performance.now();
    let sentBytes = 0;
    let sentPackets = 0;
    this.active.add(ep);
    const send = () => {
      const elapsed = performance.now() - start;
      const due = Math.min(elapsed + PROBE_STEP_MS, durationMs) * (rateBps / 8000);
      const packets = Math.max(1, Math.ceil((due - sentBytes) / MAX_PROBE_PACKET));
      sentBytes += this.router.sendProbe(stream, clusterId, packets, MAX_PROBE_PACKET);
      sentPackets += packets;
      const done = (elapsed >= durationMs && sentPackets >= minPackets) || !ep.connected || ep.closed;
      if (!done) setTimeout(send, PROBE_STEP_MS).unref();
      else this.active.delete(ep);
    };
    send();
  }
}

