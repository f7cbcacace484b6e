// A conference's plain-RTP endpoints (ffmpeg, GStreamer, later a phone call): no offer/answer, fixed SSRCs.
// A sender is one of the meeting's participants (its id is the participant's): its microphone and camera are
// offered to everyone like a browser's. A receiver gets one participant's microphone and/or camera, by the
// SSRCs everybody receives them with (a simulcast camera arrives as one stream; with no bandwidth estimate
// the bridge sends it the best layer). A whole-conference receiver (a recorder, `receiveAll`) gets every
// participant's sources, kept in sync by `syncAll` after each change, and is told the set on
// `plain.<id>.sources` before the bridge starts sending what is new. Receivers do not keep a conference alive;
// they expire with it.
// When the home bridge goes away (dead, draining, restarted), `moveAll` makes each endpoint again on the new home
// with the same legs and sources and new SRTP keys, and tells its owner on `plain.<id>.moved` (address, ports,
// keys, how long ago the old endpoint was lost); a receiver is subscribed again only when its owner calls
// focus.start-plain (it has the new key by then).
import type { Logger } from '../log.ts';
import type { z } from 'zod';
import { BusCallError } from '../bus/bus.ts';
import type { BusCallSpec } from '../bus/typed-calls.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import {
  type BridgeAllocatePlainReply,
  type FocusAttachPlain,
  type FocusAttachPlainReply,
  type PlainMoved,
  type PlainSources,
  type ReceivedSource,
  type VideoConstraintPayload,
  MAX_LOST_MS_AGO,
  subjects,
} from '../protocol/bus-messages.ts';
import { MAX_VIDEO_CONSTRAINT_TILES, type MediaKind } from '../protocol/signal-messages.ts';
import { buildPlainSdp, type PlainSdpLeg } from './plain-sdp.ts';
import type { AnswerSource } from './sdp.ts';
import { checkSsrcsFree } from './ssrc-rules.ts';

/** Plain endpoints per conference (recorders, players, phone calls: one each, and one room mix per SIP gateway). */
export const MAX_PLAIN_ENDPOINTS = 40;

export interface PlainEndpoint {
  id: string;
  /** What it sends (empty for a receiver). */
  sources: AnswerSource[];
  /** The SSRCs it receives. */
  receives: number[];
  /** Subscribed at the bridge to `receives` (a deferred receiver: after focus.start-plain). */
  started: boolean;
  /** Receives every participant's sources (receiveAll); `announced` is the set last published. */
  all: boolean;
  /** The kinds a whole-conference receiver gets (receiveAll.kinds; default both). */
  allKinds: readonly MediaKind[];
  announced: string;
  /** What it was attached with (made again from it on another bridge). */
  request: FocusAttachPlain;
  /** A sender whose microphone / camera the bridge drops (focus.mute). */
  audioMuted: boolean;
  videoMuted: boolean;
  /** The last video sizes its owner gave (sent again after a move). */
  constraints: VideoConstraintPayload[];
}

/** An endpoint whose id can go into a bus subject: its owner can be told where it moved. */
const SUBJECT_SAFE_ID = /^[A-Za-z0-9_-]+$/;

export interface PlainEndpointsHost {
  conferenceId: string;
  bridgeId: string;
  log: Logger;
  /** A call to the conference's (home) bridge. */
  call<C extends BusCallSpec>(spec: C, payload: z.input<C['request']>): Promise<z.output<C['reply']>>;
  /** A call to one bridge (a draining one the endpoints leave). */
  callOn<C extends BusCallSpec>(bridgeId: string, spec: C, payload: z.input<C['request']>): Promise<z.output<C['reply']>>;
  /** What each browser participant sends now, by participant id. */
  participantSources(): Map<string, readonly AnswerSource[]>;
  /** An event on the bus (the sources a whole-conference receiver gets, where an endpoint moved). */
  publish(subject: string, payload: PlainSources | PlainMoved): void;
}

export class PlainEndpoints {
  readonly byId = new Map<string, PlainEndpoint>();
  private readonly host: PlainEndpointsHost;

  constructor(host: PlainEndpointsHost) {
    this.host = host;
  }

  /** Those that send: they count as participants (a conference with one of them lives on). */
  get senders(): number {
    let n = 0;
    for (const e of this.byId.values()) if (e.sources.length > 0) n++;
    return n;
  }

