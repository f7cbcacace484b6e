// The SIP gateway's sends to its phones, gathered: every call sends its RTP from its own socket (the port in our
// SDP: a phone, and its NAT, expect the packets from there), so the datagrams of one 20 ms tick cannot share one
// sendmmsg(2); with the native module (native/udp-batch.c, `sendEach`) they still leave in one call from
// JavaScript, one sendto(2) each, at the end of the callback that made them (a microtask): what a dgram send costs
// is Node's work per send, not the system call (34 % of the gateway's main thread at 100 calls went to dgram
// sends, docs/BENCHMARKS.md). Each datagram is copied into a slot of one arena, so the caller may reuse its buffer
// at once; no allocation per datagram. Without the module (not built, not Linux), for a socket dgram opened itself
// (fd -1), a datagram too large for a slot, or a full arena, the datagram goes through dgram at once: the tested
// fallback. One batch per thread (`socketBatch()`); a socket's pending datagrams are sent before it closes
// (`flush()`), so a descriptor is never written after it was given back.
import type dgram from 'node:dgram';
import { BATCH_SLOT, ipv4Number, nativeUdp, type UdpBatchModule } from '../../bridge/native/udp-batch.ts';

/** Datagrams queued at most before a flush (a full arena sends what it holds and starts again). */
export const SOCKET_BATCH_MAX = 512;

/** What a dgram send's completion gets (an error, or null). */
export type SentCallback = (error: Error | null) => void;

export class SocketBatch {
  private readonly sendEach: NonNullable<UdpBatchModule['sendEach']> | null;
  private readonly arena: ArrayBuffer;
  private readonly bytes: Buffer;
  private readonly fds: Int32Array;
  private readonly offsets: Int32Array;
  private readonly lengths: Int32Array;
  private readonly addrs: Uint32Array;
  private readonly ports: Uint16Array;
  private readonly addressCache = new Map<string, number>();
  private count = 0;
  private flushQueued = false;
  /** Datagrams sent natively, through dgram, and those the kernel refused in a native batch. */
  readonly counters = { batched: 0, viaDgram: 0, failed: 0, flushes: 0 };

  /** `mod` null: every datagram goes through dgram (the fallback, also what tests compare against). */
  constructor(mod: UdpBatchModule | null) {
    this.sendEach = mod?.sendEach ?? null;
    const slots = this.sendEach ? SOCKET_BATCH_MAX : 0;
    this.arena = new ArrayBuffer(slots * BATCH_SLOT);
    this.bytes = Buffer.from(this.arena);
    this.fds = new Int32Array(slots);
    this.offsets = new Int32Array(slots);
    this.lengths = new Int32Array(slots);
    this.addrs = new Uint32Array(slots);
    this.ports = new Uint16Array(slots);
    for (let i = 0; i < slots; i++) this.offsets[i] = i * BATCH_SLOT;
  }

  /** Whether datagrams of sockets with a descriptor are gathered (the native module is there). */
  get native(): boolean {
    return this.sendEach !== null;
  }

  /**
   * Sends buf[0, length) from `socket` (descriptor `fd`, -1 when unknown) to address:port: queued until the end
   * of this callback, or at once through dgram (then `onSent` gets its completion).
   */
  send(socket: dgram.Socket, fd: number, buf: Buffer, length: number, port: number, address: string, onSent?: SentCallback): void {
    if (this.sendEach !== null && fd >= 0 && length <= BATCH_SLOT) {
      let addr = this.addressCache.get(address);
      if (addr === undefined) {
        addr = ipv4Number(address);
        if (this.addressCache.size >= 4096) this.addressCache.clear();
        this.addressCache.set(address, addr);
      }
      if (addr >= 0) {
        if (this.count === this.fds.length) this.flush();
        const i = this.count++;
        buf.copy(this.bytes, i * BATCH_SLOT, 0, length);
        this.fds[i] = fd;
        this.lengths[i] = length;
        this.addrs[i] = addr;
        this.ports[i] = port;
        if (!this.flushQueued) {
          this.flushQueued = true;
          queueMicrotask(this.flushNow);
        }
        return;
      }
    }
    this.counters.viaDgram++;
    socket.send(buf, 0, length, port, address, onSent);
  }

  private readonly flushNow = (): void => {
    this.flush();
  };

  /** Sends what is queued now (before a socket closes, or at the end of the callback). */
  flush(): void {
    this.flushQueued = false;
    const n = this.count;
    if (n === 0 || this.sendEach === null) return;
    this.count = 0;
    this.counters.flushes++;
    this.counters.batched += n;
    this.counters.failed += n - this.sendEach(this.fds, this.arena, this.offsets, this.lengths, this.addrs, this.ports, n);
  }
}

let shared: SocketBatch | undefined;

/** This thread's batch (native when the module is built here). */
export function socketBatch(): SocketBatch {
  shared ??= new SocketBatch(nativeUdp());
  return shared;
}
