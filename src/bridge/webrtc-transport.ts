// The sending half of a browser's transport: DTLS-SRTP keys, the ICE-selected address (a UDP address on the
// shared media port, or an ICE-TCP connection's pseudo port), transport-wide numbering for the receiver's
// bandwidth estimate. ICE and DTLS state still live on the Endpoint (bridge.ts, ice.ts, dtls.ts) and are
// read here; this object owns nothing that must be closed.
import type { MediaKind } from '../protocol/signal-messages.ts';
import { TWCC_EXT_ID } from '../protocol/media-profile.ts';
import type { BridgeCounters } from './counters.ts';
import type { Endpoint } from './endpoint.ts';
import { writeTransportSeq } from './packet/twcc.ts';
import type { MediaTransport } from './transport.ts';
import type { UdpTransport } from './udp-transport.ts';

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
  rtcpIndex(to: Endpoint): number;
}

export class WebRtcTransport implements MediaTransport {
  readonly kind = 'webrtc';
  private readonly ep: Endpoint;
  private readonly ctx: SendContext;

  constructor(ep: Endpoint, ctx: SendContext) {
    this.ep = ep;
    this.ctx = ctx;
  }

  sendRtp(out: Buffer, len: number, _kind: MediaKind, probeCluster: number, twOffset?: number): void {
    const to = this.ep;
    const srtp = to.srtpOut;
    if (srtp === null || to.address === null) return;
    let numbered: boolean;
    if (twOffset === undefined) numbered = writeTransportSeq(out, len, TWCC_EXT_ID, to.twSeq);
    else if ((numbered = twOffset >= 0)) {
      out[twOffset] = to.twSeq >>> 8;
      out[twOffset + 1] = to.twSeq;
    }
    if (numbered) {
      if (to.bwe !== null) to.bwe.onPacketSent(to.twSeq, len + srtp.rtpOverhead, this.ctx.nowUs, probeCluster);
      to.twSeq = (to.twSeq + 1) & 0xffff;
    }
    const n = srtp.protectRtp(out, len, out);
    const c = this.ctx.counters;
    if (n <= 0) {
      c.protectErrors++;
      return;
    }
    c.rtpOut++;
    this.ctx.udp.send(out, 0, n, to.port, to.address);
  }

  sendRtcp(buf: Buffer, len: number, _kind: MediaKind | null): void {
    const to = this.ep;
    const ctx = this.ctx;
    if (!to.connected || to.address === null || to.srtpOut === null) return;
    if (to.port > 0xffff && ctx.udp.tcp === null) {
      // media workers: `to` is connected over TCP to another worker
      ctx.rtcpElsewhere(to, buf, len);
      return;
    }
    const out = ctx.nextSlot();
    to.srtpOut.nextRtcpIndex = ctx.rtcpIndex(to);
    const n = to.srtpOut.protectRtcp(buf, len, out);
    if (n <= 0) {
      ctx.counters.protectErrors++;
      return;
    }
    ctx.counters.rtcpOut++;
    ctx.udp.send(out, 0, n, to.port, to.address);
  }

  close(): void {}
}
