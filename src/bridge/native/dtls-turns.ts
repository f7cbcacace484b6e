// DTLS datagrams of a native receive batch (udp-receive.ts), each handled on its own turn of the event loop after
// the batch. werift's handshake continues in promises; dgram ran them (the microtasks) between one datagram and the
// next, and a client that sends each record of a flight as its own datagram (werift's, the load tester's) needs
// that: handed over back to back within a batch, its handshake timed out. Each waits as its own copy (the arena is
// reused; the handshake may keep records). Rare: a few per join; a flood beyond MAX_WAITING is dropped and counted.
import type { BridgeCounters } from '../counters.ts';

/** DTLS datagrams waiting at most. */
const MAX_WAITING = 1024;

export class DtlsTurns {
  private readonly waiting: Array<{ buf: Buffer; address: string; port: number }> = [];
  private readonly handle: (buf: Buffer, address: string, port: number) => void;
  private readonly counters: BridgeCounters;
  private stopped = false;

  /** `handle` gets each datagram on its own turn; what it throws is counted (dropError). */
  constructor(handle: (buf: Buffer, address: string, port: number) => void, counters: BridgeCounters) {
    this.handle = handle;
    this.counters = counters;
  }

  /** Queues a copy of msg. */
  add(msg: Buffer, address: string, port: number): void {
    const q = this.waiting;
    if (this.stopped) return;
    if (q.length >= MAX_WAITING) {
      this.counters.dropDtls++;
      return;
    }
    q.push({ buf: Buffer.from(msg), address, port });
    if (q.length === 1) setImmediate(this.next);
  }

  /** Drops what waits; nothing is handled after it. */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
  }

  private readonly next = (): void => {
    const d = this.waiting.shift();
    if (d === undefined || this.stopped) return;
    try {
      this.handle(d.buf, d.address, d.port);
    } catch {
      this.counters.dropError++;
    }
    if (this.waiting.length > 0) setImmediate(this.next);
  };
}
