// The Bridge as one media worker of several (see media-worker.ts and docs/ARCHITECTURE.md). Every worker
// holds the whole control state. The pool places each endpoint on a worker (its home: a small conference's
// endpoints all on one). The kernel (SO_REUSEPORT) hashes each remote address to one worker; a connectivity
// check that lands elsewhere goes to the endpoint's home, which opens a socket connected to that address
// before it answers, so the endpoint's packets reach the home from then on. The worker that receives an
// endpoint is its "local" one: it answers its ICE checks, runs its DTLS handshake, decrypts what it sends and
// keeps its consent. Sending RTP to an endpoint is the job of one worker (its egress worker: the one that
// ran DTLS); a packet received elsewhere reaches it through a PacketRing (only conferences that span workers).
// What one worker learns about an endpoint (selected address, SRTP keys, disconnect) goes to the others.
import { parseStun } from '../packet/stun.ts';
import { SrtpSession } from '../packet/srtp.ts';
import { handleStun } from '../ice.ts';
import { CONNECTED_SOCKETS_WORK } from '../udp-transport.ts';
import { Bridge, TWCC_FEEDBACK_INTERVAL_MS, type BridgeOptions } from '../bridge.ts';
import { COPY_EVERY_MS } from './shared-counters.ts';
import { createDownlinkEstimator } from '../downlink.ts';
import type { Conference } from '../conference.ts';
import type { DtlsSrtpKeys } from '../dtls.ts';
import type { Endpoint } from '../endpoint.ts';
import type { Source } from '../source.ts';
import { webrtcOf, type WebRtcTransport } from '../webrtc-transport.ts';
import type { TcpPath } from '../tcp-transport.ts';
import type { PacketRing } from './packet-ring.ts';
import { WorkerEgress, type WorkerLink } from './worker-egress.ts';
import type { PlainAllocation, PlainTransportDescription } from '../plain-transport.ts';

/** What a worker tells the others about an endpoint it receives. */
export type PeerUpdate =
  /** `nominated`: chosen with USE-CANDIDATE (else the first address that passed a check, a provisional one). */
  /** `tcp`: the address is an ICE-TCP connection of the worker that sent this (only it can send there). */
  | { kind: 'address'; conferenceId: string; endpointId: string; address: string; port: number; nominated: boolean; tcp?: boolean }
  /** DTLS done in `worker`, which sends to the endpoint from now on (its egress worker). */
  | { kind: 'srtp'; conferenceId: string; endpointId: string; address: string; port: number; keys: DtlsSrtpKeys; worker: number; tcp?: boolean }
  | { kind: 'disconnected'; conferenceId: string; endpointId: string }
  /** NACKed sequence numbers for the endpoint's egress worker to answer. */
  | { kind: 'nack'; conferenceId: string; endpointId: string; ssrc: number; seqs: number[] }
  /** Transport-cc feedback from the endpoint, for the estimate in its egress worker. */
  | { kind: 'twcc'; conferenceId: string; endpointId: string; packet: Uint8Array }
  /** The endpoint asks for a keyframe of a simulcast source (its egress worker knows which layer). */
  | { kind: 'keyframe'; conferenceId: string; endpointId: string; ssrc: number; fir: boolean }
  /** Audio levels this worker heard, for the speaker worker: flat [endpointNum, source ssrc, level, Date.now() ms, ...]. */
  | { kind: 'levels'; samples: number[] }
  /**
   * A simulcast layer's SSRC, learned by the worker that receives the sender. Chrome sends the rid only in a
   * stream's first packets: a worker that starts getting the layer later could not learn it from them.
   */
  | { kind: 'layer'; conferenceId: string; ssrc: number; index: number; layerSsrc: number }
  /** The speaker worker's last-N order of a conference (endpoint ids, recent speakers first). */
  | { kind: 'order'; conferenceId: string; order: string[] }
  /** A relay's layer as its far bridge measures it (heard by the relay's home worker; every worker chooses layers). */
  | { kind: 'far-rate'; conferenceId: string; ssrc: number; bps: number; width: number; height: number }
  /** The endpoint is connected over ICE-TCP to `worker`, which sends it everything from now on. */
  | { kind: 'egress'; conferenceId: string; endpointId: string; worker: number }
  /** Plain RTCP for an endpoint connected over TCP (the TCP worker protects and sends it). */
  | { kind: 'rtcp'; conferenceId: string; endpointId: string; packet: Uint8Array }
  /**
   * A connectivity check for an endpoint placed on worker `to`, received by `from` (sent to `to` only). `to`
   * answers it once it has a socket connected to the address. `force`: `to` could not open one, so `from`
   * answers it and receives the endpoint (the kernel's hash sends it that address's packets).
   */
  | { kind: 'stun'; to: number; from: number; packet: Uint8Array; address: string; port: number; force: boolean };

