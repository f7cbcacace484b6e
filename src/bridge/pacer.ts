// The pacer: what the bridge sends to one WebRTC receiver leaves at a pace derived from that receiver's downlink
// estimate (PACING_FACTOR x the estimate, as libwebrtc's pacer), so a keyframe (tens of packets made in one
// event-loop turn) spreads over tens of milliseconds instead of leaving as one burst that a narrow link's queue
// turns into loss.
//  - Only video is ever delayed (media, retransmissions: one FIFO per receiver). Audio leaves at once; its bytes
//    count against the pace all the same. Bandwidth probes leave at once and do not count: the probe sender
//    paces them, above the pace on purpose, and they must not hold the video back.
//  - A packet leaves at once while the receiver's queue is empty and its debt (bytes sent minus what the pace
//    allowed since) is under BURST_MS of the pace: normal frames do not wait, and an idle receiver costs nothing.
//  - What waits is copied into a slot of the thread's pool (preallocated, grown in chunks up to a cap, never per
//    packet) and linked into the receiver's queue; it is copied into an output ring slot when it leaves.
//  - One timer per thread (Pacing), armed only while some receiver has a queue: every PACE_INTERVAL_MS it sends
//    what each queue is due (a receiver's next video packet also sends what its queue is due then: a busy event
//    loop makes the timer late). A late timer sends more (the debt shrank more): the average rate stays the pace.
//  - Bounds: the pace rises so that the oldest packet waits no longer than about MAX_QUEUE_MS; a receiver queues at most
//    MAX_QUEUED_PACKETS and the pool holds at most MAX_POOL_SLOTS; beyond either, the new video packet is
//    dropped (tail drop, counted as dropPacerFull): the receiver NACKs it like any loss.
// Never throws, allocates nothing per packet.
import type { BridgeCounters } from './counters.ts';

/** The pace: this many times the receiver's estimate. */
export const PACING_FACTOR = 2.5;
/** How often the shared timer sends what queues are due (ms). */
export const PACE_INTERVAL_MS = 5;
/** A packet leaves at once while the receiver's debt is under this much of its pace (ms). */
export const BURST_MS = 10;
/** The pace rises so that a queue drains within about this long (ms). */
export const MAX_QUEUE_MS = 500;
/** Packets one receiver may have waiting. */
export const MAX_QUEUED_PACKETS = 512;
/** Pool slots per thread at most, allocated POOL_CHUNK at a time when needed. */
export const MAX_POOL_SLOTS = 8192;
const POOL_CHUNK = 256;
/** Largest packet the pool holds (bigger ones leave at once). */
export const PACER_SLOT = 1536;
/** twOffset stored for "omitted: look it up" (MediaTransport.sendRtp). */
const TW_LOOK = -2;

/** Where a receiver's paced packets go: its transport. */
export interface PacedSink {
  /** The receiver's pace now (bps): PACING_FACTOR x its estimate. */
  paceRateBps(): number;
  /** Sends buf[0..len) (a ring slot, plain RTP) now, at `nowUs`; `twOffset` as MediaTransport.sendRtp (undefined: look). */
  sendPaced(buf: Buffer, len: number, twOffset: number | undefined, nowUs: number): void;
}

/** One thread's pacing: the pool of waiting packets, the receivers with a queue, the one timer. */
export class Pacing {
  private readonly counters: BridgeCounters;
  private readonly nextSlot: () => Buffer;
  private readonly intervalMs: number;
  private readonly maxSlots: number;
  private slots: Buffer[] = [];
  private lengths = new Int32Array(0);
  private twOffsets = new Int32Array(0);
  /** Per slot: when it was queued (ms). */
  private queuedAt = new Float64Array(0);
  /** Per slot: the next slot in its queue, or in the free list (-1: none). */
  private links = new Int32Array(0);
  private freeHead = -1;
  /** Receivers with something queued (each knows its index). */
  private readonly active: ReceiverPacer[] = [];
  private timer: NodeJS.Timeout | null = null;
  private armed = false;
  private readonly tickCb = (): void => this.tick();

  /** `nextSlot`: the thread's output ring (a packet leaves from a ring slot, as every other send). */
  constructor(counters: BridgeCounters, nextSlot: () => Buffer, opts: { intervalMs?: number; maxSlots?: number } = {}) {
    this.counters = counters;
    this.nextSlot = nextSlot;
    this.intervalMs = opts.intervalMs ?? PACE_INTERVAL_MS;
    this.maxSlots = opts.maxSlots ?? MAX_POOL_SLOTS;
  }

