// One receiver's copy of one source (mediasoup's Consumer, LiveKit's DownTrack, Galène's DownTrack): everything
// the bridge does for that (receiver, source) pair lives here.
//  - forwarding: a plain source's packet is copied as it is; a simulcast camera's packet goes through the VP8
//    rewriter (one continuous stream out of whichever layer is selected: SSRC, sequence number, timestamp,
//    picture id, TL0PICIDX), which switches layers at keyframes (a held keyframe is sent from the layer's
//    retransmission buffer once it is whole);
//  - retransmission: a NACK of this receiver is answered from the right buffer (a simulcast packet from its
//    layer's, rewritten again as first sent) as RTX on the source's RTX SSRC;
//  - keyframes: what its rewriter waits for, and the receiver's PLI/FIR, become requests for the layer it gets;
//  - sender reports: forwarded with this receiver's SSRC and timestamp (lip sync), and the round-trip time
//    measured from its receiver reports;
//  - its own counters (packets, bytes, retransmissions, loss, layer, rtt).
// A receiver in slot mode (slots/receive-slots.ts) gets the source on one of its fixed slots: the downtrack
// then writes with the slot's rewriter (video, a plain source too, as layer 0; audio: AudioSlotRewriter), so the
// slot stays one stream across the sources that play on it, and retransmits and probes with the slot's RTX SSRC.
// It sends through the receiver's transport. The hot path (forward) allocates nothing: the packet arrives
// parsed (RtpView) and is copied once into a ring slot.
import { randomInt } from 'node:crypto';
import { RTX_PT, TWCC_EXT_ID, VIDEO_PT } from '../protocol/media-profile.ts';
import { BufferRing } from './buffer-ring.ts';
import { BridgeCounters } from './counters.ts';
import type { Endpoint } from './endpoint.ts';
import { RtpView } from './packet/rtp-view.ts';
import { PROBE_TW_OFFSET, writeProbePadding, writeRtx } from './packet/rtx.ts';
import { createSourceDemand, type SimulcastLayer, type SourceDemand } from './simulcast/layer-selector.ts';
import { Vp8Rewriter } from './simulcast/vp8-rewriter.ts';
import type { Source } from './source.ts';
import type { AudioSlotRewriter } from './slots/audio-rewriter.ts';
import type { ReceiveSlot } from './slots/receive-slots.ts';

/** Largest plaintext RTP/RTCP packet the bridge forwards (room left for the SRTP tag and index). */
export const MAX_FORWARD = 1500;
/** Retransmissions answered per NACK packet at most. */
export const MAX_RESENDS_PER_NACK = 256;

/** What every downtrack of a thread shares: the output ring, scratch space, the keyframe requests upstream. */
export interface DowntrackHost {
  readonly counters: BridgeCounters;
  /** A preallocated output buffer (reused once the ring wrapped around). */
  nextSlot(): Buffer;
  /** Parses a packet taken from a retransmission buffer (the packet being forwarded keeps its own view). */
  readonly heldView: RtpView;
  /** Where a retransmitted simulcast packet is rewritten before it is wrapped as RTX (synchronous use only). */
  readonly resendScratch: Buffer;
  /** Asks the sender of `source` (a plain source or a layer) for a keyframe, paced per source unless `force`. */
  requestKeyframe(source: Source, fir: boolean, force: boolean): void;
  /** Asks the far bridge for packet `seq` of `layer`, a simulcast layer that came through a relay. */
  nackUpstream(layer: Source, seq: number): void;
}

/** A far bridge's wish for a layer counts this long unless it is said again (each of its media workers says it every second). */
export const RELAY_WANT_TTL_MS = 3500;
/** Wishes kept apart: one per media worker of the far bridge (index % 7), and one for its keyframe requests. */
const RELAY_WANT_SLOTS = 8;
/** The `worker` of a wish that a keyframe request for a layer implies. */
export const RELAY_WANT_BY_KEYFRAME = -1;

