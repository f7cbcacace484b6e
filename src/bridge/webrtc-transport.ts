// A browser's transport: ICE-lite credentials and the addresses that passed a check (the selected one is
// where everything goes), the DTLS session that makes the SRTP keys, the SRTP sessions both ways, and
// transport-wide numbering of what it is sent (for the receiver's bandwidth estimate). The bridge (bridge.ts)
// runs ICE (ice.ts) and DTLS (dtls.ts) on this state and keeps the maps by ufrag and by address that lead
// to it; this object decrypts what arrives (then hands it to the router like any transport) and protects
// and sends what the router and the downtracks make for its endpoint. Endpoints hold nothing of this.
// The selected path is a remote address on the shared UDP port, or an ICE-TCP connection (tcp-transport.ts):
// the transport sends on it itself.
// Never throws on the packet path; every dropped packet is counted.
import type { MediaKind } from '../protocol/signal-messages.ts';
import { TWCC_EXT_ID } from '../protocol/media-profile.ts';
import type { BridgeCounters } from './counters.ts';
import type { DtlsEndpoint } from './dtls.ts';
import type { Endpoint } from './endpoint.ts';
import { isRtcp } from './packet/rtp.ts';
import type { SrtpSession } from './packet/srtp.ts';
import type { TcpPath } from './tcp-transport.ts';
import { writeTransportSeq } from './packet/twcc.ts';
import type { PlainSink } from './plain-transport.ts';
import type { MediaTransport } from './transport.ts';
import { PACING_FACTOR, type PacedSink, type Pacing, type ReceiverPacer } from './pacer.ts';
import type { UdpTransport } from './udp-transport.ts';
import { ROUTE_TW_SEQ } from './native/routes.ts';

/** Ids of this thread's transports in its native routes (native-forwarding.ts): small, reused after close. */
const freeNativeIds: number[] = [];
let nextNativeId = 0;

export interface Fingerprint {
  algorithm: string;
  value: string;
}

/** What every transport sends with: the router's output ring, clock and counters, the shared media socket. */
export interface SendContext {
  readonly counters: BridgeCounters;
  readonly udp: UdpTransport;
  /** A preallocated output buffer (reused once the ring wrapped around). */
  nextSlot(): Buffer;
  /** performance.now() in µs at the packet being handled. */
  readonly nowUs: number;
  /** Plain RTCP for an endpoint connected over ICE-TCP to another media worker, which sends it. */
  rtcpElsewhere(to: Endpoint, buf: Buffer, len: number): void;
  /** The SRTCP index for the next RTCP packet to `to` (media workers share one counter per endpoint). */
  rtcpIndex(to: WebRtcTransport): number;
  /** The thread's pacing (pacer.ts); null: video leaves as it is made (`pacer: false`). */
  readonly pacing: Pacing | null;
}

/** The router: what a WebRTC transport sends with and hands decrypted packets to. */
export type WebRtcContext = SendContext & PlainSink;

export class WebRtcTransport implements MediaTransport, PacedSink {
  readonly kind = 'webrtc';
  readonly endpoint: Endpoint;
  /** The bridge's ICE credentials for this endpoint. */
  readonly ufrag: string;
  readonly pwd: string;
  private readonly ctx: WebRtcContext;

  remoteUfrag: string | null = null;
  remotePwd: string | null = null;
  remoteFingerprint: Fingerprint | null = null;

  /** The selected (nominated) remote address and port; null until an ICE check succeeded. */
  address: string | null = null;
  port = 0;
  /** The selected path's ICE-TCP connection (null: UDP, or a connection another media worker has). */
  tcp: TcpPath | null = null;
  /** The selected path is an ICE-TCP connection (`tcp`, or another media worker's). */
  overTcp = false;
  /** Every path that passed an ICE check (UDP: keys of the bridge's address map; TCP: connections it owns). */
  readonly checkedAddresses: Array<{ address: string; port: number; tcp: TcpPath | null }> = [];

