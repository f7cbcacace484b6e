// A call's RTP with the phone: one UDP socket for RTP on an even port of sipRtpPortMin..Max and one for RTCP on
// the next (RFC 3550 §11), held from the answer to the hang-up. Symmetric RTP (RFC 4961) for phones behind
// NAT: until the phone's first packet arrives we send where its SDP says; then to where its packets come from
// (latched), and packets from elsewhere are dropped, unless they come from the SDP's address (the phone is
// where it said), or a new source with the phone's SSRC keeps sending alone (LATCH_AFTER packets in a row, none
// from the old one between: the phone's NAT mapping changed); then that source is latched instead.
// RTCP from the phone's address (either port) goes to `onRtcp`, and our own is sent where the phone's comes from
// (else to its RTP port + 1). Each RTP packet is parsed once (the bridge's RtpView).
// Never throws on the packet path: absurd sizes, non-RTP and garbage are counted and dropped.
// RTP to the phone leaves through the thread's SocketBatch (socket-batch.ts): with the native module the RTP
// socket is opened by it, and every call's packets of one tick go out in one native call.
import dgram from 'node:dgram';
import { nativeUdp } from '../../bridge/native/udp-batch.ts';
import { isRtcp } from '../../bridge/packet/rtp.ts';
import { RtpView } from '../../bridge/packet/rtp-view.ts';
import { bindUdp, literalLookup } from '../../net/udp.ts';
import { socketBatch, type SocketBatch } from './socket-batch.ts';

/** Largest datagram taken (a phone's audio packet is under 300 bytes). */
export const MAX_DATAGRAM = 1500;
/** Packets in a row from one new source before it replaces the latched one. */
export const LATCH_AFTER = 10;

/** Every pair of the range is in use (or held by other programs): the call layer answers 503. */
export class RtpPortsExhausted extends Error {
  readonly status = 503;
}

/** The process's range of RTP ports for calls: each call takes an even port and the odd one after it. */
export class RtpPortRange {
  readonly min: number;
  readonly max: number;
  private readonly first: number;
  private readonly pairs: number;
  private readonly used = new Set<number>();
  private next = 0;

  constructor(min: number, max: number) {
    if (!(Number.isInteger(min) && Number.isInteger(max) && min > 0 && max <= 65535)) throw new RangeError(`bad RTP port range ${min}-${max}`);
    this.min = min;
    this.max = max;
    this.first = min % 2 === 0 ? min : min + 1;
    this.pairs = Math.max(0, Math.floor((max - this.first + 1) / 2));
    if (this.pairs === 0) throw new RangeError(`the RTP port range ${min}-${max} holds no even/odd pair`);
  }

  /** Calls the range holds at once. */
  get size(): number {
    return this.pairs;
  }

  get inUse(): number {
    return this.used.size;
  }

  /**
   * Binds a free pair on `address`: [rtp, rtcp, the RTP socket's descriptor (-1 when dgram opened it)]. Rejects
   * (RtpPortsExhausted) when every pair is in use or taken by other programs.
   */
  async open(address: string): Promise<[dgram.Socket, dgram.Socket, number]> {
    for (let i = 0; i < this.pairs; i++) {
      const index = (this.next + i) % this.pairs;
      if (this.used.has(index)) continue;
      this.used.add(index);
      const port = this.first + 2 * index;
      // every address a call sends to is an IPv4 literal (its SDP, a received datagram)
      const rtp = await bindRtp(address, port);
      const rtcp = rtp === null ? null : await bindUdp(address, port + 1);
      if (rtp !== null && rtcp !== null) {
        this.next = (index + 1) % this.pairs;
        return [rtp.socket, rtcp, rtp.fd];
      }
      rtp?.socket.close();
      this.used.delete(index);
    }
    throw new RtpPortsExhausted(`no free UDP port pair for a call's RTP in ${this.min}-${this.max}`);
  }

  release(rtpPort: number): void {
    this.used.delete((rtpPort - this.first) / 2);
  }
}

/**
 * A call's RTP socket on address:port, sending to IPv4 literals only: opened by the native module when it can
 * send batches from many sockets (its descriptor is what the batch sends from), else by dgram (fd -1). Null when
 * the port is taken.
 */
