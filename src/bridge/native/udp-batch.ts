// The optional native send path (native/udp-batch.c, built by scripts/build-native.sh): datagrams queued during
// one event-loop callback leave in one sendmmsg(2) call (the bridge's one socket, SendBatch here), or in one call
// of sendto(2) each from their own sockets (the SIP gateway's calls, src/sip/media/socket-batch.ts). When the
// module is not built (no C compiler, not Linux) or `nativeSend` is off, each datagram goes through dgram.
import type { NativeSrtpContext } from './srtp.ts';
import { createRequire } from 'node:module';

export interface UdpBatchModule {
  openUdp4(address: string, port: number, reusePort: boolean): number;
  sendBatch(
    fd: number,
    arena: ArrayBuffer,
    offsets: Int32Array,
    lengths: Int32Array,
    addrs: Uint32Array,
    ports: Uint16Array,
    count: number,
  ): number;
  /** As sendBatch, datagram i from its own socket fds[i]; absent in a module built before it (then: dgram). */
  sendEach?: (
    fds: Int32Array,
    arena: ArrayBuffer,
    offsets: Int32Array,
    lengths: Int32Array,
    addrs: Uint32Array,
    ports: Uint16Array,
    count: number,
  ) => number;
  /** How long ago (ms, kernel clock) the last datagram read from fd arrived; -1 when unknown. */
  receiveAgeMs(fd: number): number;
  /** Names the calling thread (15 bytes at most) for top -H, perf and /proc; absent in a module built before it. */
  setThreadName?: (name: string) => boolean;
  // The receive side (native/udp-receive.c, used through ./udp-receive.ts); absent in a module built before it.
  /** Starts batched reads of fd: onBatch(count) after each recvmmsg, onBatch(-errno) on a socket error. */
  openReceiver?: (
    fd: number,
    arena: ArrayBuffer,
    meta: Uint32Array,
    ages: Float64Array,
    bufferBytes: number,
    onBatch: (count: number) => void,
    srtpPeers?: unknown,
    routes?: unknown,
  ) => unknown;
  /** Stops a receiver and closes its socket (idempotent). */
  closeReceiver?: (receiver: unknown) => void;
  connectUdp4?: (fd: number, address: string, port: number) => void;
  localPort?: (fd: number) => number;
  /** Closes a descriptor the module opened and no receiver owns. */
  closeFd?: (fd: number) => void;
  // The SRTP peers a receive batch unprotects (native/srtp-peers.c); absent in a module built before them.
  /** A table of peers (one per thread), given to openReceiver. */
  createSrtpPeers?: () => unknown;
  /** Maps address:port (IPv4, host order) to a session's native contexts (RTP's, RTCP's); false: the table is full. */
  setSrtpPeer?: (peers: unknown, address: number, port: number, rtpCtx: NativeSrtpContext, rtcpCtx: NativeSrtpContext, sender?: number) => boolean;
  deleteSrtpPeer?: (peers: unknown, address: number, port: number) => void;
  // The send queue (native/udp-send-queue.c); absent in a module built before it.
  /** Sends what is queued in the arrays (state[0] datagrams) in each check phase of this thread's event loop. */
  openSendQueue?: (
    fd: number,
    arena: ArrayBuffer,
    offsets: Int32Array,
    lengths: Int32Array,
    addrs: Uint32Array,
    ports: Uint16Array,
    state: Int32Array,
  ) => unknown;
  /** Stops a send queue (its socket stays open). Idempotent. */
  closeSendQueue?: (queue: unknown) => void;
  /** Entries of a send queue's state: datagrams queued, datagrams that failed, send calls. */
  SEND_QUEUE_STATE?: number;
  /** Datagrams per batch and bytes per datagram of a receiver's arena. */
  RECV_BATCH?: number;
  RECV_SLOT?: number;
  /** Entries of a receiver's meta array: 4 per datagram, then the socket's kernel drop count (SO_RXQ_OVFL). */
  RECV_META?: number;
  // The native data plane's VP8 rewrite (native/vp8-rewrite.c) on a Vp8Rewriter's own state; absent in an older build.
  /** Rewrites packet[0..len) of simulcast layer `layer` in place: 1 send it, 0 do not, -1 not a valid VP8 packet of `vp8PayloadType`. */
  vp8Rewrite?: (state: ArrayBuffer, history: ArrayBuffer, packet: Uint8Array, len: number, layer: number, nowMs: number, vp8PayloadType: number) => number;
  /** The rewriter layout the build has: fields, state bytes, lastMs offset, history entries, the history's offsets (out, ts, in, pic, layer, tl0), history bytes. */
  VP8_REWRITER_LAYOUT?: number[];
  // The native data plane's routes (native/routes.c, used through ./routes.ts); absent in an older build.
  createRoutes?: (queue: unknown, state: Int32Array, log: Float64Array, store: ArrayBuffer, ids: Int32Array) => unknown;
  setRouteTransport?: (routes: unknown, id: number, ctx: NativeSrtpContext | null, state: Int32Array) => boolean;
  setRoute?: (
    routes: unknown,
    sender: number,
    ssrc: number,
    layer: number,
    layerId: number,
    group: number,
    outs: Int32Array,
    states: ArrayBuffer[],
    histories: ArrayBuffer[],
  ) => boolean;
  clearRoutes?: (routes: unknown) => void;
  setRoutesClock?: (routes: unknown, nowMs: number) => void;
}

