// Plain RTP/RTCP over UDP: what ffmpeg, GStreamer and a SIP gateway speak. One transport per endpoint, one
// "leg" per SDP m-line: each leg has UDP sockets of its own on the bridge (RTP, and RTCP on the next port
// unless rtcp-mux) and one remote address. The remote address is given, or with comedia learned from the
// first packet that belongs to the endpoint (an RTP packet of one of its sources, or RTCP; with SRTP only
// one that authenticates); after that only packets from that address are taken. Optional SRTP keyed by SDES
// (RFC 4568, AES_CM_128_HMAC_SHA1_80): the bridge makes both keys and hands them out in the description.
// A relay between two bridges is this transport too (kind 'relay'): one leg for everything, rtcp-mux, the keys
// given (focus made them for both ends), and an empty receiver report each second, so the end that learns
// its peer's address (comedia) learns it even before any media flows, and a NAT keeps the path open.
// Only focus creates plain transports (over the bus), never a browser: a stranger cannot aim one anywhere.
// Never throws on the packet path; every dropped packet is counted.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { bindUdp } from '../net/udp.ts';
import type { BridgeAllocatePlain } from '../protocol/bus-messages.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';
import type { BridgeCounters } from './counters.ts';
import type { Endpoint } from './endpoint.ts';
import { isRtcp, rtpSsrc } from './packet/rtp.ts';
import { SrtpSession } from './packet/srtp.ts';
import type { MediaTransport } from './transport.ts';

/** The SDES crypto suite offered (RFC 4568 §6.2.1). */
export const SDES_SUITE = 'AES_CM_128_HMAC_SHA1_80';
/** Largest datagram taken in (anything bigger is not an RTP packet the bridge forwards). */
const MAX_DATAGRAM = 1500;
/** Tries at binding an even/odd port pair (rtcp-mux off) before giving up. */
const PORT_PAIR_TRIES = 32;

export type PlainLegKind = MediaKind | 'all';

export interface PlainLegRequest {
  /** What the leg carries: audio, video, or both (one port, streams told apart by SSRC). */
  kind: PlainLegKind;
  /** Where the peer receives; omitted with comedia (learned from the peer's first packet). */
  address?: string;
  port?: number;
  /** The peer's RTCP port without rtcp-mux (default port + 1). */
  rtcpPort?: number;
}

export interface PlainTransportRequest {
  legs: PlainLegRequest[];
  rtcpMux: boolean;
  comedia: boolean;
  /** SRTP keyed by SDES. */
  srtp: boolean;
  /** Keys given instead of made here (base64 master key || salt): `local` to send with, `remote` to receive with. */
  keys?: { local: string; remote: string };
  /** A relay between bridges (sends keepalives). */
  relay?: boolean;
}

/** A plain (or relay) endpoint as the bridge allocates it: focus's request, plus what only the bridge's own relay handler sets. */
export type PlainAllocation = BridgeAllocatePlain & Pick<PlainTransportRequest, 'keys' | 'relay'>;

/** How often a relay says it is there. */
export const RELAY_KEEPALIVE_MS = 1000;
/** An RTCP receiver report with no report blocks (RFC 3550 §6.4.2): "I am here", nothing else. */
const EMPTY_RR = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 0]);

export type PlainLegDescription = {
  kind: PlainLegKind;
  /** The bridge's ports for this leg (rtcpPort = port with rtcp-mux). */
  port: number;
  rtcpPort: number;
};

export type PlainTransportDescription = {
  legs: PlainLegDescription[];
  rtcpMux: boolean;
  /** SDES keys, base64 of the 30-byte master key || salt: `local` the bridge sends with, `remote` the peer must send with. */
  srtp: { suite: typeof SDES_SUITE; localKey: string; remoteKey: string } | null;
};

/** Where a plain transport's decrypted packets go (the router). */
export interface PlainSink {
  receiveRtp(ep: Endpoint, buf: Buffer, len: number): void;
  receiveRtcp(ep: Endpoint, buf: Buffer, len: number): void;
}

interface Leg {
  readonly kind: PlainLegKind;
  readonly rtp: dgram.Socket;
  /** null with rtcp-mux. */
  readonly rtcp: dgram.Socket | null;
  port: number;
  rtcpPort: number;
  remoteAddress: string | null;
  remotePort: number;
  remoteRtcpPort: number;
  /** Comedia without rtcp-mux: the RTCP port is RTP's + 1 only by guess, until an RTCP packet shows the real one (a NAT picks its own). */
  rtcpPortGuessed: boolean;
  /** rtcp-mux: the RTP port was taken from RTCP (a relay's far end that sends no media yet); RTP, when it comes, says. */
  rtpPortGuessed: boolean;
}

export class PlainTransport implements MediaTransport {
  readonly kind: 'plain' | 'relay';
  private readonly ep: Endpoint;
  private readonly counters: BridgeCounters;
  private readonly sink: PlainSink;
  private readonly legs: Leg[] = [];
  private readonly comedia: boolean;
  private readonly rtcpMux: boolean;
  private readonly srtpIn: SrtpSession | null;
  private readonly srtpOut: SrtpSession | null;
  private readonly keys: PlainTransportDescription['srtp'];
  private closed = false;
  private keepalive: NodeJS.Timeout | null = null;