async function bindRtp(address: string, port: number): Promise<{ socket: dgram.Socket; fd: number } | null> {
  const mod = nativeUdp();
  if (!mod?.sendEach) {
    const socket = await bindUdp(address, port, true);
    return socket && { socket, fd: -1 };
  }
  let fd: number;
  try {
    fd = mod.openUdp4(address, port, false);
  } catch {
    return null; // taken (or an address this machine does not have: every port fails alike, as with dgram)
  }
  const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
  return new Promise((resolve) => {
    const fail = () => {
      try {
        socket.close(); // closes the descriptor it adopted
      } catch {
        // never bound
      }
      resolve(null);
    };
    socket.once('error', fail);
    socket.bind({ fd }, () => {
      socket.off('error', fail);
      resolve({ socket, fd });
    });
  });
}

export interface RtpSessionCounters {
  received: number;
  sent: number;
  sendErrors: number;
  rtcp: number;
  relatched: number;
  dropped: { malformed: number; oversize: number; otherSource: number };
}

export class RtpSession {
  readonly port: number;
  /** Each valid RTP packet from the phone, parsed (the view is reused: read it before returning). */
  onRtp: ((view: RtpView) => void) | undefined;
  /** Each RTCP datagram from the phone (on the RTCP port, or multiplexed on the RTP port). */
  onRtcp: ((buf: Buffer, len: number) => void) | undefined;
  readonly counters: RtpSessionCounters = { received: 0, sent: 0, sendErrors: 0, rtcp: 0, relatched: 0, dropped: { malformed: 0, oversize: 0, otherSource: 0 } };

  private readonly rtp: dgram.Socket;
  /** The RTP socket's descriptor (-1: dgram's own) and the batch its sends go through. */
  private readonly rtpFd: number;
  private readonly batch: SocketBatch;
  private readonly rtcp: dgram.Socket;
  private readonly range: RtpPortRange;
  private readonly view = new RtpView();
  private remoteAddress = '';
  private remotePort = 0;
  /** Where the phone's RTCP comes from (0: none yet; then we send ours to the RTP port + 1). */
  private rtcpAddress = '';
  private rtcpPort = 0;
  /** What the SDP said (kept apart from the latched address: a re-INVITE that says the same changes nothing). */
  private sdpAddress = '';
  private sdpPort = 0;
  private latched = false;
  /** A new source sending alone: its address and how many packets in a row. */
  private candidateAddress = '';
  private candidatePort = 0;
  private candidateCount = 0;
  /** The SSRC the latched source sends. */
  private ssrc = -1;
  private closed = false;
  private readonly onSent = (error: Error | null) => {
    if (error) this.counters.sendErrors++;
  };

  private constructor(range: RtpPortRange, rtp: dgram.Socket, rtcp: dgram.Socket, rtpFd: number, batch: SocketBatch) {
    this.range = range;
    this.rtp = rtp;
    this.rtpFd = rtpFd;
    this.batch = batch;
    this.rtcp = rtcp;
    this.port = rtp.address().port;
    rtp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    rtcp.on('message', (msg, rinfo) => this.onRtcpDatagram(msg, rinfo.address, rinfo.port));
    rtp.on('error', () => this.counters.sendErrors++);
    rtcp.on('error', () => {});
  }

  /** Opens a session on a free pair of `range`, bound to `bindAddress`; its RTP leaves through `batch`. */
  static async open(range: RtpPortRange, bindAddress: string, batch = socketBatch()): Promise<RtpSession> {
    const [rtp, rtcp, fd] = await range.open(bindAddress);
    return new RtpSession(range, rtp, rtcp, fd, batch);
  }

  /** Where the phone's SDP says it receives; a change (a re-INVITE moved it) drops the latched source. */
  setRemote(address: string, port: number): void {
    if (address === this.sdpAddress && port === this.sdpPort) return;
    this.sdpAddress = address;
    this.sdpPort = port;
    this.remoteAddress = address;
    this.remotePort = port;
    this.rtcpPort = 0;
    this.latched = false;
    this.candidateCount = 0;
  }

  /** Where packets go now ('' before any SDP or latching). */
  get remote(): { address: string; port: number; latched: boolean } {
    return { address: this.remoteAddress, port: this.remotePort, latched: this.latched };
  }

