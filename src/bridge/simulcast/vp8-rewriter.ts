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

/** The VP8 RTP clock: ticks per millisecond (90 kHz). */
const TICKS_PER_MS = 90;
/** The longest pause a timestamp step stands for (longer ones step this much: a step of 2^31 ticks or more, ~6.6 h
 * at 90 kHz, would read as a jump back, and any pause this long already resets a receiver's jitter buffer). */
export const MAX_IDLE_STEP_MS = 60_000;

/** Every temporal layer. */
export const ALL_TEMPORAL = 7;

// The rewriter's state lives in two ArrayBuffers, so that the native data plane (native/vp8-rewrite.h, which
// mirrors this layout) reads and writes the very same state: a header of 32-bit fields and the time of the
// last packet sent, and the history of what each output number was made of (allocated at the first packet).
/** The header's 32-bit fields (index into its Int32Array; 32-bit unsigned values are stored as their bits). */
export const RW = {
  started: 0,
  inSeq: 1,
  inPic: 2,
  seqOffset: 3,
  tsOffset: 4,
  picOffset: 5,
  tl0Offset: 6,
  lastSeq: 7,
  lastTs: 8,
  lastPic: 9,
  lastTl0: 10,
  switchSeq: 11,
  afterSwitch: 12,
  heldSeq: 13,
  heldTs: 14,
  targetLayer: 15,
  targetTemporal: 16,
  currentLayer: 17,
  currentTemporal: 18,
  outSsrc: 19,
  frameTicks: 20,
} as const;
/** Bytes of the header: the fields, then lastMs (a float64) at REWRITER_LAST_MS_OFFSET. */
export const REWRITER_STATE_BYTES = 128;
export const REWRITER_LAST_MS_OFFSET = 96;
/** The history's arrays, each REWRITE_HISTORY entries, at these byte offsets of its buffer. */
export const REWRITER_HISTORY = {
  out: 0, // int32: the output number (-1: none)
  ts: 4 * HISTORY, // uint32: the timestamp offset then
  in: 8 * HISTORY, // uint16: the input number
  pic: 10 * HISTORY, // uint16: the picture id offset then
  layer: 12 * HISTORY, // int8: the layer
  tl0: 13 * HISTORY, // uint8: the TL0PICIDX offset then
  bytes: 14 * HISTORY,
} as const;

const NO_INT32 = new Int32Array(0);

function picDiff(a: number, b: number): number {
  return (((a - b) & 0x7fff) ^ 0x4000) - 0x4000;
}

export class Vp8Rewriter {
  readonly outSsrc: number;
  /** The header (RW fields), and lastMs: when the last packet was sent (the caller's clock, ms). */
  readonly state = new ArrayBuffer(REWRITER_STATE_BYTES);
  private readonly s = new Int32Array(this.state, 0, REWRITER_LAST_MS_OFFSET / 4);
  private readonly ms = new Float64Array(this.state, REWRITER_LAST_MS_OFFSET, 1);

  private readonly onKeyframeNeeded: (layer: number) => void;

