/**
 * One continuous outgoing VP8 stream, per receiver and forwarded video source, out of whichever
 * simulcast layer (encoding) is selected.
 *
 * - Output SSRC fixed; sequence numbers without holes of our making: packets of other layers are never
 *   counted, and dropped packets of the current layer (padding-only, unneeded temporal layers) shift the
 *   offset so the next forwarded one follows. Input losses stay visible as gaps (the receiver NACKs them).
 * - Spatial switches only at a keyframe of the target layer (the keyframe callback asks for one when the
 *   target changes). At a switch, sequence number, timestamp, picture id and TL0PICIDX continue from the last
 *   values sent. The timestamp step: one frame interval when another layer played up to the switch (a held
 *   keyframe was captured with the last frames sent); when the stream stood still (a new source on a receive
 *   slot, last-N gave it back, the receiver's tile came back) the wall-clock time since the last packet sent, in
 *   90 kHz ticks (at least one frame), as Jitsi Videobridge does: the receiver's jitter buffer then sees a
 *   timestamp jump that matches the pause, not a frame that seems to have been captured right after the last.
 * - While a layer plays, the switch waits until the target's keyframe is whole (holdForKeyframe): senders
 *   pace a large keyframe over a few hundred ms, and switching at its first packet froze the picture that
 *   long. The caller then forwards the keyframe from the layer's retransmission buffer.
 * - Temporal layers above the target are dropped (whole frames; picture ids stay +1 per forwarded frame);
 *   going up happens at a frame with the layer sync bit (Y) or at tid 0; going down at a frame start.
 * rewrite() works in place on a plaintext RTP packet and allocates nothing.
 */
import {
  rtpHeaderLength,
  rtpPayloadEnd,
  rtpSeq,
  rtpTimestamp,
  seqDiff,
  setRtpSeq,
  setRtpSsrc,
  setRtpTimestamp,
} from '../packet/rtp.ts';
import { setVp8PictureId, setVp8Tl0PicIdx, type Vp8Info } from '../packet/vp8.ts';
import { RTX_SLOTS } from '../retransmit-buffer.ts';

/**
 * Forwarded packets remembered for retransmission (power of two): as many as a layer's retransmission buffer
 * holds at most (RTX_SLOTS), since a NACK of an older one misses there anyway. Allocated at the first packet
 * rewritten (a media worker that never sends this stream keeps none).
 */
export const REWRITE_HISTORY = RTX_SLOTS;
const HISTORY = REWRITE_HISTORY;
const NO_INT32 = new Int32Array(0);

/** The VP8 RTP clock: ticks per millisecond (90 kHz). */
const TICKS_PER_MS = 90;
/** The longest pause a timestamp step stands for (longer ones step this much: a step of 2^31 ticks or more, ~6.6 h
 * at 90 kHz, would read as a jump back, and any pause this long already resets a receiver's jitter buffer). */
export const MAX_IDLE_STEP_MS = 60_000;

/** Every temporal layer. */
export const ALL_TEMPORAL = 7;

function picDiff(a: number, b: number): number {
  return (((a - b) & 0x7fff) ^ 0x4000) - 0x4000;
}

export class Vp8Rewriter {
  readonly outSsrc: number;
  /** RTP timestamp increment inserted at a layer switch (90 kHz / 30 fps). */
  frameTicks: number;
  /** Spatial layer to forward (-1: none) and highest temporal layer. */
  targetLayer = -1;
  targetTemporal = ALL_TEMPORAL;
  /** Spatial layer being forwarded now (-1: none) and highest temporal layer forwarded now. */
  currentLayer = -1;
  currentTemporal = ALL_TEMPORAL;

  private readonly onKeyframeNeeded: (layer: number) => void;
  private started = false;
  private inSeq = 0;
  private inPic = -1;
  private seqOffset = 0;
  private tsOffset = 0;
  private picOffset = 0;
  private tl0Offset = 0;
  private lastSeq = 0;
  private lastTs = 0;
  private lastPic = -1;
  private lastTl0 = -1;
  /** When the last packet was sent (the caller's clock, ms). */
  private lastMs = 0;
  /** Input seq of the keyframe the current layer was switched to: its older packets are dropped. */
  private switchSeq = 0;
  private afterSwitch = false;
  /** Input seq and timestamp of the target layer's keyframe being waited for while another layer plays (-1: none). */
  private heldSeq = -1;
  private heldTs = 0;