/** The module with its receive side (every function the native receive path calls). */
export type UdpReceiveModule = UdpBatchModule & Required<Pick<UdpBatchModule, 'openReceiver' | 'closeReceiver' | 'connectUdp4' | 'localPort' | 'closeFd' | 'RECV_BATCH' | 'RECV_SLOT' | 'RECV_META'>>;

/** The module when it can receive in batches too, else null. */
export function nativeReceive(mod: UdpBatchModule | null): UdpReceiveModule | null {
  return mod !== null && typeof mod.openReceiver === 'function' && typeof mod.RECV_META === 'number' ? (mod as UdpReceiveModule) : null;
}

let loaded: UdpBatchModule | null | undefined;

/** The native module, or null when it is not built here (loaded once per thread). */
export function nativeUdp(): UdpBatchModule | null {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('../../../native/build/udp-batch.node') as UdpBatchModule;
      // a module built before receiveAgeMs existed (an old build left in native/build): the send path only
      if (typeof loaded.receiveAgeMs !== 'function') loaded = { ...loaded, receiveAgeMs: () => -1 };
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** Datagrams queued at most before a send (as many as one sendmmsg call of the module takes). */
export const MAX_BATCH = 256;
/** Largest datagram queued (bigger ones go through dgram). */
export const BATCH_SLOT = 1536;

/** IPv4 dotted quad -> 32-bit number; -1 when it is not one. */
export function ipv4Number(address: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + part;
}

/**
 * Datagrams waiting for one sendmmsg: each is copied into its own slot of one arena (so the caller may reuse
 * its buffer at once) with its destination. No allocation per datagram.
 * With `checkPhase` (and a module that has the send queue) what is queued also leaves by itself in the check phase
 * of the event-loop turn that queued it, with no call back into JavaScript (native/udp-send-queue.c). What the
 * caller queues outside the poll phase (a timer) would wait in the poll phase for I/O first: it queues an immediate
 * then, or flushes. The check phase's send calls and failures are collected with takeCheckPhaseCounts().
 */
export class SendBatch {
  private readonly mod: UdpBatchModule;
  private readonly fd: number;
  private readonly arena = new ArrayBuffer(MAX_BATCH * BATCH_SLOT);
  private readonly bytes = Buffer.from(this.arena);
  private readonly offsets = new Int32Array(MAX_BATCH);
  private readonly lengths = new Int32Array(MAX_BATCH);
  private readonly addrs = new Uint32Array(MAX_BATCH);
  private readonly ports = new Uint16Array(MAX_BATCH);
  private readonly addressCache = new Map<string, number>();
  /** [0] datagrams queued; [1] and [2]: datagrams that failed and send calls made in the check phase */
  private readonly state = new Int32Array(3);
  /** The native send queue (checkPhase), else null. */
  private queue: unknown = null;

  constructor(mod: UdpBatchModule, fd: number, checkPhase = false) {
    this.mod = mod;
    this.fd = fd;
    for (let i = 0; i < MAX_BATCH; i++) this.offsets[i] = i * BATCH_SLOT;
    if (checkPhase && typeof mod.openSendQueue === 'function' && mod.SEND_QUEUE_STATE === this.state.length) {
      this.queue = mod.openSendQueue(fd, this.arena, this.offsets, this.lengths, this.addrs, this.ports, this.state);
    }
  }

  /** Datagrams queued and not sent yet. */
  get count(): number {
    return this.state[0]!;
  }

  /** Whether what is queued leaves by itself in the check phase of the turn that queued it. */
  get sendsInCheckPhase(): boolean {
    return this.queue !== null;
  }

  /** The module's send queue (the native data plane's routes queue on it too), null without one. */
  get queueHandle(): unknown {
    return this.queue;
  }

  /** Queues buf[offset, offset + length) to address:port; false when it cannot be queued (send it otherwise). */
  add(buf: Buffer, offset: number, length: number, port: number, address: string): boolean {
    const state = this.state;
    const i = state[0]!;
    if (length > BATCH_SLOT || i === MAX_BATCH) return false;
    let addr = this.addressCache.get(address);
    if (addr === undefined) {
      addr = ipv4Number(address);
      if (this.addressCache.size >= 4096) this.addressCache.clear();
      this.addressCache.set(address, addr);
    }
    if (addr < 0) return false;
    buf.copy(this.bytes, i * BATCH_SLOT, offset, offset + length);
    this.lengths[i] = length;
    this.addrs[i] = addr;
    this.ports[i] = port;
    state[0] = i + 1;
    return true;
  }

  /** Sends what is queued now; returns how many datagrams failed (refused, or the socket buffer was full). */
  flush(): number {
    const n = this.state[0]!;
    if (n === 0) return 0;
    this.state[0] = 0;
    return n - this.mod.sendBatch(this.fd, this.arena, this.offsets, this.lengths, this.addrs, this.ports, n);
  }

  /** The check phase's send calls and failed datagrams since the last call (0 and 0 without a send queue). */
  takeCheckPhaseCounts(into: { calls: number; failures: number }): void {
    const state = this.state;
    into.calls = state[2]!;
    into.failures = state[1]!;
    state[1] = 0;
    state[2] = 0;
  }

  /** Stops the check phase's sends (before the socket closes). What is still queued is dropped: flush() first. */
  close(): void {
    if (this.queue === null) return;
    this.mod.closeSendQueue?.(this.queue);
    this.queue = null;
    this.state[0] = 0;
  }
}