/** A host for downtracks outside a bridge (tests of the control plane): a small ring, no requests. */
export function standaloneDowntrackHost(): DowntrackHost {
  const ring = new BufferRing(16, 1600);
  return {
    counters: new BridgeCounters(),
    nextSlot: () => ring.next(),
    heldView: new RtpView(VIDEO_PT, TWCC_EXT_ID),
    resendScratch: Buffer.alloc(MAX_FORWARD),
    requestKeyframe() {},
    nackUpstream() {},
  };
}

/** Where a downtrack's RTX sequence numbers live (itself, or its receive slot). */
interface RtxNumbering {
  rtxSeq: number;
}

export class Downtrack {
  readonly source: Source;
  readonly receiver: Endpoint;
  /**
   * Simulcast sources only: the one continuous stream out of the selected layer, and its layer demand. Null
   * for a relay receiver: it gets the layers its far bridge wants, each as it came, under its relay SSRC.
   */
  readonly rewriter: Vp8Rewriter | null;
  readonly demand: SourceDemand | null;
  /** Slot mode: the receiver's slot this source plays on (null: the source's own stream). */
  readonly slot: ReceiveSlot | null;
  /** Slot mode, audio: the slot's rewriter. */
  private readonly audioSlot: AudioSlotRewriter | null;
  /** A relay receiver of a simulcast source: the layers (bits) its far bridge wants now, per media worker of it, and when each said so. */
  relayMask = 0;
  /** Simulcast: the layer the receiver's tile asks for, paused layers included (set by the allocation); -1: none. */
  wantLayer = -1;
  private readonly relayWants: Uint8Array | null;
  private readonly relayWantsMs: Float64Array | null;
  /**
   * Sequence numbers of RTX packets (retransmissions and probe padding) to this receiver: its own, or in slot mode
   * the slot's (one RTX stream under the slot's RTX SSRC, continuous across the sources that play on it).
   */
  private readonly rtx: RtxNumbering;

  /** Sequence number of the next RTX packet to this receiver. */
  get rtxSeq(): number {
    return this.rtx.rtxSeq;
  }

  // ------------------------------------------------------------ counters (read by stats, never reset)
  /** RTP packets and bytes forwarded (retransmissions and probes not included). */
  packets = 0;
  bytes = 0;
  retransmits = 0;
  /** NACKed packets it could not answer (not in the buffer any more). */
  nackMisses = 0;
  /** Keyframes the receiver asked for. */
  keyframeRequests = 0;
  /** From the receiver's last report on this stream: fraction lost (0..1) and cumulative packets lost. */
  fractionLost = 0;
  packetsLost = 0;
  /** Round-trip time (ms) from the receiver's last report on a sender report forwarded to it; -1: unknown. */
  rttMs = -1;
  /** Interarrival jitter (ms) from the receiver's last report. */
  jitterMs = 0;
  /** True once the receiver reported on this stream (the fields above are its). */
  reported = false;

  private readonly host: DowntrackHost;
  /** Retransmissions still allowed for the NACK packet being answered. */
  private resendBudget = 0;
  /** The middle 32 bits of the NTP time of the last sender report forwarded, and performance.now() then. */
  private srNtp = -1;
  private srSentMs = 0;

