// A participant's receive m-lines (mids 3..) for everybody else's sources, and how they follow those sources.
// Unified plan never removes an m-line: a source that goes away leaves its m-line `a=inactive`. Such an m-line
// is recycled for a later source of the same kind (audio or video; a camera and a screen are both video), the
// way Jitsi and LiveKit reuse transceivers, so that a session only ever holds as many m-lines as the most
// sources it received at once. Invariants:
// - a recycled m-line keeps its mid and its kind; only its participant, role and SSRCs change;
// - only a mid the browser has answered as inactive is recycled (`free`): when it gets a new source, the bridge
//   no longer sends the old one there and the browser already saw it without SSRCs, so no packet of the old
//   source can be taken for the new one;
// - a new m-line is added only when no free one of that kind is left, and never beyond `maxMlines` in the session
//   (its own three included); sources left without an m-line get one as soon as one is freed.
import type { MediaKind } from '../protocol/signal-messages.ts';
import type { RemoteMline, VideoRole } from './sdp.ts';

/** The first mid for remote sources (0, 1 and 2 are the participant's own audio, camera and screen). */
export const FIRST_REMOTE_MID = 3;

/** A source some other participant sends, as the receiver should get it. */
export interface WantedSource {
  participantId: string;
  kind: MediaKind;
  role?: VideoRole;
  ssrc: number;
  rtxSsrc?: number;
}

const sourceKey = (s: { participantId: string; kind: MediaKind; role?: VideoRole; ssrc: number }) =>
  `${s.participantId}/${s.kind}/${s.role ?? ''}/${s.ssrc}`;

/** Audio first, then screens, then cameras: what gets an m-line first when the session is full. */
const priority = (s: WantedSource) => (s.kind === 'audio' ? 0 : s.role === 'screen' ? 1 : 2);

export interface MlineChange {
  /** m-lines that went inactive (their source went away). */
  deactivated: number;
  /** Inactive m-lines that got a new source. */
  recycled: number;
  /** m-lines added at the end. */
  added: number;
  /** Sources left without an m-line because the session has `maxMlines` already. */
  unplaced: number;
}

/**
 * Brings `mlines` (mid order, changed in place) in line with `wanted`: an active m-line whose source is no longer
 * wanted goes inactive; each wanted source without an m-line takes a free one of its kind (mids in `free`, which
 * this removes them from), else a new one at `nextMid` while the session stays within `maxMlines`.
 * Returns the next unused mid number and what changed.
 */
export function updateMlines(
  mlines: RemoteMline[],
  wanted: readonly WantedSource[],
  opts: { free: Set<string>; nextMid: number; maxMlines: number },
): MlineChange & { nextMid: number } {
  const change: MlineChange = { deactivated: 0, recycled: 0, added: 0, unplaced: 0 };
  const missing = new Map(wanted.map((w) => [sourceKey(w), w]));
  for (const m of mlines) {
    if (!m.active) continue;
    if (missing.delete(sourceKey(m))) continue;
    m.active = false;
    change.deactivated++;
  }
  let nextMid = opts.nextMid;
  const ordered = [...missing.values()];
  // only matters when not all of them fit: then the most useful ones first (the sort is stable)
  if (FIRST_REMOTE_MID + mlines.length + ordered.length > opts.maxMlines) ordered.sort((a, b) => priority(a) - priority(b));
  for (const w of ordered) {
    let reuse: RemoteMline | undefined;
    for (const m of mlines) {
      if (m.active || m.kind !== w.kind || !opts.free.has(m.mid)) continue;
      // the same participant's same track back on its old mid, when possible (its tile comes back where it was)
      if (m.participantId === w.participantId && m.role === w.role) {
        reuse = m;
        break;
      }
      reuse ??= m;
    }
    if (reuse) {
      opts.free.delete(reuse.mid);
      reuse.participantId = w.participantId;
      reuse.ssrc = w.ssrc;
      reuse.active = true;
      if (w.role) reuse.role = w.role;
      else delete reuse.role;
      if (w.kind === 'video' && w.rtxSsrc !== undefined) reuse.rtxSsrc = w.rtxSsrc;
      else delete reuse.rtxSsrc;
      change.recycled++;
      continue;
    }
    if (FIRST_REMOTE_MID + mlines.length >= opts.maxMlines) {
      change.unplaced++;
      continue;
    }
    const m: RemoteMline = { mid: String(nextMid++), participantId: w.participantId, kind: w.kind, ssrc: w.ssrc, active: true };
    if (w.role) m.role = w.role;
    if (w.kind === 'video' && w.rtxSsrc !== undefined) m.rtxSsrc = w.rtxSsrc;
    mlines.push(m);
    change.added++;
  }
  return { ...change, nextMid };
}

/**
 * After the browser answered an offer: every m-line that offer had inactive and that is still inactive is free
 * for recycling (the browser has seen it without SSRCs, the bridge no longer sends there).
 */
export function freeAnsweredInactive(mlines: readonly RemoteMline[], offered: readonly RemoteMline[], free: Set<string>): void {
  const inactiveOffered = new Set(offered.filter((m) => !m.active).map((m) => m.mid));
  for (const m of mlines) if (!m.active && inactiveOffered.has(m.mid)) free.add(m.mid);
}
