// The jitter buffer on what a phone sends: RTP packets in, in sequence order and at a steady pace out. The
// call's 20 ms clock drives it (`tick` once per frame, then `pop` until the frame is full); the phone's own
// clock never does, so the buffer also absorbs the drift between the two.
//
// - Order: packets sit in slots by sequence number (mod the capacity); `pop` gives the next one in sequence, or
//   'lost' when it is missing while later ones are there (the decoder conceals it), or 'empty' when nothing is.
// - Delay: playing starts (and starts again after running dry: a late packet, or a pause of the talker) once
//   `targetFrames` of audio are buffered: 3 frames (60 ms) at first. Running dry in mid-talk (the packet that
//   ends it follows on in timestamp) raises the target by a frame, up to `maxFrames`; ten seconds without that
//   lowers it again, down to `minFrames`. When the buffer stayed deeper than the target plus a frame for a whole
//   second, one packet is dropped (the talker's clock is faster than ours, or a burst has passed).
// - Packets older than the next one due are late (dropped); duplicates are dropped; a new SSRC, or a sequence
//   number further ahead than the buffer holds or far behind, starts the buffer over.
// - Bounded: CAPACITY slots of at most MAX_PAYLOAD bytes, allocated once; push and pop allocate nothing.
import { seqDiff, seqNewer } from '../../bridge/packet/rtp.ts';

/** Slots (a power of two): 1.28 s of 20 ms packets. */
export const CAPACITY = 64;
const MASK = CAPACITY - 1;
/** Largest payload kept (a 120 ms Opus packet at a high rate is well under it). */
export const MAX_PAYLOAD = 1400;
/** A sequence number this far behind the next one due is a restarted stream, not a late packet. */
const RESTART_BEHIND = 1000;
/** Frames of one second, and of ten: the windows of trimming and of lowering the target. */
const TRIM_WINDOW = 50;
const LOWER_AFTER = 500;

export type JitterResult = 'packet' | 'lost' | 'empty';

interface Slot {
  present: boolean;
  seq: number;
  timestamp: number;
  payloadType: number;
  marker: boolean;
  length: number;
  readonly data: Uint8Array;
}

export interface JitterOptions {
  /** RTP timestamp units in one 20 ms frame: 160 at 8 kHz, 960 at 48 kHz. */
  frameTicks: number;
  startFrames?: number;
  minFrames?: number;
  maxFrames?: number;
}

export class JitterBuffer {
  /** After `pop` gave 'packet': its payload (valid until the next push or pop), payload type, timestamp, marker. */
  payload: Uint8Array = new Uint8Array(0);
  payloadType = 0;
  timestamp = 0;
  marker = false;
  /** RTP timestamp units per packet, learnt from consecutive packets (a phone may send 10, 20 or 30 ms ones). */
  packetTicks: number;
  /** Frames buffered before playing starts. */
  targetFrames: number;
  readonly counters = { received: 0, played: 0, lost: 0, late: 0, duplicates: 0, tooLarge: 0, underruns: 0, trimmed: 0, restarts: 0 };

  private readonly frameTicks: number;
  private readonly minFrames: number;
  private readonly maxFrames: number;
  private readonly slots: Slot[] = [];
  private ssrc = -1;
  private started = false;
  /** Whether anything was given since the start (until then an older packet may still become the first). */
  private anyGiven = false;
  private playing = false;
  /** Ran dry while playing: the packet that ends it tells a late packet (raise the target) from a pause. */
  private dry = false;
  private expected = 0;
  private count = 0;
  private lastTimestamp = 0;
  private minDepth = CAPACITY;
  private windowTicks = 0;
  private sinceRaised = 0;

  constructor(options: JitterOptions) {
    this.frameTicks = options.frameTicks;
    this.packetTicks = options.frameTicks;
    this.minFrames = options.minFrames ?? 2;
    this.maxFrames = options.maxFrames ?? 10;
    this.targetFrames = options.startFrames ?? 3;
    for (let i = 0; i < CAPACITY; i++) this.slots.push({ present: false, seq: 0, timestamp: 0, payloadType: 0, marker: false, length: 0, data: new Uint8Array(MAX_PAYLOAD) });
  }

  /** Packets buffered now. */
  get size(): number {
    return this.count;
  }

  /** Audio buffered now, in 20 ms frames. */
  get depthFrames(): number {
    return (this.count * this.packetTicks) / this.frameTicks;
  }