  /** `onKeyframeNeeded(source, layer)`: the rewriter waits for a keyframe of that layer (the bridge asks for it). */
  constructor(
    source: Source,
    receiver: Endpoint,
    host: DowntrackHost,
    onKeyframeNeeded: (source: Source, layer: number) => void,
    slot: ReceiveSlot | null = null,
  ) {
    this.source = source;
    this.receiver = receiver;
    this.host = host;
    this.relayWants = null;
    this.relayWantsMs = null;
    this.slot = slot;
    this.rtx = slot ?? { rtxSeq: randomInt(0, 0x8000) };
    this.audioSlot = slot?.audio ?? null;
    if (slot !== null) {
      // the slot's stream, continued: simulcast layers chosen as for any receiver, a plain video as layer 0
      this.rewriter = slot.video;
      this.demand = slot.video !== null && source.rids !== null ? createSourceDemand(source.rids.map(() => ({ width: 0, height: 0, bitrateBps: 0 }))) : null;
    } else if (source.rids !== null && receiver.relay && source.relaySsrcs.length === source.rids.length) {
      this.rewriter = null;
      this.demand = null;
      this.relayWants = new Uint8Array(RELAY_WANT_SLOTS);
      this.relayWantsMs = new Float64Array(RELAY_WANT_SLOTS);
    } else if (source.rids !== null) {
      this.rewriter = new Vp8Rewriter(source.ssrc, (layer) => onKeyframeNeeded(source, layer));
      const layers: SimulcastLayer[] = source.rids.map(() => ({ width: 0, height: 0, bitrateBps: 0 }));
      this.demand = createSourceDemand(layers);
    } else {
      this.rewriter = null;
      this.demand = null;
    }
  }

  /** The simulcast layer it forwards now (-1: none, or not simulcast). */
  get layer(): number {
    return this.rewriter === null ? -1 : this.rewriter.currentLayer;
  }

  // ------------------------------------------------------------ forwarding (per packet)

  /** The SSRC its retransmissions and probes go with (0: plain retransmissions, no probes). */
  get rtxOutSsrc(): number {
    return this.slot !== null ? this.slot.rtxSsrc : this.source.rtxOutSsrc;
  }

  /** A packet of this (plain) source, parsed into `v`: the receiver gets its own copy. */
  forward(v: RtpView): void {
    const to = this.receiver;
    if (!to.connected) return;
    if (this.rewriter !== null) {
      // slot mode, a plain video: one layer (0) through the slot's rewriter
      if (v.vp8Valid) this.forwardRewritten(0, v);
      return;
    }
    const out = this.host.nextSlot();
    const len = v.len;
    v.buf.copy(out, 0, 0, len);
    if (this.audioSlot !== null) this.audioSlot.rewrite(out, v.seq, v.timestamp, v.atMs);
    this.packets++;
    this.bytes += len;
    to.transport.sendRtp(out, len, this.source.kind, -1, v.twccOffset);
  }

  /**
   * A packet of simulcast layer `layer` of this source, parsed into `v` (its VP8 descriptor too): sent
   * rewritten when the rewriter forwards that layer, or it completes the keyframe a switch waits for.
   */
  forwardLayer(layer: Source, v: RtpView): void {
    const to = this.receiver;
    if (!to.connected) return;
    const rw = this.rewriter;
    const li = layer.layerIndex;
    if (rw === null) {
      this.forwardToRelay(li, v);
      return;
    }
    if (li !== rw.currentLayer) {
      if (li !== rw.targetLayer) return;
      if (rw.currentLayer >= 0) {
        // another layer plays on until this one's keyframe is whole
        const first = rw.holdForKeyframe(v.seq, v.timestamp, v.vp8.keyframe, v.marker);
        if (first >= 0) this.switchAtKeyframe(layer, first, v.seq, v.atMs);
        return;
      }
      if (!v.vp8.keyframe) return; // nothing plays: switch at the keyframe's first packet
    }
    this.forwardRewritten(li, v);
  }

  /** Sends packet `v` of layer `li` through the rewriter (which may drop it). */
  private forwardRewritten(li: number, v: RtpView): void {
    const rw = this.rewriter!;
    const to = this.receiver;
    const out = this.host.nextSlot();
    const len = v.len;
    v.buf.copy(out, 0, 0, len);
    if (!rw.rewriteParsed(out, v.headerLength, v.payloadEnd, v.seq, v.timestamp, li, v.vp8, v.atMs)) return;
    this.packets++;
    this.bytes += len;
    to.transport.sendRtp(out, len, 'video', -1, v.twccOffset);
  }

