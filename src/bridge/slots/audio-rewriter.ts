/**
 * One receive slot's audio stream: whichever audio source the bridge puts on the slot, the receiver sees one
 * continuous RTP stream under the slot's SSRC (as Jitsi Videobridge's SSRC rewriting does).
 *
 * - Output SSRC fixed (the slot's, announced once in the receiver's SDP).
 * - Within one source: sequence number and timestamp keep the source's spacing (offsets fixed), so input gaps
 *   stay gaps (the receiver's jitter buffer conceals them).
 * - At a source change (`startSource`), the next packet forwarded follows the last one sent: sequence number
 *   +1, timestamp + the wall-clock time since the last packet (at least one 20 ms Opus frame, 960 ticks at
 *   48 kHz), so the receiver's jitter buffer sees a talk spurt after silence, not a jump back or a reorder.
 * rewrite() works in place on a plaintext RTP packet and allocates nothing.
 */
import { seqDiff, setRtpSeq, setRtpSsrc, setRtpTimestamp } from '../packet/rtp.ts';

/** Opus at 48 kHz: ticks per millisecond, and one 20 ms frame. */
const TICKS_PER_MS = 48;
const MIN_GAP_TICKS = 960;
/** The longest pause a timestamp step stands for (2^31 ticks, ~12 h at 48 kHz, would read as a jump back). */
const MAX_IDLE_STEP_MS = 60_000;

export class AudioSlotRewriter {
  readonly outSsrc: number;
  private started = false;
  /** The next packet forwarded is the first of a new source: offsets are set from it. */
  private fresh = true;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastSeq = 0;
  private lastTs = 0;
  private lastMs = 0;

  constructor(outSsrc: number) {
    this.outSsrc = outSsrc >>> 0;
  }

  /** Another source plays on the slot from its next packet. */
  startSource(): void {
    this.fresh = true;
  }

  /** Rewrites the header of buf (input `seq`, `ts`) for the slot, at `nowMs` (any monotonic ms clock). */
  rewrite(buf: Buffer, seq: number, ts: number, nowMs: number): void {
    if (this.fresh) {
      this.fresh = false;
      if (this.started) {
        const gap = Math.max(MIN_GAP_TICKS, Math.round(Math.min(nowMs - this.lastMs, MAX_IDLE_STEP_MS) * TICKS_PER_MS));
        this.seqOffset = (seq - this.lastSeq - 1) & 0xffff;
        this.tsOffset = (ts - this.lastTs - gap) >>> 0;
      } else {
        this.seqOffset = 0;
        this.tsOffset = 0;
      }
    }
    const outSeq = (seq - this.seqOffset) & 0xffff;
    const outTs = (ts - this.tsOffset) >>> 0;
    setRtpSsrc(buf, this.outSsrc);
    setRtpSeq(buf, outSeq);
    setRtpTimestamp(buf, outTs);
    if (!this.started || seqDiff(outSeq, this.lastSeq) > 0) {
      this.started = true;
      this.lastSeq = outSeq;
      this.lastTs = outTs;
      this.lastMs = nowMs;
    }
  }

  /** Whether the source playing now has had a packet rewritten: before that its timestamps have no offset yet. */
  get mapped(): boolean {
    return !this.fresh;
  }

  /** The output timestamp for input timestamp `ts` of the source playing now (its sender reports; only once `mapped`). */
  outTimestamp(ts: number): number {
    return (ts - this.tsOffset) >>> 0;
  }
}
