// A single-producer single-consumer ring of packets in a SharedArrayBuffer: how one media worker hands a
// decrypted RTP packet to another worker that encrypts and sends it to its share of the receivers.
// No allocation per packet; the consumer sleeps in Atomics.waitAsync and is woken by the producer's flush()
// (one notify per burst of packets: the producer flushes once per event-loop turn, and only when the
// consumer said it is going to sleep: a notify costs a task posted to the other thread).

const HEAD = 0;
const TAIL = 1;
/** 1 while the consumer sleeps (or is about to): the producer must notify. */
const SLEEPING = 2;
/** The consumer looks at the ring at least this often, notified or not (the caller may choose longer when idle). */
export const MAX_SLEEP_MS = 20;
const HEADER_INTS = 16; // head and tail on their own cache line, away from the slots
/** Slot: u16 length, u16 reserved, u32 conference number, u32 source SSRC, then the packet. */
const SLOT_META = 12;
/** Atomics.waitAsync (ES2024; in Node since 16) is not in the ES2023 lib this project type-checks against. */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs?: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

export const RING_SLOT_SIZE = 1536;
export const RING_SLOTS = 2048;

export class PacketRing {
  readonly sab: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly bytes: Buffer;
  private readonly slots: number;
  private readonly mask: number;
  /** Packets the producer dropped because the ring was full. */
  overflows = 0;

  /** A new ring of `slots` (a power of two), or a view of an existing one (`sab`, from the other thread). */
  constructor(sab?: SharedArrayBuffer, slots = RING_SLOTS) {
    if (sab !== undefined) slots = (sab.byteLength - HEADER_INTS * 4) / RING_SLOT_SIZE;
    if (!Number.isInteger(slots) || slots < 2 || (slots & (slots - 1)) !== 0) throw new RangeError('ring slots must be a power of two');
    this.slots = slots;
    this.mask = slots - 1;
    this.sab = sab ?? new SharedArrayBuffer(HEADER_INTS * 4 + slots * RING_SLOT_SIZE);
    this.ctl = new Int32Array(this.sab, 0, HEADER_INTS);
    this.bytes = Buffer.from(this.sab, HEADER_INTS * 4, slots * RING_SLOT_SIZE);
  }

  /** Producer: copies buf[0..len) in; false (and counted) when full or too large. */
  push(conferenceNum: number, ssrc: number, buf: Buffer, len: number): boolean {
    const ctl = this.ctl;
    const head = ctl[HEAD];
    if (((head - Atomics.load(ctl, TAIL)) | 0) >= this.slots || len > RING_SLOT_SIZE - SLOT_META) {
      this.overflows++;
      return false;
    }
    const o = (head & this.mask) * RING_SLOT_SIZE;
    const b = this.bytes;
    b.writeUInt16LE(len, o);
    b.writeUInt32LE(conferenceNum >>> 0, o + 4);
    b.writeUInt32LE(ssrc >>> 0, o + 8);
    buf.copy(b, o + SLOT_META, 0, len);
    Atomics.store(ctl, HEAD, (head + 1) | 0);
    return true;
  }

  /** Producer: wakes the consumer (once per burst of pushes, not per packet: fewer wake-ups, same order). */
  flush(): void {
    // Lost wake-ups cannot happen: the consumer sets SLEEPING before it waits on HEAD being what it saw,
    // and the producer stores HEAD before it reads SLEEPING (Atomics are sequentially consistent).
    if (Atomics.load(this.ctl, SLEEPING) !== 0) {
      Atomics.store(this.ctl, SLEEPING, 0);
      Atomics.notify(this.ctl, HEAD, 1);
    }
  }

  /**
   * Consumer: calls `fn` for every packet until the ring is empty (the view passed to `fn` is valid only
   * during the call). Returns the number of packets taken.
   */
  drain(fn: (conferenceNum: number, ssrc: number, packet: Buffer, len: number) => void, views: Buffer[]): number {
    const ctl = this.ctl;
    let tail = ctl[TAIL];
    const head = Atomics.load(ctl, HEAD);
    let n = 0;
    while (tail !== head) {
      const i = tail & this.mask;
      const o = i * RING_SLOT_SIZE;
      const b = this.bytes;
      try {
        fn(b.readUInt32LE(o + 4), b.readUInt32LE(o + 8), views[i], b.readUInt16LE(o));
      } catch {
        // a failure drops this packet only
      }
      tail = (tail + 1) | 0;
      Atomics.store(ctl, TAIL, tail);
      n++;
    }
    return n;
  }

  /** Consumer: per-slot views of the packet bytes (made once). */
  slotViews(): Buffer[] {
    const views: Buffer[] = [];
    for (let i = 0; i < this.slots; i++) {
      const o = i * RING_SLOT_SIZE + SLOT_META;
      views.push(this.bytes.subarray(o, o + RING_SLOT_SIZE - SLOT_META));
    }
    return views;
  }

  /** Consumer side: ends its own waits in waitForData (it is awake again, or stops); producers need not notify. */
  wake(): void {
    Atomics.store(this.ctl, SLEEPING, 0);
    Atomics.notify(this.ctl, HEAD);
  }

  /** Consumer: resolves when the producer has pushed past what was seen (at once if it already has), or after `timeoutMs`. */
  waitForData(timeoutMs = MAX_SLEEP_MS): Promise<unknown> | null {
    const ctl = this.ctl;
    Atomics.store(ctl, SLEEPING, 1);
    // a bounded sleep: should a wake-up ever be missed, the consumer still looks again soon (seen once
    // under overload with an always-sleeping consumer: the ring stayed full for good)
    const r = (Atomics as unknown as AtomicsWaitAsync).waitAsync(ctl, HEAD, ctl[TAIL], timeoutMs);
    if (r.async) return r.value;
    Atomics.store(ctl, SLEEPING, 0);
    return null;
  }
}
