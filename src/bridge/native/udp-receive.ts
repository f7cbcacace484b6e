// The native receive path of a bridge socket (native/udp-receive.c): the event loop wakes when the socket is
// readable, one recvmmsg(2) reads up to RECV_BATCH datagrams into an arena shared with the module, and one call
// hands the batch to JavaScript, which hands each datagram on as a Buffer view of its slot. Instead of dgram's one
// read, one Buffer, one rinfo object with an address string and one callback per datagram.
//
// Invariant for every consumer: a datagram's bytes are valid only during the synchronous call that handles it;
// the arena is written by the next batch. Whatever is kept past it is copied (the retransmit buffer, the rings to
// other workers, the pacer and the output slots copy already; DTLS datagrams are copied and
// handled on their own turns, dtls-turns.ts).
// Arrival times are the kernel's (SO_TIMESTAMPNS), one per datagram. What the kernel dropped at the socket (its
// receive buffer was full) is counted too (SO_RXQ_OVFL, heard with the next datagram read): every datagram sent to
// the socket is either handled or counted.
// Given a table of SRTP peers (native/srtp-peers.c, kept by UdpTransport), the module unprotects the SRTP and SRTCP
// of the mapped peers in place before this call; the handler hears each one's plaintext length or its refusal.
// Given the thread's routes too (native/routes.c), it forwards what they route; this side only books those.
import type { UdpReceiveModule } from './udp-batch.ts';

/**
 * Handles one datagram of a batch: bytes (a view valid during the call), sender, arrival (performance.now() ms),
 * and `unprotected`: 0 when the module did not unprotect it, the plaintext length (> 0: buf[0..unprotected) is
 * now plain RTP or RTCP, the rest the old tag) when it did, -1 when it refused it (a bad tag, a replay).
 */
export type DatagramHandler = (buf: Buffer, address: string, port: number, arrivalMs: number, unprotected: number) => void;

/** A kernel arrival time older than this is not believed (the wall clock was stepped): the batch's time is used. */
const MAX_ARRIVAL_AGE_MS = 5000;
/** IPv4 address strings kept for reuse (the bridge's peers; beyond this the cache starts again). */
const ADDRESS_CACHE = 4096;

const addressStrings = new Map<number, string>();

/** The dotted quad of a 32-bit address, from a per-thread cache (no string built per datagram). */
export function ipv4String(addr: number): string {
  let s = addressStrings.get(addr);
  if (s === undefined) {
    s = `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
    if (addressStrings.size >= ADDRESS_CACHE) addressStrings.clear();
    addressStrings.set(addr, s);
  }
  return s;
}

/** What a receiver may also be given. */
export interface NativeReceiverOptions {
  /** How many datagrams the kernel dropped at the socket since the last time (told with the next datagram read). */
  onKernelDrops?: (count: number) => void;
  /** The thread's table of SRTP peers (the module's createSrtpPeers), whose datagrams the module unprotects. */
  srtpPeers?: unknown;
  /** After the last datagram of each batch was handled. */
  onBatchEnd?: () => void;
  /**
   * The thread's native routes (./routes.ts' handle): the module forwards what they route as it reads the batch
   * (flag 8: not handed on; a batch forwarded whole is not handed to JavaScript at all). `onForwarded` is called
   * first in every batch that is: it books what the routes forwarded so far.
   */
  routes?: unknown;
  onForwarded?: () => void;
}

export class NativeReceiver {
  private readonly mod: UdpReceiveModule;
  private readonly handle: unknown;
  private readonly bytes: Buffer;
  private readonly meta: Uint32Array;
  private readonly ages: Float64Array;
  private readonly slot: number;
  private closed = false;

  /**
   * Starts reading fd (which the receiver now owns: close() closes it). `onDatagram` gets every datagram that fit
   * a slot; `onTruncated` counts one that did not (it is dropped); `onError` gets the socket's errors (-errno: a
   * connected socket's ICMP port unreachable is ECONNREFUSED); and `opts`' callbacks. None of them may throw.
   */
  constructor(
    mod: UdpReceiveModule,
    fd: number,
    bufferBytes: number,
    onDatagram: DatagramHandler,
    onTruncated: () => void,
    onError: (errno: number) => void,
    opts: NativeReceiverOptions = {},
  ) {
    const onKernelDrops = opts.onKernelDrops ?? (() => {});
    const onBatchEnd = opts.onBatchEnd ?? (() => {});
    const onForwarded = opts.routes !== undefined ? (opts.onForwarded ?? null) : null;
    this.mod = mod;
    const batch = mod.RECV_BATCH;
    this.slot = mod.RECV_SLOT;
    const arena = new ArrayBuffer(batch * this.slot);
    this.bytes = Buffer.from(arena);
    this.meta = new Uint32Array(mod.RECV_META);
    this.ages = new Float64Array(batch);
    const bytes = this.bytes;
    const meta = this.meta;
    const ages = this.ages;
    const slot = this.slot;
    const dropsAt = batch * 4;
    let drops = 0;
    this.handle = mod.openReceiver(fd, arena, meta, ages, bufferBytes, (count: number) => {
      if (count < 0) {
        onError(-count);
        return;
      }
      // the module read the ages against the kernel's clock just before this call: now is that moment
      const now = performance.now();
      // (a 32-bit count since the socket opened)
      const dropped = (meta[dropsAt] - drops) >>> 0;
      if (dropped !== 0) {
        drops = meta[dropsAt];
        onKernelDrops(dropped);
      }
      if (onForwarded !== null) onForwarded();
      for (let i = 0; i < count && !this.closed; i++) {
        const m = i * 4;
        const flags = meta[m + 3];
        if ((flags & 9) !== 0) {
          if ((flags & 1) !== 0) onTruncated();
          continue;
        }
        const age = ages[i];
        const start = i * slot;
        onDatagram(
          bytes.subarray(start, start + meta[m]),
          ipv4String(meta[m + 1]),
          meta[m + 2],
          age >= 0 && age < MAX_ARRIVAL_AGE_MS ? now - age : now,
          (flags & 2) !== 0 ? flags >>> 16 : (flags & 4) !== 0 ? -1 : 0,
        );
      }
      onBatchEnd();
    }, opts.srtpPeers, opts.routes);
  }

  /** Stops reading and closes the socket: no datagram is handled after it (also not the rest of a batch). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.mod.closeReceiver(this.handle);
  }
}
