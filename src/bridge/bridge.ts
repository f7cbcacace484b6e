// The bridge's state and control plane: conferences, endpoints, their WebRTC transports (found by ufrag and by
// the paths their ICE checks passed: ice-paths.ts; their DTLS/SRTP setup: dtls-setup.ts), consent freshness,
// periodic REMB, the media clock (transport-cc feedback every TWCC_FEEDBACK_INTERVAL_MS, layers, speakers), and
// what it tells the rest of the suite (bridge-announcements.ts). The per-packet work lives in udp-transport.ts /
// tcp-transport.ts (in), webrtc-transport.ts (SRTP, the way out), ice.ts and router.ts.
import { randomInt } from 'node:crypto';
import { BusCallError, type Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { BridgeAllocateReply, MediaSource } from '../protocol/bus-messages.ts';
import { subjects } from '../protocol/bus-messages.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';
import { gatherCandidates } from './candidates.ts';
import { hashNameOf, normalizeFingerprint, type BridgeCertificate } from './certificate.ts';
import { BridgeAnnouncements } from './bridge-announcements.ts';
import { Conference } from './conference.ts';
import { BridgeCounters } from './counters.ts';
import type { DtlsSrtpKeys } from './dtls.ts';
import { completeDtls, startDtls, type DtlsHost } from './dtls-setup.ts';
import { Endpoint, type VideoConstraint } from './endpoint.ts';
import type { Source } from './source.ts';
import { handleStun, type IceHost } from './ice.ts';
import { IcePaths, randomIceString } from './ice-paths.ts';
import { discoverPublicAddress } from './stun-discovery.ts';
import { NativeForwarding } from './native-forwarding.ts';
import { REMB_BITRATE_BPS, Router, type RouterHost } from './router.ts';
import { TcpTransport, type TcpPath, type TcpSink } from './tcp-transport.ts';
import { UdpTransport } from './udp-transport.ts';
import { ALLOCATION_INTERVAL_MS, ProbeSender, allocateLayers, createDownlinkEstimator } from './downlink.ts';
import { sendRelayRates, sendRelayWishes } from './relay-feedback.ts';
import { updateSendLayers } from './send-layers.ts';
import { WebRtcTransport, webrtcOf, type Fingerprint } from './webrtc-transport.ts';
import { PlainTransport, type PlainTransportDescription, type PlainTransportRequest } from './plain-transport.ts';
import type { MediaTransport } from './transport.ts';
import { Pacing } from './pacer.ts';
import { ReceiveSlots, type SlotSpec } from './slots/receive-slots.ts';

export const CONSENT_TIMEOUT_MS = 30_000;
/** How often senders get transport-cc feedback (what drives their send-side bandwidth estimate). */
export const TWCC_FEEDBACK_INTERVAL_MS = 50;
/** How often each conference's dominant speaker is re-evaluated. */
export const SPEAKER_INTERVAL_MS = 300;
/** The media clock ticks at the feedback's pace; layers and speakers run every few of its ticks. */
const ALLOCATION_EVERY_TICKS = Math.round(ALLOCATION_INTERVAL_MS / TWCC_FEEDBACK_INTERVAL_MS);
const SPEAKERS_EVERY_TICKS = Math.round(SPEAKER_INTERVAL_MS / TWCC_FEEDBACK_INTERVAL_MS);

export interface BridgeOptions {
  bus: Bus;
  config: Config;
  log: Logger;
  bridgeId: string;
  certificate: BridgeCertificate;
  consentTimeoutMs?: number;
  /** Bind the media socket with SO_REUSEPORT (media workers share the one port). */
  reusePort?: boolean;
  /**
   * The control thread of a bridge with media workers: it checks requests and mirrors endpoints but never
   * receives or sends media, so it runs no media timers.
   */
  controlPlaneOnly?: boolean;
}

/** A transport that only forwards RTCP elsewhere (set where another thread sends to the endpoint). */
const NO_TRANSPORT: MediaTransport = { kind: 'plain', sendRtp() {}, sendRtcp() {}, close() {} };

export class Bridge implements IceHost, RouterHost, TcpSink, DtlsHost {
  readonly bridgeId: string;
  readonly counters = new BridgeCounters();
  readonly udp: UdpTransport;
  readonly router: Router;
  readonly bridgeSsrc: number;
  readonly certificate: BridgeCertificate;
  clockMs = Date.now();
  /** The ICE-TCP port announced in candidates (0: none). */
  tcpPort = 0;
  /** ICE-TCP connections, when this thread listens for them. */
  tcp: TcpTransport | null = null;
  /** The address announced first in candidates: publicAddress, or what the STUN server said. */
  publicAddress: string;

  /** What this thread tells the rest of the suite on the bus. */
  private readonly announce: BridgeAnnouncements;
  private readonly config: Config;
  protected readonly log: Logger;
  private readonly consentTimeoutMs: number;
  readonly conferences = new Map<string, Conference>();
  /** WebRTC transports by the ICE ufrag the bridge gave them and by the paths their checks passed on. */
  private readonly paths: IcePaths;
  /** Endpoints of every kind on this bridge. */
  private endpointTotal = 0;
  /** Relay endpoints (to other bridges of a conference). */
  private readonly relays = new Set<Endpoint>();
  private closed = false;
  /**
   * The media clock: one timer, every TWCC_FEEDBACK_INTERVAL_MS, for transport-cc feedback, and every few ticks
   * for layer allocation and speakers (one wake-up for all of them: on a VM a thread's wake-up costs more than
   * most ticks' work). It runs while this thread has media to time (an idle thread, or one whose endpoints all
   * receive and send on other threads, is not woken for nothing).
   */
  private mediaClock: NodeJS.Timeout | null = null;
  private mediaTicks = 0;
  private readonly controlPlaneOnly: boolean;
  private readonly probes: ProbeSender;
  /** lastN for conferences created from now (a reload changes it; running ones keep theirs). */
  private lastN: number;

  constructor(opts: BridgeOptions) {
    this.announce = new BridgeAnnouncements(opts.bus, opts.bridgeId, opts.log);
    this.config = opts.config;
    this.lastN = opts.config.lastN;
    this.log = opts.log;
    this.bridgeId = opts.bridgeId;
    this.certificate = opts.certificate;
    this.consentTimeoutMs = opts.consentTimeoutMs ?? CONSENT_TIMEOUT_MS;
    this.controlPlaneOnly = opts.controlPlaneOnly ?? false;
    this.publicAddress = opts.config.publicAddress;
    this.bridgeSsrc = randomInt(1, 0xffffffff);
    this.udp = new UdpTransport(
      this,
      this.counters,
      (error) => {
        this.log.warn({ err: error.message }, 'media socket error');
      },
      {
        reusePort: opts.reusePort ?? false,
        nativeSend: opts.config.nativeSend,
        nativeReceive: opts.config.nativeReceive,
        nativeForward: opts.config.nativeForward && !opts.config.pacer,
      },
    );
    this.paths = new IcePaths(this.udp);
    this.router = new Router(this);
    if (opts.config.pacer) this.router.pacing = new Pacing(this.counters, () => this.router.nextSlot());
    this.probes = new ProbeSender(this.router);
  }

  /** Whether this thread's media needs the timers: with one thread, while it has endpoints. */
  protected wantsMediaTimers(): boolean {
    return this.endpointTotal > 0 && !this.controlPlaneOnly;
  }

  /** Starts the media clock when this thread gets media to time (the first endpoint), stops it when it has none. */
  protected updateTimers(): void {
    const want = !this.closed && this.wantsMediaTimers();
    if (want && this.mediaClock === null) {
      this.mediaTicks = 0;
      this.mediaClock = setInterval(this.mediaTick, TWCC_FEEDBACK_INTERVAL_MS);
      this.mediaClock.unref();
    } else if (!want && this.mediaClock !== null) {
      clearInterval(this.mediaClock);
      this.mediaClock = null;
    }
  }

  private readonly mediaTick = (): void => {
    this.bookForwarded();
    const n = ++this.mediaTicks;
    this.sendTransportFeedback();
    if (n % ALLOCATION_EVERY_TICKS === 0) this.allocateLayers();
    if (n % SPEAKERS_EVERY_TICKS === 0) {
      try {
        this.updateSpeakers();
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'speaker update failed');
      }
    }
    this.mediaClockTicked(n);
  };

  /** What a subclass does on its thread's media clock (tick `n`), after the feedback, layers and speakers. */
  protected mediaClockTicked(_n: number): void {}

  /** The counters, with the latest counts of the native send queue's own sends in them (for exact reads). */
  countersNow(): BridgeCounters {
    this.bookForwarded();
    this.udp.syncCounters();
    return this.counters;
  }

  /** Endpoints of participants (relays to other bridges carry participants counted there: not counted). */
  get endpointCount(): number {
    return this.endpointTotal - this.relays.size;
  }

  /** What this bridge holds, for the resource counts: all 0 once every endpoint expired (the timers too). */
  resourceCounts(): Record<string, number> {
    let endpoints = 0;
    for (const conference of this.conferences.values()) endpoints += conference.endpoints.size;
    const paths = this.paths.counts();
    return {
      'bridge.conferences': this.conferences.size,
      'bridge.endpoints': endpoints,
      'bridge.iceUfrags': paths.ufrags,
      'bridge.addresses': paths.addresses,
      'bridge.timers': this.mediaClock === null ? 0 : 1,
    };
  }

  // ---------------------------------------------------------------- datagrams (DatagramSink)

  onStun(buf: Buffer, address: string, port: number): void {
    handleStun(this, buf, address, port);
  }

  onTcpStun(buf: Buffer, path: TcpPath): void {
    handleStun(this, buf, path.remoteAddress, path.remotePort, path);
  }

  onTcpDtls(buf: Buffer, path: TcpPath): void {
    this.feedDtls(path.owner, buf);
  }

  /** An ICE-TCP connection closed: the transport it belonged to forgets it. */
  onTcpClosed(path: TcpPath): void {
    const t = path.owner;
    if (t !== null) this.paths.forget(t, path.remoteAddress, path.remotePort, path);
  }

  onForwarded(): void {
    this.bookForwarded();
  }

  /**
   * Books what the native routes forwarded since JavaScript last ran here (native-forwarding.ts): whatever reads or
   * changes what they book (counters, estimates, retransmission buffers, rates) calls it first. Cheap when empty.
   */
  bookForwarded(): void {
    this.forwarding?.book();
  }

  /** The thread's native routes' bridge side (made at the first change once the socket has routes), else null. */
  private forwarding: NativeForwarding | null = null;

  /** What the native routes depend on changed (Conference.routesChanged): they stop now and are built again. */
  private readonly routesChanged = (): void => {
    if (this.closed) return;
    if (this.forwarding === null) {
      const routes = this.udp.nativeRoutes;
      if (routes === null) return;
      const bridge = this;
      this.forwarding = new NativeForwarding(
        routes,
        {
          conferences: this.conferences,
          counters: this.counters,
          localEgress: this.router.localEgress,
          get clockMs() {
            return bridge.clockMs;
          },
          audioLevel: (ep, source, level, nowMs) => bridge.audioLevel(ep, source, level, nowMs),
        },
      );
    }
    this.forwarding.invalidate();
  };

  onMedia(buf: Buffer, address: string, port: number): void {
    const t = this.paths.at(address, port);
    if (t === undefined) this.counters.dropUnknownAddress++;
    else t.receive(buf);
  }

  onDtls(buf: Buffer, address: string, port: number): void {
    this.feedDtls(this.transportByAddress(address, port) ?? null, buf);
  }

  knowsDtlsPeer(address: string, port: number): boolean {
    const t = this.transportByAddress(address, port);
    return t !== undefined && !t.endpoint.closed;
  }

  private feedDtls(t: WebRtcTransport | null, buf: Buffer): void {
    if (t === null || t.endpoint.closed) {
      this.counters.dropUnknownAddress++;
      return;
    }
    this.counters.dtlsIn++;
    if (t.dtls === null) t.dtls = startDtls(t, this, this.log);
    this.counters.dropDtls += t.dtls.feed(buf);
  }

  // ---------------------------------------------------------------- ICE (IceHost)

  transportByUfrag(ufrag: string): WebRtcTransport | undefined {
    return this.paths.byLocalUfrag(ufrag);
  }

  transportByAddress(address: string, port: number): WebRtcTransport | undefined {
    return this.paths.at(address, port);
  }

  sendStun(buf: Buffer, address: string, port: number, tcp: TcpPath | null = null): void {
    this.counters.stunOut++;
    if (tcp !== null) tcp.send(buf, 0, buf.length);
    else this.udp.send(buf, 0, buf.length, port, address);
  }

  /** A check from address:port (on the ICE-TCP connection `tcp`, else UDP) passed: a path of `t`, maybe its selected one. */
  iceCheckPassed(t: WebRtcTransport, address: string, port: number, useCandidate: boolean, tcp: TcpPath | null = null): void {
    const ep = t.endpoint;
    ep.lastSeenMs = Date.now();
    this.paths.checked(t, address, port, tcp);
    if (useCandidate || t.address === null) {
      if (!t.selects(address, port, tcp)) {
        const first = t.address === null;
        t.select(address, port, tcp);
        this.log.debug(
          { conferenceId: ep.conference.id, endpointId: ep.id, address, port, tcp: tcp !== null, first },
          'endpoint address selected',
        );
      }
    }
  }

  // ---------------------------------------------------------------- what media workers share (one thread: nothing)

  layerLearned(_layer: Source): void {}

  farRateHeard(_layer: Source): void {}

  /** This thread's media worker index (0 without media workers): tells the far side of a relay whose wishes these are. */
  get mediaWorkerIndex(): number {
    return 0;
  }

  audioLevel(_ep: Endpoint, _source: Source, _level: number, _nowMs: number): void {}

  /** Only a media worker has ICE-TCP endpoints another thread sends to. */
  rtcpElsewhere(_to: Endpoint, _buf: Buffer, _len: number): void {}

  rtcpIndex(to: WebRtcTransport): number {
    return to.srtpOut!.nextRtcpIndex;
  }

  // ---------------------------------------------------------------- DTLS (dtls-setup.ts)

  /** `t`'s handshake is done and its SRTP sessions are made: it is connected. */
  srtpReady(t: WebRtcTransport, keys: DtlsSrtpKeys): void {
    const ep = t.endpoint;
    this.receivingKeysChanged(t);
    ep.connected = true;
    ep.lastSeenMs = Date.now();
    ep.bwe = createDownlinkEstimator();
    this.onSrtpReady(t, keys);
    this.log.info(
      { conferenceId: ep.conference.id, endpointId: ep.id, profile: keys.profile, address: t.address, port: t.port },
      'endpoint connected',
    );
  }

  /** `t` connected: focus is told, and what it receives starts with a keyframe. */
  announceConnected(t: WebRtcTransport): void {
    const ep = t.endpoint;
    ep.connectedPublished = true;
    this.announce.endpointEvent(ep, 'connected');
    for (const ssrc of ep.subscriptions) {
      const source = ep.conference.sources.get(ssrc);
      if (source !== undefined && source.kind === 'video' && source.owner !== ep) {
        this.router.requestKeyframe(source, false, true);
      }
    }
  }

  /**
   * Listens for ICE-TCP on host:port (0 = any free port) and announces it in candidates from now on.
   * A port that cannot be bound is logged and skipped (the bridge keeps UDP); resolves with the port or 0.
   */
  async listenTcp(host: string, port: number): Promise<number> {
    const tcp = new TcpTransport(this, this.counters, { host, port });
    try {
      this.tcpPort = await tcp.listen();
    } catch (e) {
      this.log.warn({ port, err: (e as Error).message }, 'ICE-TCP port unavailable: media over TCP is off');
      return 0;
    }
    this.tcp = tcp;
    return this.tcpPort;
  }

  /**
   * Without a publicAddress setting but with a stunServer, asks it for the public address (once, at start);
   * a server that does not answer is a warning (the local addresses are announced).
   */
  async discoverPublicAddress(bindAddress: string): Promise<string> {
    if (this.publicAddress !== '' || this.config.stunServer === '') return this.publicAddress;
    const found = await discoverPublicAddress(this.config.stunServer, 3000, bindAddress);
    if (found === null) {
      this.log.warn({ stunServer: this.config.stunServer }, 'the STUN server did not tell the public address: announcing the local addresses');
    } else {
      this.publicAddress = found;
      this.log.info({ stunServer: this.config.stunServer, publicAddress: found }, 'public address from STUN');
    }
    return this.publicAddress;
  }

  /** SRTP is set up for `ep` (media workers share the keys); nothing to do in one thread. */
  protected onSrtpReady(_t: WebRtcTransport, _keys: DtlsSrtpKeys): void {}

  /**
   * `t.srtpIn` changed: its checked UDP addresses' datagrams are unprotected with it from now on (by the native
   * receive batches when there are: an address is always mapped to the keys of the transport that has it).
   */
  protected receivingKeysChanged(t: WebRtcTransport): void {
    this.paths.keysChanged(t);
  }

  /** Tears down a WebRTC transport's session (DTLS, SRTP, addresses); the endpoint stays allocated. */
  disconnect(ep: Endpoint, reason: string): void {
    const t = webrtcOf(ep);
    if (t !== null) {
      this.paths.forgetAll(t);
      t.reset();
    }
    ep.connected = false;
    if (ep.connectedPublished) {
      ep.connectedPublished = false;
      this.log.info({ conferenceId: ep.conference.id, endpointId: ep.id, reason }, 'endpoint disconnected');
      this.announce.endpointEvent(ep, 'disconnected');
    }
  }

  // ---------------------------------------------------------------- control plane

  private endpoint(conferenceId: string, endpointId: string): Endpoint {
    const ep = this.conferences.get(conferenceId)?.endpoints.get(endpointId);
    if (!ep) throw new BusCallError('not-found', `unknown endpoint ${endpointId} in conference ${conferenceId}`);
    return ep;
  }

  /** The endpoint's conference, made on first use. */
  private conferenceFor(conferenceId: string): Conference {
    let conference = this.conferences.get(conferenceId);
    if (!conference) {
      conference = new Conference(conferenceId, this.router);
      conference.onKeyframeNeeded = (source, layer) => {
        const l = source.layers[layer];
        if (l !== null && l !== undefined) this.router.requestKeyframe(l, false, false);
      };
      conference.lastN = this.lastN;
      conference.onSlotsChanged = (ep) => this.publishSlotMap(ep);
      conference.routesChanged = this.routesChanged;
      this.conferences.set(conferenceId, conference);
    }
    return conference;
  }

  /** A new endpoint (replacing one of the same id); the caller gives it its transport. */
  private newEndpoint(conferenceId: string, endpointId: string): Endpoint {
    const old = this.conferences.get(conferenceId)?.endpoints.get(endpointId);
    if (old) this.expire(conferenceId, endpointId);
    const conference = this.conferenceFor(conferenceId);
    const ep = new Endpoint(endpointId, conference, Date.now());
    ep.egress = this.router.localEgress;
    conference.endpoints.set(endpointId, ep);
    this.endpointTotal++;
    this.updateTimers();
    this.log.info({ conferenceId, endpointId, replaced: !!old }, 'endpoint allocated');
    return ep;
  }

  /** A WebRTC endpoint. `credentials`: the ICE ufrag/pwd to use (media workers get the ones the control thread chose). */
  allocate(conferenceId: string, endpointId: string, credentials?: { ufrag: string; pwd: string }): BridgeAllocateReply {
    const ep = this.newEndpoint(conferenceId, endpointId);
    const ufrag = this.paths.freeUfrag(credentials?.ufrag ?? '');
    const t = new WebRtcTransport(ep, ufrag, credentials?.pwd ?? randomIceString(32), this.router);
    ep.transport = t;
    this.paths.add(t);
    return {
      ufrag: t.ufrag,
      pwd: t.pwd,
      fingerprint: { algorithm: 'sha-256', value: this.certificate.fingerprint },
      candidates: gatherCandidates({
        listenAddress: this.config.listenAddress,
        publicAddress: this.publicAddress,
        port: this.udp.port,
        tcpPort: this.tcpPort,
      }),
    };
  }

  /**
   * A plain-RTP endpoint sending `sources` (SSRCs the peer sends with) over a transport with its own sockets.
   * `open`: this thread opens them (false: the control thread of media workers, or a worker that only
   * hands the endpoint's packets to the one that owns them). Rejects when no port is free.
   */
  async allocatePlain(
    conferenceId: string,
    endpointId: string,
    req: PlainTransportRequest,
    sources: MediaSource[],
    open: boolean,
  ): Promise<PlainTransportDescription | null> {
    const ep = this.newEndpoint(conferenceId, endpointId);
    ep.transport = NO_TRANSPORT;
    if (req.relay) {
      this.relays.add(ep);
      ep.relay = true;
    }
    try {
      ep.conference.setSources(ep, sources);
    } catch (e) {
      this.expire(conferenceId, endpointId);
      throw e;
    }
    // nothing to negotiate: it sends and receives from the start (to an address learned later with comedia)
    ep.connected = true;
    if (!open) return null;
    const bindAddress = this.config.listenAddress === '::' || this.config.listenAddress === '' ? '0.0.0.0' : this.config.listenAddress;
    let transport: PlainTransport;
    try {
      transport = await PlainTransport.open(ep, req, { bindAddress, portMin: this.config.plainRtpPortMin, portMax: this.config.plainRtpPortMax }, this.counters, this.router);
    } catch (e) {
      this.expire(conferenceId, endpointId);
      throw e;
    }
    if (ep.closed) {
      transport.close();
      throw new Error(`endpoint ${endpointId} was expired while its ports were opened`);
    }
    ep.transport = transport;
    const description = transport.describe();
    this.log.info({ conferenceId, endpointId, legs: description.legs, srtp: description.srtp !== null, comedia: req.comedia }, 'plain RTP transport open');
    return description;
  }

  configure(p: {
    conferenceId: string;
    endpointId: string;
    remoteUfrag: string;
    remotePwd: string;
    remoteFingerprint: Fingerprint;
    sources: MediaSource[];
  }): void {
    const ep = this.endpoint(p.conferenceId, p.endpointId);
    const t = webrtcOf(ep);
    if (t === null) throw new Error(`endpoint ${p.endpointId} is not a WebRTC endpoint`);
    if (!hashNameOf(p.remoteFingerprint.algorithm)) {
      throw new Error(`unsupported fingerprint algorithm ${JSON.stringify(p.remoteFingerprint.algorithm)}`);
    }
    if (normalizeFingerprint(p.remoteFingerprint.value) === '') {
      throw new Error('remoteFingerprint.value is not a hex fingerprint');
    }
    ep.conference.setSources(ep, p.sources); // throws on SSRC conflicts, before anything changed
    // a new fingerprint or new ICE credentials in a later answer: the browser may start a new DTLS association
    const old = t.remoteFingerprint;
    if (old !== null && (t.remoteUfrag !== p.remoteUfrag || old.value !== p.remoteFingerprint.value)) t.dtls?.allowRestart();
    t.remoteUfrag = p.remoteUfrag;
    t.remotePwd = p.remotePwd;
    t.remoteFingerprint = { algorithm: p.remoteFingerprint.algorithm, value: p.remoteFingerprint.value };
    this.log.info(
      { conferenceId: p.conferenceId, endpointId: p.endpointId, sources: p.sources.map((s) => `${s.kind}:${s.ssrc}`) },
      'endpoint configured',
    );
    if (t.dtlsPendingVerify) completeDtls(t, this, this.log);
  }

  /** What a plain-RTP or relay endpoint sends now (a WebRTC endpoint's sources come with configure). */
  setSources(conferenceId: string, endpointId: string, sources: MediaSource[]): void {
    const ep = this.endpoint(conferenceId, endpointId);
    if (ep.transport.kind === 'webrtc') throw new BusCallError('conflict', `endpoint ${endpointId} is a WebRTC endpoint: its sources come with its answer`);
    ep.conference.setSources(ep, sources); // throws on SSRC conflicts, before anything changed
    this.log.debug({ conferenceId, endpointId, sources: sources.length }, 'endpoint sources');
  }

  /**
   * Replaces what an endpoint receives. `slots` (slot mode, a browser in a big room): it receives on these fixed
   * slots, which of `ssrcs` the bridge chooses (slots/receive-slots.ts); the same slots again keep their streams.
   */
  subscribe(conferenceId: string, endpointId: string, ssrcs: number[], slots?: SlotSpec[], session?: string): void {
    const ep = this.endpoint(conferenceId, endpointId);
    if (slots !== undefined && ep.transport.kind !== 'webrtc') throw new BusCallError('bad-request', `endpoint ${endpointId} is not a WebRTC endpoint: no receive slots`);
    if (slots === undefined) ep.slots = null;
    else if (ep.slots === null || !ep.slots.sameAs(slots)) ep.slots = new ReceiveSlots(slots);
    if (session !== undefined) ep.mediaSession = session;
    const added = ep.conference.setSubscriptions(ep, ssrcs);
    this.log.debug({ conferenceId, endpointId, ssrcs: ssrcs.length, added: added.length }, 'endpoint subscriptions');
    if (!ep.connected) return; // it asks for keyframes when it connects
    for (const ssrc of added) {
      const source = ep.conference.sources.get(ssrc);
      if (source !== undefined && source.kind === 'video' && source.owner !== ep) {
        this.router.requestKeyframe(source, false, true);
      }
    }
  }

  /**
   * The sizes at which `endpointId` shows the video sources it receives (`ssrc` as in its subscriptions;
   * 0x0: not on screen). Drives simulcast layer selection; sources not listed keep their last constraint.
   */
  setVideoConstraints(conferenceId: string, endpointId: string, constraints: VideoConstraint[], maxHeight?: number): void {
    const ep = this.endpoint(conferenceId, endpointId);
    const cap = maxHeight ?? -1;
    const audioOnlyChanged = (cap === 0) !== (ep.maxReceiveHeight === 0);
    ep.maxReceiveHeight = cap;
    if (audioOnlyChanged) this.log.info({ conferenceId, endpointId, audioOnly: cap === 0 }, 'endpoint receive mode');
    const stageChanged = ep.setVideoConstraints(constraints);
    // audio only on or off changes what it receives; under last-N, and on a receiver's slots, the stage is always
    // forwarded: video that starts again needs a keyframe
    if (!audioOnlyChanged && (!stageChanged || (ep.conference.lastN <= 0 && ep.slots === null))) return;
    for (const source of ep.conference.refreshSubscribers()) this.router.requestKeyframe(source, false, false);
  }

  mute(conferenceId: string, endpointId: string, kind: MediaKind, muted: boolean): void {
    const ep = this.endpoint(conferenceId, endpointId);
    const cameraBack = kind === 'video' && ep.videoMuted && !muted;
    const changed = kind === 'audio' ? ep.audioMuted !== muted : ep.videoMuted !== muted;
    if (kind === 'audio') ep.audioMuted = muted;
    else ep.videoMuted = muted;
    this.log.info({ conferenceId, endpointId, kind, muted }, 'endpoint mute');
    // slots go to the unmuted first: a mute or an unmute can change who plays on them
    if (changed && ep.conference.hasSlotReceivers) {
      for (const source of ep.conference.refreshSubscribers()) this.router.requestKeyframe(source, false, false);
    }
    // the browser starts sending before the server's unmute gets here: its first keyframe was dropped
    if (cameraBack) {
      for (const source of ep.sources) {
        if (source.kind !== 'video' || source.screen) continue;
        if (source.rids === null) this.router.requestKeyframe(source, false, true);
        else for (const layer of source.layers) if (layer !== null) this.router.requestKeyframe(layer, false, true);
      }
    }
  }

  /** Removes an endpoint; unknown endpoints are ignored (expire is idempotent). */
  expire(conferenceId: string, endpointId: string): boolean {
    const conference = this.conferences.get(conferenceId);
    const ep = conference?.endpoints.get(endpointId);
    if (!conference || !ep) return false;
    ep.closed = true;
    ep.connectedPublished = false; // published once below, connected or not
    this.disconnect(ep, 'expired');
    ep.transport?.close();
    const t = webrtcOf(ep);
    if (t !== null) this.paths.remove(t);
    this.relays.delete(ep);
    this.endpointTotal--;
    conference.removeEndpoint(ep);
    if (conference.endpoints.size === 0) this.conferences.delete(conferenceId);
    this.updateTimers();
    this.log.info({ conferenceId, endpointId }, 'endpoint expired');
    this.announce.endpointEvent(ep, 'disconnected');
    return true;
  }

  // ---------------------------------------------------------------- timers

  /** Once a second: clock, consent freshness (RFC 7675), REMB to every video sender without transport-cc. */
  tick(): void {
    this.bookForwarded();
    const now = Date.now();
    this.clockMs = now;
    for (const conference of this.conferences.values()) {
      for (const ep of conference.endpoints.values()) {
        if (!ep.local) continue; // another media worker receives it: consent and REMB are its job
        const t = webrtcOf(ep);
        if (t === null) continue; // no ICE consent; a silent plain peer just sends nothing
        if ((t.address !== null || ep.connected) && now - ep.lastSeenMs > this.consentTimeoutMs) {
          this.log.info({ conferenceId: conference.id, endpointId: ep.id }, 'consent expired (no packets)');
          this.disconnect(ep, 'consent expired');
          continue;
        }
        if (ep.connected) {
          let video: number[] | null = null;
          for (const s of ep.sources) {
            if (s.kind === 'video' && !s.isRtx) (video ??= []).push(s.ssrc);
          }
          // a sender with transport-cc gets feedback instead: a fixed REMB would make it jump to that rate at
          // start whatever the network (Chrome trusts REMB in its first seconds)
          if (video !== null && ep.twcc === null) this.router.sendRemb(ep, video, REMB_BITRATE_BPS);
        }
      }
    }
  }

  /**
   * Transport-cc feedback to every endpoint this thread receives that sent packets since the last one;
   * bandwidth probes to receivers whose estimators ask for one.
   */
  sendTransportFeedback(): void {
    this.bookForwarded();
    try {
      const nowUs = performance.now() * 1000;
      for (const conference of this.conferences.values()) {
        for (const ep of conference.endpoints.values()) {
          if (ep.local && ep.twcc !== null && ep.connected) this.router.sendTransportFeedback(ep);
          if (ep.egress.local && ep.connected) this.probes.maybeProbe(ep, nowUs);
        }
      }
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'transport-cc feedback failed');
    }
  }

  /** Simulcast: picks each receiver's layers from its bandwidth estimate and tile sizes. */
  allocateLayers(): void {
    this.bookForwarded();
    try {
      const nowMs = performance.now();
      for (const conference of this.conferences.values()) {
        allocateLayers(conference, nowMs, (c) => {
          this.counters.layerSwitches++;
          this.log.debug(
            {
              conferenceId: conference.id,
              receiver: c.receiver.id,
              sender: c.source.owner.id,
              layer: c.layer,
              estimateKbps: Math.round(c.estimateBps / 1000),
              tile: `${c.tileWidth}x${c.tileHeight}`,
              layersKbps: c.source.layers.map((l) => (l === null ? 0 : Math.round(l.rate!.rateBps(nowMs) / 1000))),
            },
            'simulcast layer target',
          );
        }, this.publishVideoSuspended);
        // over relays: what the receivers here want, and what the cameras sent from here are
        sendRelayWishes(conference, nowMs, this.mediaWorkerIndex, this.router.rtcp);
        sendRelayRates(conference, nowMs, this.router.rtcp);
        if (this.config.pauseUnusedLayers) updateSendLayers(conference, nowMs, this.publishSendLayers);
      }
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'layer allocation failed');
    }
  }

  /** Tells a browser which layers of its camera to send (`bridge.send-layers`, to signal; send-layers.ts). */
  private readonly publishSendLayers = (camera: Source, rids: string[]): void => {
    this.announce.toBrowser(subjects.bridgeSendLayers, camera.owner, { rids }, 'the layers to send');
  };

  /** Tells a browser which cameras it shows its bandwidth leaves out (`bridge.video-suspended`, to signal; downlink.ts). */
  private readonly publishVideoSuspended = (ep: Endpoint, participantIds: string[], added: number): void => {
    this.counters.videoSuspensions += added;
    this.announce.toBrowser(subjects.bridgeVideoSuspended, ep, { participantIds }, 'the suspended cameras');
  };

  /**
   * Tells a browser in slot mode who plays on its slots (`bridge.slot-map`, to signal): from the thread that
   * sends to it, once it is connected (tendSlots catches up on what changed before, or on another thread).
   */
  protected publishSlotMap(ep: Endpoint): void {
    const slots = ep.slots;
    if (slots === null || !ep.connected || !ep.egress.local || ep.closed || this.closed) return;
    slots.publishedVersion = slots.version;
    this.announce.toBrowser(subjects.bridgeSlotMap, ep, { version: slots.version, slots: slots.entries() }, 'a slot map');
  }

  /**
   * Slot mode, every speaker tick: a map not told yet is told (the endpoint connected since, or this thread
   * became its egress), and a plain video waiting on a slot for its first keyframe asks again (throttled).
   */
  protected tendSlots(): void {
    for (const conference of this.conferences.values()) {
      for (const ep of conference.endpoints.values()) {
        const slots = ep.slots;
        if (slots === null || !ep.connected || !ep.egress.local) continue;
        if (slots.publishedVersion !== slots.version) this.publishSlotMap(ep);
        for (const slot of slots.slots) {
          const s = slot.source;
          if (s !== null && slot.video !== null && s.rids === null && slot.video.needsKeyframe) this.router.requestKeyframe(s, false, false);
        }
      }
    }
  }

  /** Publishes each conference's dominant speaker when it changed, or went silent or spoke again (`bridge.dominant-speaker`). */
  updateSpeakers(): void {
    this.bookForwarded();
    this.tendSlots();
    const now = Date.now();
    for (const conference of this.conferences.values()) {
      const d = conference.speakers.tick(now);
      // last-N: whoever enters someone's last N starts with a keyframe
      for (const source of conference.updateSpeakerOrder()) this.router.requestKeyframe(source, false, false);
      if (d !== null && d !== conference.dominant && conference.hasSpeaker(d)) {
        conference.dominant = d;
        conference.dominantSilent = false;
      } else {
        // the same speaker: only going silent or speaking again is news
        const silent = conference.speakers.silent;
        if (conference.dominant === null || conference.speakers.dominant !== conference.dominant || silent === conference.dominantSilent) continue;
        conference.dominantSilent = silent;
      }
      if (this.closed) return;
      this.announce.dominantSpeaker(conference.id, conference.dominant, conference.dominantSilent);
    }
  }

  /** A reloaded lastN: for the conferences that start from now. */
  setLastN(n: number): void {
    this.lastN = n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.mediaClock !== null) clearInterval(this.mediaClock);
    this.mediaClock = null;
    for (const conference of this.conferences.values()) {
      for (const ep of conference.endpoints.values()) {
        ep.closed = true;
        this.disconnect(ep, 'bridge closing');
        ep.transport?.close();
      }
    }
    this.closed = true;
    this.announce.closed = true;
    this.forwarding?.close();
    this.conferences.clear();
    this.paths.clear();
    this.endpointTotal = 0;
    await this.tcp?.close();
    this.router.pacing?.close();
    await this.udp.close();
  }
}
