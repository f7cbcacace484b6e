// A conference on this bridge: its endpoints, the SSRC -> source map, and who receives what.
import type { MediaSource } from '../protocol/bus-messages.ts';
import { Endpoint, Source } from './endpoint.ts';
import { RetransmitBuffer } from './retransmit-buffer.ts';
import { DominantSpeaker } from './speaker/dominant-speaker.ts';

export class Conference {
  readonly id: string;
  readonly endpoints = new Map<string, Endpoint>();
  /** Every SSRC sent into this conference (primary and RTX), to its source. */
  readonly sources = new Map<number, Source>();
  /** Speech activity by endpoint id, from the audio levels of what they send. */
  readonly speakers = new DominantSpeaker<string>();
  /** The endpoint id last published as dominant speaker. */
  dominant: string | null = null;

  constructor(id: string) {
    this.id = id;
  }

  /**
   * Replaces the sources `endpoint` sends. Sources kept (same SSRC and kind) keep their retransmission
   * buffer. Throws when an SSRC is already sent by another endpoint of the conference.
   */
  setSources(endpoint: Endpoint, list: MediaSource[]): void {
    const wanted = new Map<number, { kind: MediaSource['kind']; primary: number }>();
    for (const s of list) {
      if (wanted.has(s.ssrc)) throw new Error(`ssrc ${s.ssrc} is listed twice`);
      wanted.set(s.ssrc, { kind: s.kind, primary: s.ssrc });
    }
    for (const s of list) {
      if (s.rtxSsrc === undefined) continue;
      if (wanted.has(s.rtxSsrc)) throw new Error(`rtx ssrc ${s.rtxSsrc} is listed twice`);
      wanted.set(s.rtxSsrc, { kind: s.kind, primary: s.ssrc });
    }
    for (const ssrc of wanted.keys()) {
      const existing = this.sources.get(ssrc);
      if (existing && existing.owner !== endpoint) {
        throw new Error(`ssrc ${ssrc} is already sent by endpoint ${existing.owner.id}`);
      }
    }
    const next: Source[] = [];
    for (const old of endpoint.sources) {
      const w = wanted.get(old.ssrc);
      if (w && w.kind === old.kind && w.primary === old.primarySsrc) {
        next.push(old);
        wanted.delete(old.ssrc);
      } else {
        this.sources.delete(old.ssrc);
      }
    }
    for (const [ssrc, w] of wanted) {
      const isRtx = w.primary !== ssrc;
      const buffer = w.kind === 'video' && !isRtx ? new RetransmitBuffer() : null;
      const source = new Source(ssrc, w.kind, endpoint, w.primary, buffer);
      next.push(source);
      this.sources.set(ssrc, source);
    }
    endpoint.sources = next;
    this.rebuildSubscribers();
  }

  /** Replaces what `endpoint` receives; returns the SSRCs that were not in the previous set. */
  setSubscriptions(endpoint: Endpoint, ssrcs: number[]): number[] {
    const before = endpoint.subscriptions;
    const after = new Set(ssrcs);
    const added: number[] = [];
    for (const s of after) if (!before.has(s)) added.push(s);
    endpoint.subscriptions = after;
    this.rebuildSubscribers();
    return added;
  }

  removeEndpoint(endpoint: Endpoint): void {
    for (const s of endpoint.sources) {
      if (this.sources.get(s.ssrc) === s) this.sources.delete(s.ssrc);
    }
    endpoint.sources = [];
    endpoint.subscriptions = new Set();
    this.endpoints.delete(endpoint.id);
    this.speakers.remove(endpoint.id);
    if (this.dominant === endpoint.id) this.dominant = null;
    this.rebuildSubscribers();
  }

  /** Recomputes every source's subscriber list (control plane only; the media path just reads it). */
  rebuildSubscribers(): void {
    for (const source of this.sources.values()) {
      const subs: Endpoint[] = [];
      for (const e of this.endpoints.values()) {
        if (e !== source.owner && !e.closed && e.subscriptions.has(source.primarySsrc)) subs.push(e);
      }
      source.subscribers = subs;
    }
  }
}