  private constructor(ep: Endpoint, req: PlainTransportRequest, counters: BridgeCounters, sink: PlainSink) {
    this.kind = req.relay ? 'relay' : 'plain';
    this.ep = ep;
    this.counters = counters;
    this.sink = sink;
    this.comedia = req.comedia;
    this.rtcpMux = req.rtcpMux;
    if (req.srtp) {
      const local = req.keys ? Buffer.from(req.keys.local, 'base64') : randomBytes(30);
      const remote = req.keys ? Buffer.from(req.keys.remote, 'base64') : randomBytes(30);
      if (local.length !== 30 || remote.length !== 30) throw new Error('an SRTP key is 30 bytes (master key and salt)');
      this.srtpOut = new SrtpSession(SDES_SUITE, local.subarray(0, 16), local.subarray(16));
      this.srtpIn = new SrtpSession(SDES_SUITE, remote.subarray(0, 16), remote.subarray(16));
      this.keys = { suite: SDES_SUITE, localKey: local.toString('base64'), remoteKey: remote.toString('base64') };
    } else {
      this.srtpOut = null;
      this.srtpIn = null;
      this.keys = null;
    }
  }

  /** Opens the legs' sockets on bindAddress, ports in [portMin, portMax]. Rejects (and closes what it opened) on failure. */
  static async open(
    ep: Endpoint,
    req: PlainTransportRequest,
    opts: { bindAddress: string; portMin: number; portMax: number },
    counters: BridgeCounters,
    sink: PlainSink,
  ): Promise<PlainTransport> {
    const t = new PlainTransport(ep, req, counters, sink);
    try {
      for (const l of req.legs) await t.openLeg(l, opts);
    } catch (e) {
      t.close();
      throw e;
    }
    if (t.kind === 'relay') {
      t.keepalive = setInterval(() => t.sendRtcp(EMPTY_RR, EMPTY_RR.length, null), RELAY_KEEPALIVE_MS);
      t.keepalive.unref();
      t.sendRtcp(EMPTY_RR, EMPTY_RR.length, null);
    }
    return t;
  }

  describe(): PlainTransportDescription {
    return {
      legs: this.legs.map((l) => ({ kind: l.kind, port: l.port, rtcpPort: l.rtcpPort })),
      rtcpMux: this.rtcpMux,
      srtp: this.keys,
    };
  }

  private async openLeg(req: PlainLegRequest, opts: { bindAddress: string; portMin: number; portMax: number }): Promise<void> {
    let rtp: dgram.Socket | null = null;
    let rtcp: dgram.Socket | null = null;
    for (let i = 0; i < PORT_PAIR_TRIES && rtp === null; i++) {
      // an even RTP port with RTCP on the next (RFC 3550 §11), from the configured range
      const span = Math.floor((opts.portMax - opts.portMin) / 2);
      const port = opts.portMin + 2 * Math.floor(Math.random() * Math.max(1, span));
      const a = await bindUdp(opts.bindAddress, port);
      if (a === null) continue;
      if (this.rtcpMux) {
        rtp = a;
        break;
      }
      const b = await bindUdp(opts.bindAddress, port + 1);
      if (b === null) {
        a.close();
        continue;
      }
      rtp = a;
      rtcp = b;
    }
    if (rtp === null) throw new Error(`no free UDP port for plain RTP in ${opts.portMin}-${opts.portMax}`);
    const leg: Leg = {
      kind: req.kind,
      rtp,
      rtcp,
      port: rtp.address().port,
      rtcpPort: rtcp === null ? rtp.address().port : rtcp.address().port,
      remoteAddress: req.address ?? null,
      remotePort: req.port ?? 0,
      remoteRtcpPort: req.port === undefined ? 0 : this.rtcpMux ? req.port : (req.rtcpPort ?? req.port + 1),
      rtcpPortGuessed: false,
      rtpPortGuessed: false,
    };
    rtp.on('message', (msg, rinfo) => this.onDatagram(leg, msg, rinfo.address, rinfo.port, false));
    rtp.on('error', () => this.counters.sendErrors++);
    if (rtcp !== null) {
      rtcp.on('message', (msg, rinfo) => this.onDatagram(leg, msg, rinfo.address, rinfo.port, true));
      rtcp.on('error', () => this.counters.sendErrors++);
    }
    this.legs.push(leg);
  }

