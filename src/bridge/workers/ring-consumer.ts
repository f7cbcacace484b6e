// How a media worker takes the packets other workers hand it (PacketRings). It drains every incoming ring,
// then sleeps in Atomics.waitAsync until a producer's flush wakes it. Producers notify only when the consumer
// said it sleeps (PacketRing's SLEEPING flag): a wake-up costs the producer ~14 µs on this project's 2-core VM.
// Unnotified, it looks again after 20 ms while packets flow, after 250 ms when idle.
// (Polling the rings every millisecond while packets flow, to spare those wake-ups, measured worse: most polls
// found nothing; see docs/BENCHMARKS.md.)
import { MAX_SLEEP_MS, type PacketRing } from './packet-ring.ts';

/** After this long without a packet the rings are idle (a small meeting placed on one worker: always). */
const IDLE_AFTER_MS = 1000;
/** How long an idle consumer sleeps unnotified at most (a wake-up costs ~0.3 ms of CPU on this project's VM). */
const IDLE_SLEEP_MS = 250;

type OnPacket = (conferenceNum: number, ssrc: number, packet: Buffer, len: number) => void;

export class RingConsumer {
  private readonly rings: PacketRing[];
  private readonly views: Buffer[][];
  private readonly onPacket: OnPacket;
  private closed = false;

  constructor(rings: PacketRing[], onPacket: OnPacket) {
    this.rings = rings;
    this.views = rings.map((r) => r.slotViews());
    this.onPacket = onPacket;
    if (rings.length > 0) void this.run();
  }

  private async run(): Promise<void> {
    let lastPacketMs = 0;
    while (!this.closed) {
      let n = 0;
      for (let i = 0; i < this.rings.length; i++) n += this.rings[i].drain(this.onPacket, this.views[i]);
      const now = performance.now();
      if (n > 0) lastPacketMs = now;
      // sleep: every ring says so (its producer will notify); data that came meanwhile ends it at once
      const timeout = now - lastPacketMs > IDLE_AFTER_MS ? IDLE_SLEEP_MS : MAX_SLEEP_MS;
      const waits: Promise<unknown>[] = [];
      let ready = false;
      for (const ring of this.rings) {
        const w = ring.waitForData(timeout);
        if (w === null) ready = true;
        else waits.push(w);
      }
      if (ready) await new Promise<void>((r) => setImmediate(r));
      else await Promise.race(waits);
      // awake again; with several rings this also ends the waits of the others (no waiter left behind)
      if (this.rings.length > 1) for (const ring of this.rings) ring.wake();
    }
  }

  /** Ends the loop (wakes it if it sleeps). */
  close(): void {
    this.closed = true;
    for (const ring of this.rings) ring.wake();
  }
}
