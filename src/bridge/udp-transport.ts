// The one UDP socket of the bridge and the RFC 7983 demultiplexer its datagrams go through (ICE-TCP
// connections have their own: tcp-transport.ts). Three ways to run it, fastest first:
// - native receive and send (the default when the module is built: `nativeSend` and `nativeReceive` on): the
//   module opens the socket, reads datagrams in recvmmsg batches with their kernel arrival times (native/udp-receive.ts:
//   one JavaScript call per batch, each datagram a view of the module's arena, valid only while it is handled; what the
//   kernel dropped at a full socket is counted, dropSocketFull) and sends the datagrams queued during one turn of the
//   event loop (every ready socket, timer and message of it) in one sendmmsg call, made by the module itself in the
//   turn's check phase (native/udp-send-queue.c). No dgram socket at all.
// - native send only (`nativeReceive` off): dgram reads the module's socket, one datagram per callback, dated by
//   the kernel (one ioctl per datagram); sends as above.
// - dgram only (no module, or `nativeSend` off): Node reads and sends; arrival times are the event loop's.
// Every socket (the main one and the connected ones of a shared port) has a SOCKET_BUFFER_BYTES receive buffer: it
// alone holds what its peers send while the event loop is busy.
// Transport-cc feedback must report when a packet reached the host, not when a busy event loop got to it, or the
// sender's delay-based estimator reads CPU load as a congested network (arrivalMs).
import dgram from 'node:dgram';
import os from 'node:os';
import { literalLookup } from '../net/udp.ts';
import type { BridgeCounters } from './counters.ts';
import { ipv4Number, MAX_BATCH, nativeReceive, nativeUdp, SendBatch, type UdpBatchModule } from './native/udp-batch.ts';
import { DtlsTurns } from './native/dtls-turns.ts';
import { NativeReceiver, type NativeReceiverOptions } from './native/udp-receive.ts';
import { NativeRoutes, routesModule } from './native/routes.ts';
import type { SrtpSession } from './packet/srtp.ts';
import { AUDIO_LEVEL_EXT_ID, HIDDEN_EXT_ID, MID_EXT_ID, REPAIRED_RID_EXT_ID, TWCC_EXT_ID, VIDEO_PT } from '../protocol/media-profile.ts';