  // what each recently forwarded output sequence number was made of (for NACKs naming output numbers)
  // (empty until the first packet rewritten: allocateHistory)
  private hOut = NO_INT32;
  private hLayer = new Int8Array(0);
  private hIn = new Uint16Array(0);
  private hTs = new Uint32Array(0);
  private hPic = new Uint16Array(0);
  private hTl0 = new Uint8Array(0);
  /** After a successful lookup(): the layer and input sequence number of that output packet. */
  foundLayer = -1;
  foundInSeq = -1;
  private foundSlot = -1;

  constructor(outSsrc: number, onKeyframeNeeded: (layer: number) => void, frameTicks = 3000) {
    this.outSsrc = outSsrc >>> 0;
    this.onKeyframeNeeded = onKeyframeNeeded;
    this.frameTicks = frameTicks;
  }

  /**
   * The stream this rewriter makes replaces `previous`'s to the same receiver under the same SSRC (the source
   * came over a relay and now comes from a participant moved onto this bridge, or the reverse): the numbering
   * (sequence, timestamp, picture id, TL0PICIDX) goes on from where `previous` stopped, as at a layer switch, so
   * the receiver's decoder takes the new packets (at a keyframe) instead of dropping them as old or duplicate.
   */
  continueFrom(previous: Vp8Rewriter): void {
    if (!previous.started || this.started) return;
    this.started = true;
    this.lastSeq = previous.lastSeq;
    this.lastTs = previous.lastTs;
    this.lastPic = previous.lastPic;
    this.lastTl0 = previous.lastTl0;
    this.lastMs = previous.lastMs;
  }

  /** true while waiting for a keyframe of the target layer (re-request it, throttled, while so). */
  get needsKeyframe(): boolean {
    return this.targetLayer >= 0 && this.targetLayer !== this.currentLayer;
  }

  /**
   * The receiver got nothing of this stream for a while (last-N left the source out): its decoder needs a
   * keyframe, so forwarding continues only from a keyframe of the target layer (numbering continues).
   */
  restartAtKeyframe(): void {
    this.currentLayer = -1;
    this.heldSeq = -1;
    if (this.targetLayer >= 0) this.onKeyframeNeeded(this.targetLayer);
  }

  /**
   * Another source plays on this stream from now (a receive slot, slots/receive-slots.ts): nothing is forwarded
   * until a keyframe of the layer set next (setTarget), whose numbering continues from the last packet sent, as
   * at a layer switch. What earlier output numbers were made of is forgotten: a NACK of them is a miss, never a
   * packet of the new source.
   */
  startNewStream(): void {
    this.currentLayer = -1;
    this.targetLayer = -1;
    this.heldSeq = -1;
    this.afterSwitch = false;
    this.hOut.fill(-1);
    this.foundSlot = -1;
  }

  private allocateHistory(): void {
    this.hOut = new Int32Array(HISTORY).fill(-1);
    this.hLayer = new Int8Array(HISTORY);
    this.hIn = new Uint16Array(HISTORY);
    this.hTs = new Uint32Array(HISTORY);
    this.hPic = new Uint16Array(HISTORY);
    this.hTl0 = new Uint8Array(HISTORY);
  }

  /** Selects the spatial layer (-1: stop) and the highest temporal layer to forward. */
  setTarget(layer: number, temporal = ALL_TEMPORAL): void {
    this.targetTemporal = temporal;
    if (layer === this.targetLayer) return;
    this.targetLayer = layer;
    this.heldSeq = -1;
    if (layer < 0) {
      this.currentLayer = -1;
      return;
    }
    if (layer !== this.currentLayer) this.onKeyframeNeeded(layer);
  }

