// The media path's entry: what every transport hands the bridge after decryption. Per RTP packet it parses
// the packet once into the RtpView, finds its source (learning a simulcast layer from its rid), turns an RTX
// packet back into the original, keeps it for retransmissions and hands the view to each egress with
// receivers of the source (egress.ts: this thread's downtracks, or another media worker's ring); the
// downtracks (downtrack.ts) do the per-receiver work. Per RTCP packet it dispatches: receiver reports and
// NACK/PLI/FIR/transport-cc to the receiver's egress and downtracks, sender reports to the source's
// downtracks. RTCP the bridge composes comes from the RtcpWriter. Runs once per packet, so it uses no
// closures, no JSON, no logging and allocates nothing: output buffers come from a preallocated ring.
import {
  RTCP_APP,
  FMT_FIR,
  FMT_NACK,
  FMT_PLI,
  FMT_TWCC,
  RTCP_PSFB,
  RTCP_RTPFB,
  RTCP_RR,
  RTCP_SR,
  fbMediaSsrc,
  forEachFir,
  forEachNack,
  forEachReportBlock,
  forEachRtcp,
  srSsrc,
} from './packet/rtcp.ts';
import { RtpView } from './packet/rtp-view.ts';
import { readRelayLayers, readRelayRates, relayAppKind } from './packet/relay-layers.ts';
import { unwrapRtx } from './packet/rtx.ts';
import { TwccRecorder } from './packet/twcc.ts';
import { BufferRing } from './buffer-ring.ts';
import { RtcpWriter } from './rtcp-writer.ts';
import { MAX_FORWARD, RELAY_WANT_BY_KEYFRAME, type Downtrack, type DowntrackHost } from './downtrack.ts';
import { LocalEgress } from './egress.ts';
import type { BridgeCounters } from './counters.ts';
import type { Endpoint } from './endpoint.ts';
import type { Source } from './source.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';
import type { UdpTransport } from './udp-transport.ts';
import type { SendContext, WebRtcTransport } from './webrtc-transport.ts';
import type { PlainSink } from './plain-transport.ts';
import type { Pacing } from './pacer.ts';
import {
  AUDIO_LEVEL_EXT_ID,
  HIDDEN_EXT_ID,
  MID_EXT_ID,
  REPAIRED_RID_EXT_ID,
  RID_EXT_ID,
  RTX_PT,
  TWCC_EXT_ID,
  VIDEO_PT,
} from '../protocol/media-profile.ts';

/** Output ring: OUT_SLOTS buffers of OUT_SLOT_SIZE bytes. */
export const OUT_SLOTS = 2048;
export const OUT_SLOT_SIZE = 1600;
export { MAX_FORWARD } from './downtrack.ts';
/** Keyframe requests to one source at most this often. */
export const KEYFRAME_REQUEST_INTERVAL_MS = 300;
/** The bitrate the bridge asks every video sender for at most (a cap on the sender's transport-cc estimate). */
export const REMB_BITRATE_BPS = 2_500_000;

export interface RouterHost {
  readonly counters: BridgeCounters;
  readonly udp: UdpTransport;
  readonly bridgeSsrc: number;
  /** Coarse clock for lastSeen bookkeeping. */
  clockMs: number;
  /** A simulcast layer's SSRC was learned from its rid here (media workers tell the others; one thread: nothing). */
  layerLearned(layer: Source): void;
  /** A far bridge told the rate and size of a layer that comes over a relay (media workers tell the others). */
  farRateHeard(layer: Source): void;
  /** An audio level of `source` heard here (media workers: the speaker worker merges everyone's; one thread: nothing). */
  audioLevel(ep: Endpoint, source: Source, level: number, nowMs: number): void;
  /** Plain RTCP for an endpoint connected over ICE-TCP to another media worker, which sends it (one thread: none). */
  rtcpElsewhere(to: Endpoint, buf: Buffer, len: number): void;
  /** The SRTCP index for the next RTCP packet to `to` (media workers share one counter per endpoint). */
  rtcpIndex(to: WebRtcTransport): number;
  /** Books what the native routes forwarded since JavaScript last ran here (native-forwarding.ts): before anything reads it. */
  bookForwarded(): void;
}

const EMPTY = Buffer.alloc(0);