export interface DatagramSink {
  onStun(buf: Buffer, address: string, port: number): void;
  onDtls(buf: Buffer, address: string, port: number): void;
  /** Whether a DTLS datagram from address:port has a transport to go to (checked before one waits for its turn). */
  knowsDtlsPeer?(address: string, port: number): boolean;
  onMedia(buf: Buffer, address: string, port: number): void;
  /** A native batch is handled: what the thread's routes forwarded so far is booked first (native-forwarding.ts). */
  onForwarded?(): void;
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

/** How a transport reads and sends. */
export interface UdpTransportOptions {
  /** The socket shares its port with other threads' (SO_REUSEPORT); connected sockets need it. */
  reusePort?: boolean;
  /** The module (when built) opens the socket and sends in batches (default true). */
  nativeSend?: boolean;
  /** With nativeSend: the module reads too, in recvmmsg batches. */
  nativeReceive?: boolean;
  /** With both: the thread has routes (nativeRoutes) the module forwards with as it reads. */
  nativeForward?: boolean;
}

export class UdpTransport {
  /** Node's socket (null when the native module receives and sends: it owns the socket then). */
  socket: dgram.Socket | null = null;
  port = 0;
  private readonly sink: DatagramSink;
  private readonly counters: BridgeCounters;
  private readonly onSocketError: (error: Error) => void;
  private readonly onSent: (error: Error | null) => void;
  private sends = 0;
  private readonly reusePort: boolean;
  /** Set when the socket was opened natively (`nativeSend` and the module is built). */
  private batch: SendBatch | null = null;
  private readonly nativeSend: boolean;
  private readonly nativeReceive: boolean;
  private readonly nativeForward: boolean;
  /** The thread's native routes (`nativeForward`, with native receive and the send queue), else null. */
  private routes: NativeRoutes | null = null;
  private closed = false;
  /** The address the socket is bound to (connected sockets bind to it too). */
  private bindAddress = '0.0.0.0';
  /** How connected sockets open now are closed (see connectTo). */
  private readonly connected = new Set<() => void>();
  /** The native module when it opened the sockets (arrival times from the kernel), else null. */
  private mod: UdpBatchModule | null = null;
  /** The native socket's descriptor (-1: dgram's own). */
  private fd = -1;
  /** The main socket's batched reads (native receive), else null. */
  private receiver: NativeReceiver | null = null;
  /** The descriptor of the socket whose datagram dgram is handling (-1 outside a message callback). */
  private handlingFd = -1;
  /** The kernel arrival time of the datagram a native receiver is handling (-1 outside one). */
  private handlingArrival = -1;
  /**
   * What the module did to the datagram being handled, for its transport: 0 nothing (or outside a native batch),
   * > 0 unprotected it in place (the plaintext length), -1 refused it (a bad tag, a replay).
   */
  unprotectedLength = 0;
  /** The peers whose SRTP the native receive batches unprotect (one table for every receiver here), or null. */
  private srtpPeers: unknown = null;
  /** DTLS datagrams of native batches, each handled on its own turn after the batch. */
  private readonly dtlsTurns: DtlsTurns;
  /** One datagram sent natively outside a batch (too large for a slot, or the batch was full). */
  private readonly one = { offsets: new Int32Array(1), lengths: new Int32Array(1), addrs: new Uint32Array(1), ports: new Uint16Array(1) };
  /** True while a datagram of a native batch is handled (its bytes are the batch's, reused by the next one). */
  private inNativeBatch = false;
  /**
   * Addresses whose SRTP peer changed while a native batch was handled (a connectivity check moved one to another
   * transport): the module unprotected the rest of that batch with the keys it had then, so what it unprotected of
   * theirs is dropped, never handed to the new transport. Null while there is none.
   */
  private remappedInBatch: Set<string> | null = null;
  private readonly onNativeDatagram = (buf: Buffer, address: string, port: number, arrivalMs: number, unprotected: number): void => {
    this.handlingArrival = arrivalMs;
    if (unprotected !== 0 && this.remappedInBatch !== null && this.remappedInBatch.has(`${address}:${port}`)) unprotected = -1;
    this.unprotectedLength = unprotected;
    this.inNativeBatch = true;
    this.demultiplex(buf, address, port);
    this.inNativeBatch = false;
    this.unprotectedLength = 0;
  };
  private readonly onTruncated = (): void => {
    this.counters.packetsIn++;
    this.counters.dropMalformed++;
  };
  private readonly onBatchEnd = (): void => {
    this.remappedInBatch = null;
  };
  private readonly onForwarded = (): void => {
    this.sink.onForwarded?.();
  };
  /** Datagrams the kernel dropped at a natively read socket (its receive buffer was full). */
  private readonly onKernelDrops = (count: number): void => {
    this.counters.dropSocketFull += count;
  };

  constructor(sink: DatagramSink, counters: BridgeCounters, onSocketError: (error: Error) => void, opts: UdpTransportOptions = {}) {
    this.sink = sink;
    this.reusePort = opts.reusePort ?? false;
    this.nativeSend = opts.nativeSend ?? true;
    this.nativeReceive = opts.nativeReceive ?? false;
    this.nativeForward = opts.nativeForward ?? false;
    this.counters = counters;
    this.onSocketError = onSocketError;
    this.dtlsTurns = new DtlsTurns((buf, address, port) => sink.onDtls(buf, address, port), counters);
    this.onSent = (error) => {
      if (error) counters.sendErrors++;
    };
  }

  /** The thread's native routes (after bind, with `nativeForward`, native receive and the module's send queue), else null. */
  get nativeRoutes(): NativeRoutes | null {
    return this.routes;
  }