/** An allocation as the pool sends it to every worker: numbered, placed on `worker`. */
interface NumberedAllocation {
  conferenceId: string;
  endpointId: string;
  ufrag: string;
  pwd: string;
  conferenceNum: number;
  endpointNum: number;
  worker: number;
}

/** The worker that owns the ICE-TCP port: it receives from and sends to everyone connected over TCP. */
export const TCP_WORKER = 0;
/** The worker that merges everyone's audio levels: it alone publishes the dominant speaker and orders last-N. */
export const SPEAKER_WORKER = 0;
/** How often other workers send it what they heard: every other tick of their media clock (100 ms). */
const LEVELS_EVERY_TICKS = 2;
/** A worker with media copies its counters every COPY_EVERY_MS, on its media clock (no timer of its own). */
const COPY_EVERY_TICKS = Math.max(1, Math.round(COPY_EVERY_MS / TWCC_FEEDBACK_INTERVAL_MS));
/** Level samples kept between two sends at most (50 per second per talker). */
const MAX_LEVEL_SAMPLES = 4 * 4096;
/** Connected sockets per endpoint at most (one per remote address that passed a check). */
const MAX_CONNECTED_PER_ENDPOINT = 4;

/** A socket connected to one remote address of an endpoint placed here. */
interface Pin {
  ep: Endpoint;
  key: string;
  close: () => void;
}

export interface WorkerBridgeOptions extends BridgeOptions {
  workerIndex: number;
  workerCount: number;
  /** SRTCP index per endpoint number, shared by every worker (Atomics). */
  rtcpIndexes: Int32Array;
  /** Outgoing rings, by destination worker (null for this worker). */
  rings: Array<PacketRing | null>;
  /** Tells the other workers (through the control thread). */
  sendPeerUpdate(update: PeerUpdate): void;
  /** Copies this worker's counters where the control thread reads them (shared-counters.ts). */
  copyCounters?: () => void;
}

export class WorkerBridge extends Bridge implements WorkerLink {
  readonly workerIndex: number;
  private readonly workerCount: number;
  private readonly rtcpIndexes: Int32Array;
  private readonly rings: Array<PacketRing | null>;
  readonly sendPeerUpdate: (update: PeerUpdate) => void;
  private readonly copyCounters: (() => void) | undefined;
  /** The egress of the endpoints each other worker sends to (null for this worker: the router's local one). */
  private readonly egresses: Array<WorkerEgress | null> = [];
  private readonly endpointNums = new Map<Endpoint, number>();
  private readonly endpointsByNum = new Map<number, Endpoint>();
  /** Level samples heard here since the last send to the speaker worker. */
  private levelSamples: number[] = [];
  /** Per conference, the last-N order last sent to the other workers. */
  private readonly sentOrders = new Map<Conference, string>();
  private readonly conferenceNums = new Map<Conference, number>();
  private readonly conferencesByNum = new Map<number, Conference>();
  /** The worker each endpoint is placed on (its home). */
  private readonly homes = new Map<Endpoint, number>();
  /** Sockets connected to remote addresses of endpoints placed here, by "address:port". */
  private readonly pins = new Map<string, Pin>();
  /** Checks waiting for the socket being opened to their address (by "address:port"). */
  private readonly pinning = new Map<string, Array<() => void>>();
  /** Applying another worker's update: do not echo it back. */
  private applying = false;
  /** Inside expire(): the control thread publishes that event, not the workers. */
  expiring = false;