export class Router implements SendContext, PlainSink, DowntrackHost {
  private readonly host: RouterHost;
  readonly counters: BridgeCounters;
  readonly udp: UdpTransport;
  private readonly ring = new BufferRing(OUT_SLOTS, OUT_SLOT_SIZE);
  /** Every RTCP packet the bridge composes. */
  readonly rtcp: RtcpWriter;

  // state of the RTCP packet being walked (avoids closures per packet)
  private rtcpEndpoint: Endpoint | null = null;
  private rtcpBuf: Buffer = EMPTY;
  /** The numbers of the NACK being walked, for the receiver's egress. */
  private readonly nacked = new Uint16Array(512);
  private nackCount = 0;
  /** This thread's egress: what endpoints it sends to get, through their downtracks. */
  readonly localEgress: LocalEgress;
  /** Where a retransmission of a simulcast layer is rewritten before it is wrapped as RTX. */
  readonly resendScratch = Buffer.alloc(MAX_FORWARD);
  /** The packet being handled, parsed once (every reader below reads it). */
  private readonly view = new RtpView(VIDEO_PT, TWCC_EXT_ID);
  /** A packet taken from a retransmission buffer (a held keyframe, a NACKed one): `view` still describes the packet being handled. */
  readonly heldView = new RtpView(VIDEO_PT, TWCC_EXT_ID);
  /** performance.now() in µs / ms at the packet being handled (send times for bandwidth estimation). */
  nowUs = 0;
  private nowMs = 0;
  /** Paces video per WebRTC receiver (set by the bridge when `pacer` is on). */
  pacing: Pacing | null = null;

  private readonly onRtcpPacketCb: (offset: number, length: number, pt: number, fmt: number) => void;
  private readonly onNackSeqCb: (seq: number) => void;
  private readonly onFirEntryCb: (ssrc: number, seqNr: number) => void;
  private readonly onReportBlockCb: (blockOffset: number) => void;
  private readonly onRelayWishCb: (worker: number, ssrc: number, mask: number) => void;
  private readonly onRelayRateCb: (ssrc: number, layer: number, kbps: number, width: number, height: number) => void;
  /** One NACKed number asked of a far bridge. */
  private readonly upstreamSeq = new Uint16Array(1);

  constructor(host: RouterHost) {
    this.host = host;
    this.counters = host.counters;
    this.udp = host.udp;
    this.rtcp = new RtcpWriter(host.counters, host.bridgeSsrc);
    this.localEgress = new LocalEgress(host.counters, this.rtcp);
    this.onRtcpPacketCb = this.onRtcpPacket.bind(this);
    this.onNackSeqCb = this.onNackSeq.bind(this);
    this.onFirEntryCb = this.onFirEntry.bind(this);
    this.onReportBlockCb = this.onReportBlock.bind(this);
    this.onRelayWishCb = this.onRelayWish.bind(this);
    this.onRelayRateCb = this.onRelayRate.bind(this);
  }

  // ---------------------------------------------------------------- SendContext (what transports send with)

  nextSlot(): Buffer {
    return this.ring.next();
  }

  rtcpElsewhere(to: Endpoint, buf: Buffer, len: number): void {
    this.host.rtcpElsewhere(to, buf, len);
  }

  rtcpIndex(to: WebRtcTransport): number {
    return this.host.rtcpIndex(to);
  }

