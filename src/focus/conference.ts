// One conference: its participants, their bridge endpoints, the sources they send, and per participant the
// receive m-lines for everybody else's sources. Renegotiation is serialized per participant: at most one
// offer is outstanding; changes meanwhile set `dirty`, which makes exactly one new offer once the answer
// arrives. What one participant makes happen is rate-limited (limits.ts): its renegotiate requests and the
// offers its changed sources cause the others wait for a token when it has none, merged, never dropped.
// The caller (focus/index.ts) runs every method of one conference one at a time (deferred ones too).
import type { z } from 'zod';
import { BusCallError, type Bus } from '../bus/bus.ts';
import { callBus, type BusCallSpec } from '../bus/typed-calls.ts';
import type { Logger } from '../log.ts';
import { BRIDGE_ALLOCATE_TIMEOUT_MS, busCalls } from '../protocol/bus-calls.ts';
import { subjects, type FocusAttachPlain, type FocusAttachPlainReply, type MediaSource, type SignalOffer } from '../protocol/bus-messages.ts';
import type { MediaKind, TileSize } from '../protocol/signal-messages.ts';
import { ChangeBucket, DEFAULT_LIMITS, type ConferenceLimits } from './limits.ts';
import { FIRST_REMOTE_MID, freeAnsweredInactive, updateMlines, type WantedSource } from './mlines.ts';
import { mediaSourceOf, mlinesKey, newParticipantState, resetForNewBridge, sourcesKey, videoConstraintsOf, type ParticipantState } from './participant-state.ts';
import { PlainEndpoints, type PlainEndpoint } from './plain-endpoints.ts';
import { Relays } from './relays.ts';
import { buildOffer, parseAnswer, type AnswerSource } from './sdp.ts';
import { checkSsrcsFixed, checkSsrcsFree, rememberSsrcs } from './ssrc-rules.ts';
import { slotMlines, slotSpecs, slotSubscriptions, usesSlots } from './slots.ts';

export type { ParticipantState } from './participant-state.ts';

/** The bridge calls that give an endpoint a transport: they may wait for the bridge's media workers to start. */
const ALLOCATIONS: ReadonlySet<BusCallSpec> = new Set([busCalls.bridgeAllocate, busCalls.bridgeAllocatePlain, busCalls.bridgeAllocateRelay]);

export class Conference {
  readonly id: string;
  /** Its home bridge (the first one, or the one it moved to when that one went away): plain-RTP endpoints go there. */
  #home: string;
  /** Every bridge it spans, the first one first; relays join each two of them. */
  readonly bridges: string[];
  private readonly relays: Relays;
  readonly participants = new Map<string, ParticipantState>();
  /** Its plain-RTP endpoints: senders are participants too (their sources are offered like a browser's). */
  readonly plain: PlainEndpoints;
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly bridgeTimeoutMs: number;
  private readonly allocateTimeoutMs: number;
  private readonly limits: ConferenceLimits;
  private readonly exclusive: (fn: () => Promise<void>) => Promise<unknown>;
  /** Sends an offer to signal (focus/index.ts holds them until the conference is stored: conference-store.ts). */
  private readonly publishOffer: (offer: SignalOffer) => void;

  /**
   * `exclusive` runs a deferred renegotiation (when a participant's bucket has a token again) after every
   * operation of this conference that is running or waiting: the caller's per-conference lock.
   */
  constructor(opts: {
    id: string;
    bridgeId: string;
    bus: Bus;
    log: Logger;
    bridgeTimeoutMs?: number;
    /** For the calls that give an endpoint a transport (they may wait for the bridge's media workers to start). */
    allocateTimeoutMs?: number;
    limits?: ConferenceLimits;
    exclusive?: (fn: () => Promise<void>) => Promise<unknown>;
    publishOffer?: (offer: SignalOffer) => void;
  }) {
    this.id = opts.id;
    this.#home = opts.bridgeId;
    this.bridges = [opts.bridgeId];
    this.bus = opts.bus;
    this.log = opts.log.child({ conference: opts.id }); // its bridges change (moveOff): each line says which it is about
    this.bridgeTimeoutMs = opts.bridgeTimeoutMs ?? 5000;
    this.allocateTimeoutMs = opts.allocateTimeoutMs ?? BRIDGE_ALLOCATE_TIMEOUT_MS;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.exclusive = opts.exclusive ?? ((fn) => fn());
    this.publishOffer = opts.publishOffer ?? ((offer) => this.bus.publish(subjects.signalOffer, offer));
    this.plain = new PlainEndpoints({
      conferenceId: this.id,
      bridgeId: this.bridgeId,
      log: this.log,
      call: (spec, payload) => this.callOn(this.bridgeId, spec, payload),
      callOn: (bridgeId, spec, payload) => this.callOn(bridgeId, spec, payload),
      participantSources: () => new Map([...this.participants.values()].map((p) => [p.id, p.sources])),
      publish: (subject, payload) => this.bus.publish(subject, payload),
    });
    this.relays = new Relays({ conferenceId: this.id, log: this.log, call: (bridgeId, spec, payload) => this.callOn(bridgeId, spec, payload) });
  }