  constructor(opts: WorkerBridgeOptions) {
    super({ ...opts, reusePort: true });
    this.workerIndex = opts.workerIndex;
    this.workerCount = opts.workerCount;
    this.rtcpIndexes = opts.rtcpIndexes;
    this.rings = opts.rings;
    this.sendPeerUpdate = opts.sendPeerUpdate;
    this.copyCounters = opts.copyCounters;
    for (let w = 0; w < this.workerCount; w++) this.egresses.push(w === this.workerIndex ? null : new WorkerEgress(w, this));
  }

  /** The worker that sends to `ep` (-1: this one). */
  egressWorker(ep: Endpoint): number {
    return ep.egress instanceof WorkerEgress ? ep.egress.worker : -1;
  }

  /** Worker `worker` sends to `ep` from now on: its sources' egress lists follow. */
  private setEgress(ep: Endpoint, worker: number): void {
    const egress = worker === this.workerIndex || worker < 0 ? this.router.localEgress : (this.egresses[worker] ?? this.router.localEgress);
    if (ep.egress === egress) return;
    ep.egress = egress;
    if (!egress.local) webrtcOf(ep)?.pacer?.clear(); // the new thread sends from now on; its own pacer takes over
    if (!ep.closed) ep.conference.rebuildSubscribers();
    this.updateTimers();
  }

  /**
   * The speaker worker times the speakers of every conference (the others send it their levels); any other
   * worker needs the media timers only while it receives from or sends to an endpoint (a small meeting placed
   * on another worker does not wake this one 27 times a second).
   */
  protected override wantsMediaTimers(): boolean {
    if (!super.wantsMediaTimers()) return false;
    if (this.workerIndex === SPEAKER_WORKER) return true;
    for (const conference of this.conferences.values()) {
      for (const ep of conference.endpoints.values()) if (ep.local || ep.egress.local) return true;
    }
    return false;
  }

  /** Once a second; also checks the media timers against what this worker now receives and sends (a net). */
  override tick(): void {
    super.tick();
    this.updateTimers();
  }

  // ---------------------------------------------------------------- speakers across workers

  override get mediaWorkerIndex(): number {
    return this.workerIndex;
  }

  override audioLevel(ep: Endpoint, source: Source, level: number, nowMs: number): void {
    if (this.workerIndex === SPEAKER_WORKER || this.levelSamples.length >= MAX_LEVEL_SAMPLES) return;
    const num = this.endpointNums.get(ep);
    if (num === undefined) return;
    this.levelSamples.push(num, source.ssrc, level, nowMs);
  }

  /** The levels heard here go to the speaker worker, and the counters to shared memory, with the media clock. */
  protected override mediaClockTicked(n: number): void {
    if (n % COPY_EVERY_TICKS === 0) this.copyCounters?.();
    if (n % LEVELS_EVERY_TICKS !== 0 || this.levelSamples.length === 0) return;
    const samples = this.levelSamples;
    this.levelSamples = [];
    this.sendPeerUpdate({ kind: 'levels', samples });
  }

  /** Only the speaker worker decides; it then tells the others the last-N order. */
  override updateSpeakers(): void {
    if (this.workerIndex !== SPEAKER_WORKER) {
      this.tendSlots(); // every worker tells the browsers it sends to their slot maps
      return;
    }
    super.updateSpeakers();
    for (const conference of this.conferences.values()) {
      if (!conference.ordersSpeakers) continue;
      const order = conference.speakerOrderIds;
      const key = order.join('\n');
      if (this.sentOrders.get(conference) === key) continue;
      this.sentOrders.set(conference, key);
      this.sendPeerUpdate({ kind: 'order', conferenceId: conference.id, order: [...order] });
    }
  }

