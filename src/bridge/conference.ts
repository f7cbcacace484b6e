// A conference on this bridge: its endpoints, the SSRC -> source map, and who receives what.
import type { MediaSource } from '../protocol/bus-messages.ts';
import type { Endpoint } from './endpoint.ts';
import { Source } from './source.ts';
import { RetransmitBuffer } from './retransmit-buffer.ts';
import { DominantSpeaker } from './speaker/dominant-speaker.ts';
import { Downtrack, standaloneDowntrackHost, type DowntrackHost } from './downtrack.ts';
import type { Egress } from './egress.ts';
import { RateMeter } from './simulcast/rate-meter.ts';
import { TemporalRates } from './simulcast/temporal-rates.ts';
import { chooseSlotSources, type ReceiveSlot } from './slots/receive-slots.ts';

/** How many ended video streams' numbering a receiver keeps (Endpoint.retiredRewriters). */
export const RETIRED_REWRITERS = 32;

export class Conference {
  readonly id: string;
  readonly endpoints = new Map<string, Endpoint>();
  /** Every SSRC sent into this conference (primary and RTX), to its source. */
  readonly sources = new Map<number, Source>();
  /** The relay SSRC of a layer of a simulcast source sent here, to that source (what a relay's NACK or PLI names). */
  readonly relayLayers = new Map<number, Source>();
  /** Speech activity by endpoint id, from the audio levels of what they send. */
  readonly speakers = new DominantSpeaker<string>();
  /** The endpoint id last published as dominant speaker. */
  dominant: string | null = null;
  /** Whether it was last published as silent. */
  dominantSilent = false;
  /** Last-N: each endpoint receives the video of at most this many others (0: everyone's). */
  lastN = 0;
  /** Endpoint ids, the most recent speakers first (last-N order); `updateSpeakerOrder` keeps it. */
  private speakerOrder: string[] = [];

  /** A receiver's rewriter waits for a keyframe of layer `layer` of simulcast `source` (the bridge asks for it). */
  onKeyframeNeeded: (source: Source, layer: number) => void = () => {};
  /** What downtracks call (whatever onKeyframeNeeded is by then). */
  private readonly keyframeNeeded = (source: Source, layer: number): void => this.onKeyframeNeeded(source, layer);
  /** What the downtracks made here send with (the bridge's router; a standalone one outside a bridge). */
  downtrackHost: DowntrackHost;
  /** Who plays on the slots of `endpoint` (slot mode) changed: the bridge tells the browser. */
  onSlotsChanged: (endpoint: Endpoint) => void = () => {};
  /**
   * Something the native routes depend on changed (a source, a layer, subscribers, an endpoint's connection, mute
   * or egress, a transport's path or keys): the bridge stops them at once and builds them again (native-forwarding.ts).
   */
  routesChanged: () => void = () => {};

  constructor(id: string, downtrackHost: DowntrackHost = standaloneDowntrackHost()) {
    this.id = id;
    this.downtrackHost = downtrackHost;
  }