  /** A decrypted RTP packet buf[0..len) from `ep` (any transport). */
  receiveRtp(ep: Endpoint, buf: Buffer, len: number): void {
    this.host.bookForwarded();
    const c = this.counters;
    const v = this.view;
    if (len > MAX_FORWARD || !v.parse(buf, len)) {
      c.dropMalformed++;
      return;
    }
    ep.lastSeenMs = this.host.clockMs;
    c.rtpIn++;
    this.tick();
    v.atMs = this.nowMs;
    const tw = v.twccOffset;
    // the kernel's arrival time, not the event loop's: load must not look like network delay to the sender
    // (a relay's packets carry their senders' numbers: no feedback about them; the relay itself is not estimated)
    if (tw >= 0 && !ep.relay) (ep.twcc ??= new TwccRecorder()).record((buf[tw] << 8) | buf[tw + 1], this.udp.arrivalMs(this.nowMs) * 1000);
    const sources = ep.conference.sources;
    let source = sources.get(v.ssrc);
    if (source === undefined) {
      source = this.learnLayer(ep, v);
      if (source !== undefined && source.parent !== null) this.host.layerLearned(source);
    }
    if (source === undefined || source.owner !== ep) {
      c.dropUnknownSsrc++;
      return;
    }
    if (source.isRtx) {
      // a retransmission the bridge asked for (or the sender's padding probe): back to the original packet
      const primary = sources.get(source.primarySsrc);
      len = primary === undefined ? -1 : unwrapRtx(buf, len, primary.ssrc, VIDEO_PT);
      if (len < 0 || primary === undefined || !v.parse(buf, len)) {
        c.dropPadding++;
        return;
      }
      v.atMs = this.nowMs;
      c.rtxIn++;
      source = primary;
      // senders also probe with RTX copies of what they already sent: forward only what fills a hole
      if (source.rtx !== null && source.rtx.find(v.seq) >= 0) {
        c.dropDuplicate++;
        return;
      }
    }
    if (source.kind === 'audio') {
      if (ep.audioMuted) {
        c.dropMuted++;
        return;
      }
      const level = v.audioLevel(AUDIO_LEVEL_EXT_ID);
      if (level >= 0) {
        const now = Date.now();
        // keyed by who speaks: on a relay, the participant on the far bridge (every bridge hears everyone)
        ep.conference.speakers.onAudioLevel(source.speakerId, level, now);
        this.host.audioLevel(ep, source, level, now);
      }
    } else if (ep.videoMuted && !(source.parent ?? source).screen) {
      // a camera the server has off (the participant's own choice, or a moderator's): every layer and its RTX
      c.dropMuted++;
      return;
    }
    // a simulcast layer's mid/rid are hidden once, before it is kept and copied for receivers
    const target = source.parent ?? source;
    if (target !== source) v.renameExtensions(MID_EXT_ID, REPAIRED_RID_EXT_ID, HIDDEN_EXT_ID);
    if (source.rtx !== null) source.rtx.store(v.seq, buf, len, this.nowMs);
    if (target !== source && !this.layerPacket(source, v)) return;
    // to every egress with receivers of it: downtracks here, another media worker's ring
    const egresses = target.egresses;
    for (let i = 0; i < egresses.length; i++) egresses[i].forward(source, target, v);
  }

  private tick(): void {
    const ms = performance.now();
    this.nowMs = ms;
    this.nowUs = ms * 1000;
  }

  /**
   * A packet with an SSRC the conference does not know: the first of a simulcast layer (or of its RTX
   * stream) of one of ep's sources when its rid extension names one of their layers.
   */
  private learnLayer(ep: Endpoint, v: RtpView): Source | undefined {
    const repair = v.payloadType === RTX_PT;
    const extId = repair ? REPAIRED_RID_EXT_ID : RID_EXT_ID;
    for (let s = 0; s < ep.sources.length; s++) {
      const source = ep.sources[s];
      const rids = source.rids;
      if (rids === null) continue;
      for (let i = 0; i < rids.length; i++) {
        if (v.extEquals(extId, rids[i])) {
          return ep.conference.addLayer(source, i, v.ssrc, repair) ?? undefined;
        }
      }
    }
    return undefined;
  }

  /** A packet of simulcast layer `layer`: its rate and keyframe size; false when its VP8 descriptor is malformed. */
  private layerPacket(layer: Source, v: RtpView): boolean {
    layer.rate!.add(v.len, this.nowMs);
    const hl = v.headerLength;
    const end = v.payloadEnd;
    if (end > hl) {
      if (!v.vp8Valid) {
        this.counters.dropMalformed++;
        return false;
      }
      if (v.vp8.keyframe) readKeyframeSize(layer, v.buf, hl + v.vp8.headerLength, end);
      layer.temporalRates?.add(v.vp8.tid, v.len, this.nowMs);
    }
    return true;
  }

  /** A packet of `source` another media worker received and decrypted: to the receivers sent from here. */
  forwardFromPeer(source: Source, buf: Buffer, len: number): void {
    this.host.bookForwarded();
    this.tick();
    const v = this.view;
    if (!v.parse(buf, len)) {
      this.counters.dropMalformed++;
      return;
    }
    v.atMs = this.nowMs;
    // kept here too: NACKs of this worker's receivers are answered here
    if (source.rtx !== null) source.rtx.store(v.seq, buf, len, this.nowMs);
    const target = source.parent ?? source;
    if (target !== source && !this.layerPacket(source, v)) return;
    this.localEgress.forward(source, target, v);
  }