  allocateNumbered(p: NumberedAllocation): void {
    this.allocate(p.conferenceId, p.endpointId, { ufrag: p.ufrag, pwd: p.pwd });
    const ep = this.conferences.get(p.conferenceId)!.endpoints.get(p.endpointId)!;
    ep.local = false; // until its packets arrive here
    this.number(ep, p);
  }

  /**
   * A plain-RTP endpoint: its home worker opens its sockets (and returns their description); the others
   * hand its packets to the home and relay RTCP for it there.
   */
  async allocatePlainNumbered(p: NumberedAllocation & { plain: PlainAllocation }): Promise<PlainTransportDescription | null> {
    const home = p.worker === this.workerIndex;
    const pending = this.allocatePlain(p.conferenceId, p.endpointId, p.plain, p.plain.sources, home);
    // the endpoint exists (synchronously) before its sockets are open: number it now
    const ep = this.conferences.get(p.conferenceId)?.endpoints.get(p.endpointId);
    if (ep !== undefined) {
      ep.local = home;
      this.number(ep, p);
      if (!home) {
        const me = this;
        ep.transport = {
          kind: 'plain',
          sendRtp() {},
          sendRtcp(buf, len) {
            me.rtcpElsewhere(ep, buf, len);
          },
          close() {},
        };
      }
    }
    return await pending;
  }

  private number(ep: Endpoint, p: NumberedAllocation): void {
    const conference = ep.conference;
    this.homes.set(ep, p.worker);
    this.setEgress(ep, p.worker);
    this.updateTimers(); // the new endpoint may be another worker's alone
    this.endpointNums.set(ep, p.endpointNum);
    this.endpointsByNum.set(p.endpointNum, ep);
    if (!this.conferenceNums.has(conference)) {
      this.conferenceNums.set(conference, p.conferenceNum);
      this.conferencesByNum.set(p.conferenceNum, conference);
    }
  }

  override expire(conferenceId: string, endpointId: string): boolean {
    const conference = this.conferences.get(conferenceId);
    const ep = conference?.endpoints.get(endpointId);
    if (ep !== undefined) {
      const num = this.endpointNums.get(ep);
      if (num !== undefined && this.endpointsByNum.get(num) === ep) this.endpointsByNum.delete(num);
      this.endpointNums.delete(ep);
      this.homes.delete(ep);
    }
    this.expiring = true;
    try {
      return super.expire(conferenceId, endpointId);
    } finally {
      this.expiring = false;
      if (conference !== undefined && !this.conferences.has(conferenceId)) {
        const num = this.conferenceNums.get(conference);
        this.conferenceNums.delete(conference);
        if (num !== undefined) this.conferencesByNum.delete(num);
        this.sentOrders.delete(conference);
      }
    }
  }

  // ---------------------------------------------------------------- placement: checks go to the home worker

  override onStun(buf: Buffer, address: string, port: number): void {
    // (where connected sockets do not work the home could not take the address: the hash decides, as it did)
    if (CONNECTED_SOCKETS_WORK) {
      const home = this.stunHome(buf);
      if (home >= 0 && home !== this.workerIndex) {
        const packet = Uint8Array.prototype.slice.call(buf, 0, buf.length);
        this.sendPeerUpdate({ kind: 'stun', to: home, from: this.workerIndex, packet, address, port, force: false });
        return;
      }
    }
    super.onStun(buf, address, port);
  }

  /** The home worker of the endpoint a Binding request names (-1: none, or not a request for one). */
  private stunHome(buf: Buffer): number {
    const msg = parseStun(buf);
    if (msg === null || msg.username === null) return -1;
    const colon = msg.username.indexOf(':');
    const t = this.transportByUfrag(colon < 0 ? msg.username : msg.username.slice(0, colon));
    return t === undefined ? -1 : (this.homes.get(t.endpoint) ?? -1);
  }

