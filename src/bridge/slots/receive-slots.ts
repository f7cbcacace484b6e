/**
 * Receive slots: a browser session in slot mode receives on a fixed set of m-lines (focus announces them once,
 * each with its SSRC, and RTX SSRC for video), whatever the size of its room; the bridge decides which sources
 * play on them (Jitsi Videobridge's SSRC rewriting). Invariants:
 * - a slot keeps its source while that source stays chosen (no needless moves: a tile keeps its track);
 * - a newly chosen source takes the lowest free slot of its kind; a source left out frees its slot;
 * - each slot is one continuous stream to the receiver whatever plays on it: video through one Vp8Rewriter for
 *   the slot's life (startNewStream at each source change: it goes on at the new source's keyframe with the next
 *   sequence number, timestamp and picture id), audio through one AudioSlotRewriter;
 * - the receiver's feedback names slot SSRCs: `sourceOf` gives the source playing there now;
 * - `version` goes up on every change of who is on which slot; the map (`entries`) tells the browser.
 * Control plane only (rebuildSubscribers): nothing here runs per packet.
 */
import { randomInt } from 'node:crypto';
import type { BridgeSlotMap } from '../../protocol/bus-messages.ts';
import type { MediaKind } from '../../protocol/signal-messages.ts';
import { Vp8Rewriter } from '../simulcast/vp8-rewriter.ts';
import type { Source } from '../source.ts';
import { AudioSlotRewriter } from './audio-rewriter.ts';

/** One slot as focus announced it (bridge.subscribe's `slots`). */
export interface SlotSpec {
  mid: string;
  kind: MediaKind;
  ssrc: number;
  rtxSsrc?: number;
}

/** Who plays on a slot, as the browser is told it (`slot-map`). */
export type SlotEntry = BridgeSlotMap['slots'][number];

export class ReceiveSlot {
  readonly mid: string;
  readonly kind: MediaKind;
  readonly ssrc: number;
  /** Video: the SSRC retransmissions and probes go with (0: none). */
  readonly rtxSsrc: number;
  /** The source playing on it now (null: nothing). */
  source: Source | null = null;
  readonly video: Vp8Rewriter | null;
  readonly audio: AudioSlotRewriter | null;
  /** Video: the sequence number of the next RTX packet on `rtxSsrc` (kept across the sources that play here). */
  rtxSeq = randomInt(0, 0x8000);
  /** What the video rewriter's keyframe wish becomes (set by the conference for the source playing now). */
  keyframeNeeded: (layer: number) => void = () => {};

  constructor(spec: SlotSpec) {
    this.mid = spec.mid;
    this.kind = spec.kind;
    this.ssrc = spec.ssrc >>> 0;
    this.rtxSsrc = spec.kind === 'video' ? (spec.rtxSsrc ?? 0) >>> 0 : 0;
    this.video = spec.kind === 'video' ? new Vp8Rewriter(this.ssrc, (layer) => this.keyframeNeeded(layer)) : null;
    this.audio = spec.kind === 'audio' ? new AudioSlotRewriter(this.ssrc) : null;
  }
}

export class ReceiveSlots {
  readonly slots: readonly ReceiveSlot[];
  /** Slot and RTX SSRCs to their slot (what a receiver's NACK, PLI or report names). */
  private readonly bySsrc = new Map<number, ReceiveSlot>();
  /** Source (by identity) to the slot it plays on. */
  private readonly bySource = new Map<Source, ReceiveSlot>();
  /** Goes up on every change of who plays where. */
  version = 0;
  /** The version last told the browser by this thread (-1: never). */
  publishedVersion = -1;
  readonly audioCount: number;
  readonly videoCount: number;

  constructor(specs: readonly SlotSpec[]) {
    this.slots = specs.map((s) => new ReceiveSlot(s));
    for (const s of this.slots) {
      this.bySsrc.set(s.ssrc, s);
      if (s.rtxSsrc !== 0) this.bySsrc.set(s.rtxSsrc, s);
    }
    this.audioCount = this.slots.filter((s) => s.kind === 'audio').length;
    this.videoCount = this.slots.length - this.audioCount;
  }

