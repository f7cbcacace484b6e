// Per video source: its last plaintext RTP packets, indexed by sequence number, for answering NACKs and for
// switching layers at a keyframe. Packets lie back to back in one byte ring (a packet takes its own length, not a
// worst-case slot: a 320x180 layer's ~300-byte packets cost 300 bytes), found through an index of slots by
// sequence number. Both are sized by need and only grow (memory is allocated only to grow):
//   - the index starts at RTX_MIN_SLOTS and doubles, up to RTX_SLOTS, while it wraps around in less than
//     RTX_HISTORY_MS, or when a keyframe did not fit (reserve);
//   - the byte ring starts at RTX_MIN_BYTES (at the first packet) and, when it wraps around in less than
//     RTX_HISTORY_MS, grows to what the measured rate needs for RTX_HISTORY_MS plus a quarter (at most twice
//     at a time, up to RTX_MAX_BYTES), or for a keyframe (reserve).
// Invariants: positions are absolute byte counts (`end` is where the next packet goes); a packet never crosses
// the ring's end (it starts at the next round instead); a packet is held while end − its position ≤ capacity
// (nothing newer overwrote it). A resize lays the packets held back to back from position 0, oldest first.
// Storing a packet is one copy, no allocation.

/** Most index slots a buffer grows to. */
export const RTX_SLOTS = 512;
/** Index slots a buffer starts with. */
export const RTX_MIN_SLOTS = 64;
/** Largest packet kept (a bigger one is not stored). */
export const RTX_SLOT_SIZE = 1500;
/** A buffer holds at least this much of its stream (until RTX_SLOTS packets or RTX_MAX_BYTES). */
export const RTX_HISTORY_MS = 1000;
/** Bytes the ring starts with (a thumbnail layer's second, ~19 KB at 150 kbit/s, nearly fits). */
export const RTX_MIN_BYTES = 16 * 1024;
/** Most bytes the ring grows to (RTX_SLOTS packets of 1 KiB). */
export const RTX_MAX_BYTES = 512 * 1024;
/** A ring grows by whole pages of this many bytes. */
const GROW_UNIT = 4096;
const NO_BYTES = Buffer.alloc(0);
/** Bytes per packet a keyframe reserve counts on (a full video packet). */
const RESERVE_PACKET_BYTES = 1200;

function roundUp(bytes: number): number {
  return Math.ceil(bytes / GROW_UNIT) * GROW_UNIT;
}

export class RetransmitBuffer {
  /** Byte length of the packet in each index slot (0 = empty). */
  lengths: Int32Array;
  /** Sequence number in each index slot (-1 = empty). */
  seqs: Int32Array;
  /** Absolute position of the packet of each index slot in the byte ring. */
  private starts: Float64Array;
  /** The byte ring: empty until the first packet (a media worker that only mirrors the source never stores one). */
  private memory: Buffer;
  private readonly firstBytes: number;
  /** Absolute position where the next packet goes. */
  private end = 0;
  private readonly maxSlots: number;
  private readonly maxBytes: number;
  /** Packets and bytes stored since the last wrap-around check of each, and when those periods began (-1: not yet). */
  private storedSinceCheck = 0;
  private checkStartMs = -1;
  private bytesSinceCheck = 0;
  private bytesCheckStartMs = -1;

  /** slots: a power of two. */
  constructor(slots = RTX_MIN_SLOTS, maxSlots = Math.max(slots, RTX_SLOTS), bytes = RTX_MIN_BYTES, maxBytes = RTX_MAX_BYTES) {
    this.maxSlots = maxSlots;
    this.maxBytes = Math.max(bytes, maxBytes);
    this.lengths = new Int32Array(slots);
    this.seqs = new Int32Array(slots).fill(-1);
    this.starts = new Float64Array(slots);
    this.firstBytes = bytes;
    this.memory = NO_BYTES;
  }

  /** Index slots now (the most packets it can hold). */
  get slotCount(): number {
    return this.seqs.length;
  }

  /** Bytes of the ring now (0 before the first packet). */
  get byteCapacity(): number {
    return this.memory.length;
  }

  /** Stores buf[0..len) under seq; packets larger than RTX_SLOT_SIZE are not stored. `nowMs`: the caller's clock, for sizing. */
  store(seq: number, buf: Buffer, len: number, nowMs = -1): void {
    this.storeFrom(seq, buf, 0, len, nowMs);
  }