  /**
   * A check worker `from` received for an endpoint placed here. Verified first (nothing is opened for an
   * unauthenticated one); when it passes, the socket connected to its address opens, then it is answered.
   */
  private checkForwarded(buf: Buffer, address: string, port: number, from: number): void {
    let response: Buffer | null = null;
    let passed: WebRtcTransport | null = null;
    let useCandidate = false;
    handleStun(
      {
        counters: this.counters,
        transportByUfrag: (ufrag) => this.transportByUfrag(ufrag),
        sendStun: (b) => (response = b),
        iceCheckPassed: (t, _address, _port, use) => {
          passed = t;
          useCandidate = use;
        },
      },
      buf,
      address,
      port,
    );
    const answer = () => {
      if (response !== null) this.sendStun(response, address, port);
      if (passed !== null && !passed.endpoint.closed) this.iceCheckPassed(passed, address, port, useCandidate);
    };
    const t = passed as WebRtcTransport | null;
    const ep = t === null ? null : t.endpoint;
    const key = `${address}:${port}`;
    if (ep === null || this.pins.get(key)?.ep === ep) {
      answer();
      return;
    }
    const waiting = this.pinning.get(key);
    if (waiting !== undefined) {
      waiting.push(answer);
      return;
    }
    this.pinning.set(key, [answer]);
    this.udp.connectTo(address, port).then(
      (close) => {
        const answers = this.pinning.get(key) ?? [];
        this.pinning.delete(key);
        if (ep.closed) {
          close();
          return;
        }
        this.pin(t!, key, close);
        for (const a of answers) a();
      },
      (e: Error) => {
        this.pinning.delete(key);
        this.log.debug({ address, port, err: e.message }, 'no connected socket: the receiving worker keeps the address');
        const packet = Uint8Array.prototype.slice.call(buf, 0, buf.length);
        this.sendPeerUpdate({ kind: 'stun', to: from, from: this.workerIndex, packet, address, port, force: true });
      },
    );
  }

  private pin(t: WebRtcTransport, key: string, close: () => void): void {
    const ep = t.endpoint;
    this.pins.get(key)?.close();
    this.pins.set(key, { ep, key, close });
    // a few addresses per endpoint: the oldest other than the selected one goes
    let count = 0;
    let oldest: Pin | null = null;
    const selected = `${t.address}:${t.port}`;
    for (const p of this.pins.values()) {
      if (p.ep !== ep) continue;
      count++;
      if (oldest === null && p.key !== selected && p.key !== key) oldest = p;
    }
    if (count > MAX_CONNECTED_PER_ENDPOINT && oldest !== null) this.unpin(oldest);
  }

  private unpin(p: Pin): void {
    p.close();
    this.pins.delete(p.key);
  }

  // ---------------------------------------------------------------- hooks of the one-thread bridge

  override iceCheckPassed(t: WebRtcTransport, address: string, port: number, useCandidate: boolean, tcp: TcpPath | null = null): void {
    const ep = t.endpoint;
    const beforeAddress = t.address;
    const beforePort = t.port;
    const beforeTcp = t.tcp;
    ep.local = true;
    this.updateTimers();
    super.iceCheckPassed(t, address, port, useCandidate, tcp);
    if (t.address !== null && !(t.address === beforeAddress && t.port === beforePort && t.tcp === beforeTcp)) {
      if (t.tcp !== null && !ep.egress.local) {
        // over TCP: only this worker can reach it, so it becomes its egress worker
        this.setEgress(ep, this.workerIndex);
        this.sendPeerUpdate({ kind: 'egress', conferenceId: ep.conference.id, endpointId: ep.id, worker: this.workerIndex });
      }
      this.sendPeerUpdate({
        kind: 'address',
        conferenceId: ep.conference.id,
        endpointId: ep.id,
        address: t.address,
        port: t.port,
        nominated: useCandidate,
        tcp: t.overTcp,
      });
    }
  }

  override layerLearned(layer: Source): void {
    const parent = layer.parent!;
    this.sendPeerUpdate({ kind: 'layer', conferenceId: parent.owner.conference.id, ssrc: parent.ssrc, index: layer.layerIndex, layerSsrc: layer.ssrc });
  }

  override farRateHeard(layer: Source): void {
    const conferenceId = layer.owner.conference.id;
    this.sendPeerUpdate({ kind: 'far-rate', conferenceId, ssrc: layer.ssrc, bps: layer.farRateBps, width: layer.width, height: layer.height });
  }