  /** The same slots (mids, kinds, SSRCs) as `specs`: a repeated subscribe keeps the slots and their streams. */
  sameAs(specs: readonly SlotSpec[]): boolean {
    if (specs.length !== this.slots.length) return false;
    return specs.every((s, i) => {
      const t = this.slots[i];
      return t.mid === s.mid && t.kind === s.kind && t.ssrc === s.ssrc >>> 0 && t.rtxSsrc === (s.kind === 'video' ? (s.rtxSsrc ?? 0) >>> 0 : 0);
    });
  }

  slotOf(source: Source): ReceiveSlot | undefined {
    return this.bySource.get(source);
  }

  /** The source playing on the slot an SSRC of the receiver's feedback names (slot or RTX SSRC); null: none. */
  sourceOf(ssrc: number): Source | null {
    return this.bySsrc.get(ssrc >>> 0)?.source ?? null;
  }

  slotBySsrc(ssrc: number): ReceiveSlot | undefined {
    return this.bySsrc.get(ssrc >>> 0);
  }

  /**
   * Puts `chosen` (audio and video sources, most wanted first; at most as many as there are slots of each kind
   * are taken) on the slots: those already on a slot stay there, the others take the lowest free slot of their
   * kind. Returns the slots whose source changed (to a new one, or to none).
   */
  assign(chosen: readonly Source[]): ReceiveSlot[] {
    const keep = new Set<Source>();
    let audio = 0;
    let video = 0;
    for (const s of chosen) {
      if (s.kind === 'audio' ? audio++ < this.audioCount : video++ < this.videoCount) keep.add(s);
    }
    const changed: ReceiveSlot[] = [];
    for (const slot of this.slots) {
      if (slot.source !== null && !keep.has(slot.source)) {
        this.bySource.delete(slot.source);
        slot.source = null;
        changed.push(slot);
      }
    }
    for (const s of keep) {
      if (this.bySource.has(s)) continue;
      const free = this.slots.find((slot) => slot.kind === s.kind && slot.source === null);
      if (free === undefined) continue;
      free.source = s;
      this.bySource.set(s, free);
      if (!changed.includes(free)) changed.push(free);
    }
    if (changed.length > 0) this.version++;
    return changed;
  }

  /** Who plays where (occupied slots only), for the browser. */
  entries(): SlotEntry[] {
    const out: SlotEntry[] = [];
    for (const slot of this.slots) {
      const s = slot.source;
      if (s === null) continue;
      const e: SlotEntry = { mid: slot.mid, participantId: s.speakerId, kind: slot.kind };
      if (slot.kind === 'video') e.role = s.screen ? 'screen' : 'video';
      out.push(e);
    }
    return out;
  }
}

/**
 * The sources `receiver` should get on its slots, most wanted first:
 * - video: screens (never left out while a slot is free), then the video on its stage (its largest tile),
 *   then cameras of the most recent speakers (cameras the server has off last) (`rank`: position in the bridge's speaker order, lower first);
 *   none while it is audio only;
 * - audio: unmuted senders first, then by speaker rank: the most recent speakers hold the audio slots. The
 *   bridge already orders speakers from everyone's RFC 6464 levels (dominant speaker, last-N), so whoever
 *   starts talking reaches the top of that order within one speaker tick and gets a slot; silent people need
 *   none (their packets are comfort noise at most).
 * `candidates` are the primary sources it subscribes to, in conference order.
 */
export function chooseSlotSources(
  receiver: { maxReceiveHeight: number; stageSsrc: number },
  candidates: readonly Source[],
  rank: (speakerId: string) => number,
): Source[] {
  const video = candidates.filter((s) => s.kind === 'video');
  const audio = candidates.filter((s) => s.kind === 'audio');
  // a camera the server has off sends nothing: last
  const videoKey = (s: Source) => (s.screen ? 0 : s.owner.videoMuted ? 3 : s.primarySsrc === receiver.stageSsrc ? 1 : 2);
  const byRank = (a: Source, b: Source) => rank(a.speakerId) - rank(b.speakerId);
  video.sort((a, b) => videoKey(a) - videoKey(b) || byRank(a, b));
  audio.sort((a, b) => Number(a.owner.audioMuted) - Number(b.owner.audioMuted) || byRank(a, b));
  return receiver.maxReceiveHeight === 0 ? audio : [...video, ...audio];
}