  /**
   * Replaces the sources `endpoint` sends. Sources kept (same SSRC and kind) keep their retransmission
   * buffer. Throws when an SSRC is already sent by another endpoint of the conference.
   */
  setSources(endpoint: Endpoint, list: MediaSource[]): void {
    interface Wanted {
      kind: MediaSource['kind'];
      primary: number;
      rids: string;
      rtxOut: number;
      screen: boolean;
      relaySsrcs: string;
      speakerId: string;
    }
    const wanted = new Map<number, Wanted>();
    for (const s of list) {
      if (wanted.has(s.ssrc)) throw new Error(`ssrc ${s.ssrc} is listed twice`);
      const rids = s.kind === 'video' && s.rids !== undefined ? s.rids.join(',') : '';
      const relaySsrcs = rids !== '' && s.relaySsrcs !== undefined ? s.relaySsrcs.join(',') : '';
      const speakerId = endpoint.relay && s.participantId !== undefined ? s.participantId : endpoint.id;
      wanted.set(s.ssrc, { kind: s.kind, primary: s.ssrc, rids, rtxOut: s.kind === 'video' ? (s.rtxSsrc ?? 0) : 0, screen: s.role === 'screen', relaySsrcs, speakerId });
    }
    for (const s of list) {
      if (s.rtxSsrc === undefined) continue;
      if (wanted.has(s.rtxSsrc)) throw new Error(`rtx ssrc ${s.rtxSsrc} is listed twice`);
      const speakerId = wanted.get(s.ssrc)!.speakerId;
      wanted.set(s.rtxSsrc, { kind: s.kind, primary: s.ssrc, rids: '', rtxOut: 0, screen: false, relaySsrcs: '', speakerId });
    }
    // a relay endpoint's simulcast layers arrive with their relay SSRCs: taken like any SSRC
    if (endpoint.relay) {
      for (const w of [...wanted.values()]) {
        for (const r of w.relaySsrcs === '' ? [] : w.relaySsrcs.split(',').map(Number)) {
          if (wanted.has(r)) throw new Error(`relay ssrc ${r} is listed twice`);
        }
      }
    }
    const taken = (ssrc: number) => {
      const existing = this.sources.get(ssrc);
      if (existing && existing.owner !== endpoint) throw new Error(`ssrc ${ssrc} is already sent by endpoint ${existing.owner.id}`);
    };
    for (const ssrc of wanted.keys()) taken(ssrc);
    const next: Source[] = [];
    for (const old of endpoint.sources) {
      const w = wanted.get(old.ssrc);
      if (
        w &&
        w.kind === old.kind &&
        w.primary === old.primarySsrc &&
        w.rids === (old.rids?.join(',') ?? '') &&
        w.rtxOut === old.rtxOutSsrc &&
        w.screen === old.screen &&
        w.relaySsrcs === old.relaySsrcs.join(',') &&
        w.speakerId === old.speakerId
      ) {
        next.push(old);
        wanted.delete(old.ssrc);
      } else {
        this.sources.delete(old.ssrc);
        this.forgetLayers(old);
        if (old.speakerId !== endpoint.id) this.speakers.remove(old.speakerId);
      }
    }
    for (const [ssrc, w] of wanted) {
      const isRtx = w.primary !== ssrc;
      // a simulcast source receives nothing itself: its layers keep the retransmission buffers
      const buffer = w.kind === 'video' && !isRtx && w.rids === '' ? new RetransmitBuffer() : null;
      const source = new Source(ssrc, w.kind, endpoint, w.primary, buffer);
      source.rtxOutSsrc = w.rtxOut;
      source.screen = w.screen;
      source.speakerId = w.speakerId;
      if (w.rids !== '') {
        source.rids = w.rids.split(',');
        source.layers = source.rids.map(() => null);
        if (w.relaySsrcs !== '') source.relaySsrcs = w.relaySsrcs.split(',').map(Number);
      }
      next.push(source);
      this.sources.set(ssrc, source);
    }
    endpoint.sources = next;
    for (const source of next) {
      if (source.relaySsrcs.length === 0) continue;
      if (endpoint.relay) {
        // the far bridge sends each layer with its relay SSRC: known from the start, nothing to learn
        source.relaySsrcs.forEach((r, i) => {
          if (source.layers[i] === null && (this.sources.get(r) === undefined || this.sources.get(r)!.owner === endpoint)) {
            this.sources.delete(r);
            this.addLayer(source, i, r, false);
          }
        });
      } else {
        for (const r of source.relaySsrcs) this.relayLayers.set(r, source);
      }
    }
    this.rebuildSubscribers();
  }

  /** Replaces what `endpoint` receives; returns the SSRCs that were not in the previous set. */
  setSubscriptions(endpoint: Endpoint, ssrcs: number[]): number[] {
    const before = endpoint.subscriptions;
    const after = new Set(ssrcs);
    const added: number[] = [];
    for (const s of after) if (!before.has(s)) added.push(s);
    const dropped: number[] = [];
    for (const s of before) if (!after.has(s)) dropped.push(s);
    endpoint.forgetVideoConstraints(dropped);
    endpoint.subscriptions = after;
    this.rebuildSubscribers();
    return added;
  }