  // what each recently forwarded output sequence number was made of (for NACKs naming output numbers)
  // (empty until the first packet rewritten: allocateHistory)
  /** The history's buffer (null until the first packet rewritten, or allocateHistory()). */
  history: ArrayBuffer | null = null;
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
    const s = this.s;
    s[RW.outSsrc] = this.outSsrc;
    s[RW.frameTicks] = frameTicks;
    s[RW.inPic] = -1;
    s[RW.lastPic] = -1;
    s[RW.lastTl0] = -1;
    s[RW.heldSeq] = -1;
    s[RW.targetLayer] = -1;
    s[RW.currentLayer] = -1;
    s[RW.targetTemporal] = ALL_TEMPORAL;
    s[RW.currentTemporal] = ALL_TEMPORAL;
  }

  /** RTP timestamp increment inserted at a layer switch (90 kHz / 30 fps). */
  get frameTicks(): number {
    return this.s[RW.frameTicks];
  }
  set frameTicks(v: number) {
    this.s[RW.frameTicks] = v;
  }
  /** Spatial layer to forward (-1: none) and highest temporal layer. */
  get targetLayer(): number {
    return this.s[RW.targetLayer];
  }
  get targetTemporal(): number {
    return this.s[RW.targetTemporal];
  }
  /** Spatial layer being forwarded now (-1: none) and highest temporal layer forwarded now. */
  get currentLayer(): number {
    return this.s[RW.currentLayer];
  }
  get currentTemporal(): number {
    return this.s[RW.currentTemporal];
  }

  /**
   * The stream this rewriter makes replaces `previous`'s to the same receiver under the same SSRC (the source
   * came over a relay and now comes from a participant moved onto this bridge, or the reverse): the numbering
   * (sequence, timestamp, picture id, TL0PICIDX) goes on from where `previous` stopped, as at a layer switch, so
   * the receiver's decoder takes the new packets (at a keyframe) instead of dropping them as old or duplicate.
   */
  continueFrom(previous: Vp8Rewriter): void {
    const s = this.s;
    const p = previous.s;
    if (p[RW.started] === 0 || s[RW.started] !== 0) return;
    s[RW.started] = 1;
    s[RW.lastSeq] = p[RW.lastSeq];
    s[RW.lastTs] = p[RW.lastTs];
    s[RW.lastPic] = p[RW.lastPic];
    s[RW.lastTl0] = p[RW.lastTl0];
    this.ms[0] = previous.ms[0];
  }

  /** true while waiting for a keyframe of the target layer (re-request it, throttled, while so). */
  get needsKeyframe(): boolean {
    const target = this.s[RW.targetLayer];
    return target >= 0 && target !== this.s[RW.currentLayer];
  }

  /**
   * The receiver got nothing of this stream for a while (last-N left the source out): its decoder needs a
   * keyframe, so forwarding continues only from a keyframe of the target layer (numbering continues).
   */
  restartAtKeyframe(): void {
    this.s[RW.currentLayer] = -1;
    this.s[RW.heldSeq] = -1;
    const target = this.s[RW.targetLayer];
    if (target >= 0) this.onKeyframeNeeded(target);
  }

  /**
   * Another source plays on this stream from now (a receive slot, slots/receive-slots.ts): nothing is forwarded
   * until a keyframe of the layer set next (setTarget), whose numbering continues from the last packet sent, as
   * at a layer switch. What earlier output numbers were made of is forgotten: a NACK of them is a miss, never a
   * packet of the new source.
   */
  startNewStream(): void {
    const s = this.s;
    s[RW.currentLayer] = -1;
    s[RW.targetLayer] = -1;
    s[RW.heldSeq] = -1;
    s[RW.afterSwitch] = 0;
    this.hOut.fill(-1);
    this.foundSlot = -1;
  }

  /** Allocates the history now (the native data plane writes it, so it must exist before the first packet there). */
  allocateHistory(): ArrayBuffer {
    if (this.history !== null) return this.history;
    const h = new ArrayBuffer(REWRITER_HISTORY.bytes);
    this.history = h;
    this.hOut = new Int32Array(h, REWRITER_HISTORY.out, HISTORY).fill(-1);
    this.hTs = new Uint32Array(h, REWRITER_HISTORY.ts, HISTORY);
    this.hIn = new Uint16Array(h, REWRITER_HISTORY.in, HISTORY);
    this.hPic = new Uint16Array(h, REWRITER_HISTORY.pic, HISTORY);
    this.hLayer = new Int8Array(h, REWRITER_HISTORY.layer, HISTORY);
    this.hTl0 = new Uint8Array(h, REWRITER_HISTORY.tl0, HISTORY);
    return h;
  }

  /** Selects the spatial layer (-1: stop) and the highest temporal layer to forward. */
  setTarget(layer: number, temporal = ALL_TEMPORAL): void {
    const s = this.s;
    s[RW.targetTemporal] = temporal;
    if (layer === s[RW.targetLayer]) return;
    s[RW.targetLayer] = layer;
    s[RW.heldSeq] = -1;
    if (layer < 0) {
      s[RW.currentLayer] = -1;
      return;
    }
    if (layer !== s[RW.currentLayer]) this.onKeyframeNeeded(layer);
  }

  /**
   * A packet (input `seq`, timestamp `ts`) of the target layer while another layer plays (currentLayer >= 0):
   * the current layer keeps playing until the target's keyframe is whole. Returns the input sequence number of
   * the keyframe's first packet when this packet (`marker`) ends it: the caller then passes every packet of the
   * keyframe to rewrite(), which switches at the first one. Else -1: do not forward this packet.
   */
  holdForKeyframe(seq: number, ts: number, keyframe: boolean, marker: boolean): number {
    const s = this.s;
    if (keyframe) {
      s[RW.heldSeq] = seq;
      s[RW.heldTs] = ts;
    }
    const first = s[RW.heldSeq];
    if (first < 0 || !marker || ts !== s[RW.heldTs] >>> 0) return -1;
    s[RW.heldSeq] = -1;
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
   * parsed packet (same layout). native/vp8-rewrite.c does the same on the same state: change both together.
   */
  rewriteParsed(buf: Buffer, hl: number, end: number, seq: number, ts: number, layer: number, info: Vp8Info, nowMs = 0): boolean {
    const s = this.s;
    if (layer !== s[RW.currentLayer]) {
      if (layer !== s[RW.targetLayer] || end === hl || !info.keyframe) return false;
      this.switchTo(seq, ts, layer, info, nowMs);
    }
    if (s[RW.afterSwitch] !== 0) {
      const d = seqDiff(seq, s[RW.switchSeq]);
      // older than the switch point: their output numbers belong to the previous layer
      if (d < 0) return false;
      if (d > 1000) s[RW.afterSwitch] = 0; // far behind now (and before seqDiff could wrap)
    }
    const d = seqDiff(seq, s[RW.inSeq]);
    const frameStart = info.start && info.partitionId === 0;
    const newPic = info.pictureId >= 0 && picDiff(info.pictureId, s[RW.inPic]) > 0;
    if (d > 0) s[RW.inSeq] = seq;
    if (end === hl) {
      if (d > 0) s[RW.seqOffset] = (s[RW.seqOffset] + 1) & 0xffff; // padding only
      return false;
    }
    // temporal layers: change the forwarded set at frame starts only
    const tid = info.tid;
    if (frameStart && tid >= 0) {
      const target = s[RW.targetTemporal];
      const current = s[RW.currentTemporal];
      if (target < current) s[RW.currentTemporal] = target;
      else if (target > current && tid > current && tid <= target && info.layerSync) s[RW.currentTemporal] = tid;
    }
    if (newPic) s[RW.inPic] = info.pictureId;
    if (tid > s[RW.currentTemporal]) {
      if (d > 0) s[RW.seqOffset] = (s[RW.seqOffset] + 1) & 0xffff;
      if (newPic) s[RW.picOffset] = (s[RW.picOffset] + 1) & 0x7fff;
      return false;
    }
    const tsOffset = s[RW.tsOffset];
    const outSeq = (seq - s[RW.seqOffset]) & 0xffff;
    const outTs = (ts - tsOffset) >>> 0;
    setRtpSsrc(buf, this.outSsrc);
    setRtpSeq(buf, outSeq);
    setRtpTimestamp(buf, outTs);
    const picOffset = s[RW.picOffset];
    let outPic = -1;
    if (info.pictureId >= 0) {
      outPic = (info.pictureId - picOffset) & 0x7fff;
      setVp8PictureId(buf, hl, outPic);
    }
    const tl0Offset = s[RW.tl0Offset];
    let outTl0 = -1;
    if (info.tl0PicIdx >= 0) {
      outTl0 = (info.tl0PicIdx - tl0Offset) & 0xff;
      setVp8Tl0PicIdx(buf, hl, outTl0);
    }
    if (this.history === null) this.allocateHistory();
    const h = outSeq & (HISTORY - 1);
    this.hOut[h] = outSeq;
    this.hLayer[h] = layer;
    this.hIn[h] = seq;
    this.hTs[h] = tsOffset;
    this.hPic[h] = picOffset;
    this.hTl0[h] = tl0Offset;
    if (s[RW.started] === 0 || seqDiff(outSeq, s[RW.lastSeq]) > 0) {
      s[RW.started] = 1;
      s[RW.lastSeq] = outSeq;
      s[RW.lastTs] = outTs;
      this.ms[0] = nowMs;
      if (outPic >= 0) s[RW.lastPic] = outPic;
      if (outTl0 >= 0) s[RW.lastTl0] = outTl0;
    }
    return true;
  }

  /** The output RTP timestamp for input timestamp `ts` of the current layer (for its sender reports). */
  outTimestamp(ts: number): number {
    return (ts - this.s[RW.tsOffset]) >>> 0;
  }

  /**
   * The input sequence number of the current layer that output `outSeq` stands for (-1: no layer plays): for
   * a packet that never arrived (lost before this bridge), whose number the receiver NACKs all the same.
   */
  inputSeqOf(outSeq: number): number {
    return this.s[RW.currentLayer] < 0 ? -1 : (outSeq + this.s[RW.seqOffset]) & 0xffff;
  }

  /** Finds what output packet `outSeq` was made of (foundLayer, foundInSeq); false when not remembered. */
  lookup(outSeq: number): boolean {
    const h = outSeq & (HISTORY - 1);
    if (this.hOut.length === 0 || this.hOut[h] !== outSeq) return false;
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
    const s = this.s;
    if (s[RW.started] !== 0) {
      // another layer played up to here (a held switch): one frame; the stream stood still: the pause itself
      const idleTicks = s[RW.currentLayer] < 0 ? Math.round(Math.min(nowMs - this.ms[0], MAX_IDLE_STEP_MS) * TICKS_PER_MS) : 0;
      s[RW.seqOffset] = (seq - s[RW.lastSeq] - 1) & 0xffff;
      s[RW.tsOffset] = ts - s[RW.lastTs] - Math.max(s[RW.frameTicks], idleTicks);
      if (info.pictureId >= 0 && s[RW.lastPic] >= 0) s[RW.picOffset] = (info.pictureId - s[RW.lastPic] - 1) & 0x7fff;
      if (info.tl0PicIdx >= 0 && s[RW.lastTl0] >= 0) s[RW.tl0Offset] = (info.tl0PicIdx - s[RW.lastTl0] - 1) & 0xff;
    }
    s[RW.currentLayer] = layer;
    s[RW.currentTemporal] = s[RW.targetTemporal];
    s[RW.switchSeq] = seq;
    s[RW.afterSwitch] = 1;
    s[RW.inSeq] = (seq - 1) & 0xffff;
    s[RW.inPic] = info.pictureId >= 0 ? (info.pictureId - 1) & 0x7fff : -1;
  }
}