  /** A receiver's pacer, sending to `sink`. */
  createPacer(sink: PacedSink): ReceiverPacer {
    return new ReceiverPacer(this, sink);
  }

  /** Receivers with packets waiting now. */
  get activeReceivers(): number {
    return this.active.length;
  }

  /** Pool slots allocated so far. */
  get poolSlots(): number {
    return this.slots.length;
  }

  /** Stops the timer and forgets every queue (the bridge closes). */
  close(): void {
    while (this.active.length > 0) this.active[this.active.length - 1].clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armed = false;
  }

  // ---------------------------------------------------------------- for ReceiverPacer

  /** Copies buf[0..len) into a free slot; -1 when the pool is full. */
  take(buf: Buffer, len: number, twOffset: number, nowMs: number): number {
    if (this.freeHead < 0 && !this.grow()) return -1;
    const i = this.freeHead;
    this.freeHead = this.links[i];
    this.links[i] = -1;
    buf.copy(this.slots[i], 0, 0, len);
    this.lengths[i] = len;
    this.twOffsets[i] = twOffset;
    this.queuedAt[i] = nowMs;
    return i;
  }

  link(i: number, next: number): void {
    this.links[i] = next;
  }

  nextOf(i: number): number {
    return this.links[i];
  }

  lengthOf(i: number): number {
    return this.lengths[i];
  }

  queuedAtOf(i: number): number {
    return this.queuedAt[i];
  }

  /** Sends slot i through `sink` (from a ring slot) and frees it. */
  send(i: number, sink: PacedSink, nowUs: number): void {
    const len = this.lengths[i];
    const out = this.nextSlot();
    this.slots[i].copy(out, 0, 0, len);
    const tw = this.twOffsets[i];
    this.release(i);
    this.counters.pacedPackets++;
    sink.sendPaced(out, len, tw === TW_LOOK ? undefined : tw, nowUs);
  }

  release(i: number): void {
    this.links[i] = this.freeHead;
    this.freeHead = i;
  }

  dropFull(): void {
    this.counters.dropPacerFull++;
  }

  /** `p` has a queue now: the timer runs until every queue is empty. */
  activate(p: ReceiverPacer): void {
    p.activeIndex = this.active.length;
    this.active.push(p);
    if (this.armed) return;
    this.armed = true;
    if (this.timer === null) {
      this.timer = setTimeout(this.tickCb, this.intervalMs);
      this.timer.unref();
    } else this.timer.refresh();
  }

  /** `p`'s queue is empty (or dropped). */
  deactivate(p: ReceiverPacer): void {
    const i = p.activeIndex;
    if (i < 0) return;
    const last = this.active.pop()!;
    if (last !== p) {
      this.active[i] = last;
      last.activeIndex = i;
    }
    p.activeIndex = -1;
  }

  /** The shared timer: every queue sends what it is due. */
  tick(): void {
    this.armed = false;
    const nowMs = performance.now();
    for (let i = this.active.length - 1; i >= 0; i--) {
      const p = this.active[i];
      try {
        if (p.drain(nowMs)) this.deactivate(p);
      } catch {
        this.counters.dropError++;
        p.clear();
      }
    }
    if (this.active.length > 0 && this.timer !== null) {
      this.armed = true;
      this.timer.refresh();
    }
  }

  /** Allocates POOL_CHUNK more slots (rare: the pool keeps what it grew to). */
  private grow(): boolean {
    const have = this.slots.length;
    if (have >= this.maxSlots) return false;
    const n = Math.min(POOL_CHUNK, this.maxSlots - have);
    const memory = Buffer.allocUnsafeSlow(n * PACER_SLOT);
    for (let k = 0; k < n; k++) this.slots.push(memory.subarray(k * PACER_SLOT, (k + 1) * PACER_SLOT));
    this.lengths = grown(this.lengths, have + n);
    this.twOffsets = grown(this.twOffsets, have + n);
    this.links = grown(this.links, have + n);
    const at = new Float64Array(have + n);
    at.set(this.queuedAt);
    this.queuedAt = at;
    for (let k = have + n - 1; k >= have; k--) {
      this.links[k] = this.freeHead;
      this.freeHead = k;
    }
    return true;
  }
}

