// The jitter buffer on what a phone sends: RTP packets in, in sequence order and at a steady pace out. The
// call's 20 ms clock drives it (`tick` once per frame, then `pop` until the frame is full); the phone's own
// clock never does, so the buffer also absorbs the drift between the two.
//
// - Order: packets sit in slots by sequence number (mod the capacity); `pop` gives the next one in sequence, or
//   'lost' when it is missing while later ones are there (the decoder conceals it), or 'empty' when nothing is.
// - Delay: playing starts (and starts again after running dry: a late packet, or a pause of the talker) once
//   `targetFrames` of audio are buffered: 3 frames (60 ms) at first. Then, once a second, the delay follows the
//   network: each packet's transit (arrival time minus its RTP timestamp, against the quickest of the last 128)
//   gives the delay that 95% of them need, plus 10 ms (40 to 200 ms: the target). The delay the buffer plays at
//   is the mean transit plus what it holds; below the target by more than 10 ms it grows by one frame (one
//   tick gives nothing: the decoder conceals it), above it by more than a frame it drops one packet (this also
//   absorbs a talker's clock that runs faster than ours). One frame a second at most, either way.
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
/** Frames of one second: how often the delay is adapted. */
const ADAPT_EVERY = 50;
/** Transit times kept (the last 2.5 s of 20 ms packets). */
const TRANSITS = 128;
/** Transits needed before adapting. */
const MIN_TRANSITS = 25;
/** Margin over the 95th percentile of the transits (our own timer's jitter). */
const MARGIN_MS = 10;

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
  /** Frames before the delay is known (default 3), and its bounds (default 2 and 10). */
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
  /** The delay the network needs and the one played at, ms (NaN until known). */
  neededMs = NaN;
  playingMs = NaN;
  readonly counters = { received: 0, played: 0, lost: 0, late: 0, duplicates: 0, tooLarge: 0, underruns: 0, grown: 0, trimmed: 0, restarts: 0 };

  private readonly frameTicks: number;
  private readonly minFrames: number;
  private readonly maxFrames: number;
  private readonly slots: Slot[] = [];
  private ssrc = -1;
  private started = false;
  /** Whether anything was given since the start (until then an older packet may still become the first). */
  private anyGiven = false;
  private playing = false;
  /** Ran dry while playing (an underrun counts once until a packet is given again). */
  private dry = false;
  private expected = 0;
  private count = 0;
  private windowTicks = 0;
  private depthSum = 0;
  /** This tick gives nothing (the buffer grows by a frame). */
  private holdTick = false;
  /** Transits (ms) of the last packets, against the first packet's arrival and timestamp. */
  private readonly transits = new Float64Array(TRANSITS);
  private readonly sorted = new Float64Array(TRANSITS);
  private transitCount = 0;
  private transitAt = 0;
  private firstArrival = NaN;
  private firstTimestamp = 0;
  private readonly msPerTick: number;

  constructor(options: JitterOptions) {
    this.frameTicks = options.frameTicks;
    this.packetTicks = options.frameTicks;
    this.minFrames = options.minFrames ?? 2;
    this.maxFrames = options.maxFrames ?? 10;
    this.targetFrames = options.startFrames ?? 3;
    this.msPerTick = 20 / options.frameTicks;
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

  /**
   * Takes one packet (its payload is copied). `arrivalMs`: when it came (performance.now()), NaN for one whose
   * timestamp is no sampling time (a telephone-event keeps its event's start).
   */
  push(ssrc: number, seq: number, timestamp: number, payloadType: number, marker: boolean, payload: Uint8Array, arrivalMs: number): void {
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
    if (arrivalMs === arrivalMs) this.recordTransit(timestamp, arrivalMs);
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

  /** Once per 20 ms frame, before its pops: once a second, grows or shrinks the delay toward what is needed. */
  tick(): void {
    this.holdTick = false;
    if (!this.playing) return;
    this.depthSum += this.count;
    if (++this.windowTicks < ADAPT_EVERY) return;
    const meanDepth = this.depthSum / this.windowTicks;
    this.windowTicks = 0;
    this.depthSum = 0;
    if (this.transitCount < MIN_TRANSITS) return;
    const n = this.transitCount;
    const sorted = this.sorted;
    sorted.set(this.transits.subarray(0, n));
    sorted.subarray(0, n).sort();
    const quickest = sorted[0]!;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    const frameMs = 20;
    const packetMs = this.packetTicks * this.msPerTick;
    this.neededMs = Math.min(this.maxFrames * frameMs, Math.max(this.minFrames * frameMs, sorted[Math.floor(0.95 * (n - 1))]! - quickest + MARGIN_MS));
    // a packet waits (depth - 1/2) packets on average after its arrival, itself in transit for mean - quickest
    this.playingMs = (meanDepth - 0.5) * packetMs + sum / n - quickest;
    this.targetFrames = Math.ceil(this.neededMs / frameMs);
    if (this.playingMs < this.neededMs - MARGIN_MS) {
      this.holdTick = true;
      this.counters.grown++;
    } else if (this.playingMs > this.neededMs + frameMs && this.count > 1) {
      // drop the oldest packet
      const slot = this.slots[this.expected & MASK]!;
      if (slot.present && slot.seq === this.expected) {
        slot.present = false;
        this.count--;
      }
      this.expected = (this.expected + 1) & 0xffff;
      this.counters.trimmed++;
    }
  }

  /** The next packet in sequence ('packet': see `payload`), a missing one ('lost'), or nothing yet ('empty'). */
  pop(): JitterResult {
    if (this.holdTick) return 'empty';
    if (!this.playing) {
      if (this.count === 0 || this.depthFrames < this.targetFrames) return 'empty';
      this.playing = true;
      this.windowTicks = 0;
      this.depthSum = 0;
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
      return 'lost';
    }
    slot.present = false;
    this.count--;
    this.dry = false;
    this.anyGiven = true;
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
    this.transitCount = 0;
    this.transitAt = 0;
    this.firstArrival = NaN;
    this.counters.restarts++;
  }

  private restartAt(seq: number): void {
    this.restart();
    this.started = true;
    this.expected = seq;
  }

  /** A packet's transit: its arrival against its timestamp's place in time, both from the stream's first packet. */
  private recordTransit(timestamp: number, arrivalMs: number): void {
    // a new anchor at the start, and before the timestamp distance could wrap (hours into a call)
    if (this.firstArrival !== this.firstArrival || Math.abs((timestamp - this.firstTimestamp) | 0) > 2 ** 30) {
      this.firstArrival = arrivalMs;
      this.firstTimestamp = timestamp;
      this.transitCount = 0;
      this.transitAt = 0;
    }
    this.transits[this.transitAt] = arrivalMs - this.firstArrival - ((timestamp - this.firstTimestamp) | 0) * this.msPerTick;
    this.transitAt = (this.transitAt + 1) % TRANSITS;
    if (this.transitCount < TRANSITS) this.transitCount++;
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