  override rtcpElsewhere(to: Endpoint, buf: Buffer, len: number): void {
    this.sendPeerUpdate({ kind: 'rtcp', conferenceId: to.conference.id, endpointId: to.id, packet: Uint8Array.prototype.slice.call(buf, 0, len) });
  }

  protected override onSrtpReady(t: WebRtcTransport, keys: DtlsSrtpKeys): void {
    const ep = t.endpoint;
    // The worker that ran DTLS receives the endpoint's selected pair: it also sends to it, so its feedback
    // (transport-cc, NACKs, keyframe requests) needs no relaying. Nobody could send to it before (no keys),
    // so the SRTP sender state has one owner from the start.
    this.setEgress(ep, this.workerIndex);
    this.sendPeerUpdate({
      worker: this.workerIndex,
      kind: 'srtp',
      conferenceId: ep.conference.id,
      endpointId: ep.id,
      address: t.address ?? '',
      port: t.port,
      keys,
      tcp: t.overTcp,
    });
  }

  override disconnect(ep: Endpoint, reason: string): void {
    const wasLocal = ep.local && (ep.connected || webrtcOf(ep)?.address != null);
    for (const p of [...this.pins.values()]) if (p.ep === ep) this.unpin(p);
    super.disconnect(ep, reason);
    if (wasLocal && !this.applying && !ep.closed) {
      this.sendPeerUpdate({ kind: 'disconnected', conferenceId: ep.conference.id, endpointId: ep.id });
    }
  }