  /** Allocates it on the bridge and subscribes it; throws with a clear message when it cannot be done. */
  async attach(req: FocusAttachPlain): Promise<FocusAttachPlainReply> {
    const { endpointId } = req;
    const browsers = this.host.participantSources();
    if (this.byId.has(endpointId) || browsers.has(endpointId)) throw new BusCallError('conflict', `endpoint ${endpointId} is already in conference ${this.host.conferenceId}`);
    if (this.byId.size >= MAX_PLAIN_ENDPOINTS) throw new BusCallError('limit', `conference ${this.host.conferenceId} has its ${MAX_PLAIN_ENDPOINTS} plain-RTP endpoints already`);
    const sources: AnswerSource[] = req.sources.map((s) => (s.kind === 'video' ? { ssrc: s.ssrc, kind: s.kind, role: 'video' } : { ssrc: s.ssrc, kind: s.kind }));
    checkSsrcsFree([...browsers.values(), ...[...this.byId.values()].map((e) => e.sources)], sources);
    const receives: ReceivedSource[] | { kind: MediaKind; ssrc: number }[] = req.receiveAll
      ? this.everySource(browsers, req.receiveAll.kinds)
      : req.receiveFrom
        ? this.sourcesOf(req.receiveFrom.participantId, req.receiveFrom.kinds, browsers)
        : [];

    const reply = await this.host.call(busCalls.bridgeAllocatePlain, allocation(this.host.conferenceId, req));
    const all = req.receiveAll !== undefined;
    const allKinds = req.receiveAll?.kinds ?? ['audio', 'video'];
    const endpoint: PlainEndpoint = {
      id: endpointId,
      sources,
      receives: receives.map((r) => r.ssrc),
      started: false,
      all,
      allKinds,
      announced: all ? JSON.stringify(receives) : '',
      request: req,
      audioMuted: false,
      videoMuted: false,
      constraints: [],
    };
    this.byId.set(endpointId, endpoint);
    if (!(req.receiveFrom?.deferred ?? req.receiveAll?.deferred)) {
      try {
        await this.start(endpointId);
      } catch (e) {
        await this.detach(endpointId);
        throw e;
      }
    }
    this.host.log.info({ endpoint: endpointId, sends: sources.length, receives }, 'plain-RTP endpoint attached');
    return { ...reply, receives, sdp: describe(this.host.conferenceId, req, reply) };
  }

  /** Subscribes it at the bridge to what it receives (once; a sender-only endpoint has nothing to start). */
  async start(endpointId: string): Promise<void> {
    const e = this.byId.get(endpointId);
    if (!e) throw new BusCallError('not-found', `no plain-RTP endpoint ${endpointId} in conference ${this.host.conferenceId}`);
    if (e.started || (e.receives.length === 0 && !e.all)) return;
    if (e.receives.length > 0) await this.host.call(busCalls.bridgeSubscribe, { conferenceId: this.host.conferenceId, endpointId, ssrcs: e.receives });
    e.started = true;
    // after a move the new bridge knows no sizes yet
    if (e.constraints.length > 0) await this.setConstraints(endpointId, e.constraints).catch((err: unknown) => this.host.log.warn({ endpoint: endpointId, err: (err as Error).message }, 'sending the video sizes again failed'));
  }

  /** A sender silenced (or not) at the bridge; kept, so the bridge it moves to silences it too. */
  async mute(endpointId: string, kind: MediaKind, muted: boolean): Promise<void> {
    const e = this.byId.get(endpointId);
    if (!e) throw new BusCallError('not-found', `no plain-RTP endpoint ${endpointId} in conference ${this.host.conferenceId}`);
    await this.host.call(busCalls.bridgeMute, { conferenceId: this.host.conferenceId, endpointId, kind, muted });
    if (kind === 'audio') e.audioMuted = muted;
    else e.videoMuted = muted;
  }

