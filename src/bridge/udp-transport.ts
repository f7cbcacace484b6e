// The one UDP socket of the bridge and the RFC 7983 demultiplexer in its message handler (ICE-TCP
// connections have their own: tcp-transport.ts). With the native module built
// (native/udp-batch.ts) the socket is opened by it and the datagrams sent during one callback leave together
// in one sendmmsg call; otherwise each goes through dgram. The module also dates each received datagram by
// the kernel's clock (arrivalMs): transport-cc feedback must report when a packet reached the host, not when a
// busy event loop got to it, or the sender's delay-based estimator reads CPU load as a congested network.
import dgram from 'node:dgram';
import os from 'node:os';
import { literalLookup } from '../net/udp.ts';
import type { BridgeCounters } from './counters.ts';
import { MAX_BATCH, nativeUdp, SendBatch, type UdpBatchModule } from './native/udp-batch.ts';

export interface DatagramSink {
  onStun(buf: Buffer, address: string, port: number): void;
  onDtls(buf: Buffer, address: string, port: number): void;
  onMedia(buf: Buffer, address: string, port: number): void;
}

const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** One send in this many asks for its completion (Node reports failures only to a callback; see counters.ts). */
const SEND_ERROR_SAMPLE = 16;
/** A kernel arrival time older than this is not believed (the wall clock was stepped): now is used. */
const MAX_ARRIVAL_AGE_MS = 5000;

/**
 * Whether this kernel gives a connected socket of a SO_REUSEPORT group all datagrams from its peer (and no
 * one else's): Linux since 5.3 ("udp: correct reuseport selection with connected sockets").
 */
export function connectedSocketsWork(release = os.release(), platform = process.platform): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (platform !== 'linux' || m === null) return false;
  const major = Number(m[1]);
  return major > 5 || (major === 5 && Number(m[2]) >= 3);
}

/** connectedSocketsWork() on this machine. */
export const CONNECTED_SOCKETS_WORK = connectedSocketsWork();

export class UdpTransport {
  readonly socket: dgram.Socket;
  port = 0;
  private readonly sink: DatagramSink;
  private readonly counters: BridgeCounters;
  private readonly onSent: (error: Error | null) => void;
  private sends = 0;
  private readonly reusePort: boolean;
  /** Set when the socket was opened natively (`nativeSend` and the module is built). */
  private batch: SendBatch | null = null;
  private readonly nativeSend: boolean;
  private closed = false;
  /** The address the socket is bound to (connected sockets bind to it too). */
  private bindAddress = '0.0.0.0';
  /** Connected sockets open now (see connectTo). */
  private readonly connected = new Set<dgram.Socket>();
  /** The native module when it opened the sockets (arrival times from the kernel), else null. */
  private mod: UdpBatchModule | null = null;
  /** The descriptor of the socket whose datagram is being handled (-1 outside a message callback). */
  private handlingFd = -1;
  private readonly onMainMessage: (msg: Buffer, rinfo: dgram.RemoteInfo) => void;