  /** Sends `track`'s receiver `count` padding-only probe packets of `size` bytes for probe `cluster`; returns the bytes sent. */
  sendProbe(track: Downtrack, cluster: number, count: number, size: number): number {
    this.host.bookForwarded();
    this.tick();
    return track.sendProbe(cluster, count, size);
  }

  /** Protects buf[0..len) (plain RTCP, about media of `kind`; null: none in particular) for `to` and sends it. */
  sendRtcp(to: Endpoint, buf: Buffer, len: number, kind: MediaKind | null = null): void {
    this.rtcp.send(to, buf, len, kind);
  }

  /** A decrypted RTCP compound buf[0..len) from `ep` (any transport). */
  receiveRtcp(ep: Endpoint, buf: Buffer, len: number): void {
    this.host.bookForwarded();
    const c = this.counters;
    ep.lastSeenMs = this.host.clockMs;
    c.rtcpIn++;
    this.tick();
    this.rtcpEndpoint = ep;
    this.rtcpBuf = buf;
    try {
      if (!forEachRtcp(buf, len, this.onRtcpPacketCb)) c.dropMalformed++;
    } finally {
      this.rtcpEndpoint = null;
      this.rtcpBuf = EMPTY;
    }
  }

  private onRtcpPacket(offset: number, length: number, pt: number, fmt: number): void {
    const ep = this.rtcpEndpoint!;
    const buf = this.rtcpBuf;
    if (pt === RTCP_SR || pt === RTCP_RR) {
      if (pt === RTCP_SR && length >= 28) this.forwardSr(ep, buf, offset);
      forEachReportBlock(buf, offset, length, this.onReportBlockCb);
    } else if (pt === RTCP_RTPFB) {
      if (fmt === FMT_NACK && length >= 16) this.onNack(ep, buf, offset, length);
      else if (fmt === FMT_TWCC) ep.egress.transportFeedback(ep, buf, offset, length, this.nowUs);
    } else if (pt === RTCP_PSFB) {
      if (fmt === FMT_PLI && length >= 12) {
        const ssrc = fbMediaSsrc(buf, offset);
        const source = this.receivedSource(ep, ssrc);
        if (source !== null) ep.egress.keyframeRequest(ep, source, false);
        else if (ep.relay) this.relayKeyframe(ep, ssrc, false);
      } else if (fmt === FMT_FIR && length >= 20) {
        forEachFir(buf, offset, length, this.onFirEntryCb);
      }
    } else if (pt === RTCP_APP && ep.relay) {
      const kind = relayAppKind(buf, offset, length);
      const ok =
        kind === 'wishes' ? readRelayLayers(buf, offset, length, this.onRelayWishCb) : kind === 'rates' ? readRelayRates(buf, offset, length, this.onRelayRateCb) : false;
      if (!ok) this.counters.dropMalformed++;
    }
    // SDES, BYE, REMB, other APP: consumed by the bridge
  }

  /** The relay layer SSRC `ssrc` as the relay `ep` names it: the simulcast source here and the layer index; null when unknown. */
  private relayLayer(ep: Endpoint, ssrc: number): Source | null {
    const parent = ep.conference.relayLayers.get(ssrc);
    if (parent === undefined || parent.owner === ep || !ep.subscriptions.has(parent.ssrc)) return null;
    return parent;
  }

  /** A far bridge asks for a keyframe of one layer (its relay SSRC): asked of the sender; that layer is wanted there from now. */
  private relayKeyframe(ep: Endpoint, ssrc: number, fir: boolean): void {
    const parent = this.relayLayer(ep, ssrc);
    if (parent === null) return;
    const li = parent.relaySsrcs.indexOf(ssrc);
    const layer = parent.layers[li];
    ep.downtracks.get(parent.ssrc)?.relayWant(RELAY_WANT_BY_KEYFRAME, 1 << li, Date.now());
    if (layer !== null && layer !== undefined) this.requestKeyframe(layer, fir, false);
  }