  dtls: DtlsEndpoint | null = null;
  /** DTLS finished before configure gave us the fingerprint: verify when it arrives. */
  dtlsPendingVerify = false;
  /** DTLS handshakes that failed (only the first few are logged). */
  dtlsFailures = 0;
  private receiving: SrtpSession | null = null;
  private sending: SrtpSession | null = null;
  /** Its id in this thread's native routes (the SRTP peer table names it as the sender of what it sends). */
  readonly nativeId: number;
  /**
   * What the native routes read and write of it (native/routes.ts ROUTE_*): mode, address, port (set when the
   * routes are built) and the transport-wide sequence number of the next packet sent to it (both paths number).
   */
  readonly nativeOut = new Int32Array(4);
  /** Its pacer (made at the first packet once it has a downlink estimate and the thread paces). */
  pacer: ReceiverPacer | null = null;

  constructor(ep: Endpoint, ufrag: string, pwd: string, ctx: WebRtcContext) {
    this.endpoint = ep;
    this.ufrag = ufrag;
    this.pwd = pwd;
    this.ctx = ctx;
    this.nativeId = freeNativeIds.pop() ?? nextNativeId++;
  }

  /** The SRTP session what it sends is unprotected with (its keys: set once DTLS made them). */
  get srtpIn(): SrtpSession | null {
    return this.receiving;
  }
  set srtpIn(s: SrtpSession | null) {
    if (s === this.receiving) return;
    this.receiving = s;
    this.endpoint.conference.routesChanged();
  }

  /** The SRTP session it is sent with (its keys: set once DTLS made them). */
  get srtpOut(): SrtpSession | null {
    return this.sending;
  }
  set srtpOut(s: SrtpSession | null) {
    if (s === this.sending) return;
    this.sending = s;
    this.endpoint.conference.routesChanged();
  }

  /** The transport-wide sequence number of the next packet sent to it. */
  get twSeq(): number {
    return this.nativeOut[ROUTE_TW_SEQ];
  }
  set twSeq(v: number) {
    this.nativeOut[ROUTE_TW_SEQ] = v;
  }

  /** Drops the DTLS session, the SRTP keys and the selected address (the checked ones are the bridge's to forget). */
  reset(): void {
    if (this.dtls !== null) {
      this.dtls.close();
      this.dtls = null;
    }
    this.dtlsPendingVerify = false;
    this.srtpIn = null;
    this.srtpOut = null;
    this.pacer?.clear();
    this.select(null, 0, null, false);
  }

  /** Sends everything to address:port from now on: on `tcp` when set, else UDP (`overTcp`: another worker's connection). */
  select(address: string | null, port: number, tcp: TcpPath | null, overTcp = tcp !== null): void {
    this.address = address;
    this.port = port;
    this.tcp = tcp;
    this.overTcp = overTcp;
    this.endpoint.conference.routesChanged();
  }

  /** Whether the path is the selected one. */
  selects(address: string, port: number, tcp: TcpPath | null): boolean {
    return this.address === address && this.port === port && this.tcp === tcp;
  }

  // ---------------------------------------------------------------- receive

  /**
   * An SRTP or SRTCP datagram (first byte 128..191) from one of its checked addresses. A native receive batch may
   * have unprotected it already with this transport's own receiving contexts (the bridge maps its checked
   * addresses to them: UdpTransport.setSrtpPeer): `udp.unprotectedLength` says so.
   */
  receive(buf: Buffer): void {
    const ctx = this.ctx;
    const c = ctx.counters;
    const srtp = this.srtpIn;
    if (!this.endpoint.connected || srtp === null) {
      c.dropNotConnected++;
      return;
    }
    if (buf.length < 12) {
      c.dropMalformed++;
      return;
    }
    const plain = ctx.udp.unprotectedLength;
    if (plain > 0) {
      if (isRtcp(buf)) ctx.receiveRtcp(this.endpoint, buf, plain);
      else ctx.receiveRtp(this.endpoint, buf, plain);
      return;
    }
    if (plain < 0) {
      c.dropSrtp++;
      return;
    }
    if (isRtcp(buf)) {
      const len = srtp.unprotectRtcp(buf, buf.length);
      if (len < 0) c.dropSrtp++;
      else this.ctx.receiveRtcp(this.endpoint, buf, len);
    } else {
      const len = srtp.unprotectRtp(buf, buf.length);
      if (len < 0) c.dropSrtp++;
      else this.ctx.receiveRtp(this.endpoint, buf, len);
    }
  }

  // ---------------------------------------------------------------- send

