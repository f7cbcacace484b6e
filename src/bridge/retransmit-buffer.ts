// Per video source: the last SLOTS plaintext RTP packets, indexed by sequence number, for answering NACKs.
// All memory is allocated once; storing a packet is one copy.

export const RTX_SLOTS = 512;
export const RTX_SLOT_SIZE = 1500;

export class RetransmitBuffer {
  readonly slots: Buffer[];
  /** Byte length of the packet in each slot (0 = empty). */
  readonly lengths: Int32Array;
  /** Sequence number stored in each slot (-1 = empty). */
  readonly seqs: Int32Array;
  private readonly memory: Buffer;

  constructor(slots = RTX_SLOTS, slotSize = RTX_SLOT_SIZE) {
    this.memory = Buffer.alloc(slots * slotSize);
    this.slots = new Array<Buffer>(slots);
    for (let i = 0; i < slots; i++) this.slots[i] = this.memory.subarray(i * slotSize, (i + 1) * slotSize);
    this.lengths = new Int32Array(slots);
    this.seqs = new Int32Array(slots).fill(-1);
  }

  /** Stores buf[0..len) under seq; packets larger than a slot are not stored. */
  store(seq: number, buf: Buffer, len: number): void {
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

  clear(): void {
    this.seqs.fill(-1);
    this.lengths.fill(0);
  }
}
