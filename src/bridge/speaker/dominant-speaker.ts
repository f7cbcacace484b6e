/**
 * Dominant speaker identification from RFC 6464 audio levels, a simplified take on Volfin & Cohen,
 * "Dominant Speaker Identification for Multipoint Videoconferencing" (the algorithm Jitsi uses):
 * speech activity is judged on three time scales and a challenger replaces the current dominant
 * speaker only when it has clearly more speech activity on the medium scale.
 *
 * - immediate: each audio level is speech when it is above an absolute minimum (-70 dBov) and at
 *   least 10 dB above the source's noise floor (the quietest 100 ms block of the last 3 s), so steady
 *   background noise is never speech;
 * - blocks of 100 ms score min(1, speech fraction / 0.5): a block half full of speech counts fully,
 *   so the pauses between words matter little and the scores do not depend on how syllables fall
 *   into blocks;
 * - medium (last 10 blocks, 1 s) and long (last 40 blocks, 4 s) scores add the block scores.
 * A switch needs the challenger's medium score >= 6 (about 600 ms of speech in the last second) and
 * at least 3 more than the dominant speaker's; with no dominant speaker, 3 active blocks suffice.
 * When everybody is silent the dominant speaker stays, marked silent once its medium score falls under 1 (less
 * than about a block of speech in the last second) until it is back at 3 (speaker stats stop counting meanwhile).
 * Brief interruptions and clicks never switch.
 *
 * onAudioLevel is per packet and allocation-free (after a source's first packet); tick() runs a few
 * times per second.
 */

const BLOCK_MS = 100;
const MEDIUM = 10;
const LONG = 40;
const FLOOR_BLOCKS = 30;
const FULL_FRACTION = 0.5;
/** A block with at least this score counts as the source speaking (recentSpeakers). */
const ACTIVE_SCORE = 0.8;
/** Loudness = 127 - level (dB above -127 dBov). Speech needs at least -70 dBov ... */
const MIN_LOUDNESS = 127 - 70;
/** ... and this much above the noise floor (dB). */
const FLOOR_MARGIN = 10;
const SWITCH_MEDIUM = 6;
const SWITCH_MARGIN = 3;
const START_MEDIUM = 3;
/** The dominant speaker's medium score under which it is silent, and from which a silent one speaks again. */
const SILENT_MEDIUM = 1;
const SPEAKING_MEDIUM = 3;

class SpeakerState<K> {
  readonly id: K;
  readonly order: number;
  block = -1;
  count = 0;
  speech = 0;
  blockMin = Infinity;
  floor = Infinity;
  readonly active = new Float64Array(LONG);
  readonly minima = new Float64Array(FLOOR_BLOCKS).fill(NaN);
  head = 0;
  medium = 0;
  long = 0;
  lastActiveMs = -Infinity;

  constructor(id: K, order: number) {
    this.id = id;
    this.order = order;
  }
}

export class DominantSpeaker<K = string> {
  private readonly speakers = new Map<K, SpeakerState<K>>();
  private current: SpeakerState<K> | null = null;
  private nextOrder = 0;
  private currentSilent = false;

  /** The dominant speaker, null before anyone spoke. */
  get dominant(): K | null {
    return this.current === null ? null : this.current.id;
  }

  /** Whether the dominant speaker has gone silent (as of the last tick; it stays dominant). */
  get silent(): boolean {
    return this.current !== null && this.currentSilent;
  }

  /** One RFC 6464 level (0 = loudest, 127 = silence; anything else is ignored) of `sourceId` at nowMs. */
  onAudioLevel(sourceId: K, level: number, nowMs: number): void {
    if (!(level >= 0 && level <= 127)) return; // -1: no extension; garbage
    let s = this.speakers.get(sourceId);
    if (s === undefined) {
      s = new SpeakerState(sourceId, this.nextOrder++);
      this.speakers.set(sourceId, s);
    }
    const block = Math.floor(nowMs / BLOCK_MS);
    if (!(block === block)) return; // NaN time
    this.closeBlocks(s, block);
    const loud = 127 - (level | 0);
    s.count++;
    if (loud < s.blockMin) s.blockMin = loud;
    const floor = s.floor < s.blockMin ? s.floor : s.blockMin;
    if (loud >= MIN_LOUDNESS && loud >= floor + FLOOR_MARGIN) s.speech++;
  }