  /** A layer packet to a relay: as it came (numbers, timestamps, VP8 descriptor), with the layer's relay SSRC, when the far bridge wants it. */
  private forwardToRelay(li: number, v: RtpView): void {
    if ((this.relayMask & (1 << li)) === 0) return;
    const out = this.host.nextSlot();
    const len = v.len;
    v.buf.copy(out, 0, 0, len);
    out.writeUInt32BE(this.source.relaySsrcs[li], 8);
    this.packets++;
    this.bytes += len;
    this.receiver.transport.sendRtp(out, len, 'video', -1, v.twccOffset);
  }

  /**
   * Worker `worker` of the far bridge wants layers `mask` (bits) of this source (a relay receiver). A wish
   * not said again within RELAY_WANT_TTL_MS lapses. Returns the layers newly wanted (bits).
   */
  relayWant(worker: number, mask: number, nowMs: number): number {
    const wants = this.relayWants;
    const at = this.relayWantsMs;
    if (wants === null || at === null) return 0;
    const slot = worker < 0 ? RELAY_WANT_SLOTS - 1 : worker % (RELAY_WANT_SLOTS - 1);
    wants[slot] = mask;
    at[slot] = nowMs;
    let all = 0;
    for (let i = 0; i < RELAY_WANT_SLOTS; i++) if (nowMs - at[i] <= RELAY_WANT_TTL_MS) all |= wants[i];
    const gained = all & ~this.relayMask;
    this.relayMask = all;
    return gained;
  }

  /** A relay receiver NACKed `seq` of layer `li` (its own number: relay layers keep the sender's): false when not in the layer's buffer. */
  resendToRelay(li: number, seq: number): boolean {
    const layer = this.source.layers[li];
    const rb = layer === null || layer === undefined ? null : layer.rtx;
    const i = rb === null ? -1 : rb.find(seq);
    if (i < 0 || this.resendBudget <= 0) return false;
    this.resendBudget--;
    this.retransmits++;
    this.host.counters.retransmits++;
    const out = this.host.nextSlot();
    const len = rb!.copyTo(i, out);
    out.writeUInt32BE(this.source.relaySsrcs[li], 8);
    this.receiver.transport.sendRtp(out, len, 'video', -1);
    return true;
  }

  /**
   * The rewriter switches to `layer` at the keyframe whose packets are input seqs first..last: they are sent
   * now (`nowMs`, the packet that completed it), from the layer's retransmission buffer (which holds every packet
   * received), in order.
   */
  private switchAtKeyframe(layer: Source, first: number, last: number, nowMs: number): void {
    const rb = layer.rtx!;
    const rw = this.rewriter!;
    const count = ((last - first) & 0xffff) + 1;
    const hv = this.host.heldView;
    // a keyframe longer than the buffer (it grows for the next one), or its first packet gone: wait for the
    // next one (asked for by the downlink timer while the rewriter needs it)
    if (count > rb.slotCount) {
      rb.reserve(count);
      return;
    }
    if (rb.find(first) < 0) {
      rb.reserve(count); // overwritten by its own later packets when the bytes were short (a no-op otherwise)
      return;
    }
    const to = this.receiver;
    for (let k = 0; k < count; k++) {
      const slot = rb.find((first + k) & 0xffff);
      if (slot < 0) continue; // lost on the way in: the receiver NACKs the gap
      const out = this.host.nextSlot();
      const len = rb.copyTo(slot, out);
      if (!hv.parse(out, len) || hv.payloadEnd <= hv.headerLength || !hv.vp8Valid) continue;
      if (!rw.rewriteParsed(out, hv.headerLength, hv.payloadEnd, hv.seq, hv.timestamp, layer.layerIndex, hv.vp8, nowMs)) continue;
      this.packets++;
      this.bytes += len;
      to.transport.sendRtp(out, len, 'video', -1, hv.twccOffset);
    }
  }

  // ------------------------------------------------------------ retransmissions

  /** A NACK packet of the receiver starts: at most MAX_RESENDS_PER_NACK retransmissions for it. */
  beginNack(): void {
    this.resendBudget = MAX_RESENDS_PER_NACK;
  }

