// The media path: SRTP in, routing decision, SRTP out per receiver. Runs once per packet, so it uses no
// closures, no JSON, no logging and allocates nothing: output buffers come from a preallocated ring
// (dgram sends asynchronously, so a buffer is reused only after the ring wrapped around).
import {
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
import { isRtcp } from './packet/rtp.ts';
import { RtpView } from './packet/rtp-view.ts';
import { unwrapRtx } from './packet/rtx.ts';
import { TwccRecorder } from './packet/twcc.ts';
import { BufferRing } from './buffer-ring.ts';
import { RtcpWriter } from './rtcp-writer.ts';
import { MAX_FORWARD, type Downtrack, type DowntrackHost } from './downtrack.ts';
import type { BridgeCounters } from './counters.ts';
import type { Endpoint } from './endpoint.ts';
import type { Source } from './source.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';
import type { UdpTransport } from './udp-transport.ts';
import type { SendContext } from './webrtc-transport.ts';
import type { PlainSink } from './plain-transport.ts';
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
  endpointByAddress(address: string, port: number): Endpoint | undefined;
  /** Media workers: gives a decrypted packet to the workers in `mask` (bit = worker) that send to its other receivers. */
  handOff?(mask: number, source: Source, buf: Buffer, len: number): void;
  /** Media workers: NACKed sequence numbers for a receiver another worker sends to (that worker answers them). */
  nackElsewhere?(receiver: Endpoint, source: Source, seqs: Uint16Array, count: number): void;
  /** Media workers: transport-cc feedback from a receiver another worker sends to (its estimate lives there). */
  feedbackElsewhere?(receiver: Endpoint, buf: Buffer, offset: number, length: number): void;
  /** Media workers: a receiver another worker sends to asks for a keyframe of simulcast `source`. */
  keyframeElsewhere?(receiver: Endpoint, source: Source, fir: boolean): void;
  /** Media workers: plain RTCP for an endpoint connected over ICE-TCP to another worker (it sends it). */
  rtcpElsewhere?(to: Endpoint, buf: Buffer, len: number): void;
  /** Media workers: this worker learned a simulcast layer's SSRC from its rid (the others must know it too). */
  layerLearned?(layer: Source): void;
  /** Media workers: an audio level this worker heard (the speaker worker merges everyone's). */
  audioLevel?(ep: Endpoint, level: number, nowMs: number): void;
  /** Media workers: the SRTCP index for the next RTCP packet to `to` (one counter shared by every worker). */
  rtcpIndex?(to: Endpoint): number;
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
  /** The downtrack whose receiver's NACK is being walked (null: collect every number for another worker). */
  private nackTrack: Downtrack | null = null;
  /** NACKed numbers to ask the sender for (or to hand to the worker that sends to the receiver). */
  private readonly missing = new Uint16Array(512);
  private missCount = 0;
  /** Where a retransmission of a simulcast layer is rewritten before it is wrapped as RTX. */
  readonly resendScratch = Buffer.alloc(MAX_FORWARD);
  /** The packet being handled, parsed once (every reader below reads it). */
  private readonly view = new RtpView(VIDEO_PT);
  /** A packet taken from a retransmission buffer (a held keyframe, a NACKed one): `view` still describes the packet being handled. */
  readonly heldView = new RtpView(VIDEO_PT);
  /** performance.now() in µs / ms at the packet being handled (send times for bandwidth estimation). */
  nowUs = 0;
  private nowMs = 0;

  private readonly onRtcpPacketCb: (offset: number, length: number, pt: number, fmt: number) => void;
  private readonly onNackSeqCb: (seq: number) => void;
  private readonly onFirEntryCb: (ssrc: number, seqNr: number) => void;
  private readonly onReportBlockCb: (blockOffset: number) => void;

  constructor(host: RouterHost) {
    this.host = host;
    this.counters = host.counters;
    this.udp = host.udp;
    this.rtcp = new RtcpWriter(host.counters, host.bridgeSsrc);
    this.onRtcpPacketCb = this.onRtcpPacket.bind(this);
    this.onNackSeqCb = this.onNackSeq.bind(this);
    this.onFirEntryCb = this.onFirEntry.bind(this);
    this.onReportBlockCb = this.onReportBlock.bind(this);
    if (host.rtcpElsewhere !== undefined) this.rtcpElsewhere = host.rtcpElsewhere.bind(host);
    if (host.rtcpIndex !== undefined) this.rtcpIndex = host.rtcpIndex.bind(host);
  }

  // ---------------------------------------------------------------- SendContext (what transports send with)

  nextSlot(): Buffer {
    return this.ring.next();
  }

  rtcpElsewhere?: (to: Endpoint, buf: Buffer, len: number) => void;
  rtcpIndex?: (to: Endpoint) => number;

  /** An RTP or RTCP datagram (first byte 128..191). */
  onMedia(buf: Buffer, address: string, port: number): void {
    const ep = this.host.endpointByAddress(address, port);
    if (ep === undefined) {
      this.counters.dropUnknownAddress++;
      return;
    }
    if (!ep.connected) {
      this.counters.dropNotConnected++;
      return;
    }
    if (buf.length < 12) {
      this.counters.dropMalformed++;
      return;
    }
    if (isRtcp(buf)) this.onRtcp(ep, buf);
    else this.onRtp(ep, buf);
  }

  private onRtp(ep: Endpoint, buf: Buffer): void {
    const len = ep.srtpIn!.unprotectRtp(buf, buf.length);
    if (len < 0) {
      this.counters.dropSrtp++;
      return;
    }
    this.receiveRtp(ep, buf, len);
  }

  /** A decrypted RTP packet buf[0..len) from `ep` (any transport). */
  receiveRtp(ep: Endpoint, buf: Buffer, len: number): void {
    const c = this.counters;
    const v = this.view;
    if (len > MAX_FORWARD || !v.parse(buf, len)) {
      c.dropMalformed++;
      return;
    }
    ep.lastSeenMs = this.host.clockMs;
    c.rtpIn++;
    this.tick();
    const tw = v.extU16(TWCC_EXT_ID);
    if (tw >= 0) (ep.twcc ??= new TwccRecorder()).record(tw, this.nowUs);
    const sources = ep.conference.sources;
    let source = sources.get(v.ssrc);
    if (source === undefined) {
      source = this.learnLayer(ep, v);
      if (source !== undefined && source.parent !== null && this.host.layerLearned !== undefined) this.host.layerLearned(source);
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
        ep.conference.speakers.onAudioLevel(ep.id, level, now);
        if (this.host.audioLevel !== undefined) this.host.audioLevel(ep, level, now);
      }
    }
    // a simulcast layer's mid/rid are hidden once, before it is kept and copied for receivers
    if (source.parent !== null) v.renameExtensions(MID_EXT_ID, REPAIRED_RID_EXT_ID, HIDDEN_EXT_ID);
    if (source.rtx !== null) source.rtx.store(v.seq, buf, len);
    if (source.parent !== null) {
      this.forwardLayer(source, v, false);
      return;
    }
    const subs = source.subscribers;
    const tracks = source.downtracks;
    let remote = 0;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i];
      if (!sub.connected) continue;
      if (sub.egress < 0) tracks[i].forward(v);
      else remote |= 1 << sub.egress;
    }
    if (remote !== 0) this.host.handOff!(remote, source, buf, len);
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

  /**
   * A packet of simulcast layer `layer`: each receiver of the simulcast source whose rewriter forwards this
   * layer (or switches to it at this keyframe) gets its own rewritten copy. `fromPeer`: handed over by the
   * media worker that received it (send only to this worker's receivers).
   */
  private forwardLayer(layer: Source, v: RtpView, fromPeer: boolean): void {
    const parent = layer.parent!;
    const buf = v.buf;
    const len = v.len;
    layer.rate!.add(len, this.nowMs);
    const hl = v.headerLength;
    const end = v.payloadEnd;
    const info = v.vp8;
    if (end > hl) {
      if (!v.vp8Valid) {
        this.counters.dropMalformed++;
        return;
      }
      if (info.keyframe) readKeyframeSize(layer, buf, hl + info.headerLength, end);
    }
    const subs = parent.subscribers;
    const tracks = parent.downtracks;
    let remote = 0;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i];
      if (!sub.connected) continue;
      if (sub.egress < 0) tracks[i].forwardLayer(layer, v);
      else if (!fromPeer) remote |= 1 << sub.egress;
    }
    if (remote !== 0) this.host.handOff!(remote, layer, buf, len);
  }

  /** A packet of `source` another media worker received and decrypted: send it to the receivers sent from here. */
  forwardFromPeer(source: Source, buf: Buffer, len: number): void {
    this.tick();
    const v = this.view;
    if (!v.parse(buf, len)) {
      this.counters.dropMalformed++;
      return;
    }
    // kept here too: NACKs of this worker's receivers are answered here
    if (source.rtx !== null) source.rtx.store(v.seq, buf, len);
    if (source.parent !== null) {
      this.forwardLayer(source, v, true);
      return;
    }
    const subs = source.subscribers;
    const tracks = source.downtracks;
    for (let i = 0; i < subs.length; i++) if (subs[i].egress < 0) tracks[i].forward(v);
  }

  /** Sends `track`'s receiver `count` padding-only probe packets of `size` bytes for probe `cluster`; returns the bytes sent. */
  sendProbe(track: Downtrack, cluster: number, count: number, size: number): number {
    this.tick();
    return track.sendProbe(cluster, count, size);
  }

  /** Protects buf[0..len) (plain RTCP, about media of `kind`; null: none in particular) for `to` and sends it. */
  sendRtcp(to: Endpoint, buf: Buffer, len: number, kind: MediaKind | null = null): void {
    this.rtcp.send(to, buf, len, kind);
  }

  private onRtcp(ep: Endpoint, buf: Buffer): void {
    const len = ep.srtpIn!.unprotectRtcp(buf, buf.length);
    if (len < 0) {
      this.counters.dropSrtp++;
      return;
    }
    this.receiveRtcp(ep, buf, len);
  }

  /** A decrypted RTCP compound buf[0..len) from `ep` (any transport). */
  receiveRtcp(ep: Endpoint, buf: Buffer, len: number): void {
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
      else if (fmt === FMT_TWCC && ep.egress >= 0) this.host.feedbackElsewhere!(ep, buf, offset, length);
      else if (fmt === FMT_TWCC && ep.bwe !== null) {
        if (ep.bwe.onFeedback(buf, offset, length, this.nowUs)) this.counters.twccFeedbackIn++;
        else this.counters.dropMalformed++;
      }
    } else if (pt === RTCP_PSFB) {
      if (fmt === FMT_PLI && length >= 12) {
        const source = this.receivedSource(ep, fbMediaSsrc(buf, offset));
        if (source !== null) this.receiverKeyframe(ep, source, false);
      } else if (fmt === FMT_FIR && length >= 20) {
        forEachFir(buf, offset, length, this.onFirEntryCb);
      }
    }
    // RR, SDES, BYE, REMB, transport-cc, APP: consumed by the bridge
  }

  /** The source `ssrc` names if `ep` receives it (an RTX SSRC maps to its primary), else null. */
  private receivedSource(ep: Endpoint, ssrc: number): Source | null {
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
    const source = this.receivedSource(this.rtcpEndpoint!, ssrc);
    if (source !== null) this.receiverKeyframe(this.rtcpEndpoint!, source, true);
  }

  /** `receiver` asks for a keyframe of `source`: of a simulcast source, the layer it gets (or waits for). */
  receiverKeyframe(receiver: Endpoint, source: Source, fir: boolean): void {
    if (source.rids === null) {
      this.requestKeyframe(source, fir, false);
      return;
    }
    if (receiver.egress >= 0) {
      // its rewriter lives in the media worker that sends to it
      this.host.keyframeElsewhere!(receiver, source, fir);
      return;
    }
    receiver.downtracks.get(source.ssrc)?.requestKeyframe(fir);
  }

  /** Forwards a sender report (sender info only, report blocks stripped) to the source's receivers. */
  private forwardSr(ep: Endpoint, buf: Buffer, offset: number): void {
    const source = ep.conference.sources.get(srSsrc(buf, offset));
    if (source === undefined || source.owner !== ep) return;
    const s = this.rtcp.senderInfo(buf, offset);
    // a simulcast layer: to the receivers that get this layer now, as their rewritten stream (lip sync)
    const target = source.parent ?? source;
    const subs = target.subscribers;
    const tracks = target.downtracks;
    for (let i = 0; i < subs.length; i++) {
      if (subs[i].egress < 0) tracks[i].forwardSr(source, s, this.nowMs);
      else if (source.parent === null) this.sendRtcp(subs[i], s, 28, source.kind);
    }
  }

  /** The report blocks of a receiver's SR/RR: each about a stream it receives (its downtrack's loss and rtt). */
  private onReportBlock(off: number): void {
    const ep = this.rtcpEndpoint!;
    const track = ep.downtracks.get(this.rtcpBuf.readUInt32BE(off));
    if (track !== undefined) track.onReportBlock(this.rtcpBuf, off, this.nowMs);
  }

  private onNack(ep: Endpoint, buf: Buffer, offset: number, length: number): void {
    const source = this.receivedSource(ep, fbMediaSsrc(buf, offset));
    if (source === null) return;
    if (ep.egress >= 0) {
      // another media worker sends to this receiver: it answers from its own retransmission buffer
      this.nackTrack = null;
      this.missCount = 0;
      forEachNack(buf, offset, length, this.onNackSeqCb);
      if (this.missCount > 0) this.host.nackElsewhere!(ep, source, this.missing, this.missCount);
      return;
    }
    const track = ep.downtracks.get(source.ssrc);
    if (track === undefined) return;
    this.nackTrack = track;
    this.missCount = 0;
    track.beginNack();
    forEachNack(buf, offset, length, this.onNackSeqCb);
    this.nackTrack = null;
    this.forwardMisses(source);
  }

  /** NACKed sequence numbers another media worker received for `receiver`, whose RTP this worker sends. */
  answerNack(receiver: Endpoint, source: Source, seqs: ArrayLike<number>): void {
    this.tick();
    const track = receiver.downtracks.get(source.ssrc);
    if (track === undefined) return;
    this.nackTrack = track;
    this.missCount = 0;
    track.beginNack();
    for (let i = 0; i < seqs.length; i++) this.onNackSeq(seqs[i] & 0xffff);
    this.nackTrack = null;
    this.forwardMisses(source);
  }

  /** Asks the sender for what the retransmission buffer did not have. */
  private forwardMisses(source: Source): void {
    this.rtcp.nack(source.owner, source.ssrc, this.missing, this.missCount);
  }

  private onNackSeq(seq: number): void {
    const track = this.nackTrack;
    if (track !== null && track.nack(seq)) return;
    if (this.missCount < this.missing.length) this.missing[this.missCount++] = seq;
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