  sendRtp(out: Buffer, len: number, kind: MediaKind, probeCluster: number, twOffset?: number): void {
    if (this.srtpOut === null || this.address === null) return;
    const ctx = this.ctx;
    const pacing = ctx.pacing;
    // video waits for its pace; audio leaves now and counts against it; probes (paced by the probe sender, at
    // rates above the pace on purpose) neither wait nor count
    if (pacing !== null && this.endpoint.bwe !== null && probeCluster < 0) {
      const pacer = (this.pacer ??= pacing.createPacer(this));
      const rate = this.paceRateBps();
      if (kind !== 'video') pacer.account(len, ctx.nowUs / 1000, rate);
      else if (!pacer.admit(out, len, twOffset, ctx.nowUs / 1000, rate)) return;
    }
    this.transmit(out, len, probeCluster, twOffset, ctx.nowUs);
  }

  paceRateBps(): number {
    const bwe = this.endpoint.bwe;
    return bwe === null ? Infinity : PACING_FACTOR * bwe.estimateBps();
  }

  sendPaced(buf: Buffer, len: number, twOffset: number | undefined, nowUs: number): void {
    // another thread sends to it now (its egress moved): what was queued here would duplicate its numbering
    if (this.srtpOut === null || this.address === null || !this.endpoint.connected || !this.endpoint.egress.local) return;
    this.transmit(buf, len, -1, twOffset, nowUs);
  }

  /** Numbers out[0..len) transport-wide (sent at `nowUs`), protects it in place and sends it. */
  private transmit(out: Buffer, len: number, probeCluster: number, twOffset: number | undefined, nowUs: number): void {
    const srtp = this.srtpOut!;
    let numbered: boolean;
    if (twOffset === undefined) numbered = writeTransportSeq(out, len, TWCC_EXT_ID, this.twSeq);
    else if ((numbered = twOffset >= 0)) {
      out[twOffset] = this.twSeq >>> 8;
      out[twOffset + 1] = this.twSeq;
    }
    if (numbered) {
      const bwe = this.endpoint.bwe;
      if (bwe !== null) bwe.onPacketSent(this.twSeq, len + srtp.rtpOverhead, nowUs, probeCluster);
      this.twSeq = (this.twSeq + 1) & 0xffff;
    }
    const n = srtp.protectRtp(out, len, out);
    const c = this.ctx.counters;
    if (n <= 0) {
      c.protectErrors++;
      return;
    }
    c.rtpOut++;
    this.out(out, n);
  }

  sendRtcp(buf: Buffer, len: number, _kind: MediaKind | null): void {
    const ctx = this.ctx;
    const srtp = this.srtpOut;
    if (!this.endpoint.connected || this.address === null || srtp === null) return;
    if (this.overTcp && this.tcp === null) {
      // media workers: connected over TCP to another worker
      ctx.rtcpElsewhere(this.endpoint, buf, len);
      return;
    }
    const out = ctx.nextSlot();
    srtp.nextRtcpIndex = ctx.rtcpIndex(this);
    const n = srtp.protectRtcp(buf, len, out);
    if (n <= 0) {
      ctx.counters.protectErrors++;
      return;
    }
    ctx.counters.rtcpOut++;
    this.out(out, n);
  }

  /** A DTLS record as it is, on the selected path (nothing before one is known). */
  sendRaw(buf: Buffer): void {
    if (this.address !== null) this.out(buf, buf.length);
  }

  /** buf[0..len) on the selected path (known to be set). */
  private out(buf: Buffer, len: number): void {
    if (!this.overTcp) this.ctx.udp.send(buf, 0, len, this.port, this.address!);
    else if (this.tcp !== null) this.tcp.send(buf, 0, len);
    else this.ctx.counters.sendErrors++; // another worker's connection: only it sends there
  }

  private closed = false;

  close(): void {
    this.pacer?.clear();
    if (this.closed) return;
    this.closed = true;
    this.endpoint.conference.routesChanged();
    freeNativeIds.push(this.nativeId);
  }
}

/** The endpoint's WebRTC transport; null for plain and relay endpoints. */
export function webrtcOf(ep: Endpoint): WebRtcTransport | null {
  return ep.transport instanceof WebRtcTransport ? ep.transport : null;
}
