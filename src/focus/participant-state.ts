// What focus keeps per browser participant of a conference (its session, sources, receive m-lines, offer
// state, rate-limit bucket), and the pure functions over it: a fresh state, the keys that tell whether its
// m-lines or sources changed, and its tile sizes by the SSRCs it receives the videos with.
import { randomInt } from 'node:crypto';
import type { BridgeAllocateReply, MediaSource, VideoConstraintPayload } from '../protocol/bus-messages.ts';
import type { TileSize } from '../protocol/signal-messages.ts';
import type { ChangeBucket } from './limits.ts';
import { FIRST_REMOTE_MID } from './mlines.ts';
import type { AnswerSource, RemoteMline, SimulcastSsrcs } from './sdp.ts';
import type { FixedSsrcs } from './ssrc-rules.ts';

export interface ParticipantState {
  id: string;
  /** The bridge its endpoint is on (a conference may span several). */
  bridgeId: string;
  /** Where it is (focus.join's region): a failover moves it to a bridge of that region when one has room. */
  region?: string;
  /** The o= session id of this participant's session (numeric string). */
  sessionId: string;
  /** The SSRCs its simulcast camera is seen with (receivers never see the layers' own SSRCs). */
  simulcastSsrcs: SimulcastSsrcs;
  /** The SSRCs its simulcast camera's layers cross a relay between bridges with, lowest layer first (one per rid, up to 4). */
  relaySsrcs: number[];
  transport: BridgeAllocateReply;
  /** What this participant sends, from its last accepted answer. */
  sources: AnswerSource[];
  remote?: { ufrag: string; pwd: string; fingerprint: { algorithm: string; value: string } };
  /**
   * The SSRCs each of its own sources (audio, camera, screen) first came with: fixed for the session (a screen
   * shared again comes back with them), until an answer with a new ICE ufrag (a real restart) starts afresh.
   */
  fixedSsrcs: FixedSsrcs;
  /** bridgeConfigure done at least once. */
  configured: boolean;
  /** Receive m-lines for the others' sources, mid order; inactive ones are recycled (mlines.ts). In slot mode: the fixed slots. */
  mlines: RemoteMline[];
  /** Slot mode (slots.ts): its receive m-lines are fixed slots the bridge puts the others' media on. */
  slots: boolean;
  /** Inactive mids the browser has answered as inactive: free for a new source of their kind. */
  freeMids: Set<string>;
  nextMid: number;
  /** Sources left without an m-line at the last update (the session is at its m-line cap). */
  unplaced: number;
  /** Version of the last offer sent. */
  version: number;
  outstanding: { version: number; mlines: RemoteMline[] } | null;
  dirty: boolean;
  /** The offer owed because of `dirty` must go out even if the m-lines did not change (a renegotiate request). */
  forceNext: boolean;
  /** m-line state of the last offer sent, to skip offers that would change nothing. */
  lastOfferedKey: string | null;
  /** The last ssrc set sent with bridgeSubscribe. */
  subscribed: number[] | null;
  audioMuted: boolean;
  videoMuted: boolean;
  /** The size of each remote video in this participant's browser (its latest `focus.constraints`), or null. */
  tiles: TileSize[] | null;
  /** The receiver's cap on the video it gets (its video-quality setting; 0: audio only); undefined: none. */
  maxReceiveHeight: number | undefined;
  /** A cap went to the bridge last time (so lifting it must be sent too). */
  receiveCapSent: boolean;
  /** The renegotiations it may still cause now (its renegotiate requests, its sources changing). */
  bucket: ChangeBucket;
  /** Owed for lack of a token, paid when the next one comes: a fresh offer to it (a renegotiate request)... */
  owedOffer: boolean;
  /** ...and offers to the others for its changed sources. */
  owedSpread: boolean;
  owedTimer: NodeJS.Timeout | null;
}

/**
 * A source as a bridge is told it: `relaySsrcs` (a simulcast camera's, one per rid) and, for a relay endpoint,
 * `participantId` (who sends it on the far bridge).
 */
export function mediaSourceOf(s: AnswerSource, relaySsrcs: readonly number[], participantId?: string): MediaSource {
  const m: MediaSource = { ssrc: s.ssrc, kind: s.kind };
  if (s.rtxSsrc !== undefined) m.rtxSsrc = s.rtxSsrc;
  if (s.rids !== undefined) {
    m.rids = s.rids;
    if (relaySsrcs.length >= s.rids.length) m.relaySsrcs = relaySsrcs.slice(0, s.rids.length);
  }
  if (s.role !== undefined) m.role = s.role;
  if (participantId !== undefined) m.participantId = participantId;
  return m;
}