  /**
   * The first packet of simulcast layer `index` of `parent` arrived with SSRC `ssrc` (its rid told which).
   * `repair`: it is that layer's RTX stream. Returns the new source, or null when the SSRC is taken or
   * the layer already has another SSRC.
   */
  addLayer(parent: Source, index: number, ssrc: number, repair: boolean): Source | null {
    if (this.sources.has(ssrc) || index < 0 || index >= parent.layers.length) return null;
    const layer = parent.layers[index];
    let source: Source;
    if (repair) {
      if (layer === null) return null; // its RTX before any packet of the layer itself
      source = new Source(ssrc, 'video', parent.owner, layer.ssrc, null);
    } else {
      if (layer !== null) return null;
      source = new Source(ssrc, 'video', parent.owner, ssrc, new RetransmitBuffer());
      source.parent = parent;
      source.layerIndex = index;
      source.rate = new RateMeter();
      source.temporalRates = new TemporalRates();
      parent.layers[index] = source;
    }
    source.parentOfRtx = repair ? parent : null;
    this.sources.set(ssrc, source);
    this.routesChanged();
    return source;
  }

  private forgetLayers(parent: Source): void {
    for (const r of parent.relaySsrcs) if (this.relayLayers.get(r) === parent) this.relayLayers.delete(r);
    for (const layer of parent.layers) {
      if (layer === null) continue;
      if (this.sources.get(layer.ssrc) === layer) this.sources.delete(layer.ssrc);
    }
    for (const [ssrc, s] of this.sources) if (s.parentOfRtx === parent) this.sources.delete(ssrc);
    parent.layers = parent.layers.map(() => null);
  }

  removeEndpoint(endpoint: Endpoint): void {
    for (const s of endpoint.sources) {
      if (this.sources.get(s.ssrc) === s) this.sources.delete(s.ssrc);
      this.forgetLayers(s);
    }
    for (const s of endpoint.sources) if (s.speakerId !== endpoint.id) this.speakers.remove(s.speakerId);
    endpoint.sources = [];
    endpoint.subscriptions = new Set();
    this.endpoints.delete(endpoint.id);
    this.speakers.remove(endpoint.id);
    if (this.dominant !== null && !this.hasSpeaker(this.dominant)) {
      this.dominant = null;
      this.dominantSilent = false;
    }
    this.rebuildSubscribers();
  }

  /**
   * Re-reads the speakers' order (recent speakers first, then those never heard, in join order); with last-N
   * on and the order changed, rebuilds the subscriber lists. Returns the video sources that gained a receiver.
   */
  updateSpeakerOrder(): Source[] {
    if (!this.ordersSpeakers) return [];
    const ids = this.speakerIds();
    const known = new Set(ids);
    const order = this.speakers.recentSpeakers(ids.length).filter((id) => known.has(id));
    for (const id of ids) if (!order.includes(id)) order.push(id);
    return this.applySpeakerOrder(order);
  }

  /**
   * Everyone who may speak here, in join order: the endpoints of this bridge, and the participants of other
   * bridges whose sources come through a relay (every bridge of a conference hears every microphone, so each
   * one orders the same people from the same audio levels).
   */
  speakerIds(): string[] {
    const ids: string[] = [];
    for (const e of this.endpoints.values()) {
      if (!e.relay) ids.push(e.id);
      else for (const s of e.sources) if (!s.isRtx && !ids.includes(s.speakerId)) ids.push(s.speakerId);
    }
    return ids;
  }

  /** Whether `id` is someone who may speak here (see speakerIds). */
  hasSpeaker(id: string): boolean {
    const e = this.endpoints.get(id);
    if (e !== undefined) return !e.relay;
    for (const r of this.endpoints.values()) if (r.relay && r.sources.some((s) => s.speakerId === id)) return true;
    return false;
  }

  /** Whether the speaker order is kept: last-N is on, or a receiver is in slot mode (its slots follow the speakers). */
  get ordersSpeakers(): boolean {
    return this.lastN > 0 || this.hasSlotReceivers;
  }

