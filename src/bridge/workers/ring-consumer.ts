// How a media worker takes the packets other workers hand it (PacketRings), with as few cross-thread
// wake-ups as possible: waking a sleeping thread (Atomics.notify, or a MessagePort) cost the producer
// ~14 µs per wake-up on this project's 2-core VM, more than forwarding a packet.
//
// - While packets keep coming, the consumer polls its rings every POLL_MS on its own timer ("light sleep"):
//   producers see it awake and never notify, and a packet waits at most ~POLL_MS.
// - After IDLE_MS without a packet it sleeps in Atomics.waitAsync ("deep sleep", no CPU at all), and the
//   next producer's flush wakes it.
import type { PacketRing } from './packet-ring.ts';

type OnPacket = (conferenceNum: number, ssrc: number, packet: Buffer, len: number) => void;

const POLL_MS = 1;
const IDLE_MS = 50;

export class RingConsumer {
  private readonly rings: PacketRing[];
  private readonly views: Buffer[][];
  private readonly onPacket: OnPacket;
  private closed = false;
  /** Packets taken (for tests and counters). */
  taken = 0;

  constructor(rings: PacketRing[], onPacket: OnPacket) {
    this.rings = rings;
    this.views = rings.map((r) => r.slotViews());
    this.onPacket = onPacket;
    if (rings.length > 0) void this.run();
  }

  private drainAll(): number {
    let n = 0;
    for (let i = 0; i < this.rings.length; i++) n += this.rings[i].drain(this.onPacket, this.views[i]);
    this.taken += n;
    return n;
  }

  private async run(): Promise<void> {
    let lastPacketMs = performance.now();
    while (!this.closed) {
      if (this.drainAll() > 0) lastPacketMs = performance.now();
      if (performance.now() - lastPacketMs < IDLE_MS) {
        await new Promise<void>((r) => setTimeout(r, POLL_MS));
        continue;
      }
      // deep sleep: every ring says it sleeps (producers will notify); data that came meanwhile ends it
      const waits: Promise<unknown>[] = [];
      let ready = false;
      for (const ring of this.rings) {
        const w = ring.waitForData();
        if (w === null) ready = true;
        else waits.push(w);
      }
      if (!ready) await Promise.race(waits);
      // awake again; also ends the waits of the other rings (no waiter left behind per deep sleep)
      for (const ring of this.rings) ring.wake();
      lastPacketMs = performance.now();
    }
  }

  /** Ends the loop (wakes it if it sleeps). */
  close(): void {
    this.closed = true;
    for (const ring of this.rings) ring.wake();
  }
}