export const mlinesKey = (mlines: readonly RemoteMline[]) =>
  mlines.map((m) => `${m.mid}:${m.participantId}:${m.kind}:${m.role ?? ''}:${m.ssrc}:${m.active ? 1 : 0}`).join(',');

export const sourcesKey = (sources: readonly AnswerSource[]) =>
  [...sources]
    .sort((a, b) => a.kind.localeCompare(b.kind) || (a.role ?? '').localeCompare(b.role ?? ''))
    .map((s) => `${s.kind}:${s.role ?? ''}:${s.ssrc}:${s.rtxSsrc ?? ''}:${s.rids?.join('/') ?? ''}`)
    .join(',');

/** A participant that just joined: nothing negotiated yet; its simulcast camera's receiver-side SSRCs drawn now. */
export function newParticipantState(id: string, bridgeId: string, transport: BridgeAllocateReply, bucket: ChangeBucket): ParticipantState {
  return {
    id,
    bridgeId,
    sessionId: String(randomInt(1, 2 ** 48)),
    simulcastSsrcs: { ssrc: randomInt(1, 2 ** 32 - 1), rtxSsrc: randomInt(1, 2 ** 32 - 1) },
    relaySsrcs: Array.from({ length: 4 }, () => randomInt(1, 2 ** 32 - 1)),
    transport,
    sources: [],
    fixedSsrcs: new Map(),
    configured: false,
    mlines: [],
    slots: false,
    freeMids: new Set(),
    nextMid: FIRST_REMOTE_MID,
    unplaced: 0,
    version: 0,
    outstanding: null,
    dirty: false,
    forceNext: false,
    lastOfferedKey: null,
    subscribed: null,
    audioMuted: false,
    videoMuted: false,
    tiles: null,
    maxReceiveHeight: undefined,
    receiveCapSent: false,
    bucket,
    owedOffer: false,
    owedSpread: false,
    owedTimer: null,
  };
}

/**
 * p got a new endpoint on another bridge (its old one went away): a new session as for a participant that just
 * joined (the browser connects anew and answers with its sources), keeping what the others know of it (its
 * sources until that answer, its simulcast SSRCs), its mute state, tile sizes and rate-limit bucket.
 */
export function resetForNewBridge(p: ParticipantState, bridgeId: string): void {
  if (p.owedTimer) clearTimeout(p.owedTimer);
  Object.assign(p, {
    bridgeId,
    sessionId: String(randomInt(1, 2 ** 48)),
    configured: false,
    mlines: [],
    freeMids: new Set<string>(),
    nextMid: FIRST_REMOTE_MID,
    unplaced: 0,
    outstanding: null,
    dirty: false,
    forceNext: false,
    lastOfferedKey: null,
    subscribed: null,
    owedOffer: false,
    owedSpread: false,
    owedTimer: null,
  } satisfies Partial<ParticipantState>);
}

/**
 * p's tile sizes by the SSRCs of its active receive m-lines: 'camera' is role 'video', 'screen' role 'screen'.
 * In slot mode by the senders' own source SSRCs (`senders`: whoever plays on a slot, the bridge knows its size).
 */
export function videoConstraintsOf(p: ParticipantState, senders: Iterable<{ id: string; sources: readonly AnswerSource[] }> = []): VideoConstraintPayload[] {
  if (!p.tiles) return [];
  const ssrcs = new Map<string, number>();
  if (p.slots) {
    for (const q of senders) {
      if (q.id === p.id) continue;
      for (const s of q.sources) if (s.kind === 'video') ssrcs.set(`${s.role === 'screen' ? 'screen' : 'camera'}\n${q.id}`, s.ssrc);
    }
  }
  for (const m of p.slots ? [] : p.mlines) {
    if (!m.active || m.kind !== 'video') continue;
    ssrcs.set(`${m.role === 'screen' ? 'screen' : 'camera'}\n${m.participantId}`, m.ssrc);
  }
  const out: VideoConstraintPayload[] = [];
  const seen = new Set<number>();
  for (const t of p.tiles) {
    const ssrc = ssrcs.get(`${t.source}\n${t.participantId}`);
    if (ssrc === undefined || seen.has(ssrc)) continue;
    seen.add(ssrc);
    out.push({ ssrc, width: t.width, height: t.height });
  }
  return out;
}