  /** Forgets a source (it left); if it was the dominant speaker there is none until someone speaks. */
  remove(sourceId: K): void {
    const s = this.speakers.get(sourceId);
    if (s === undefined) return;
    this.speakers.delete(sourceId);
    if (this.current === s) {
      this.current = null;
      this.currentSilent = false;
    }
  }

  /** Re-evaluates; returns the new dominant speaker when it changed, else null. */
  tick(nowMs: number): K | null {
    const block = Math.floor(nowMs / BLOCK_MS);
    if (!(block === block)) return null;
    let best: SpeakerState<K> | null = null;
    for (const s of this.speakers.values()) {
      this.closeBlocks(s, block);
      if (s === this.current) continue;
      if (best === null || s.medium > best.medium || (s.medium === best.medium && s.long > best.long)) best = s;
    }
    const cur = this.current;
    if (cur !== null) {
      if (!this.currentSilent && cur.medium < SILENT_MEDIUM) this.currentSilent = true;
      else if (this.currentSilent && cur.medium >= SPEAKING_MEDIUM) this.currentSilent = false;
    }
    if (best === null) return null;
    if (cur === null) {
      if (best.medium < START_MEDIUM) return null;
    } else if (best.medium < SWITCH_MEDIUM || best.medium < cur.medium + SWITCH_MARGIN) {
      return null;
    }
    this.current = best;
    this.currentSilent = false;
    return best.id;
  }

  /**
   * Up to n sources, the dominant speaker first, then by how recently they spoke (never-heard sources
   * last, in the order they appeared). For last-N ordering.
   */
  recentSpeakers(n: number): K[] {
    const all = [...this.speakers.values()];
    const cur = this.current;
    all.sort((a, b) => {
      if (a === cur) return -1;
      if (b === cur) return 1;
      if (a.lastActiveMs !== b.lastActiveMs) return b.lastActiveMs > a.lastActiveMs ? 1 : -1;
      return a.order - b.order;
    });
    const out: K[] = [];
    for (let i = 0; i < all.length && i < n; i++) out.push(all[i].id);
    return out;
  }

  /** Scores of a source (tests, stats): block scores added over the last 1 s and 4 s. */
  scores(sourceId: K): { medium: number; long: number } | null {
    const s = this.speakers.get(sourceId);
    return s === undefined ? null : { medium: s.medium, long: s.long };
  }

  /** Finalizes s's blocks before `block` (blocks without levels count as silence). */
  private closeBlocks(s: SpeakerState<K>, block: number): void {
    if (s.block < 0) {
      s.block = block;
      return;
    }
    if (block <= s.block) return;
    let pending = block - s.block;
    if (pending > LONG) pending = LONG + 1; // a long silence: the first block, then all quiet
    for (let i = 0; i < pending; i++) {
      let act = i === 0 && s.count > 0 ? s.speech / (FULL_FRACTION * s.count) : 0;
      if (act > 1) act = 1;
      const min = i === 0 && s.count > 0 ? s.blockMin : NaN;
      if (act >= ACTIVE_SCORE) s.lastActiveMs = (s.block + 1) * BLOCK_MS;
      s.active[s.head % LONG] = act;
      s.minima[s.head % FLOOR_BLOCKS] = min;
      s.head = (s.head + 1) % (LONG * FLOOR_BLOCKS);
      s.count = 0;
      s.speech = 0;
      s.blockMin = Infinity;
    }
    s.block = block;
    let medium = 0;
    let long = 0;
    for (let k = 1; k <= LONG; k++) {
      const a = s.active[(s.head - k + LONG * FLOOR_BLOCKS) % LONG];
      long += a;
      if (k <= MEDIUM) medium += a;
    }
    s.medium = medium;
    s.long = long;
    let floor = Infinity;
    for (let k = 0; k < FLOOR_BLOCKS; k++) {
      const m = s.minima[k];
      if (m < floor) floor = m; // NaN compares false: blocks without levels are skipped
    }
    s.floor = floor;
  }
}