  /**
   * The home bridge `from` went away and the home is now another one: each endpoint is made again there (same legs
   * and sources, new ports and keys; on a draining `from` it is expired) and its owner told on `plain.<id>.moved`.
   * A receiver is not subscribed until its owner calls focus.start-plain (it must have the new key first). One
   * that cannot be made again (or whose owner cannot be told) ends: a whole-conference receiver is told `ended`.
   * The owner is told how long ago its endpoint was lost (`lostMsAgo`): since `lostAt` (Date.now() here) on a
   * dead `from`, since its expiry on a draining one (which forwarded until then). Never throws.
   */
  async moveAll(from: string, dead: boolean, to: string, lostAt: number): Promise<void> {
    for (const e of [...this.byId.values()]) {
      const since = dead ? lostAt : Date.now();
      if (!dead) {
        await this.host.callOn(from, busCalls.bridgeExpire, { conferenceId: this.host.conferenceId, endpointId: e.id }).catch((err: unknown) =>
          this.host.log.warn({ endpoint: e.id, err: (err as Error).message }, 'expire of a plain-RTP endpoint on the draining bridge failed'),
        );
      }
      let reply: BridgeAllocatePlainReply;
      try {
        if (!SUBJECT_SAFE_ID.test(e.id)) throw new Error('its id cannot name a bus subject, so its owner cannot be told');
        reply = await this.host.call(busCalls.bridgeAllocatePlain, allocation(this.host.conferenceId, e.request));
      } catch (err) {
        this.host.log.warn({ endpoint: e.id, bridge: to, err: (err as Error).message }, 'a plain-RTP endpoint could not move: it ends');
        this.byId.delete(e.id);
        if (e.all) this.host.publish(subjects.plainSources(e.id), { conferenceId: this.host.conferenceId, endpointId: e.id, sources: [], ended: true });
        continue;
      }
      e.started = false;
      for (const kind of ['audio', 'video'] as const) {
        if (!(kind === 'audio' ? e.audioMuted : e.videoMuted)) continue;
        await this.host.call(busCalls.bridgeMute, { conferenceId: this.host.conferenceId, endpointId: e.id, kind, muted: true }).catch((err: unknown) =>
          this.host.log.warn({ endpoint: e.id, kind, err: (err as Error).message }, 'muting a moved plain-RTP sender failed'),
        );
      }
      const lostMsAgo = Math.min(MAX_LOST_MS_AGO, Math.max(0, Math.round(Date.now() - since)));
      this.host.publish(subjects.plainMoved(e.id), { conferenceId: this.host.conferenceId, endpointId: e.id, bridgeId: to, ...reply, sdp: describe(this.host.conferenceId, e.request, reply), lostMsAgo });
      this.host.log.info({ endpoint: e.id, from, to, lostMsAgo }, 'plain-RTP endpoint moved to another bridge');
    }
  }

  /**
   * How large the receiver draws each video it receives (a composed recording's tiles), for the bridge's choice of
   * simulcast layer: a small layer for a small tile. SSRCs it does not receive are skipped; the rest go to the
   * bridge in calls of at most MAX_VIDEO_CONSTRAINT_TILES (each keeps what the others set).
   */
  async setConstraints(endpointId: string, constraints: VideoConstraintPayload[]): Promise<void> {
    const e = this.byId.get(endpointId);
    if (!e) throw new BusCallError('not-found', `no plain-RTP endpoint ${endpointId} in conference ${this.host.conferenceId}`);
    e.constraints = constraints.slice(0, 1024);
    const receives = new Set(e.receives);
    const known = constraints.filter((c) => receives.has(c.ssrc));
    for (let i = 0; i < known.length; i += MAX_VIDEO_CONSTRAINT_TILES) {
      await this.host.call(busCalls.bridgeConstraints, { conferenceId: this.host.conferenceId, endpointId, constraints: known.slice(i, i + MAX_VIDEO_CONSTRAINT_TILES) });
    }
  }

  /**
   * Brings every whole-conference receiver in line with what the participants send now: the new set is
   * published first (so the receiver knows whose a stream is before it arrives), then subscribed. Never throws.
   */
  async syncAll(): Promise<void> {
    const receivers = [...this.byId.values()].filter((e) => e.all);
    if (receivers.length === 0) return;
    const browsers = this.host.participantSources();
    for (const e of receivers) {
      const sources = this.everySource(browsers, e.allKinds);
      const key = JSON.stringify(sources);
      if (e.announced === key) continue;
      e.announced = key;
      e.receives = sources.map((s) => s.ssrc);
      this.host.publish(subjects.plainSources(e.id), { conferenceId: this.host.conferenceId, endpointId: e.id, sources });
      if (!e.started) continue;
      try {
        await this.host.call(busCalls.bridgeSubscribe, { conferenceId: this.host.conferenceId, endpointId: e.id, ssrcs: e.receives });
      } catch (err) {
        this.host.log.warn({ endpoint: e.id, err: (err as Error).message }, 'subscribing a whole-conference receiver failed');
      }
    }
  }