  /** A receiver is in slot mode: mutes and stages change what its slots carry. */
  get hasSlotReceivers(): boolean {
    for (const e of this.endpoints.values()) if (e.slots !== null) return true;
    return false;
  }

  /** The last-N order in use (recent speakers first). */
  get speakerOrderIds(): readonly string[] {
    return this.speakerOrder;
  }

  /**
   * Uses `order` (endpoint ids, recent speakers first) for last-N — computed here or, with media workers, by
   * the worker that hears everyone. Returns the video sources that gained a receiver.
   */
  applySpeakerOrder(order: string[]): Source[] {
    if (!this.ordersSpeakers || order.join('\n') === this.speakerOrder.join('\n')) return [];
    this.speakerOrder = order;
    return this.refreshSubscribers();
  }

  /** Rebuilds the subscriber lists; returns the video sources that gained a receiver (they need a keyframe). */
  refreshSubscribers(): Source[] {
    const before = new Map<Source, Endpoint[]>();
    for (const s of this.sources.values()) if (s.kind === 'video' && !s.isRtx) before.set(s, s.subscribers);
    this.rebuildSubscribers();
    const gained: Source[] = [];
    for (const [s, old] of before) {
      let gainedOne = false;
      for (let i = 0; i < s.subscribers.length; i++) {
        const e = s.subscribers[i];
        if (old.includes(e)) continue;
        gainedOne = true;
        // a simulcast stream coming back: its rewriter (kept while left out) restarts at a keyframe; the
        // media worker that sends to the receiver asks for it
        if (e.egress.local) s.downtracks[i]?.rewriter?.restartAtKeyframe();
      }
      if (gainedOne) gained.push(s);
    }
    return gained;
  }

  /** Whether `receiver` gets the video of speaker `speakerId` under last-N. */
  private withinLastN(receiver: Endpoint, speakerId: string): boolean {
    let rank = 0;
    for (const id of this.speakerOrder) {
      if (id === receiver.id) continue;
      if (id === speakerId) return true;
      if (++rank >= this.lastN) return false;
    }
    // not ranked yet (joined since the last order update): a place only if the ranked ones leave one
    return rank < this.lastN;
  }

  /**
   * Recomputes every source's subscriber list, downtracks and egresses (control plane only; the media path
   * just reads them). Called again when an endpoint's egress changes.
   */
  rebuildSubscribers(): void {
    const lastN = this.lastN > 0;
    const slotsChanged = this.assignSlots();
    for (const source of this.sources.values()) {
      const subs: Endpoint[] = [];
      for (const e of this.endpoints.values()) {
        if (e !== source.owner && !e.closed && e.subscriptions.has(source.primarySsrc)) {
          if (e.slots !== null) {
            // slot mode: only what plays on one of its slots (an RTX stream goes with its primary)
            const primary = source.isRtx ? this.sources.get(source.primarySsrc) : source;
            if (primary !== undefined && e.slots.slotOf(primary) !== undefined) subs.push(e);
            continue;
          }
          // an audio-only receiver (its video-quality setting) gets no video at all, screens included
          if (source.kind === 'video' && e.maxReceiveHeight === 0) continue;
          // last-N leaves out cameras of those who spoke least recently, never a screen or the receiver's stage;
          // a relay gets what its bridge's receivers ask for (their last-N is decided there)
          if (lastN && !e.relay && source.kind === 'video' && !source.screen && e.stageSsrc !== source.primarySsrc && !this.withinLastN(e, source.speakerId)) {
            continue;
          }
          subs.push(e);
        }
      }
      source.subscribers = subs;
      if (source.isRtx) continue; // retransmissions go out through the primary's streams
      const tracks: Downtrack[] = [];
      const local: Downtrack[] = [];
      const egresses: Egress[] = [];
      for (const e of subs) {
        let dt = e.downtracks.get(source.ssrc);
        const slot = e.slots === null ? null : e.slots.slotOf(source)!;
        if (slot !== null) {
          if (dt === undefined || dt.source !== source || dt.slot !== slot) {
            dt = new Downtrack(source, e, this.downtrackHost, this.keyframeNeeded, slot);
            e.downtracks.set(source.ssrc, dt);
          }
        } else if (dt === undefined || dt.source !== source || dt.slot !== null) {
          const previous = dt?.rewriter ?? e.retiredRewriters.get(source.ssrc);
          e.retiredRewriters.delete(source.ssrc);
          dt = new Downtrack(source, e, this.downtrackHost, this.keyframeNeeded);
          if (previous) dt.rewriter?.continueFrom(previous);
          e.downtracks.set(source.ssrc, dt);
        }
        tracks.push(dt);
        if (e.egress.local) local.push(dt);
        if (!egresses.includes(e.egress)) egresses.push(e.egress);
      }
      source.downtracks = tracks;
      source.localDowntracks = local;
      source.egresses = egresses;
    }
    this.routesChanged();
    // forget what receivers no longer get
    for (const e of this.endpoints.values()) {
      for (const [ssrc, dt] of e.downtracks) {
        if (this.sources.get(ssrc) === dt.source && e.subscriptions.has(ssrc) && (e.slots === null ? dt.slot === null : e.slots.slotOf(dt.source) === dt.slot)) continue;
        e.downtracks.delete(ssrc);
        if (dt.rewriter === null || dt.slot !== null) continue; // a slot's rewriter stays with its slot
        // kept a while: the same SSRC may come back from elsewhere (a participant moved off a lost bridge)
        e.retiredRewriters.delete(ssrc);
        e.retiredRewriters.set(ssrc, dt.rewriter);
        if (e.retiredRewriters.size > RETIRED_REWRITERS) e.retiredRewriters.delete(e.retiredRewriters.keys().next().value!);
      }
    }
    for (const e of slotsChanged) this.onSlotsChanged(e);
  }