  /**
   * A packet (input `seq`, timestamp `ts`) of the target layer while another layer plays (currentLayer >= 0):
   * the current layer keeps playing until the target's keyframe is whole. Returns the input sequence number of
   * the keyframe's first packet when this packet (`marker`) ends it: the caller then passes every packet of the
   * keyframe to rewrite(), which switches at the first one. Else -1: do not forward this packet.
   */
  holdForKeyframe(seq: number, ts: number, keyframe: boolean, marker: boolean): number {
    if (keyframe) {
      this.heldSeq = seq;
      this.heldTs = ts;
    }
    if (this.heldSeq < 0 || !marker || ts !== this.heldTs) return -1;
    const first = this.heldSeq;
    this.heldSeq = -1;
    return first;
  }

  /**
   * Rewrites buf[0..len) (plaintext RTP of simulcast layer `layer`, its VP8 descriptor parsed into info)
   * for this receiver. false: do not send it.
   */
  rewrite(buf: Buffer, len: number, layer: number, info: Vp8Info, nowMs = 0): boolean {
    const hl = rtpHeaderLength(buf, len);
    const end = rtpPayloadEnd(buf, len);
    if (hl < 0 || end < 0) return false;
    return this.rewriteParsed(buf, hl, end, rtpSeq(buf), rtpTimestamp(buf), layer, info, nowMs);
  }

  /**
   * rewrite() of a packet already parsed (an RtpView): header length `hl`, payload end `end`, input `seq` and
   * timestamp `ts`, handled at `nowMs` (a monotonic ms clock: the packet's RtpView.atMs). buf may be a copy of the
   * parsed packet (same layout).
   */
  rewriteParsed(buf: Buffer, hl: number, end: number, seq: number, ts: number, layer: number, info: Vp8Info, nowMs = 0): boolean {
    if (layer !== this.currentLayer) {
      if (layer !== this.targetLayer || end === hl || !info.keyframe) return false;
      this.switchTo(seq, ts, layer, info, nowMs);
    }
    if (this.afterSwitch) {
      const s = seqDiff(seq, this.switchSeq);
      // older than the switch point: their output numbers belong to the previous layer
      if (s < 0) return false;
      if (s > 1000) this.afterSwitch = false; // far behind now (and before seqDiff could wrap)
    }
    const d = seqDiff(seq, this.inSeq);
    const frameStart = info.start && info.partitionId === 0;
    const newPic = info.pictureId >= 0 && picDiff(info.pictureId, this.inPic) > 0;
    if (d > 0) this.inSeq = seq;
    if (end === hl) {
      if (d > 0) this.seqOffset = (this.seqOffset + 1) & 0xffff; // padding only
      return false;
    }
    // temporal layers: change the forwarded set at frame starts only
    if (frameStart && info.tid >= 0) {
      if (this.targetTemporal < this.currentTemporal) this.currentTemporal = this.targetTemporal;
      else if (
        this.targetTemporal > this.currentTemporal &&
        info.tid > this.currentTemporal &&
        info.tid <= this.targetTemporal &&
        info.layerSync
      ) {
        this.currentTemporal = info.tid;
      }
    }
    if (newPic) this.inPic = info.pictureId;
    if (info.tid > this.currentTemporal) {
      if (d > 0) this.seqOffset = (this.seqOffset + 1) & 0xffff;
      if (newPic) this.picOffset = (this.picOffset + 1) & 0x7fff;
      return false;
    }
    const outSeq = (seq - this.seqOffset) & 0xffff;
    const outTs = (ts - this.tsOffset) >>> 0;
    setRtpSsrc(buf, this.outSsrc);
    setRtpSeq(buf, outSeq);
    setRtpTimestamp(buf, outTs);
    let outPic = -1;
    if (info.pictureId >= 0) {
      outPic = (info.pictureId - this.picOffset) & 0x7fff;
      setVp8PictureId(buf, hl, outPic);
    }
    let outTl0 = -1;
    if (info.tl0PicIdx >= 0) {
      outTl0 = (info.tl0PicIdx - this.tl0Offset) & 0xff;
      setVp8Tl0PicIdx(buf, hl, outTl0);
    }
    if (this.hOut.length === 0) this.allocateHistory();
    const h = outSeq & (HISTORY - 1);
    this.hOut[h] = outSeq;
    this.hLayer[h] = layer;
    this.hIn[h] = seq;
    this.hTs[h] = this.tsOffset;
    this.hPic[h] = this.picOffset;
    this.hTl0[h] = this.tl0Offset;
    if (!this.started || seqDiff(outSeq, this.lastSeq) > 0) {
      this.started = true;
      this.lastSeq = outSeq;
      this.lastTs = outTs;
      this.lastMs = nowMs;
      if (outPic >= 0) this.lastPic = outPic;
      if (outTl0 >= 0) this.lastTl0 = outTl0;
    }
    return true;
  }