  /**
   * The receiver NACKed `seq` (as it got it). Answers it from the buffer it was sent from; returns false when
   * the buffer does not have it and the sender should be asked (a plain source: the same number upstream).
   */
  nack(seq: number): boolean {
    const source = this.source;
    const host = this.host;
    if (this.audioSlot !== null) {
      this.miss(); // audio is not retransmitted; its numbers are the slot's
      return true;
    }
    if (this.rewriter !== null) {
      // the receiver names rewritten numbers: find the layer packet it was made of (a plain video in a slot: layer 0 is itself)
      const rw = this.rewriter;
      const found = rw.lookup(seq);
      const layer = !found ? null : source.rids === null ? source : source.layers[rw.foundLayer];
      const rb = layer === null || layer === undefined ? null : layer.rtx;
      const i = rb === null ? -1 : rb.find(rw.foundInSeq);
      if (i < 0) {
        // a layer that came over a relay: the far bridge has it by the layer's own number
        const up = found ? layer : rw.currentLayer < 0 ? null : source.rids === null ? source : source.layers[rw.currentLayer];
        const inSeq = found ? rw.foundInSeq : rw.inputSeqOf(seq);
        if (up !== null && up !== undefined && up.owner.relay && inSeq >= 0) host.nackUpstream(up, inSeq);
        this.miss();
        return true; // the sender knows nothing of the rewritten number
      }
      const copy = host.resendScratch;
      const len = rb!.copyTo(i, copy);
      const hv = host.heldView;
      if (!hv.parse(copy, len) || hv.payloadEnd <= hv.headerLength || !hv.vp8Valid || !rw.rewriteAgain(copy, len, hv.vp8)) {
        this.miss();
        return true;
      }
      this.resend(copy, len);
      return true;
    }
    const rb = source.rtx;
    const i = rb === null ? -1 : rb.find(seq);
    if (i < 0) {
      this.miss();
      return false;
    }
    const copy = host.resendScratch;
    this.resend(copy, rb!.copyTo(i, copy));
    return true;
  }

  private miss(): void {
    this.nackMisses++;
    this.host.counters.nackMisses++;
  }

  /** Retransmits pkt[0..len) (plain RTP as the receiver got it): as RTX when the source has an RTX SSRC. */
  private resend(pkt: Buffer, len: number): void {
    if (this.resendBudget <= 0) return;
    this.resendBudget--;
    this.retransmits++;
    this.host.counters.retransmits++;
    const out = this.host.nextSlot();
    const rtxSsrc = this.rtxOutSsrc;
    if (rtxSsrc === 0) {
      pkt.copy(out, 0, 0, len);
      this.receiver.transport.sendRtp(out, len, 'video', -1);
      return;
    }
    const n = writeRtx(pkt, len, out, RTX_PT, rtxSsrc, this.rtx.rtxSeq);
    if (n < 0) return;
    this.rtx.rtxSeq = (this.rtx.rtxSeq + 1) & 0xffff;
    this.receiver.transport.sendRtp(out, n, 'video', -1);
  }

