// The bridge's side of the native data plane's routes (native/routes.c, native/routes.ts): which streams the receive
// batches forward without JavaScript, and the booking of what they forwarded.
//  - Building: every simulcast layer and plain source (audio, a screen, a camera without simulcast) of an unmuted
//    WebRTC sender received on this thread whose receivers are all WebRTC endpoints sent to from here and not on
//    receive slots gets a route: its receivers' transports (mode, address, port and transport-wide number, shared)
//    and, for a layer, their rewriters (their own state, shared). A stream that does not qualify has no route: its
//    packets take the JavaScript path, as without routes.
//  - Staleness: whatever a route depends on calls Conference.routesChanged() when it changes (subscribers, layers,
//    an endpoint's connection, mute or egress, a transport's path or keys, a transport closing): the routes are off
//    from that moment, and built again from scratch in an immediate (once however many changes came).
//  - Booking: the packets they forwarded are logged (and their plain bytes copied to a store); whenever JavaScript
//    runs next on the thread (a batch with something for it, the media clock, the counters read), before anything
//    else, each is booked as router.ts, downtrack.ts and webrtc-transport.ts would have: counters,
//    the sender's transport-cc arrival, the retransmission buffer, a layer's rates, a plain source's audio level (to
//    the dominant speaker), each receiver's counters and the sent-packet records of its bandwidth estimate.
import type { Conference } from './conference.ts';
import type { BridgeCounters } from './counters.ts';
import type { Downtrack } from './downtrack.ts';
import type { Egress } from './egress.ts';
import type { Endpoint } from './endpoint.ts';
import { ROUTE_ADDRESS, ROUTE_JS, ROUTE_JS_ONLY, ROUTE_MODE, ROUTE_NATIVE, ROUTE_PORT, ROUTE_SKIP, type NativeRoutes } from './native/routes.ts';
import { ipv4Number } from './native/udp-batch.ts';
import { TwccRecorder } from './packet/twcc.ts';
import type { Source } from './source.ts';
import { webrtcOf, type WebRtcTransport } from './webrtc-transport.ts';

const NO_OUTS = new Int32Array(0);

export interface ForwardingHost {
  readonly conferences: ReadonlyMap<string, Conference>;
  readonly counters: BridgeCounters;
  /** This thread's egress (a route's receivers must all be sent from it). */
  readonly localEgress: Egress;
  /** Coarse clock for lastSeen bookkeeping. */
  readonly clockMs: number;
  /** An audio level of `source` heard here (as RouterHost.audioLevel). */
  audioLevel(ep: Endpoint, source: Source, level: number, nowMs: number): void;
}

export class NativeForwarding {
  private readonly routes: NativeRoutes;
  private readonly host: ForwardingHost;
  /** What the log's ids name, as of the last build (streams: layers and plain sources). */
  private readonly streams: Source[] = [];
  private readonly downtracks: Downtrack[] = [];
  private scheduled = false;
  private closed = false;
  private readonly rebuildCb = (): void => this.rebuild();

  constructor(routes: NativeRoutes, host: ForwardingHost) {
    this.routes = routes;
    this.host = host;
  }

  /** What the routes depend on changed: off now, built again in an immediate. */
  invalidate(): void {
    this.routes.on = false;
    // what was forwarded before the change comes first (a participant who leaves now spoke before leaving)
    this.book();
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(this.rebuildCb);
  }

  close(): void {
    this.closed = true;
    this.routes.on = false;
  }

  /**
   * Builds every route again. Every stream a WebRTC endpoint sends gets an entry: a route when it qualifies, else
   * (an RTX stream, a muted or unconnected sender, a receiver on a slot, a relay, another worker) one that only says
   * that its packets are JavaScript's, so that later packets of the same source in a batch do not overtake them.
   * Anything the module refuses leaves the routes off (JavaScript forwards everything, as without them).
   */
  rebuild(): void {
    this.scheduled = false;
    if (this.closed) return;
    const routes = this.routes;
    routes.on = false;
    // what was logged names the streams and downtracks of the last build
    this.book();
    routes.clear(performance.now());
    this.streams.length = 0;
    this.downtracks.length = 0;
    this.transports.clear();
    this.groups.clear();
    try {
      for (const conference of this.host.conferences.values()) {
        for (const stream of conference.sources.values()) {
          // a simulcast source has no packets of its own: its layers are the streams
          if (stream.rids !== null) continue;
          const sender = webrtcOf(stream.owner);
          if (sender === null) continue;
          if (!this.route(conference, stream, sender)) return;
        }
      }
    } catch {
      return; // a context or buffer the module refused: everything stays JavaScript's
    }
    routes.on = true;
  }

  private readonly transports = new Set<WebRtcTransport>();
  private readonly groups = new Map<Source, number>();