  /** The output RTP timestamp for input timestamp `ts` of the current layer (for its sender reports). */
  outTimestamp(ts: number): number {
    return (ts - this.tsOffset) >>> 0;
  }

  /**
   * The input sequence number of the current layer that output `outSeq` stands for (-1: no layer plays): for
   * a packet that never arrived (lost before this bridge), whose number the receiver NACKs all the same.
   */
  inputSeqOf(outSeq: number): number {
    return this.currentLayer < 0 ? -1 : (outSeq + this.seqOffset) & 0xffff;
  }

  /** Finds what output packet `outSeq` was made of (foundLayer, foundInSeq); false when not remembered. */
  lookup(outSeq: number): boolean {
    const h = outSeq & (HISTORY - 1);
    if (this.hOut[h] !== outSeq) return false;
    this.foundSlot = h;
    this.foundLayer = this.hLayer[h];
    this.foundInSeq = this.hIn[h];
    return true;
  }

  /**
   * Rewrites buf[0..len) (the original input packet of the last lookup()) exactly as it was rewritten when
   * first forwarded, for a retransmission. false when it is not that packet.
   */
  rewriteAgain(buf: Buffer, len: number, info: Vp8Info): boolean {
    const h = this.foundSlot;
    const hl = rtpHeaderLength(buf, len);
    if (h < 0 || hl < 0 || rtpSeq(buf) !== this.hIn[h]) return false;
    setRtpSsrc(buf, this.outSsrc);
    setRtpSeq(buf, this.hOut[h]);
    setRtpTimestamp(buf, (rtpTimestamp(buf) - this.hTs[h]) >>> 0);
    if (info.pictureId >= 0) setVp8PictureId(buf, hl, (info.pictureId - this.hPic[h]) & 0x7fff);
    if (info.tl0PicIdx >= 0) setVp8Tl0PicIdx(buf, hl, (info.tl0PicIdx - this.hTl0[h]) & 0xff);
    return true;
  }

  private switchTo(seq: number, ts: number, layer: number, info: Vp8Info, nowMs: number): void {
    if (this.started) {
      // another layer played up to here (a held switch): one frame; the stream stood still: the pause itself
      const idleTicks = this.currentLayer < 0 ? Math.round(Math.min(nowMs - this.lastMs, MAX_IDLE_STEP_MS) * TICKS_PER_MS) : 0;
      this.seqOffset = (seq - this.lastSeq - 1) & 0xffff;
      this.tsOffset = (ts - this.lastTs - Math.max(this.frameTicks, idleTicks)) >>> 0;
      if (info.pictureId >= 0 && this.lastPic >= 0) this.picOffset = (info.pictureId - this.lastPic - 1) & 0x7fff;
      if (info.tl0PicIdx >= 0 && this.lastTl0 >= 0) this.tl0Offset = (info.tl0PicIdx - this.lastTl0 - 1) & 0xff;
    }
    this.currentLayer = layer;
    this.currentTemporal = this.targetTemporal;
    this.switchSeq = seq;
    this.afterSwitch = true;
    this.inSeq = (seq - 1) & 0xffff;
    this.inPic = info.pictureId >= 0 ? (info.pictureId - 1) & 0x7fff : -1;
  }
}