  /** Every source (of `kinds`) of every participant (browsers, then plain senders), as receivers see it. */
  private everySource(browsers: Map<string, readonly AnswerSource[]>, kinds: readonly MediaKind[] = ['audio', 'video']): ReceivedSource[] {
    const out: ReceivedSource[] = [];
    const add = (participantId: string, list: readonly AnswerSource[]) => {
      for (const s of list) if (kinds.includes(s.kind)) out.push(s.role ? { participantId, kind: s.kind, role: s.role, ssrc: s.ssrc } : { participantId, kind: s.kind, ssrc: s.ssrc });
    };
    for (const [id, list] of browsers) add(id, list);
    for (const e of this.byId.values()) add(e.id, e.sources);
    return out;
  }

  /** Expires it on the bridge; false when it was not here. */
  async detach(endpointId: string): Promise<boolean> {
    if (!this.byId.delete(endpointId)) return false;
    try {
      await this.host.call(busCalls.bridgeExpire, { conferenceId: this.host.conferenceId, endpointId });
    } catch (e) {
      this.host.log.warn({ endpoint: endpointId, err: (e as Error).message }, 'bridge expire of a plain-RTP endpoint failed');
    }
    this.host.log.info({ endpoint: endpointId }, 'plain-RTP endpoint detached');
    return true;
  }

  /** Expires every one of them (the conference ended). */
  async detachAll(): Promise<void> {
    await this.endAll(true);
  }

  /**
   * Ends every one of them: whole-conference receivers are told `ended`; `expire`: each is expired on the bridge
   * too, else only forgotten (its bridge is gone).
   */
  async endAll(expire: boolean): Promise<void> {
    for (const e of this.byId.values()) {
      if (e.all) this.host.publish(subjects.plainSources(e.id), { conferenceId: this.host.conferenceId, endpointId: e.id, sources: [], ended: true });
    }
    if (expire) await Promise.all([...this.byId.keys()].map((id) => this.detach(id)));
    else this.byId.clear();
  }

  /** The participant's microphone and/or camera as receivers see them; throws when it sends no such thing. */
  private sourcesOf(participantId: string, kinds: readonly MediaKind[], browsers: Map<string, readonly AnswerSource[]>): { kind: MediaKind; ssrc: number }[] {
    const sources = browsers.get(participantId) ?? this.byId.get(participantId)?.sources;
    if (!sources) throw new BusCallError('not-found', `no participant ${participantId} in conference ${this.host.conferenceId}`);
    return [...new Set(kinds)].map((kind) => {
      const s = sources.find((x) => x.kind === kind && x.role !== 'screen');
      if (!s) throw new BusCallError('not-found', `participant ${participantId} sends no ${kind === 'audio' ? 'microphone' : 'camera'} (yet)`);
      return { kind, ssrc: s.ssrc };
    });
  }
}

/** What the bridge is asked for: the attach request's transport and what it sends. */
function allocation(conferenceId: string, req: FocusAttachPlain) {
  return { conferenceId, endpointId: req.endpointId, legs: req.legs, rtcpMux: req.rtcpMux, comedia: req.comedia, srtp: req.srtp, sources: req.sources };
}

/**
 * The SDP the peer opens: a receiver's own ports and the key the bridge encrypts with; a sender's, the bridge's
 * ports and the key it must encrypt with. A leg for both kinds ('all') is described as video.
 */
function describe(name: string, req: FocusAttachPlain, reply: BridgeAllocatePlainReply): string {
  const receiver = (req.receiveFrom !== undefined || req.receiveAll !== undefined) && req.legs.every((l) => l.address !== undefined);
  const legs: PlainSdpLeg[] = req.legs.map((l, i) => {
    const kind = l.kind === 'audio' ? 'audio' : 'video';
    if (receiver) return l.rtcpPort !== undefined ? { kind, port: l.port!, rtcpPort: l.rtcpPort } : { kind, port: l.port! };
    return { kind, port: reply.legs[i]!.port, rtcpPort: reply.legs[i]!.rtcpPort };
  });
  const srtpKey = reply.srtp === null ? undefined : receiver ? reply.srtp.localKey : reply.srtp.remoteKey;
  return buildPlainSdp({ name, address: receiver ? req.legs[0]!.address! : reply.address, legs, rtcpMux: reply.rtcpMux, ...(srtpKey !== undefined ? { srtpKey } : {}) });
}