  get bridgeId(): string {
    return this.#home;
  }

  /** The bridge pairs its relays join (conference-store.ts). */
  relayPairs(): [string, string][] {
    return this.relays.pairList();
  }

  /**
   * Puts back what an earlier focus stored (a takeover: conference-store.ts): its bridges and relays, its
   * participants and plain-RTP endpoints. Nothing is asked of the bridges: their endpoints are still there.
   */
  restore(state: { bridges: readonly string[]; relays: readonly [string, string][]; participants: readonly ParticipantState[]; plain: readonly PlainEndpoint[] }): void {
    this.bridges.splice(0, this.bridges.length, ...new Set([this.#home, ...state.bridges]));
    for (const [a, b] of state.relays) this.relays.restorePair(a, b);
    for (const p of state.participants) this.participants.set(p.id, p);
    for (const e of state.plain) this.plain.byId.set(e.id, e);
  }

  /**
   * After a takeover: every browser participant gets a fresh offer (the old focus may have died with one in
   * flight, and its answer would be refused as stale here), on its current endpoint (same ICE credentials: the
   * browser renegotiates on its peer connection, media keeps flowing); the relays are told their sources again.
   */
  async resync(): Promise<void> {
    await this.syncSources();
    for (const p of this.participants.values()) {
      p.outstanding = null;
      p.dirty = false;
      p.forceNext = false;
      this.negotiate(p, true);
    }
  }

  /** Spans `bridgeId` too: relays to each bridge it already spans. */
  async addBridge(bridgeId: string): Promise<void> {
    if (this.bridges.includes(bridgeId)) return;
    await this.relays.addBridge(bridgeId, this.bridges);
    this.bridges.push(bridgeId);
    this.log.info({ bridges: this.bridges }, 'the conference spans another bridge');
    await this.syncRelays();
  }

  /** Participants placed on `bridgeId`. */
  placedOn(bridgeId: string): number {
    let n = 0;
    for (const p of this.participants.values()) if (p.bridgeId === bridgeId) n++;
    return n;
  }

  /** Each relay endpoint learns what it carries now (nothing to do on one bridge). */
  private async syncRelays(): Promise<void> {
    if (this.relays.size === 0) return;
    await this.relays.sync((bridgeId) => {
      // a simulcast camera crosses with its layers (by their relay SSRCs), each source with whose it is
      const sources: MediaSource[] = [];
      for (const p of this.participants.values()) if (p.bridgeId === bridgeId) for (const s of p.sources) sources.push(mediaSourceOf(s, p.relaySsrcs, p.id));
      if (bridgeId === this.bridgeId) for (const e of this.plain.byId.values()) for (const s of e.sources) sources.push(mediaSourceOf(s, [], e.id));
      return sources;
    });
  }

  /** The relays and every whole-conference receiver (a recorder) learn what the participants send now. */
  private async syncSources(): Promise<void> {
    await this.syncRelays();
    await this.plain.syncAll();
  }

  /** Participants, plain-RTP senders included (receivers such as a recorder do not count). */
  get size(): number {
    return this.participants.size + this.plain.senders;
  }

  /** True when `id` is a participant (a browser, or a plain-RTP sender). */
  has(id: string): boolean {
    return this.participants.has(id) || this.plain.byId.has(id);
  }

  /** A plain-RTP endpoint joins; a sender's sources are offered to every browser participant. */
  async attachPlain(req: FocusAttachPlain): Promise<FocusAttachPlainReply> {
    const reply = await this.plain.attach(req);
    if (req.sources.length > 0) {
      await this.syncSources();
      for (const q of this.participants.values()) this.negotiate(q);
    }
    return reply;
  }

  /**
   * A browser participant joins, on `bridgeId` (one of the conference's bridges, or one it now spans too); its
   * offers are numbered after `versionsAfter` (the last its socket saw in another room).
   */
  async join(participantId: string, bridgeId = this.bridgeId, versionsAfter = 0, region?: string): Promise<void> {
    if (this.participants.has(participantId)) throw new BusCallError('conflict', `participant ${participantId} is already in conference ${this.id}`);
    await this.addBridge(bridgeId);
    const transport = await this.callOn(bridgeId, busCalls.bridgeAllocate, { conferenceId: this.id, endpointId: participantId });
    if (this.participants.has(participantId)) throw new BusCallError('conflict', `participant ${participantId} is already in conference ${this.id}`);
    const p = newParticipantState(participantId, bridgeId, transport, new ChangeBucket(this.limits.renegotiationBurst, this.limits.renegotiationRate));
    p.version = versionsAfter;
    if (region !== undefined) p.region = region;
    this.participants.set(participantId, p);
    if (usesSlots(this.limits, this.size)) {
      p.slots = true;
      p.mlines = slotMlines(this.limits);
    }
    this.log.info({ participant: participantId, bridge: bridgeId, participants: this.participants.size }, 'participant joined the conference');
    this.negotiate(p, true);
  }

  async leave(participantId: string): Promise<void> {
    const plain = this.plain.byId.get(participantId);
    if (plain) {
      await this.plain.detach(participantId);
      if (plain.sources.length > 0) {
        await this.syncSources();
        for (const q of this.participants.values()) this.negotiate(q);
      }
      return;
    }
    const p = this.participants.get(participantId);
    if (!p) return;
    this.participants.delete(participantId);
    if (p.owedTimer) clearTimeout(p.owedTimer);
    this.log.info({ participant: participantId, participants: this.participants.size }, 'participant left the conference');
    try {
      await this.callOn(p.bridgeId, busCalls.bridgeExpire, { conferenceId: this.id, endpointId: participantId });
    } catch (e) {
      this.log.warn({ participant: participantId, err: (e as Error).message }, 'bridge expire failed');
    }
    await this.syncSources();
    // the leaver's m-lines become inactive everywhere else
    for (const q of this.participants.values()) this.negotiate(q);
  }

  async mute(participantId: string, kind: MediaKind, muted: boolean): Promise<void> {
    if (this.plain.byId.has(participantId)) {
      // a plain-RTP sender (a file played in): only the bridge can silence it
      await this.plain.mute(participantId, kind, muted);
      return;
    }
    const p = this.mustGet(participantId);
    if (kind === 'audio') p.audioMuted = muted;
    else p.videoMuted = muted;
    // the bridge drops what the server has off, whatever the browser sends: a muted microphone, a camera that is
    // off (its own choice, or "ask to unmute" video moderation); a shared screen is never dropped
    await this.callOn(p.bridgeId, busCalls.bridgeMute, { conferenceId: this.id, endpointId: participantId, kind, muted });
  }

  /**
   * The browser changed what it wants to send (a screen share started or stopped): offer again, now when its
   * bucket has a token, else once it has one (requests meanwhile make that one offer: never dropped).
   */
  renegotiate(participantId: string): void {
    const p = this.mustGet(participantId);
    if (p.owedOffer || !p.bucket.take()) {
      p.owedOffer = true;
      this.payLater(p);
      return;
    }
    this.negotiate(p, true);
  }

  /**
   * Moves the conference off bridge `lost`: `dead` (its process or machine is gone: nothing is asked of it), or
   * draining (alive until its endpoints are expired here). Each browser participant on it gets a new endpoint on
   * `target(region)`'s bridge (of the participant's region when one there has room) and a fresh offer (new ICE credentials and certificate: the browser connects anew and
   * answers with its sources again); the relays to `lost` go, and the plain-RTP endpoints of a lost home bridge
   * are made again on the new home, their owners told where (plain-endpoints.ts, moveAll).
   * Participants with no bridge to go to stay on `lost` (the caller tries again when a bridge appears); when no
   * bridge at all can take anyone, nothing changes. `lostAt` (Date.now()): when a dead `lost` was last heard, for
   * the plain endpoints' owners (a player goes on from there). Returns who moved where.
   */
  async moveOff(
    lost: string,
    dead: boolean,
    target: (region: string | undefined) => string | undefined,
    lostAt = Date.now(),
  ): Promise<{ moved: Map<string, string>; stuck: number }> {
    const moved = new Map<string, string>();
    const leaving = [...this.participants.values()].filter((p) => p.bridgeId === lost);
    const remaining = this.bridges.filter((b) => b !== lost);
    const first = leaving.length > 0 || remaining.length === 0 ? target(leaving[0]?.region) : undefined;
    // nowhere to go: nothing changes (a draining bridge keeps serving; a bridge declared dead by mistake, the bus
    // to it cut a while, keeps its meetings, recordings included); tried again when a bridge appears
    if (first === undefined && (leaving.length > 0 || remaining.length === 0)) return { moved, stuck: leaving.length };
    const homeLost = this.#home === lost;
    await this.relays.dropBridge(lost, dead);
    this.bridges.splice(0, this.bridges.length, ...remaining);
    if (this.#home === lost && (remaining[0] ?? first) !== undefined) this.#home = remaining[0] ?? first!;
    let stuck = 0;
    for (const p of leaving) {
      const to = moved.size === 0 && first !== undefined ? first : target(p.region);
      if (to === undefined) {
        stuck++;
        continue;
      }
      try {
        if (!this.bridges.includes(to)) {
          await this.relays.addBridge(to, this.bridges);
          this.bridges.push(to);
        }
        if (this.bridges.length === 1) this.#home = to;
        p.transport = await this.callOn(to, busCalls.bridgeAllocate, { conferenceId: this.id, endpointId: p.id });
      } catch (e) {
        this.log.warn({ participant: p.id, bridge: to, err: (e as Error).message }, 'moving a participant failed; tried again later');
        stuck++;
        continue;
      }
      if (!dead) {
        await this.callOn(lost, busCalls.bridgeExpire, { conferenceId: this.id, endpointId: p.id }).catch((e: unknown) =>
          this.log.warn({ participant: p.id, err: (e as Error).message }, 'expire on the draining bridge failed'),
        );
      }
      resetForNewBridge(p, to);
      if (p.slots) p.mlines = slotMlines(this.limits); // a new session: new slots
      moved.set(p.id, to);
      for (const kind of ['audio', 'video'] as const) {
        if (kind === 'audio' ? !p.audioMuted : !p.videoMuted) continue;
        await this.callOn(to, busCalls.bridgeMute, { conferenceId: this.id, endpointId: p.id, kind, muted: true }).catch(() => {});
      }
    }
    if (homeLost && this.#home !== lost) await this.movePlainHome(lost, dead, lostAt);
    if (stuck > 0 && !this.bridges.includes(lost)) this.bridges.push(lost); // tried again when a bridge has room
    this.log.info({ from: lost, dead, moved: Object.fromEntries(moved), stuck, bridges: this.bridges }, 'conference moved off a bridge');
    await this.syncSources();
    // the moved get a fresh offer on their new bridge; the others an update if anything changed for them
    for (const p of this.participants.values()) this.negotiate(p, moved.has(p.id));
    return { moved, stuck };
  }

  /** Stops the timers of deferred renegotiations, leaving everything on the bridges (another focus takes the conference over). */
  forget(): void {
    for (const p of this.participants.values()) {
      if (p.owedTimer) clearTimeout(p.owedTimer);
      p.owedTimer = null;
    }
  }

  /**
   * The plain-RTP endpoints follow the home bridge (it went away: the home is another one now), which the
   * conference spans first (no browser may have moved there). When it cannot be spanned they end.
   */
  private async movePlainHome(lost: string, dead: boolean, lostAt: number): Promise<void> {
    if (this.plain.byId.size === 0) return;
    const home = this.#home;
    try {
      if (!this.bridges.includes(home)) {
        await this.relays.addBridge(home, this.bridges);
        this.bridges.push(home);
      }
    } catch (e) {
      this.log.warn({ bridge: home, err: (e as Error).message }, 'the new home bridge cannot be reached: the plain-RTP endpoints end');
      await this.plain.endAll(false);
      return;
    }
    await this.plain.moveAll(lost, dead, home, lostAt);
  }

  /** Stops the timers of deferred renegotiations and expires its plain-RTP endpoints (the conference ended, or focus stops). */
  async close(): Promise<void> {
    this.forget();
    await Promise.all([this.plain.detachAll(), this.relays.close()]);
  }

  /** Pays what p owes (owedOffer, owedSpread) when its bucket has a token again; one timer at a time. */
  private payLater(p: ParticipantState): void {
    if (p.owedTimer) return;
    const delay = Math.max(1, p.bucket.msUntilToken());
    this.log.debug({ participant: p.id, delayMs: delay, offer: p.owedOffer, spread: p.owedSpread }, 'renegotiation rate-limited: deferred');
    p.owedTimer = setTimeout(() => {
      p.owedTimer = null;
      this.exclusive(async () => this.payOwed(p)).catch((e: unknown) =>
        this.log.warn({ participant: p.id, err: (e as Error).message }, 'deferred renegotiation failed'),
      );
    }, delay);
    p.owedTimer.unref();
  }

  private payOwed(p: ParticipantState): void {
    if (this.participants.get(p.id) !== p || (!p.owedOffer && !p.owedSpread)) return;
    if (!p.bucket.take()) {
      this.payLater(p);
      return;
    }
    // one token for both: everything that waited is merged into one round
    if (p.owedSpread) {
      p.owedSpread = false;
      for (const q of this.participants.values()) if (q !== p) this.negotiate(q);
    }
    if (p.owedOffer) {
      p.owedOffer = false;
      this.negotiate(p, true);
    }
  }

  /**
   * The size of each remote video in this participant's browser (the whole set): kept, and sent to the bridge
   * by the SSRC this participant receives each source with. Unknown participants and sources are skipped.
   */
  async setTileSizes(participantId: string, tiles: TileSize[], maxHeight?: number): Promise<void> {
    const p = this.mustGet(participantId);
    p.tiles = tiles;
    p.maxReceiveHeight = maxHeight;
    await this.sendConstraints(p);
  }

  /**
   * Sends the bridge p's tile sizes and its receive cap (nothing before the browser reported any, or when no
   * size maps to a source and there is no cap to set or lift).
   */
  private async sendConstraints(p: ParticipantState): Promise<void> {
    const constraints = videoConstraintsOf(p, this.senders());
    const maxHeight = p.maxReceiveHeight;
    if (constraints.length === 0 && maxHeight === undefined && !p.receiveCapSent) return;
    p.receiveCapSent = maxHeight !== undefined;
    try {
      await this.callOn(p.bridgeId, busCalls.bridgeConstraints, { conferenceId: this.id, endpointId: p.id, constraints, ...(maxHeight !== undefined ? { maxHeight } : {}) });
    } catch (e) {
      // a simulcast hint: the media flows without it, so a failure never fails the caller's request
      this.log.warn({ participant: p.id, err: (e as Error).message }, 'bridge constraints failed');
    }
  }

  /** The browser's answer to offer `version`. Stale versions are ignored; a bad answer throws. */
  async answer(participantId: string, version: number, sdp: string): Promise<void> {
    const p = this.mustGet(participantId);
    if (!p.outstanding || p.outstanding.version !== version) {
      this.log.info(
        { participant: participantId, version, outstanding: p.outstanding?.version ?? null },
        'ignored a stale answer',
      );
      return;
    }
    const answer = parseAnswer(sdp, p.simulcastSsrcs);
    const restart = p.remote !== undefined && p.remote.ufrag !== answer.ufrag;
    if (!restart) checkSsrcsFixed(p.fixedSsrcs, answer.sources);
    checkSsrcsFree(
      [...[...this.participants.values()].filter((q) => q !== p).map((q) => q.sources), ...[...this.plain.byId.values()].map((e) => e.sources)],
      answer.sources,
    );
    const offered = p.outstanding;
    p.outstanding = null;

    const sourcesChanged = sourcesKey(answer.sources) !== sourcesKey(p.sources);
    const iceChanged =
      !p.remote ||
      p.remote.ufrag !== answer.ufrag ||
      p.remote.pwd !== answer.pwd ||
      p.remote.fingerprint.algorithm !== answer.fingerprint.algorithm ||
      p.remote.fingerprint.value !== answer.fingerprint.value;
    if (!p.configured || sourcesChanged || iceChanged) {
      await this.callOn(p.bridgeId, busCalls.bridgeConfigure, {
        conferenceId: this.id,
        endpointId: p.id,
        remoteUfrag: answer.ufrag,
        remotePwd: answer.pwd,
        remoteFingerprint: answer.fingerprint,
        sources: answer.sources.map((s) => mediaSourceOf(s, p.relaySsrcs)),
      });
      p.configured = true;
      this.log.info({ participant: p.id, bridge: p.bridgeId, sources: answer.sources }, 'endpoint configured');
    }
    // only what the bridge accepted is offered to the others
    if (restart) {
      p.fixedSsrcs.clear();
      this.log.info({ participant: p.id }, 'ICE restart: the SSRCs of this session may change');
    }
    rememberSsrcs(p.fixedSsrcs, answer.sources);
    p.sources = answer.sources;
    p.remote = { ufrag: answer.ufrag, pwd: answer.pwd, fingerprint: answer.fingerprint };
    // the other bridges get its sources over the relays before anyone there is offered them
    if (sourcesChanged) await this.syncSources();

    if (p.slots) {
      // slot mode: the bridge puts what it chooses of everything the others send on the slots
      await this.subscribeSlots(p);
      this.afterAnswer(p, sourcesChanged);
      return;
    }
    // Receive what this answer accepted, minus what went away since that offer was made. The m-lines it had
    // inactive may now take new sources.
    freeAnsweredInactive(p.mlines, offered.mlines, p.freeMids);
    this.refreshMlines(p);
    const current = new Map(p.mlines.map((m) => [m.mid, m]));
    const ssrcs = [
      ...new Set(offered.mlines.filter((m) => m.active && current.get(m.mid)?.active && current.get(m.mid)?.ssrc === m.ssrc).map((m) => m.ssrc)),
    ].sort((a, b) => a - b);
    if (!p.subscribed || p.subscribed.join(',') !== ssrcs.join(',')) {
      await this.callOn(p.bridgeId, busCalls.bridgeSubscribe, { conferenceId: this.id, endpointId: p.id, ssrcs });
      p.subscribed = ssrcs;
      // a source that appeared gets its tile size at once (the bridge keeps the others' as they were)
      await this.sendConstraints(p);
    }
    this.afterAnswer(p, sourcesChanged);
  }

  /** After p's answer: the others learn its changed sources, and what waited for the answer is offered. */
  private afterAnswer(p: ParticipantState, sourcesChanged: boolean): void {
    if (sourcesChanged) {
      // everyone else must get (or drop) this participant's sources: now, or when its bucket allows
      if (!p.owedSpread && p.bucket.take()) {
        for (const q of this.participants.values()) if (q !== p) this.negotiate(q);
      } else {
        p.owedSpread = true;
        this.payLater(p);
      }
    }
    if (p.dirty) {
      const force = p.forceNext;
      p.dirty = false;
      p.forceNext = false;
      this.negotiate(p, force);
    }
  }

  /** Everyone who sends into the conference: browser participants and plain-RTP senders. */
  private senders(): { id: string; sources: readonly AnswerSource[] }[] {
    return [...this.participants.values(), ...this.plain.byId.values()];
  }

  /**
   * Slot mode: tells the bridge everything p may receive (every other source) and its slots; then its tile
   * sizes (by the senders' SSRCs). Nothing when that set is what the bridge has already.
   */
  private async subscribeSlots(p: ParticipantState): Promise<void> {
    const ssrcs = slotSubscriptions(this.senders(), p.id);
    if (p.subscribed && p.subscribed.join(',') === ssrcs.join(',')) return;
    p.subscribed = ssrcs;
    try {
      await this.callOn(p.bridgeId, busCalls.bridgeSubscribe, { conferenceId: this.id, endpointId: p.id, ssrcs, slots: slotSpecs(p.mlines), session: p.sessionId });
    } catch (e) {
      p.subscribed = null; // told again at the next change
      throw e;
    }
    await this.sendConstraints(p);
  }

  /** Brings p's receive m-lines in line with the others' current sources (recycling free inactive ones). */
  private refreshMlines(p: ParticipantState): void {
    if (p.slots) return; // fixed slots
    const wanted: WantedSource[] = [];
    const senders: { id: string; sources: readonly AnswerSource[] }[] = [...this.participants.values(), ...this.plain.byId.values()];
    for (const q of senders) {
      if (q === p) continue;
      for (const s of q.sources) {
        const w: WantedSource = { participantId: q.id, kind: s.kind, ssrc: s.ssrc };
        if (s.role) w.role = s.role;
        if (s.rtxSsrc !== undefined) w.rtxSsrc = s.rtxSsrc;
        wanted.push(w);
      }
    }
    const r = updateMlines(p.mlines, wanted, { free: p.freeMids, nextMid: p.nextMid, maxMlines: this.limits.maxMlines });
    p.nextMid = r.nextMid;
    if (r.unplaced > 0 && r.unplaced !== p.unplaced) {
      this.log.warn(
        { participant: p.id, unplaced: r.unplaced, mlines: FIRST_REMOTE_MID + p.mlines.length, max: this.limits.maxMlines },
        'session at its m-line cap: some sources are not offered to this participant',
      );
    }
    p.unplaced = r.unplaced;
    if (r.recycled > 0) this.log.debug({ participant: p.id, recycled: r.recycled, mlines: FIRST_REMOTE_MID + p.mlines.length }, 'recycled inactive m-lines');
  }

  /** Sends p a new offer now, or marks it dirty when one is outstanding. No-op when nothing changed. */
  private negotiate(p: ParticipantState, force = false): void {
    if (p.outstanding) {
      p.dirty = true;
      if (force) p.forceNext = true;
      return;
    }
    this.refreshMlines(p);
    const key = mlinesKey(p.mlines);
    if (p.slots && p.remote !== undefined && this.participants.get(p.id) === p) {
      // the others changed: the bridge learns it, the session stays as it is
      this.subscribeSlots(p).catch((e: unknown) => this.log.warn({ participant: p.id, err: (e as Error).message }, 'slot subscription failed'));
    }
    if (!force && key === p.lastOfferedKey) return;
    const version = ++p.version;
    const snapshot = p.mlines.map((m) => ({ ...m }));
    p.outstanding = { version, mlines: snapshot };
    p.lastOfferedKey = key;
    const sdp = buildOffer({ sessionId: p.sessionId, version, transport: p.transport, remote: snapshot });
    const offer: SignalOffer = {
      conferenceId: this.id,
      participantId: p.id,
      sdp,
      version,
      sources: p.slots
        ? []
        : snapshot
            .filter((m) => m.active)
            .map((m) => (m.role ? { mid: m.mid, participantId: m.participantId, kind: m.kind, role: m.role } : { mid: m.mid, participantId: m.participantId, kind: m.kind })),
      ...(p.slots ? { slots: true } : {}),
      bridgeId: p.bridgeId,
      session: p.sessionId,
    };
    this.log.debug({ participant: p.id, version, sources: offer.sources.length, mlines: snapshot.length }, 'offer');
    this.publishOffer(offer);
  }

  private mustGet(participantId: string): ParticipantState {
    const p = this.participants.get(participantId);
    if (!p) throw new BusCallError('not-found', `participant ${participantId} is not in conference ${this.id}`);
    return p;
  }

  /** A call to one of this conference's bridges (an allocation may wait for the bridge's media workers to start). */
  private callOn<C extends BusCallSpec>(bridgeId: string, spec: C, payload: z.input<C['request']>): Promise<z.output<C['reply']>> {
    return callBus(this.bus, spec, bridgeId, payload, ALLOCATIONS.has(spec) ? this.allocateTimeoutMs : this.bridgeTimeoutMs);
  }
}