  /**
   * Sends `count` padding-only RTX packets of `size` bytes for bandwidth probe `cluster` (they count as the
   * receiver's bandwidth, not as media). Returns the bytes sent.
   */
  sendProbe(cluster: number, count: number, size: number): number {
    const to = this.receiver;
    const rtxSsrc = this.rtxOutSsrc;
    if (!to.connected || rtxSsrc === 0) return 0;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const out = this.host.nextSlot();
      const n = writeProbePadding(out, RTX_PT, rtxSsrc, this.rtx.rtxSeq, 0, TWCC_EXT_ID, size);
      this.rtx.rtxSeq = (this.rtx.rtxSeq + 1) & 0xffff;
      this.host.counters.probePackets++;
      to.transport.sendRtp(out, n, 'video', cluster, PROBE_TW_OFFSET);
      bytes += n;
    }
    return bytes;
  }

  // ------------------------------------------------------------ keyframes

  /** The receiver asks for a keyframe (PLI, or FIR): of a simulcast source, of the layer it gets or waits for. */
  requestKeyframe(fir: boolean): void {
    this.keyframeRequests++;
    const source = this.source;
    const rw = this.rewriter;
    if (rw === null) {
      // a relay asks for its layers by their relay SSRCs (router.ts): this is a plain source
      if (source.rids === null) this.host.requestKeyframe(source, fir, false);
      return;
    }
    if (source.rids === null) {
      // a plain video on a slot
      this.host.requestKeyframe(source, fir, false);
      return;
    }
    const index = rw.targetLayer >= 0 ? rw.targetLayer : rw.currentLayer;
    const layer = index >= 0 ? source.layers[index] : null;
    if (layer !== null && layer !== undefined) this.host.requestKeyframe(layer, fir, false);
  }

  // ------------------------------------------------------------ sender and receiver reports

  /**
   * A sender report of `from` (this source, or one of its layers) in sr[0..28) (sender info only): sent when
   * the receiver gets that stream now, with this receiver's SSRC and RTP timestamp. `sr` is scratch space.
   */
  forwardSr(from: Source, sr: Buffer, nowMs: number): void {
    const to = this.receiver;
    if (!to.connected) return;
    const rw = this.rewriter;
    if (rw === null && this.source.rids !== null) {
      // to a relay: the layer's own report under its relay SSRC, when the far bridge gets that layer
      const li = from.layerIndex;
      if (li < 0 || (this.relayMask & (1 << li)) === 0) return;
      sr.writeUInt32BE(this.source.relaySsrcs[li], 4);
      to.transport.sendRtcp(sr, 28, 'video');
    } else if (rw !== null) {
      if (rw.currentLayer !== (this.source.rids === null ? 0 : from.layerIndex)) return;
      const ts = sr.readUInt32BE(16);
      sr.writeUInt32BE(rw.outSsrc, 4);
      sr.writeUInt32BE(rw.outTimestamp(ts), 16);
      to.transport.sendRtcp(sr, 28, 'video');
      sr.writeUInt32BE(ts, 16); // the next receiver reads the layer's own timestamp and SSRC again
      sr.writeUInt32BE(from.ssrc, 4);
    } else if (this.audioSlot !== null) {
      if (!this.audioSlot.mapped) return; // a new source's report before its first packet: the old mapping would lie
      const ts = sr.readUInt32BE(16);
      sr.writeUInt32BE(this.audioSlot.outSsrc, 4);
      sr.writeUInt32BE(this.audioSlot.outTimestamp(ts), 16);
      to.transport.sendRtcp(sr, 28, 'audio');
      sr.writeUInt32BE(ts, 16);
      sr.writeUInt32BE(from.ssrc, 4);
    } else {
      to.transport.sendRtcp(sr, 28, this.source.kind);
    }
    this.srNtp = sr.readUInt32BE(10);
    this.srSentMs = nowMs;
  }

  /** A report block (24 bytes at `off`) of the receiver about this stream: loss, jitter, and the round-trip time. */
  onReportBlock(buf: Buffer, off: number, nowMs: number): void {
    this.reported = true;
    this.fractionLost = buf[off + 4] / 256;
    // in RTP timestamp units: Opus 48 kHz, video 90 kHz
    this.jitterMs = buf.readUInt32BE(off + 12) / (this.source.kind === 'audio' ? 48 : 90);
    const lost = (buf[off + 5] << 16) | (buf[off + 6] << 8) | buf[off + 7];
    this.packetsLost = lost & 0x800000 ? lost - 0x1000000 : lost;
    const lsr = buf.readUInt32BE(off + 16);
    if (lsr === 0 || lsr !== this.srNtp) return;
    // DLSR is in 1/65536 s: the time the receiver held the report
    const rtt = nowMs - this.srSentMs - (buf.readUInt32BE(off + 20) * 1000) / 65536;
    if (rtt >= 0) this.rttMs = rtt;
  }
}
