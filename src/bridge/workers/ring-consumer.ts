// How a media worker takes the packets other workers hand it (PacketRings). It drains every incoming ring,
// then sleeps in Atomics.waitAsync until a producer's flush wakes it. Producers notify only when the consumer
// said it sleeps (PacketRing's SLEEPING flag): a wake-up costs the producer ~14 µs on this project's 2-core VM.
// (Polling the rings every millisecond while packets flow, to spare those wake-ups, measured worse: most polls
// found nothing; see docs/BENCHMARKS.md.)
import type { PacketRing } from './packet-ring.ts';

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
    while (!this.closed) {
      for (let i = 0; i < this.rings.length; i++) this.rings[i].drain(this.onPacket, this.views[i]);
      // sleep: every ring says so (its producer will notify); data that came meanwhile ends it at once
      const waits: Promise<unknown>[] = [];
      let ready = false;
      for (const ring of this.rings) {
        const w = ring.waitForData();
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
