// Receive slots at focus: a browser that joins a room of at least `receiveSlotsFrom` participants gets a fixed
// set of receive m-lines (mids 3..: `receiveAudioSlots` audio, then `receiveVideoSlots` video), each with an
// SSRC (and an RTX SSRC for video) drawn once and announced in its first offer. Joins, leaves and source changes
// of others then change only what the bridge is told (bridge.subscribe: every other source's SSRC, and the
// slots), never the session: the bridge puts the speakers' streams on the slots and tells the browser who is
// where (bridge.slot-map). Invariants: a slot session's m-lines never change (no offer for others' changes);
// its slots keep their mids and SSRCs until it gets a new endpoint (a move to another bridge: new slots).
import { randomInt } from 'node:crypto';
import type { BridgeSubscribe } from '../protocol/bus-messages.ts';
import type { ConferenceLimits } from './limits.ts';
import { FIRST_REMOTE_MID } from './mlines.ts';
import type { AnswerSource, RemoteMline } from './sdp.ts';

/** The participant id a slot m-line's msid and cname carry (`slot-a0`, `slot-v3`): a slot, not a person. */
export const slotName = (kind: 'audio' | 'video', index: number) => `slot-${kind === 'audio' ? 'a' : 'v'}${index}`;

/** Whether a browser joining a room that will have `size` participants (itself included) receives on slots. */
export function usesSlots(limits: ConferenceLimits, size: number): boolean {
  return limits.receiveSlotsFrom > 0 && size >= limits.receiveSlotsFrom;
}

/** Fresh slot m-lines: the audio slots, then the video slots, from mid 3, each with SSRCs of its own. */
export function slotMlines(limits: ConferenceLimits): RemoteMline[] {
  const out: RemoteMline[] = [];
  const taken = new Set<number>();
  const draw = () => {
    let s: number;
    do s = randomInt(1, 2 ** 32 - 1);
    while (taken.has(s));
    taken.add(s);
    return s;
  };
  let mid = FIRST_REMOTE_MID;
  for (let i = 0; i < limits.receiveAudioSlots; i++) {
    out.push({ mid: String(mid++), participantId: slotName('audio', i), kind: 'audio', ssrc: draw(), active: true });
  }
  for (let i = 0; i < limits.receiveVideoSlots; i++) {
    out.push({ mid: String(mid++), participantId: slotName('video', i), kind: 'video', ssrc: draw(), rtxSsrc: draw(), active: true });
  }
  return out;
}

/** The slots as the bridge is told them. */
export function slotSpecs(mlines: readonly RemoteMline[]): NonNullable<BridgeSubscribe['slots']> {
  return mlines.map((m) => (m.rtxSsrc !== undefined ? { mid: m.mid, kind: m.kind, ssrc: m.ssrc, rtxSsrc: m.rtxSsrc } : { mid: m.mid, kind: m.kind, ssrc: m.ssrc }));
}

/** Every source SSRC a slot session may receive: all the others send (sorted, each once). */
export function slotSubscriptions(senders: Iterable<{ id: string; sources: readonly AnswerSource[] }>, selfId: string): number[] {
  const ssrcs = new Set<number>();
  for (const q of senders) {
    if (q.id === selfId) continue;
    for (const s of q.sources) ssrcs.add(s.ssrc);
  }
  return [...ssrcs].sort((a, b) => a - b);
}