  /** store() of buf[offset..offset+len) (a datagram in a receive arena: no view made for it). */
  storeFrom(seq: number, buf: Buffer, offset: number, len: number, nowMs = -1): void {
    if (nowMs >= 0) {
      if (++this.storedSinceCheck >= this.seqs.length) this.checkRate(nowMs);
      this.bytesSinceCheck += len;
      if (this.bytesSinceCheck >= this.memory.length && this.memory.length > 0) this.checkByteRate(nowMs);
    }
    const i = seq % this.seqs.length;
    if (len > RTX_SLOT_SIZE || len <= 0) {
      this.seqs[i] = -1;
      this.lengths[i] = 0;
      return;
    }
    if (this.memory.length === 0) this.memory = Buffer.alloc(this.firstBytes);
    const cap = this.memory.length;
    let at = this.end;
    const off = at % cap;
    if (off + len > cap) at += cap - off; // never across the end: the next round
    buf.copy(this.memory, at % cap, offset, offset + len);
    this.end = at + len;
    this.seqs[i] = seq;
    this.lengths[i] = len;
    this.starts[i] = at;
  }

  /** Index slot holding seq, or -1 (never stored, or overwritten since). */
  find(seq: number): number {
    const i = seq % this.seqs.length;
    return this.seqs[i] === seq && this.end - this.starts[i] <= this.memory.length ? i : -1;
  }

  /** Copies the packet of index slot `i` (from find) to out[offset..]; returns its length. */
  copyTo(i: number, out: Buffer, offset = 0): number {
    const len = this.lengths[i];
    const from = this.starts[i] % this.memory.length;
    this.memory.copy(out, offset, from, from + len);
    return len;
  }

  /** A run of `count` packets (a keyframe) must fit from now on: grows to hold it (up to the most slots and bytes). */
  reserve(count: number): void {
    let n = this.seqs.length;
    while (n < count && n < this.maxSlots) n *= 2;
    if (n !== this.seqs.length) this.resizeIndex(Math.min(n, this.maxSlots));
    const have = this.memory.length === 0 ? this.firstBytes : this.memory.length;
    const want = Math.min(this.maxBytes, Math.max(have, roundUp(count * RESERVE_PACKET_BYTES)));
    if (want !== this.memory.length) this.resizeBytes(want);
  }

  clear(): void {
    this.seqs.fill(-1);
    this.lengths.fill(0);
  }

  /** A whole index's worth was stored: when that took less than RTX_HISTORY_MS, twice the slots. */
  private checkRate(nowMs: number): void {
    const started = this.checkStartMs;
    this.checkStartMs = nowMs;
    this.storedSinceCheck = 0;
    if (started >= 0 && nowMs - started < RTX_HISTORY_MS && this.seqs.length < this.maxSlots) this.resizeIndex(this.seqs.length * 2);
  }

  /** A whole ring's worth of bytes was stored: when that took less than RTX_HISTORY_MS, twice the bytes. */
  private checkByteRate(nowMs: number): void {
    const started = this.bytesCheckStartMs;
    this.bytesCheckStartMs = nowMs;
    this.bytesSinceCheck = 0;
    const elapsed = nowMs - started;
    if (started < 0 || elapsed >= RTX_HISTORY_MS || this.memory.length >= this.maxBytes) return;
    // the rate of this period, for RTX_HISTORY_MS and a quarter more (at least one more page), at most twice the
    // ring at a time: a keyframe's burst fills a small ring in a few ms and would otherwise look like the stream's rate
    const cap = this.memory.length;
    const need = roundUp((cap * RTX_HISTORY_MS * 1.25) / (elapsed > 1 ? elapsed : 1));
    this.resizeBytes(Math.min(this.maxBytes, 2 * cap, Math.max(need, cap + GROW_UNIT)));
  }

  /** A new index of n slots (a power of two, so seq % n is stable for 16-bit numbers); the packets held keep their bytes. */
  private resizeIndex(n: number): void {
    const lengths = new Int32Array(n);
    const seqs = new Int32Array(n).fill(-1);
    const starts = new Float64Array(n);
    for (let i = 0; i < this.seqs.length; i++) {
      const seq = this.seqs[i];
      if (seq < 0 || this.end - this.starts[i] > this.memory.length) continue;
      const j = seq % n;
      lengths[j] = this.lengths[i];
      seqs[j] = seq;
      starts[j] = this.starts[i];
    }
    this.lengths = lengths;
    this.seqs = seqs;
    this.starts = starts;
  }

  /** A ring of `bytes` (more than the old one): the packets held move to it back to back, oldest first. */
  private resizeBytes(bytes: number): void {
    const old = this.memory;
    const held: number[] = []; // index slots, allocated only here (a resize is rare)
    for (let i = 0; i < this.seqs.length; i++) {
      if (this.seqs[i] < 0) continue;
      if (this.end - this.starts[i] > old.length) {
        this.seqs[i] = -1; // overwritten already: must not look held in the larger ring
        this.lengths[i] = 0;
        continue;
      }
      held.push(i);
    }
    held.sort((a, b) => this.starts[a] - this.starts[b]);
    const memory = Buffer.alloc(bytes);
    let at = 0;
    for (const i of held) {
      const from = this.starts[i] % old.length;
      old.copy(memory, at, from, from + this.lengths[i]);
      this.starts[i] = at;
      at += this.lengths[i];
    }
    this.memory = memory;
    this.end = at;
  }
}
