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
//  - Booking: the packets they forwarded are logged; in the same JavaScript call as the batch (before its other
//    datagrams are handled) each is booked as router.ts, downtrack.ts and webrtc-transport.ts would have: counters,
//    the sender's transport-cc arrival, the retransmission buffer, a layer's rates, a plain source's audio level (to
//    the dominant speaker), each receiver's counters and the sent-packet records of its bandwidth estimate.
import type { Conference } from './conference.ts';
import type { BridgeCounters } from './counters.ts';
import type { Downtrack } from './downtrack.ts';
import type { Egress } from './egress.ts';
import type { Endpoint } from './endpoint.ts';
import { ROUTE_ADDRESS, ROUTE_JS, ROUTE_MODE, ROUTE_NATIVE, ROUTE_PORT, ROUTE_SKIP, type NativeRoutes } from './native/routes.ts';
import { ipv4Number } from './native/udp-batch.ts';
import { TwccRecorder } from './packet/twcc.ts';
import type { Source } from './source.ts';
import { webrtcOf, type WebRtcTransport } from './webrtc-transport.ts';

/** A kernel arrival time older than this is not believed (as udp-receive.ts). */
const MAX_ARRIVAL_AGE_MS = 5000;

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
  /** Bytes per datagram slot of a receive arena (RECV_SLOT). */
  private readonly slot: number;
  /** What the log's ids name, as of the last build (streams: layers and plain sources). */
  private readonly streams: Source[] = [];
  private readonly downtracks: Downtrack[] = [];
  private scheduled = false;
  private closed = false;
  private readonly rebuildCb = (): void => this.rebuild();

  constructor(routes: NativeRoutes, host: ForwardingHost, slot: number) {
    this.routes = routes;
    this.host = host;
    this.slot = slot;
  }

  /** What the routes depend on changed: off now, built again in an immediate. */
  invalidate(): void {
    this.routes.on = false;
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(this.rebuildCb);
  }

  close(): void {
    this.closed = true;
    this.routes.on = false;
  }

  /** Builds every route again (the routes stay off when a layer's receivers cannot be sent from the module). */
  rebuild(): void {
    this.scheduled = false;
    if (this.closed) return;
    const routes = this.routes;
    routes.on = false;
    routes.clear(performance.now());
    this.streams.length = 0;
    this.downtracks.length = 0;
    const transports = new Set<WebRtcTransport>();
    const groups = new Map<Source, number>();
    const local = this.host.localEgress;
    for (const conference of this.host.conferences.values()) {
      for (const stream of conference.sources.values()) {
        const parent = stream.parent;
        const plain = parent === null;
        // a layer, or a plain source: not a simulcast source (its layers are the streams), not an RTX stream
        if (plain ? stream.rids !== null || stream.isRtx : stream.rtx === null || stream.rate === null) continue;
        const owner = stream.owner;
        const sender = webrtcOf(owner);
        if (sender === null || owner.relay || owner.closed || !owner.local) continue;
        if (stream.kind === 'audio' ? owner.audioMuted : owner.videoMuted) continue;
        const target = parent ?? stream;
        const egresses = target.egresses;
        if (egresses.length > 1 || (egresses.length === 1 && egresses[0] !== local)) continue;
        const tracks = target.localDowntracks;
        const outs = new Int32Array(2 * tracks.length);
        const states: ArrayBuffer[] = [];
        const histories: ArrayBuffer[] = [];
        let ok = true;
        for (let i = 0; i < tracks.length && ok; i++) {
          const dt = tracks[i];
          const t = webrtcOf(dt.receiver);
          // a layer's receivers each rewrite it; a plain source's copy it as it is (a receive slot rewrites: not here)
          if (t === null || dt.slot !== null || dt.receiver.relay || (dt.rewriter === null) !== plain) {
            ok = false;
            break;
          }
          if (!transports.has(t)) {
            transports.add(t);
            ok = this.setTransport(t);
          }
          outs[2 * i] = t.nativeId;
          outs[2 * i + 1] = this.downtracks.push(dt) - 1;
          if (dt.rewriter !== null) {
            states.push(dt.rewriter.state);
            histories.push(dt.rewriter.allocateHistory());
          }
        }
        if (!ok) continue;
        let group = groups.get(target);
        if (group === undefined) groups.set(target, (group = groups.size));
        const layer = plain ? -1 : stream.layerIndex;
        routes.setRoute(sender.nativeId, stream.ssrc, layer, this.streams.push(stream) - 1, group, outs, states, histories);
      }
    }
    routes.on = true;
  }

  /** Tells the module how `t` is sent to now; false when it could not take it. */
  private setTransport(t: WebRtcTransport): boolean {
    const st = t.nativeOut;
    const ctx = t.srtpOut?.nativeContexts ?? null;
    const address = t.address === null ? -1 : ipv4Number(t.address);
    st[ROUTE_MODE] = !t.endpoint.connected ? ROUTE_SKIP : ctx !== null && address >= 0 && !t.overTcp ? ROUTE_NATIVE : ROUTE_JS;
    st[ROUTE_ADDRESS] = address;
    st[ROUTE_PORT] = t.port;
    try {
      return this.routes.setTransport(t.nativeId, ctx?.rtp ?? null, st);
    } catch {
      return false; // a context of another build: its layers take the JavaScript path
    }
  }

  /** Books the datagrams of a receive batch the module forwarded (native/routes.c's log). Never throws. */
  book(bytes: Buffer, meta: Uint32Array, ages: Float64Array, now: number): void {
    const routes = this.routes;
    const log = routes.log;
    const used = routes.state[1];
    if (used === 0) return;
    routes.state[1] = 0;
    const c = this.host.counters;
    const clockMs = this.host.clockMs;
    const nowUs = now * 1000;
    const slot = this.slot;
    let wallMs = -1;
    for (let k = 0; k < used; ) {
      const i = log[k];
      const stream = this.streams[log[k + 1]];
      const detail = log[k + 2];
      const twIn = log[k + 3];
      const n = log[k + 4];
      k += 5;
      const m = i * 4;
      const len = meta[m + 3] >>> 16;
      c.packetsIn++;
      c.bytesIn += meta[m];
      c.rtpIn++;
      c.nativeForwarded++;
      const ep = stream.owner;
      ep.lastSeenMs = clockMs;
      if (twIn >= 0) {
        const age = ages[i];
        const arrival = age >= 0 && age < MAX_ARRIVAL_AGE_MS ? now - age : now;
        (ep.twcc ??= new TwccRecorder()).record(twIn, arrival * 1000);
      }
      const start = i * slot;
      if (stream.parent === null) {
        // a plain source: detail is its audio level (-1: none)
        if (stream.kind === 'audio' && detail >= 0) {
          if (wallMs < 0) wallMs = Date.now();
          ep.conference.speakers.onAudioLevel(stream.speakerId, detail, wallMs);
          this.host.audioLevel(ep, stream, detail, wallMs);
        }
        stream.rtx?.storeFrom((bytes[start + 2] << 8) | bytes[start + 3], bytes, start, len, now);
      } else {
        // a layer: detail is the temporal layer (-1: none)
        stream.rtx!.storeFrom((bytes[start + 2] << 8) | bytes[start + 3], bytes, start, len, now);
        stream.rate!.add(len, now);
        stream.temporalRates?.add(detail, len, now);
      }
      for (let j = 0; j < n; j++, k += 3) {
        const dt = this.downtracks[log[k]];
        const twOut = log[k + 1];
        const sent = log[k + 2];
        dt.packets++;
        dt.bytes += len;
        const to = dt.receiver;
        if (twOut >= 0 && to.bwe !== null) {
          const overhead = (to.transport as WebRtcTransport).srtpOut?.rtpOverhead ?? 0;
          to.bwe.onPacketSent(twOut, len + overhead, nowUs, -1);
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
  }
}