  /**
   * Sends buf[0..len) to the phone, at the end of this callback with the other calls' packets (the native batch:
   * copied, the buffer may be reused at once) or at once through dgram (the buffer must stay untouched until that
   * send is done: a ring of them).
   */
  send(buf: Buffer, len: number): void {
    if (this.closed || this.remotePort === 0 || this.remoteAddress === '' || this.remoteAddress === '0.0.0.0') return;
    try {
      this.batch.send(this.rtp, this.rtpFd, buf, len, this.remotePort, this.remoteAddress, this.onSent);
      this.counters.sent++;
    } catch {
      this.counters.sendErrors++;
    }
  }

  /** Sends an RTCP compound to the phone: where its RTCP comes from, else its RTP address and port + 1. */
  sendRtcp(buf: Buffer, len: number): void {
    const learned = this.rtcpPort !== 0 && this.rtcpAddress === this.remoteAddress;
    const address = this.remoteAddress;
    const port = learned ? this.rtcpPort : this.remotePort + 1;
    if (this.closed || this.remotePort === 0 || address === '' || address === '0.0.0.0') return;
    try {
      this.rtcp.send(buf, 0, len, port, address, this.onSent);
    } catch {
      this.counters.sendErrors++;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onRtp = undefined;
    this.onRtcp = undefined;
    if (this.rtpFd >= 0) this.batch.flush(); // its queued packets leave before its descriptor is given back
    this.rtp.close();
    this.rtcp.close();
    this.range.release(this.port);
  }

  private onDatagram(msg: Buffer, address: string, port: number): void {
    if (msg.length > MAX_DATAGRAM) {
      this.counters.dropped.oversize++;
      return;
    }
    if (msg.length >= 8 && isRtcp(msg)) {
      // rtcp-mux from the phone
      this.counters.rtcp++;
      if (this.latched && address === this.remoteAddress) this.onRtcp?.(msg, msg.length);
      return;
    }
    if (!this.view.parse(msg, msg.length)) {
      this.counters.dropped.malformed++;
      return;
    }
    if (!this.fromPhone(address, port, this.view.ssrc)) {
      this.counters.dropped.otherSource++;
      return;
    }
    this.counters.received++;
    this.onRtp?.(this.view);
  }

  /** RTCP on our RTCP port: from the phone's address (latched for RTP), it also tells where to send ours. */
  private onRtcpDatagram(msg: Buffer, address: string, port: number): void {
    this.counters.rtcp++;
    if (msg.length > MAX_DATAGRAM || !this.latched || address !== this.remoteAddress) return;
    this.rtcpAddress = address;
    this.rtcpPort = port;
    this.onRtcp?.(msg, msg.length);
  }

  /**
   * Latching: whether a packet from address:port with `ssrc` is the phone's (and where to send from now on). The
   * first packet latches. A packet from the SDP's address when the latched source is elsewhere latches at once
   * (the phone is where it said: what came first was someone else). Otherwise a new source replaces the latched
   * one only when it carries the phone's SSRC (its NAT mapping changed), LATCH_AFTER packets in a row: once the
   * phone's packets are latched, a stranger spraying ports takes nothing over.
   */
  private fromPhone(address: string, port: number, ssrc: number): boolean {
    if (!this.latched) {
      this.latched = true;
      return this.latch(address, port, ssrc);
    }
    if (address === this.remoteAddress && port === this.remotePort) return this.latch(address, port, ssrc);
    if (address === this.sdpAddress && this.remoteAddress !== this.sdpAddress) return this.relatch(address, port, ssrc);
    if (ssrc !== this.ssrc) return false;
    if (address === this.candidateAddress && port === this.candidatePort) this.candidateCount++;
    else {
      this.candidateAddress = address;
      this.candidatePort = port;
      this.candidateCount = 1;
    }
    return this.candidateCount >= LATCH_AFTER && this.relatch(address, port, ssrc);
  }

  /** Sends to address:port from now on (the source of the phone's packets); true. */
  private latch(address: string, port: number, ssrc: number): true {
    this.remoteAddress = address;
    this.remotePort = port;
    this.ssrc = ssrc;
    this.candidateCount = 0;
    return true;
  }

  private relatch(address: string, port: number, ssrc: number): true {
    this.counters.relatched++;
    return this.latch(address, port, ssrc);
  }
}