  /** A datagram on one of the leg's sockets (`onRtcpSocket`: the separate RTCP one). */
  private onDatagram(leg: Leg, buf: Buffer, address: string, port: number, onRtcpSocket: boolean): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += buf.length;
    try {
      if (this.closed || this.ep.closed) return;
      // an RTP header is 12 bytes, an RTCP packet at least 8 (an empty receiver report)
      if (buf.length < 8 || buf.length > MAX_DATAGRAM || buf[0] < 128 || buf[0] > 191) {
        c.dropMalformed++;
        return;
      }
      const rtcp = isRtcp(buf);
      if (!rtcp && buf.length < 12) {
        c.dropMalformed++;
        return;
      }
      if (rtcp !== onRtcpSocket && !this.rtcpMux) {
        c.dropMalformed++;
        return;
      }
      // the peer's address: known (given or learned), or learned now from a packet that is the endpoint's
      const known = leg.remoteAddress !== null && (rtcp ? leg.remoteRtcpPort !== 0 && !leg.rtcpPortGuessed : leg.remotePort !== 0 && !leg.rtpPortGuessed);
      if (known) {
        if (address !== leg.remoteAddress || port !== (rtcp ? leg.remoteRtcpPort : leg.remotePort)) {
          c.dropUnknownAddress++;
          return;
        }
      } else if (!this.comedia || (leg.remoteAddress !== null && address !== leg.remoteAddress)) {
        c.dropUnknownAddress++;
        return;
      }
      let len = buf.length;
      if (rtcp) {
        if (this.srtpIn !== null && (len = this.srtpIn.unprotectRtcp(buf, len)) < 0) {
          c.dropSrtp++;
          return;
        }
        if (!known) this.learn(leg, address, port, true);
        this.sink.receiveRtcp(this.ep, buf, len);
        return;
      }
      if (!known) {
        // only a packet of one of the endpoint's own sources may teach the address (garbage or a stranger's
        // stream cannot capture the leg)
        const source = this.ep.conference.sources.get(rtpSsrc(buf));
        if (source === undefined || source.owner !== this.ep) {
          c.dropUnknownSsrc++;
          return;
        }
      }
      if (this.srtpIn !== null && (len = this.srtpIn.unprotectRtp(buf, len)) < 0) {
        c.dropSrtp++;
        return;
      }
      if (!known) this.learn(leg, address, port, false);
      this.sink.receiveRtp(this.ep, buf, len);
    } catch {
      c.dropError++;
    }
  }

  private learn(leg: Leg, address: string, port: number, rtcp: boolean): void {
    leg.remoteAddress = address;
    if (rtcp) {
      leg.remoteRtcpPort = port;
      leg.rtcpPortGuessed = false;
      // rtcp-mux: until RTP shows its port, RTP goes where RTCP comes from (a relay's far end that sends no media
      // yet teaches it so); a sender whose RTCP leaves from another port (ffmpeg: RTP + 1) is corrected by its RTP
      if (this.rtcpMux && (leg.remotePort === 0 || leg.rtpPortGuessed)) {
        leg.remotePort = port;
        leg.rtpPortGuessed = true;
      }
    } else {
      leg.remotePort = port;
      leg.rtpPortGuessed = false;
      // rtcp-mux: RTCP goes where RTP comes from; otherwise until the peer's RTCP shows its port, the next one
      if (this.rtcpMux) leg.remoteRtcpPort = port;
      else if (leg.remoteRtcpPort === 0) {
        leg.remoteRtcpPort = port + 1;
        leg.rtcpPortGuessed = true;
      }
    }
  }

  /** The leg that carries `kind` (the first with 'all'; null: none). */
  private legFor(kind: MediaKind | null): Leg | null {
    const legs = this.legs;
    for (let i = 0; i < legs.length; i++) {
      const l = legs[i];
      if (kind === null || l.kind === kind || l.kind === 'all') return l;
    }
    return null;
  }

  sendRtp(out: Buffer, len: number, kind: MediaKind, _probeCluster: number): void {
    const leg = this.legFor(kind);
    const c = this.counters;
    if (leg === null || leg.remoteAddress === null || leg.remotePort === 0 || this.closed) return;
    let n = len;
    if (this.srtpOut !== null) {
      n = this.srtpOut.protectRtp(out, len, out);
      if (n <= 0) {
        c.protectErrors++;
        return;
      }
    }
    c.rtpOut++;
    c.packetsOut++;
    c.bytesOut += n;
    leg.rtp.send(out, 0, n, leg.remotePort, leg.remoteAddress);
  }

  sendRtcp(buf: Buffer, len: number, kind: MediaKind | null): void {
    const leg = this.legFor(kind);
    const c = this.counters;
    if (leg === null || leg.remoteAddress === null || leg.remoteRtcpPort === 0 || this.closed) return;
    // a fresh copy: dgram sends later, and the caller reuses its buffer at once
    const out = Buffer.allocUnsafe(len + 32);
    let n = len;
    if (this.srtpOut !== null) {
      n = this.srtpOut.protectRtcp(buf, len, out);
      if (n <= 0) {
        c.protectErrors++;
        return;
      }
    } else buf.copy(out, 0, 0, len);
    c.rtcpOut++;
    c.packetsOut++;
    c.bytesOut += n;
    (leg.rtcp ?? leg.rtp).send(out, 0, n, leg.remoteRtcpPort, leg.remoteAddress);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepalive !== null) clearInterval(this.keepalive);
    for (const l of this.legs) {
      for (const s of [l.rtp, l.rtcp]) {
        try {
          s?.close();
        } catch {
          // already closed
        }
      }
    }
  }
}