  /** Takes one packet (its payload is copied). */
  push(ssrc: number, seq: number, timestamp: number, payloadType: number, marker: boolean, payload: Uint8Array): void {
    if (payload.length > MAX_PAYLOAD) {
      this.counters.tooLarge++;
      return;
    }
    if (ssrc !== this.ssrc) {
      if (this.ssrc !== -1) this.restart();
      this.ssrc = ssrc;
    }
    if (!this.started) {
      this.started = true;
      this.expected = seq;
    }
    let ahead = seqDiff(seq, this.expected);
    if (ahead < 0) {
      if (!this.anyGiven && ahead > -CAPACITY && seqDiff(this.newest(), seq) < CAPACITY) {
        this.expected = seq; // reordered at the very start: this one comes first
        ahead = 0;
      } else if (ahead < -RESTART_BEHIND) {
        this.restartAt(seq);
        ahead = 0;
      } else {
        this.counters.late++;
        return;
      }
    }
    if (ahead >= CAPACITY) {
      this.restartAt(seq);
      ahead = 0;
    }
    const slot = this.slots[seq & MASK]!;
    if (slot.present) {
      this.counters.duplicates++;
      return;
    }
    this.counters.received++;
    slot.present = true;
    slot.seq = seq;
    slot.timestamp = timestamp;
    slot.payloadType = payloadType;
    slot.marker = marker;
    slot.length = payload.length;
    slot.data.set(payload);
    this.count++;
    // the packet's length in timestamp units, from its neighbour (a pause between the two is not one)
    const prev = this.slots[(seq - 1) & MASK]!;
    if (prev.present && prev.seq === ((seq - 1) & 0xffff)) this.learnTicks(timestamp - prev.timestamp);
    const next = this.slots[(seq + 1) & MASK]!;
    if (next.present && next.seq === ((seq + 1) & 0xffff)) this.learnTicks(next.timestamp - timestamp);
  }

  /** Once per 20 ms frame, before its pops: trims a buffer that stays too deep, lowers the target in calm. */
  tick(): void {
    if (++this.sinceRaised >= LOWER_AFTER) {
      this.sinceRaised = 0;
      if (this.targetFrames > this.minFrames) this.targetFrames--;
    }
    if (!this.playing) return;
    if (this.count < this.minDepth) this.minDepth = this.count;
    if (++this.windowTicks < TRIM_WINDOW) return;
    if ((this.minDepth * this.packetTicks) / this.frameTicks > this.targetFrames + 1) {
      // drop the oldest packet: the talker is a packet ahead of us for a whole second
      const slot = this.slots[this.expected & MASK]!;
      if (slot.present && slot.seq === this.expected) {
        slot.present = false;
        this.count--;
      }
      this.expected = (this.expected + 1) & 0xffff;
      this.counters.trimmed++;
    }
    this.minDepth = CAPACITY;
    this.windowTicks = 0;
  }

  /** The next packet in sequence ('packet': see `payload`), a missing one ('lost'), or nothing yet ('empty'). */
  pop(): JitterResult {
    if (!this.playing) {
      if (this.count === 0 || this.depthFrames < this.targetFrames) return 'empty';
      this.playing = true;
      this.minDepth = CAPACITY;
      this.windowTicks = 0;
    }
    if (this.count === 0) {
      this.playing = false;
      if (!this.dry) this.counters.underruns++;
      this.dry = true;
      return 'empty';
    }
    const slot = this.slots[this.expected & MASK]!;
    this.expected = (this.expected + 1) & 0xffff;
    if (!slot.present || slot.seq !== ((this.expected - 1) & 0xffff)) {
      this.counters.lost++;
      this.lastTimestamp = (this.lastTimestamp + this.packetTicks) >>> 0;
      return 'lost';
    }
    slot.present = false;
    this.count--;
    if (this.dry) {
      this.dry = false;
      // it follows on from the last one: it was late, not the start of a new talkspurt
      if (this.anyGiven && !slot.marker && slot.timestamp === ((this.lastTimestamp + this.packetTicks) >>> 0)) this.raise();
    }
    this.anyGiven = true;
    this.lastTimestamp = slot.timestamp;
    this.payload = slot.data.subarray(0, slot.length);
    this.payloadType = slot.payloadType;
    this.timestamp = slot.timestamp;
    this.marker = slot.marker;
    this.counters.played++;
    return 'packet';
  }

  /** Forgets everything (a new SSRC, a new codec): buffers from scratch. */
  restart(): void {
    for (const s of this.slots) s.present = false;
    this.count = 0;
    this.started = false;
    this.anyGiven = false;
    this.playing = false;
    this.dry = false;
    this.packetTicks = this.frameTicks;
    this.counters.restarts++;
  }

  private restartAt(seq: number): void {
    this.restart();
    this.started = true;
    this.expected = seq;
  }

  private raise(): void {
    if (this.targetFrames < this.maxFrames) this.targetFrames++;
    this.sinceRaised = 0;
  }

  /** The newest sequence number buffered (the next one due when none is). */
  private newest(): number {
    let newest = this.expected;
    for (let i = 0; i < CAPACITY; i++) {
      const s = this.slots[i]!;
      if (s.present && seqNewer(s.seq, newest)) newest = s.seq;
    }
    return newest;
  }

  private learnTicks(ticks: number): void {
    ticks >>>= 0;
    // 10 to 60 ms packets; anything else is a pause or a jump
    if (ticks * 2 >= this.frameTicks && ticks <= this.frameTicks * 3) this.packetTicks = ticks;
  }
}