  constructor(
    sink: DatagramSink,
    counters: BridgeCounters,
    onSocketError: (error: Error) => void,
    reusePort = false,
    nativeSend = true,
  ) {
    this.sink = sink;
    this.reusePort = reusePort;
    this.nativeSend = nativeSend;
    this.counters = counters;
    // Every address the bridge sends to is an IPv4 literal from a received datagram: skip dns.lookup
    // (and the extra tick it costs per send).
    this.socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup, reusePort });
    this.onMainMessage = this.messageHandler(-1);
    this.socket.on('message', this.onMainMessage);
    this.socket.on('error', onSocketError);
    this.onSent = (error) => {
      if (error) counters.sendErrors++;
    };
  }

  bind(address: string, port: number): Promise<number> {
    this.bindAddress = address;
    const mod = this.nativeSend ? nativeUdp() : null;
    let fd = -1;
    if (mod !== null) {
      try {
        fd = mod.openUdp4(address, port, this.reusePort);
      } catch (e) {
        return Promise.reject(e as Error);
      }
      this.batch = new SendBatch(mod, fd);
      this.mod = mod;
      this.socket.off('message', this.onMainMessage);
      this.socket.on('message', this.messageHandler(fd));
    }
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.socket.once('error', onError);
      const bound = () => {
        this.socket.off('error', onError);
        try {
          this.socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
          this.socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
        } catch {
          // the kernel caps buffer sizes; the defaults work, just with less headroom
        }
        this.port = this.socket.address().port;
        resolve(this.port);
      };
      if (fd >= 0) this.socket.bind({ fd }, bound);
      else this.socket.bind(port, address, bound);
    });
  }

  /**
   * Opens a socket on the same address and port (SO_REUSEPORT: the port is shared) connected to
   * address:port: the kernel gives it every datagram from that remote address from now on, whichever socket
   * of the group the address hashes to (Linux prefers a connected socket). Its datagrams go through the same
   * demultiplexer; sending stays on the main socket. Resolves to a function that closes it.
   */
  connectTo(address: string, port: number): Promise<() => void> {
    if (this.closed || !this.reusePort) return Promise.reject(new Error('no shared media port to connect on'));
    if (!CONNECTED_SOCKETS_WORK) return Promise.reject(new Error('connected sockets of a shared port need Linux 5.3 or later'));
    const s = dgram.createSocket({ type: 'udp4', lookup: literalLookup, reusePort: true });
    // opened by the native module when it is there, so its datagrams are dated by the kernel too
    let fd = -1;
    if (this.mod !== null) {
      try {
        fd = this.mod.openUdp4(this.bindAddress, this.port, true);
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    s.on('message', this.messageHandler(fd));
    this.connected.add(s);
    const close = () => {
      if (!this.connected.delete(s)) return;
      try {
        s.close();
      } catch {
        // already closed
      }
    };
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        close();
        reject(e);
      };
      s.once('error', fail);
      const bound = () => {
        s.connect(port, address, (error?: Error) => {
          s.off('error', fail);
          if (error) fail(error);
          else if (this.closed) fail(new Error('closed'));
          else {
            // a later error (an ICMP unreachable from the peer) only ends this socket: the main one still receives
            s.on('error', close);
            resolve(close);
          }
        });
      };
      if (fd >= 0) s.bind({ fd }, bound);
      else s.bind(this.port, this.bindAddress, bound);
    });
  }

  /**
   * When the datagram being handled reached this host, in performance.now() milliseconds: the kernel's
   * receive time when the native module opened the socket, else now. Valid only while a datagram of this
   * transport is being handled (synchronously, from its message callback): libuv reads one datagram and runs
   * the callback before it reads the next, and the kernel keeps the time of the last one read. `now`: the
   * caller's performance.now() for this packet, when it has one.
   */
  arrivalMs(now: number = performance.now()): number {
    if (this.handlingFd < 0 || this.mod === null) return now;
    const age = this.mod.receiveAgeMs(this.handlingFd);
    // no stamp yet, or the wall clock was stepped meanwhile: now is the best guess
    return age >= 0 && age < MAX_ARRIVAL_AGE_MS ? now - age : now;
  }

  /** RFC 7983 demultiplexing of one socket's datagrams (fd: its descriptor when native, for arrivalMs). */
  private messageHandler(fd: number): (msg: Buffer, rinfo: dgram.RemoteInfo) => void {
    return (msg, rinfo) => {
      this.handlingFd = fd;
      this.demultiplex(msg, rinfo);
      this.handlingFd = -1;
    };
  }

  /** Never throws: a failure drops the datagram and is counted. */
  private demultiplex(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += msg.length;
    try {
      if (msg.length === 0) {
        c.dropUnknownType++;
        return;
      }
      const b0 = msg[0];
      if (b0 >= 128 && b0 <= 191) this.sink.onMedia(msg, rinfo.address, rinfo.port);
      else if (b0 <= 3) this.sink.onStun(msg, rinfo.address, rinfo.port);
      else if (b0 >= 20 && b0 <= 63) this.sink.onDtls(msg, rinfo.address, rinfo.port);
      else c.dropUnknownType++;
    } catch {
      c.dropError++;
    }
  }

  send(buf: Buffer, offset: number, length: number, port: number, address: string): void {
    if (this.closed) return;
    const batch = this.batch;
    if (batch !== null) {
      if (batch.count === MAX_BATCH) this.flush();
      if (batch.add(buf, offset, length, port, address)) {
        // the rest of this callback's datagrams join it; they leave when it returns
        if (batch.count === 1) queueMicrotask(this.flush);
        this.counters.packetsOut++;
        this.counters.bytesOut += length;
        return;
      }
    }
    try {
      if ((++this.sends & (SEND_ERROR_SAMPLE - 1)) === 0) this.socket.send(buf, offset, length, port, address, this.onSent);
      else this.socket.send(buf, offset, length, port, address);
      this.counters.packetsOut++;
      this.counters.bytesOut += length;
    } catch {
      this.counters.sendErrors++;
    }
  }

  /** Sends the queued datagrams (native batches only). */
  readonly flush = (): void => {
    const batch = this.batch;
    if (batch === null || batch.count === 0 || this.closed) return;
    this.counters.sendErrors += batch.flush();
  };

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    this.closed = true;
    for (const s of [...this.connected]) {
      this.connected.delete(s);
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