function grown(a: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/** One receiver's queue and debt. */
export class ReceiverPacer {
  private readonly pacing: Pacing;
  private readonly sink: PacedSink;
  /** Index in the thread's active list (-1: nothing queued). */
  activeIndex = -1;
  /** Packets and bytes waiting. */
  queued = 0;
  queuedBytes = 0;
  private head = -1;
  private tail = -1;
  /** Bytes sent beyond what the pace allowed since, as of lastMs. */
  private debt = 0;
  private lastMs = 0;

  constructor(pacing: Pacing, sink: PacedSink) {
    this.pacing = pacing;
    this.sink = sink;
  }

  /**
   * A video packet out[0..len) for the receiver (`rateBps`: its pace now). true: it may leave now (the caller
   * sends it); false: the pacer took it (queued, or dropped when full).
   */
  admit(out: Buffer, len: number, twOffset: number | undefined, nowMs: number, rateBps: number): boolean {
    this.leak(nowMs, rateBps);
    if (this.head < 0 && this.debt <= (rateBps * BURST_MS) / 8000) {
      this.debt += len;
      return true;
    }
    if (len > PACER_SLOT) return true; // not poolable (the bridge forwards at most 1500 bytes)
    if (this.queued >= MAX_QUEUED_PACKETS) {
      this.pacing.dropFull();
      return false;
    }
    const i = this.pacing.take(out, len, twOffset === undefined ? TW_LOOK : twOffset, nowMs);
    if (i < 0) {
      this.pacing.dropFull();
      return false;
    }
    if (this.tail >= 0) this.pacing.link(this.tail, i);
    else this.head = i;
    this.tail = i;
    this.queued++;
    this.queuedBytes += len;
    // what is due leaves now, not only at the timer (which a busy event loop makes late)
    if (this.sendDue(nowMs, rateBps)) return false;
    if (this.activeIndex < 0) this.pacing.activate(this);
    return false;
  }

  /** A packet sent at once (audio): its bytes count against the pace. */
  account(len: number, nowMs: number, rateBps: number): void {
    this.leak(nowMs, rateBps);
    this.debt += len;
  }

  /** Sends what the queue is due at `nowMs` (the timer); true when it is empty. */
  drain(nowMs: number): boolean {
    return this.sendDue(nowMs, this.sink.paceRateBps());
  }

  /** Sends what the queue is due at `nowMs` at pace `rateBps`; true when it is empty. */
  private sendDue(nowMs: number, rateBps: number): boolean {
    const pacing = this.pacing;
    let rate = rateBps;
    // nothing waits much longer than MAX_QUEUE_MS: a queue that would drain slower raises the pace
    if (this.head >= 0) {
      const left = MAX_QUEUE_MS - (nowMs - pacing.queuedAtOf(this.head));
      const drainBps = (this.queuedBytes * 8000) / (left > PACE_INTERVAL_MS ? left : PACE_INTERVAL_MS);
      if (drainBps > rate) rate = drainBps;
    }
    this.leak(nowMs, rate);
    const burst = (rate * BURST_MS) / 8000;
    const nowUs = nowMs * 1000;
    while (this.head >= 0 && this.debt <= burst) {
      const i = this.head;
      const len = pacing.lengthOf(i);
      this.head = pacing.nextOf(i);
      if (this.head < 0) this.tail = -1;
      this.queued--;
      this.queuedBytes -= len;
      this.debt += len;
      pacing.send(i, this.sink, nowUs);
    }
    return this.head < 0;
  }

  /** Drops everything queued (the receiver left or its transport reset). */
  clear(): void {
    const pacing = this.pacing;
    let i = this.head;
    while (i >= 0) {
      const next = pacing.nextOf(i);
      pacing.release(i);
      i = next;
    }
    this.head = this.tail = -1;
    this.queued = 0;
    this.queuedBytes = 0;
    pacing.deactivate(this);
  }

  private leak(nowMs: number, rateBps: number): void {
    const dt = nowMs - this.lastMs;
    if (!(dt > 0)) return;
    this.lastMs = nowMs;
    if (this.debt <= 0) return;
    this.debt -= (dt * rateBps) / 8000;
    if (this.debt < 0) this.debt = 0;
  }
}