  /** The entry of `stream` (a layer, a plain source or an RTX stream) that `sender` sends; false when refused. */
  private route(conference: Conference, stream: Source, sender: WebRtcTransport): boolean {
    const primary = stream.isRtx ? conference.sources.get(stream.primarySsrc) : stream;
    const target = primary === undefined ? stream : (primary.parent ?? primary);
    let group = this.groups.get(target);
    if (group === undefined) this.groups.set(target, (group = this.groups.size));
    const id = this.streams.push(stream) - 1;
    const routes = this.routes;
    if (!this.qualifies(stream, sender, target)) return routes.setRoute(sender.nativeId, stream.ssrc, ROUTE_JS_ONLY, id, group, NO_OUTS, [], []);
    const plain = stream.parent === null;
    const tracks = target.localDowntracks;
    const outs = new Int32Array(2 * tracks.length);
    const states: ArrayBuffer[] = [];
    const histories: ArrayBuffer[] = [];
    for (let i = 0; i < tracks.length; i++) {
      const dt = tracks[i];
      const t = webrtcOf(dt.receiver)!;
      if (!this.transports.has(t)) {
        this.transports.add(t);
        if (!this.setTransport(t)) return false;
      }
      outs[2 * i] = t.nativeId;
      outs[2 * i + 1] = this.downtracks.push(dt) - 1;
      if (dt.rewriter !== null) {
        states.push(dt.rewriter.state);
        histories.push(dt.rewriter.allocateHistory());
      }
    }
    return routes.setRoute(sender.nativeId, stream.ssrc, plain ? -1 : stream.layerIndex, id, group, outs, states, histories);
  }

  /** Whether the module may forward `stream` (of `target`, sent by `sender`) as JavaScript would. */
  private qualifies(stream: Source, sender: WebRtcTransport, target: Source): boolean {
    const owner = stream.owner;
    if (stream.isRtx || owner.relay || owner.closed || !owner.connected || sender.srtpIn === null) return false;
    if (stream.parent !== null && (stream.rtx === null || stream.rate === null)) return false;
    if (stream.kind === 'audio' ? owner.audioMuted : owner.videoMuted) return false;
    const egresses = target.egresses;
    if (egresses.length > 1 || (egresses.length === 1 && egresses[0] !== this.host.localEgress)) return false;
    const plain = stream.parent === null;
    for (const dt of target.localDowntracks) {
      // a layer's receivers each rewrite it; a plain source's copy it as it is (a receive slot rewrites: not here)
      if (webrtcOf(dt.receiver) === null || dt.slot !== null || dt.receiver.relay || (dt.rewriter === null) !== plain) return false;
    }
    return true;
  }

  /** Tells the module how `t` is sent to now; false when it could not take it. */
  private setTransport(t: WebRtcTransport): boolean {
    const st = t.nativeOut;
    const ctx = t.srtpOut?.nativeContexts ?? null;
    const address = t.address === null ? -1 : ipv4Number(t.address);
    st[ROUTE_MODE] = !t.endpoint.connected ? ROUTE_SKIP : ctx !== null && address >= 0 && !t.overTcp ? ROUTE_NATIVE : ROUTE_JS;
    st[ROUTE_ADDRESS] = address;
    st[ROUTE_PORT] = t.port;
    return this.routes.setTransport(t.nativeId, ctx?.rtp ?? null, st);
  }

  /**
   * Books what the module forwarded since the last time (native/routes.c's log and store). Called before JavaScript
   * handles anything on this thread that reads or changes what it books: a receive batch, any packet or RTCP the
   * router handles (UDP, ICE-TCP, plain sockets, another worker's), a worker message, the media clock and what it
   * runs (feedback, layers, speakers), the second's tick, the counters read, any change of the routes. Never throws.
   */
  book(): void {
    const routes = this.routes;
    const used = routes.state[1];
    if (used === 0) return;
    const log = routes.log;
    const store = routes.store;
    const c = this.host.counters;
    const clockMs = this.host.clockMs;
    // Date.now() at a packet's arrival, as router.ts takes it per packet (dominant speaker's 100 ms blocks)
    const wallOffset = Date.now() - performance.now();
    for (let k = 0; k < used; ) {
      const stream = this.streams[log[k]];
      const detail = log[k + 1];
      const twIn = log[k + 2];
      const arrivalMs = log[k + 3];
      const atMs = log[k + 4];
      const at = log[k + 5];
      const len = log[k + 6];
      const n = log[k + 8];
      c.packetsIn++;
      c.bytesIn += log[k + 7];
      c.rtpIn++;
      c.nativeForwarded++;
      k += 9;
      const ep = stream.owner;
      ep.lastSeenMs = clockMs;
      if (twIn >= 0) (ep.twcc ??= new TwccRecorder()).record(twIn, arrivalMs * 1000);
      const seq = (store[at + 2] << 8) | store[at + 3];
      if (stream.parent === null) {
        // a plain source: detail is its audio level (-1: none)
        if (stream.kind === 'audio' && detail >= 0) {
          const wallMs = wallOffset + arrivalMs;
          ep.conference.speakers.onAudioLevel(stream.speakerId, detail, wallMs);
          this.host.audioLevel(ep, stream, detail, wallMs);
        }
        stream.rtx?.storeFrom(seq, store, at, len, atMs);
      } else {
        // a layer: detail is the temporal layer (-1: none)
        stream.rtx!.storeFrom(seq, store, at, len, atMs);
        stream.rate!.add(len, atMs);
        stream.temporalRates?.add(detail, len, atMs);
      }
      const atUs = atMs * 1000;
      for (let j = 0; j < n; j++, k += 3) {
        const dt = this.downtracks[log[k]];
        const twOut = log[k + 1];
        const sent = log[k + 2];
        dt.packets++;
        dt.bytes += len;
        const to = dt.receiver;
        if (twOut >= 0 && to.bwe !== null) {
          const overhead = (to.transport as WebRtcTransport).srtpOut?.rtpOverhead ?? 0;
          to.bwe.onPacketSent(twOut, len + overhead, atUs, -1);
        }
        if (sent < 0) {
          c.protectErrors++;
        } else {
          c.rtpOut++;
          c.packetsOut++;
          c.bytesOut += sent;
        }
      }
    }
    routes.state[1] = 0;
    routes.state[2] = 0;
  }
}