  /**
   * Slot mode: puts on each such receiver's slots the sources it should get now (slots/receive-slots.ts), and
   * starts the stream of every slot whose source changed. Returns the receivers whose slots changed.
   */
  private assignSlots(): Endpoint[] {
    let rank: Map<string, number> | null = null;
    const changedFor: Endpoint[] = [];
    for (const e of this.endpoints.values()) {
      if (e.slots === null || e.closed) continue;
      if (rank === null) {
        rank = new Map();
        for (const id of this.speakerOrder) rank.set(id, rank.size);
        for (const id of this.speakerIds()) if (!rank.has(id)) rank.set(id, rank.size);
      }
      const candidates: Source[] = [];
      for (const s of this.sources.values()) {
        if (s.isRtx || s.parent !== null || s.owner === e || !e.subscriptions.has(s.ssrc)) continue;
        // last-N holds on slots too: a camera beyond it takes no slot (screens and the receiver's stage always may)
        if (this.lastN > 0 && s.kind === 'video' && !s.screen && e.stageSsrc !== s.primarySsrc && !this.withinLastN(e, s.speakerId)) continue;
        candidates.push(s);
      }
      const r = rank;
      const changed = e.slots.assign(chooseSlotSources(e, candidates, (id) => r.get(id) ?? r.size));
      for (const slot of changed) this.startOnSlot(e, slot);
      if (changed.length > 0) changedFor.push(e);
    }
    return changedFor;
  }

  /** `slot` of `receiver` got another source (or none): its stream goes on from the new source's next keyframe. */
  private startOnSlot(receiver: Endpoint, slot: ReceiveSlot): void {
    const source = slot.source;
    slot.audio?.startSource();
    const video = slot.video;
    if (video === null) return;
    // keyframe requests come from the thread that sends to the receiver (media workers: its egress worker)
    slot.keyframeNeeded =
      source === null
        ? () => {}
        : source.rids !== null
          ? (layer) => {
              if (receiver.egress.local) this.keyframeNeeded(source, layer);
            }
          : () => {
              if (receiver.egress.local) this.downtrackHost.requestKeyframe(source, false, false);
            };
    video.startNewStream();
    // a plain video is its own layer 0; a simulcast camera starts on its lowest layer at once (its keyframe asked
    // for now), and the downlink allocation moves it to the layer its tile and the estimate call for
    if (source !== null) video.setTarget(0);
  }
}