  /** What another worker learnt about an endpoint it receives. */
  applyPeerUpdate(u: PeerUpdate): void {
    if (u.kind === 'levels') {
      if (this.workerIndex !== SPEAKER_WORKER) return;
      const s = u.samples;
      for (let i = 0; i + 3 < s.length; i += 4) {
        const ep = this.endpointsByNum.get(s[i]);
        if (ep === undefined || ep.closed) continue;
        const source = ep.conference.sources.get(s[i + 1]);
        ep.conference.speakers.onAudioLevel(source !== undefined && source.owner === ep ? source.speakerId : ep.id, s[i + 2], s[i + 3]);
      }
      return;
    }
    if (u.kind === 'order') {
      const conference = this.conferences.get(u.conferenceId);
      if (conference === undefined || this.workerIndex === SPEAKER_WORKER) return;
      // whoever enters someone's last N starts with a keyframe
      for (const source of conference.applySpeakerOrder(u.order)) this.router.requestKeyframe(source, false, false);
      return;
    }
    if (u.kind === 'stun') {
      const b = Buffer.from(u.packet.buffer, u.packet.byteOffset, u.packet.byteLength);
      if (u.force) super.onStun(b, u.address, u.port);
      else this.checkForwarded(b, u.address, u.port, u.from);
      return;
    }
    if (u.kind === 'far-rate') {
      const layer = this.conferences.get(u.conferenceId)?.sources.get(u.ssrc);
      if (layer === undefined || layer.parent === null || !layer.owner.relay) return;
      layer.farRateBps = u.bps;
      layer.farRateMs = performance.now();
      if (u.width > 0 && u.height > 0) {
        layer.width = u.width;
        layer.height = u.height;
      }
      return;
    }
    if (u.kind === 'layer') {
      const conference = this.conferences.get(u.conferenceId);
      const parent = conference?.sources.get(u.ssrc);
      if (parent !== undefined && parent.rids !== null) conference!.addLayer(parent, u.index, u.layerSsrc, false);
      return;
    }
    const ep = this.conferences.get(u.conferenceId)?.endpoints.get(u.endpointId);
    if (ep === undefined || ep.closed) return;
    if (u.kind === 'nack') {
      const source = ep.conference.sources.get(u.ssrc);
      if (ep.egress.local && source !== undefined) this.router.answerNack(ep, source, u.seqs);
      return;
    }
    if (u.kind === 'egress') {
      this.setEgress(ep, u.worker);
      return;
    }
    if (u.kind === 'rtcp') {
      // the worker that can reach it sends it: the TCP worker, or a plain endpoint's home
      if (ep.transport.kind === 'plain' ? this.homes.get(ep) === this.workerIndex : this.tcp !== null) {
        const b = Buffer.from(u.packet.buffer, u.packet.byteOffset, u.packet.byteLength);
        this.router.sendRtcp(ep, b, b.length);
      }
      return;
    }
    if (u.kind === 'twcc') {
      if (ep.egress.local) {
        const b = Buffer.from(u.packet.buffer, u.packet.byteOffset, u.packet.byteLength);
        this.router.localEgress.transportFeedback(ep, b, 0, b.length, performance.now() * 1000);
      }
      return;
    }
    if (u.kind === 'keyframe') {
      const source = ep.conference.sources.get(u.ssrc);
      if (ep.egress.local && source !== undefined) this.router.receiverKeyframe(ep, source, u.fir);
      return;
    }
    this.applying = true;
    try {
      if (u.kind === 'disconnected') {
        if (ep.local) return; // this worker receives it now: its own state wins
        this.disconnect(ep, 'disconnected on another media worker');
        return;
      }
      // a provisional address (first check passed, not nominated) never replaces a known one: checks of
      // several candidate pairs reach several workers, and their updates may cross
      const t = webrtcOf(ep);
      if (t === null) return;
      if (u.kind === 'address' && !u.nominated && t.address !== null) return;
      // the endpoint's packets go to the other worker: this one only sends to it
      ep.local = false;
      this.updateTimers();
      if (u.address !== '') t.select(u.address, u.port, null, u.tcp === true);
      if (u.kind === 'srtp') {
        const k = u.keys;
        const b = (x: Uint8Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
        t.srtpIn = new SrtpSession(k.profile, b(k.remoteKey), b(k.remoteSalt));
        t.srtpOut = new SrtpSession(k.profile, b(k.localKey), b(k.localSalt));
        this.receivingKeysChanged(t);
        ep.connected = t.address !== null;
        this.setEgress(ep, u.worker);
        // this worker may be the one that sends to it: the estimate of its downlink lives here then
        ep.bwe ??= createDownlinkEstimator();
      }
    } finally {
      this.applying = false;
    }
  }

  // ---------------------------------------------------------------- the media path (RouterHost)

  /** A packet of `source` for the receivers worker `to` sends to (see worker-egress.ts): into its ring. */
  handOff(to: number, source: Source, buf: Buffer, len: number): void {
    const num = this.conferenceNums.get(source.owner.conference);
    const ring = this.rings[to];
    if (num === undefined || ring === null || ring === undefined) return;
    if (!ring.push(num, source.ssrc, buf, len)) this.counters.dropRingFull++;
    this.unflushed |= 1 << to;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushRings); // after every datagram of this event-loop turn
    }
  }

  private unflushed = 0;
  private flushScheduled = false;
  private readonly flushRings = (): void => {
    this.flushScheduled = false;
    const mask = this.unflushed;
    this.unflushed = 0;
    for (let w = 0; w < this.workerCount; w++) if ((mask & (1 << w)) !== 0) this.rings[w]?.flush();
  };

  override rtcpIndex(to: WebRtcTransport): number {
    const num = this.endpointNums.get(to.endpoint);
    return num === undefined ? to.srtpOut!.nextRtcpIndex : Atomics.add(this.rtcpIndexes, num, 1) & 0x7fffffff;
  }

  /** A packet another worker received: send it to this worker's receivers of the source. */
  readonly onPeerPacket = (conferenceNum: number, ssrc: number, packet: Buffer, len: number): void => {
    const conference = this.conferencesByNum.get(conferenceNum);
    if (conference === undefined) return;
    // a simulcast layer is known here once its receiving worker said so ('layer'): its rid cannot tell whose
    // camera it is (every publisher has the same rids), so until then its packets are dropped here
    const source = conference.sources.get(ssrc);
    if (source !== undefined) this.router.forwardFromPeer(source, packet, len);
    else this.counters.dropUnknownSsrc++;
  };
}