  /** A far bridge says what layer `li` of one of its cameras is (its rate and size where the camera is). */
  private onRelayRate(ssrc: number, li: number, kbps: number, width: number, height: number): void {
    const ep = this.rtcpEndpoint!;
    const source = ep.conference.sources.get(ssrc);
    if (source === undefined || source.owner !== ep || source.rids === null) return;
    const layer = source.layers[li];
    if (layer === null || layer === undefined) return;
    layer.farRateBps = kbps * 1000;
    layer.farRateMs = this.nowMs;
    if (width > 0 && height > 0) {
      layer.width = width;
      layer.height = height;
    }
    this.host.farRateHeard(layer);
  }

  /** A far bridge's media worker says which layers of a camera sent from here its receivers want. */
  private onRelayWish(worker: number, ssrc: number, mask: number): void {
    const ep = this.rtcpEndpoint!;
    const track = ep.downtracks.get(ssrc);
    if (track === undefined) return;
    const gained = track.relayWant(worker, mask, Date.now());
    // a layer it starts to get starts at a keyframe there (its rewriters wait for one)
    const layers = track.source.layers;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i];
      if ((gained & (1 << i)) !== 0 && layer !== null) this.requestKeyframe(layer, false, false);
    }
  }

  /** The source `ssrc` names if `ep` receives it (an RTX SSRC maps to its primary), else null. */
  private receivedSource(ep: Endpoint, ssrc: number): Source | null {
    // slot mode: feedback names a slot (or its RTX SSRC): it is about the source playing there now
    if (ep.slots !== null) return ep.slots.sourceOf(ssrc);
    const sources = ep.conference.sources;
    let source = sources.get(ssrc);
    if (source === undefined) return null;
    if (source.primarySsrc !== source.ssrc) {
      source = sources.get(source.primarySsrc);
      if (source === undefined) return null;
    }
    if (source.owner === ep || !ep.subscriptions.has(source.ssrc)) return null;
    return source;
  }

  private onFirEntry(ssrc: number, _seqNr: number): void {
    const ep = this.rtcpEndpoint!;
    const source = this.receivedSource(ep, ssrc);
    if (source !== null) ep.egress.keyframeRequest(ep, source, true);
    else if (ep.relay) this.relayKeyframe(ep, ssrc, true);
  }

  /** A keyframe request of `receiver`, whose RTP this thread sends, that another media worker received. */
  receiverKeyframe(receiver: Endpoint, source: Source, fir: boolean): void {
    this.localEgress.keyframeRequest(receiver, source, fir);
  }

  /** Forwards a sender report (sender info only, report blocks stripped) to the source's receivers. */
  private forwardSr(ep: Endpoint, buf: Buffer, offset: number): void {
    const source = ep.conference.sources.get(srSsrc(buf, offset));
    if (source === undefined || source.owner !== ep) return;
    const s = this.rtcp.senderInfo(buf, offset);
    if (source.isRtx) {
      // an RTX stream's report: as it is, to the receivers of its primary (none for a simulcast layer's)
      const subs = source.subscribers;
      // (a receiver in slot mode knows only its slots' SSRCs)
      for (let i = 0; i < subs.length; i++) if (subs[i].slots === null) this.rtcp.send(subs[i], s, 28, source.kind);
      return;
    }
    // a simulcast layer: to the receivers that get this layer now, as their rewritten stream (lip sync)
    // (any thread may send RTCP to any receiver: a simulcast layer's goes where its rewriter plays it)
    const tracks = (source.parent ?? source).downtracks;
    for (let i = 0; i < tracks.length; i++) tracks[i].forwardSr(source, s, this.nowMs);
  }

  /** The report blocks of a receiver's SR/RR: each about a stream it receives (its downtrack's loss and rtt). */
  private onReportBlock(off: number): void {
    const ep = this.rtcpEndpoint!;
    const ssrc = this.rtcpBuf.readUInt32BE(off);
    // slot mode: the report is about a slot, i.e. whichever source plays there now
    const slotSource = ep.slots === null ? null : ep.slots.sourceOf(ssrc);
    const track = ep.downtracks.get(slotSource === null ? ssrc : slotSource.ssrc);
    if (track !== undefined) track.onReportBlock(this.rtcpBuf, off, this.nowMs);
  }

  private onNack(ep: Endpoint, buf: Buffer, offset: number, length: number): void {
    const ssrc = fbMediaSsrc(buf, offset);
    const source = this.receivedSource(ep, ssrc);
    if (source === null) {
      if (ep.relay) this.relayNack(ep, ssrc, buf, offset, length);
      return;
    }
    this.nackCount = 0;
    forEachNack(buf, offset, length, this.onNackSeqCb);
    if (this.nackCount > 0) ep.egress.nack(ep, source, this.nacked, this.nackCount);
  }

  /**
   * A far bridge NACKs packets of a simulcast layer by its relay SSRC (the layer's own numbers): answered from
   * the layer's buffer here (a relay endpoint receives and sends on one thread), the rest asked of the sender.
   */
  private relayNack(ep: Endpoint, ssrc: number, buf: Buffer, offset: number, length: number): void {
    const parent = this.relayLayer(ep, ssrc);
    const track = parent === null ? undefined : ep.downtracks.get(parent.ssrc);
    if (parent === null || track === undefined) return;
    const li = parent.relaySsrcs.indexOf(ssrc);
    const layer = parent.layers[li];
    if (layer === null || layer === undefined) return;
    this.nackCount = 0;
    forEachNack(buf, offset, length, this.onNackSeqCb);
    track.beginNack();
    let missed = 0;
    for (let i = 0; i < this.nackCount; i++) {
      const seq = this.nacked[i];
      if (!track.resendToRelay(li, seq)) this.nacked[missed++] = seq;
    }
    this.rtcp.nack(layer.owner, layer.ssrc, this.nacked, missed);
  }

  /** Asks the far bridge (the relay `layer` came from) for packet `seq` of it. */
  nackUpstream(layer: Source, seq: number): void {
    this.upstreamSeq[0] = seq;
    this.rtcp.nack(layer.owner, layer.ssrc, this.upstreamSeq, 1);
  }

  private onNackSeq(seq: number): void {
    if (this.nackCount < this.nacked.length) this.nacked[this.nackCount++] = seq;
  }

  /** NACKed sequence numbers of `receiver`, whose RTP this thread sends, that another media worker received. */
  answerNack(receiver: Endpoint, source: Source, seqs: ArrayLike<number>): void {
    this.host.bookForwarded();
    this.tick();
    let n = 0;
    for (let i = 0; i < seqs.length && n < this.nacked.length; i++) this.nacked[n++] = seqs[i] & 0xffff;
    this.localEgress.nack(receiver, source, this.nacked, n);
  }

  /**
   * Asks the sender of `source` for a keyframe: a PLI, or a FIR with the next command sequence number.
   * At most one per source per KEYFRAME_REQUEST_INTERVAL_MS unless `force`.
   */
  requestKeyframe(source: Source, fir: boolean, force: boolean): void {
    // a simulcast source has no packets of its own: its receivers' rewriters ask for their layers
    if (source.kind !== 'video' || source.primarySsrc !== source.ssrc || source.rids !== null) return;
    const now = Date.now();
    if (!force && now - source.lastKeyframeRequestMs < KEYFRAME_REQUEST_INTERVAL_MS) {
      this.counters.keyframeRequestsThrottled++;
      return;
    }
    const owner = source.owner;
    if (!owner.connected) return;
    source.lastKeyframeRequestMs = now;
    if (fir) source.firSeq = (source.firSeq + 1) & 0xff;
    this.rtcp.keyframeRequest(owner, source.ssrc, fir, source.firSeq);
  }

  /** Sends `to` transport-cc feedback for the packets it sent since the last feedback. */
  sendTransportFeedback(to: Endpoint): void {
    this.rtcp.transportFeedback(to);
  }

  /** Sends `to` a REMB for its video sources. */
  sendRemb(to: Endpoint, ssrcs: number[], bitrateBps: number): void {
    this.rtcp.remb(to, ssrcs, bitrateBps);
  }
}

/** Frame size from the start of a VP8 keyframe (RFC 6386 §9.1: 3-byte tag, start code, 14-bit width/height). */
function readKeyframeSize(layer: Source, buf: Buffer, frame: number, end: number): void {
  if (frame + 10 > end || buf[frame + 3] !== 0x9d || buf[frame + 4] !== 0x01 || buf[frame + 5] !== 0x2a) return;
  layer.width = (buf[frame + 6] | (buf[frame + 7] << 8)) & 0x3fff;
  layer.height = (buf[frame + 8] | (buf[frame + 9] << 8)) & 0x3fff;
}
