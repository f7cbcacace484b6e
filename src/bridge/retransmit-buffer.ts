// Per video source: its last plaintext RTP packets, indexed by sequence number, for answering NACKs and for
// switching layers at a keyframe. Sized by need: it starts small (RTX_MIN_SLOTS) and doubles, up to RTX_SLOTS,
// while it wraps around in less than RTX_HISTORY_MS (a 1.2 Mbit/s layer ends at 256 slots, a thumbnail stays at
// 64), or when a keyframe did not fit (reserve). Storing a packet is one copy; memory is allocated only to grow.

/** Most slots a buffer grows to. */
export const RTX_SLOTS = 512;
/** Slots a buffer starts with. */
export const RTX_MIN_SLOTS = 64;
export const RTX_SLOT_SIZE = 1500;
/** A buffer holds at least this much of its stream (until RTX_SLOTS). */
export const RTX_HISTORY_MS = 1000;

export class RetransmitBuffer {
  slots: Buffer[];
  /** Byte length of the packet in each slot (0 = empty). */
  lengths: Int32Array;
  /** Sequence number stored in each slot (-1 = empty). */
  seqs: Int32Array;
  private readonly slotSize: number;
  private readonly maxSlots: number;
  /** Packets stored since the last wrap-around check, and when that period began (-1: not yet). */
  private storedSinceCheck = 0;
  private checkStartMs = -1;

  constructor(slots = RTX_MIN_SLOTS, slotSize = RTX_SLOT_SIZE, maxSlots = Math.max(slots, RTX_SLOTS)) {
    this.slotSize = slotSize;
    this.maxSlots = maxSlots;
    this.slots = [];
    this.lengths = new Int32Array(0);
    this.seqs = new Int32Array(0);
    this.resize(slots);
  }

  /** Stores buf[0..len) under seq; packets larger than a slot are not stored. `nowMs`: the caller's clock, for sizing. */
  store(seq: number, buf: Buffer, len: number, nowMs = -1): void {
    if (nowMs >= 0 && ++this.storedSinceCheck >= this.slots.length) this.checkRate(nowMs);
    const i = seq % this.slots.length;
    const slot = this.slots[i];
    if (len > slot.length) {
      this.seqs[i] = -1;
      this.lengths[i] = 0;
      return;
    }
    buf.copy(slot, 0, 0, len);
    this.seqs[i] = seq;
    this.lengths[i] = len;
  }

  /** Slot index holding seq, or -1. */
  find(seq: number): number {
    const i = seq % this.slots.length;
    return this.seqs[i] === seq ? i : -1;
  }

  /** A run of `count` packets (a keyframe) must fit from now on: grows to hold it (up to the most slots). */
  reserve(count: number): void {
    let n = this.slots.length;
    while (n < count && n < this.maxSlots) n *= 2;
    if (n !== this.slots.length) this.resize(Math.min(n, this.maxSlots));
  }

  clear(): void {
    this.seqs.fill(-1);
    this.lengths.fill(0);
  }

  /** A whole buffer's worth was stored: when that took less than RTX_HISTORY_MS, twice the slots. */
  private checkRate(nowMs: number): void {
    const started = this.checkStartMs;
    this.checkStartMs = nowMs;
    this.storedSinceCheck = 0;
    if (started >= 0 && nowMs - started < RTX_HISTORY_MS && this.slots.length < this.maxSlots) this.resize(this.slots.length * 2);
  }

  /** New memory of n slots; the packets held move to their slots in it (n: a power of two, so seq % n is stable for 16-bit numbers). */
  private resize(n: number): void {
    const memory = Buffer.alloc(n * this.slotSize);
    const slots = new Array<Buffer>(n);
    for (let i = 0; i < n; i++) slots[i] = memory.subarray(i * this.slotSize, (i + 1) * this.slotSize);
    const lengths = new Int32Array(n);
    const seqs = new Int32Array(n).fill(-1);
    for (let i = 0; i < this.slots.length; i++) {
      const seq = this.seqs[i];
      if (seq < 0) continue;
      const j = seq % n;
      this.slots[i].copy(slots[j], 0, 0, this.lengths[i]);
      lengths[j] = this.lengths[i];
      seqs[j] = seq;
    }
    this.slots = slots;
    this.lengths = lengths;
    this.seqs = seqs;
  }
}