  /** Whether datagrams are read in native batches (after bind). */
  get batchedReceive(): boolean {
    return this.receiver !== null;
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
      this.batch = new SendBatch(mod, fd, true);
      this.mod = mod;
      this.fd = fd;
      const rmod = this.nativeReceive ? nativeReceive(mod) : null;
      if (rmod !== null) {
        try {
          this.srtpPeers = rmod.createSrtpPeers?.() ?? null;
          const routes = this.nativeForward && this.srtpPeers !== null ? routesModule(rmod) : null;
          const queue = this.batch.queueHandle;
          if (routes !== null && queue !== null) {
            this.routes = new NativeRoutes(routes, queue, {
              twcc: TWCC_EXT_ID,
              mid: MID_EXT_ID,
              repairedRid: REPAIRED_RID_EXT_ID,
              hidden: HIDDEN_EXT_ID,
              vp8PayloadType: VIDEO_PT,
              audioLevel: AUDIO_LEVEL_EXT_ID,
            });
          }
          this.receiver = new NativeReceiver(rmod, fd, SOCKET_BUFFER_BYTES, this.onNativeDatagram, this.onTruncated, (errno) =>
            this.onSocketError(new Error(`media socket: errno ${errno}`)),
            this.receiverOptions(),
          );
          this.port = rmod.localPort(fd);
          return Promise.resolve(this.port);
        } catch (e) {
          // the receiver owns the socket once made; before, it is closed here
          if (this.receiver !== null) this.receiver.close();
          else rmod.closeFd(fd);
          this.receiver = null;
          this.srtpPeers = null;
          this.routes = null;
          this.batch = null;
          this.mod = null;
          this.fd = -1;
          return Promise.reject(e as Error);
        }
      }
    }
    // Every address the bridge sends to is an IPv4 literal from a received datagram: skip dns.lookup
    // (and the extra tick it costs per send).
    const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup, reusePort: this.reusePort });
    this.socket = socket;
    socket.on('message', this.messageHandler(fd));
    socket.on('error', this.onSocketError);
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      socket.once('error', onError);
      const bound = () => {
        socket.off('error', onError);
        try {
          socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
          socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
        } catch {
          // the kernel caps buffer sizes; the defaults work, just with less headroom
        }
        this.port = socket.address().port;
        resolve(this.port);
      };
      if (fd >= 0) socket.bind({ fd }, bound);
      else socket.bind(port, address, bound);
    });
  }

  /**
   * Opens a socket on the same address and port (SO_REUSEPORT: the port is shared) connected to
   * address:port: the kernel gives it every datagram from that remote address from now on, whichever socket
   * of the group the address hashes to (Linux prefers a connected socket). Its datagrams go through the same
   * demultiplexer; sending stays on the main socket. Resolves to a function that closes it. A later error on
   * it (an ICMP port unreachable from the peer) closes it: the main socket still receives.
   */
  connectTo(address: string, port: number): Promise<() => void> {
    if (this.closed || !this.reusePort) return Promise.reject(new Error('no shared media port to connect on'));
    if (!CONNECTED_SOCKETS_WORK) return Promise.reject(new Error('connected sockets of a shared port need Linux 5.3 or later'));
    const rmod = this.receiver !== null ? nativeReceive(this.mod) : null;
    if (rmod !== null) return this.connectNative(rmod, address, port);
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
    const close = () => {
      if (!this.connected.delete(close)) return;
      try {
        s.close();
      } catch {
        // already closed
      }
    };
    this.connected.add(close);
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        close();
        reject(e);
      };
      s.once('error', fail);
      const bound = () => {
        try {
          // as the main socket's (see connectNative)
          s.setRecvBufferSize(SOCKET_BUFFER_BYTES);
        } catch {
          // the kernel caps buffer sizes; the default works, with less headroom
        }
        s.connect(port, address, (error?: Error) => {
          s.off('error', fail);
          if (error) fail(error);
          else if (this.closed) fail(new Error('closed'));
          else {
            s.on('error', close);
            resolve(close);
          }
        });
      };
      if (fd >= 0) s.bind({ fd }, bound);
      else s.bind(this.port, this.bindAddress, bound);
    });
  }

  /** connectTo with the module's batched reads. */
  private connectNative(rmod: NonNullable<ReturnType<typeof nativeReceive>>, address: string, port: number): Promise<() => void> {
    let fd = -1;
    let receiver: NativeReceiver | null = null;
    const close = () => {
      if (!this.connected.delete(close)) return;
      receiver?.close();
    };
    try {
      fd = rmod.openUdp4(this.bindAddress, this.port, true);
      rmod.connectUdp4(fd, address, port);
      // an error (the peer's ICMP port unreachable: ECONNREFUSED) ends this socket; the main one still receives
      // as large a receive buffer as the main socket's: this one alone now holds everything the peer sends while
      // the event loop is busy (the kernel's default, ~208 KiB, is under 100 datagrams: a stall of a few hundred ms)
      receiver = new NativeReceiver(rmod, fd, SOCKET_BUFFER_BYTES, this.onNativeDatagram, this.onTruncated, close, this.receiverOptions());
    } catch (e) {
      if (receiver === null && fd >= 0) rmod.closeFd(fd);
      return Promise.reject(e as Error);
    }
    this.connected.add(close);
    return Promise.resolve(close);
  }

  /**
   * From now on the native receive batches unprotect what address:port sends with `session`'s contexts (the
   * receiving session of the transport the bridge maps that address to), or no longer (null, or a session without
   * native contexts). Only with native receive and the native SRTP module; an address that is not IPv4, or a full
   * table, leaves the datagrams to the transport, as without it. `sender`: the transport's id in the thread's
   * native routes (WebRtcTransport.nativeId; -1: none), what the module finds its routes by.
   */
  setSrtpPeer(address: string, port: number, session: SrtpSession | null, sender = -1): void {
    const peers = this.srtpPeers;
    const mod = this.mod;
    if (peers === null || mod === null || this.closed) return;
    const addr = ipv4Number(address);
    if (addr < 0) return;
    if (this.inNativeBatch) (this.remappedInBatch ??= new Set()).add(`${address}:${port}`);
    const ctx = session?.nativeContexts ?? null;
    let mapped = false;
    try {
      mapped = ctx !== null && mod.setSrtpPeer?.(peers, addr, port, ctx.rtp, ctx.rtcp, sender) === true;
    } catch {
      // contexts the module refuses (another build's layout, by their type tag): the transport unprotects them
    }
    // never an older mapping left behind: its keys may be another transport's now
    if (!mapped) mod.deleteSrtpPeer?.(peers, addr, port);
  }

  /** The options of every native receiver of this transport. */
  private receiverOptions(): NativeReceiverOptions {
    return {
      onKernelDrops: this.onKernelDrops,
      srtpPeers: this.srtpPeers ?? undefined,
      onBatchEnd: this.onBatchEnd,
      routes: this.routes?.handle,
      onForwarded: this.onForwarded,
    };
  }

  /**
   * When the datagram being handled reached this host, in performance.now() milliseconds: the kernel's
   * receive time when the native module opened the socket, else now. Valid only while a datagram of this
   * transport is being handled (synchronously, from its message callback). `now`: the caller's
   * performance.now() for this packet, when it has one.
   */
  arrivalMs(now: number = performance.now()): number {
    // native receive: the batch brought each datagram's time
    if (this.inNativeBatch) return this.handlingArrival < now ? this.handlingArrival : now;
    // dgram reading the module's socket: libuv reads one datagram and runs the callback before it reads the
    // next, and the kernel keeps the time of the last one read
    if (this.handlingFd < 0 || this.mod === null) return now;
    const age = this.mod.receiveAgeMs(this.handlingFd);
    // no stamp yet, or the wall clock was stepped meanwhile: now is the best guess
    return age >= 0 && age < MAX_ARRIVAL_AGE_MS ? now - age : now;
  }

  /** dgram's handler for one socket's datagrams (fd: its descriptor when native, for arrivalMs). */
  private messageHandler(fd: number): (msg: Buffer, rinfo: dgram.RemoteInfo) => void {
    return (msg, rinfo) => {
      this.handlingFd = fd;
      this.demultiplex(msg, rinfo.address, rinfo.port);
      this.handlingFd = -1;
    };
  }

  /** RFC 7983 demultiplexing. Never throws: a failure drops the datagram and is counted. */
  private demultiplex(msg: Buffer, address: string, port: number): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += msg.length;
    try {
      if (msg.length === 0) {
        c.dropUnknownType++;
        return;
      }
      const b0 = msg[0];
      if (b0 >= 128 && b0 <= 191) this.sink.onMedia(msg, address, port);
      else if (b0 <= 3) this.sink.onStun(msg, address, port);
      else if (b0 >= 20 && b0 <= 63) {
        if (!this.inNativeBatch) this.sink.onDtls(msg, address, port);
        // only a known peer's record waits for its turn: a stranger's junk must not fill the queue of everyone's handshakes
        else if (this.sink.knowsDtlsPeer?.(address, port) === false) c.dropUnknownAddress++;
        else this.dtlsTurns.add(msg, address, port);
      }
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
        // the datagrams queued until this turn of the event loop has handled every socket that was ready join it;
        // they leave together right after (the check phase), one system call for what several received datagrams,
        // timers and messages sent. With the module's send queue they leave by themselves in the check phase;
        // queued outside the poll phase (a timer, an immediate), an immediate is queued too, so that the turn goes
        // on to its check phase without waiting for I/O in its poll phase (and it sends them without the queue)
        if (batch.count === 1) {
          if (this.inNativeBatch && batch.sendsInCheckPhase) this.syncCounters();
          else setImmediate(this.flush);
        }
        this.counters.packetsOut++;
        this.counters.bytesOut += length;
        return;
      }
    }
    if (this.receiver !== null) {
      this.sendOne(buf, offset, length, port, address);
      return;
    }
    // never bound (the control thread of a bridge with media workers): dgram binds a port of its own, as it did
    const socket = (this.socket ??= this.unboundSocket());
    try {
      if ((++this.sends & (SEND_ERROR_SAMPLE - 1)) === 0) socket.send(buf, offset, length, port, address, this.onSent);
      else socket.send(buf, offset, length, port, address);
      this.counters.udpSendCalls++;
      this.counters.packetsOut++;
      this.counters.bytesOut += length;
    } catch {
      this.counters.sendErrors++;
    }
  }

  private unboundSocket(): dgram.Socket {
    const socket = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
    socket.on('error', this.onSocketError);
    return socket;
  }

  /** One datagram the batch did not take (larger than its slots), sent now by the module (no dgram socket). */
  private sendOne(buf: Buffer, offset: number, length: number, port: number, address: string): void {
    const addr = ipv4Number(address);
    if (addr < 0 || this.mod === null) {
      this.counters.sendErrors++;
      return;
    }
    // what was queued leaves first, in order
    this.flush();
    const one = this.one;
    one.offsets[0] = buf.byteOffset + offset;
    one.lengths[0] = length;
    one.addrs[0] = addr;
    one.ports[0] = port;
    this.counters.udpSendCalls++;
    try {
      if (this.mod.sendBatch(this.fd, buf.buffer as ArrayBuffer, one.offsets, one.lengths, one.addrs, one.ports, 1) === 1) {
        this.counters.packetsOut++;
        this.counters.bytesOut += length;
        return;
      }
    } catch {
      // a buffer on shared memory (not an ArrayBuffer): counted below
    }
    this.counters.sendErrors++;
  }

  /** Sends the queued datagrams (native batches only). */
  readonly flush = (): void => {
    const batch = this.batch;
    if (batch === null || batch.count === 0 || this.closed) return;
    this.counters.udpSendCalls++;
    this.counters.sendErrors += batch.flush();
  };

  private readonly checkPhaseCounts = { calls: 0, failures: 0 };

  /**
   * Adds the send calls and failures of the module's send queue (the check phase's sends) to the counters. Done
   * as a turn queues its first datagram; whoever reads the counters exactly calls it first.
   */
  syncCounters(): void {
    const batch = this.batch;
    if (batch === null || !batch.sendsInCheckPhase) return;
    const c = this.checkPhaseCounts;
    batch.takeCheckPhaseCounts(c);
    this.counters.udpSendCalls += c.calls;
    this.counters.sendErrors += c.failures;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.routes !== null) this.routes.on = false;
    this.flush();
    // the check phase's last counts, then the send queue stops (before its socket closes)
    this.syncCounters();
    this.batch?.close();
    this.closed = true;
    this.dtlsTurns.stop();
    for (const close of [...this.connected]) close();
    if (this.receiver !== null) {
      // closes the socket too: nothing is handled after this
      this.receiver.close();
      return Promise.resolve();
    }
    const socket = this.socket;
    if (socket === null) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
