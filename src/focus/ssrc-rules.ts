// What an answer may say about the SSRCs a participant sends, checked before anything changes (a broken rule
// throws AnswerError and the answer is refused; its offer stays open for a correct answer):
// - nobody else in the conference sends them: one that claimed another participant's would have everyone else
//   offered that SSRC twice (their browsers refuse such an offer) and its media attributed to the wrong person;
// - they are fixed for the session: each own source (audio mid 0, camera mid 1, screen mid 2) keeps the SSRCs (and
//   RTX SSRC) it first came with, a screen shared again included (Chrome keeps a sender's SSRCs however often its
//   track is replaced or its direction changes), so a participant cannot make everyone else renegotiate by
//   renaming its streams. Only an ICE restart (a new ice-ufrag in the answer) starts them afresh.
import { AnswerError, type AnswerSource } from './sdp.ts';

/** Which of its own m-lines a source comes from: audio (mid 0), camera (mid 1) or screen (mid 2). */
export type OwnSlot = 'audio' | 'camera' | 'screen';

export type FixedSsrcs = Map<OwnSlot, { ssrc: number; rtxSsrc?: number }>;

export const slotOf = (s: AnswerSource): OwnSlot => (s.kind === 'audio' ? 'audio' : s.role === 'screen' ? 'screen' : 'camera');

const show = (x: { ssrc: number; rtxSsrc?: number }) => (x.rtxSsrc !== undefined ? `${x.ssrc}/${x.rtxSsrc}` : String(x.ssrc));

/** Throws when a source of `sources` comes with other SSRCs than `fixed` has for its slot. */
export function checkSsrcsFixed(fixed: FixedSsrcs, sources: readonly AnswerSource[]): void {
  for (const s of sources) {
    const f = fixed.get(slotOf(s));
    if (!f || (f.ssrc === s.ssrc && f.rtxSsrc === s.rtxSsrc)) continue;
    throw new AnswerError(
      `the answer sends its ${slotOf(s)} with ssrc ${show(s)} instead of ${show(f)}: a participant's SSRCs stay fixed for its session unless ICE restarts (a new ice-ufrag)`,
    );
  }
}

/** Remembers the SSRCs of each slot's first source (after the answer was accepted). */
export function rememberSsrcs(fixed: FixedSsrcs, sources: readonly AnswerSource[]): void {
  for (const s of sources) {
    const slot = slotOf(s);
    if (!fixed.has(slot)) fixed.set(slot, s.rtxSsrc !== undefined ? { ssrc: s.ssrc, rtxSsrc: s.rtxSsrc } : { ssrc: s.ssrc });
  }
}

/** Throws when `sources` sends an SSRC (or RTX SSRC) that one of `others` already sends. */
export function checkSsrcsFree(others: Iterable<readonly AnswerSource[]>, sources: readonly AnswerSource[]): void {
  const taken = new Set<number>();
  for (const list of others) {
    for (const s of list) {
      taken.add(s.ssrc);
      if (s.rtxSsrc !== undefined) taken.add(s.rtxSsrc);
    }
  }
  for (const s of sources) {
    for (const ssrc of s.rtxSsrc !== undefined ? [s.ssrc, s.rtxSsrc] : [s.ssrc]) {
      if (taken.has(ssrc)) throw new AnswerError(`the answer sends ssrc ${ssrc}, which another participant already sends`);
    }
  }
}
