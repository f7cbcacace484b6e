// The recorder's UDP ports (recorderPortMin..recorderPortMax), so an admin can open exactly them in a firewall
// when the recorder is another machine than the bridge. Each job (a recording or a live stream) holds one set of
// four from start to stop: audio RTP, audio RTCP, video RTP, video RTCP (RTP even, RTCP on the next port). A
// restarted media process binds the same set, so the bridge sends to the same place. A set another program
// holds is skipped for a while.
import { createSocket } from 'node:dgram';

export interface PortSet {
  audio: number;
  video: number;
}

/** How long a set another program held is left alone. */
const TAKEN_ELSEWHERE_MS = 60_000;

export class PortRange {
  private readonly first: number;
  private readonly sets: number;
  private readonly used = new Set<number>();
  private readonly takenElsewhere = new Map<number, number>();
  private next = 0;

  constructor(min: number, max: number) {
    this.first = min % 2 === 0 ? min : min + 1;
    this.sets = Math.max(0, Math.floor((max - this.first + 1) / 4));
  }

  /** How many sets the range holds. */
  get size(): number {
    return this.sets;
  }

  /** A free set, or null when every one is in use (the caller answers no-capacity). */
  take(now = Date.now()): PortSet | null {
    for (let i = 0; i < this.sets; i++) {
      const index = (this.next + i) % this.sets;
      if (this.used.has(index) || (this.takenElsewhere.get(index) ?? 0) > now) continue;
      this.used.add(index);
      this.next = (index + 1) % this.sets;
      const base = this.first + index * 4;
      return { audio: base, video: base + 2 };
    }
    return null;
  }

  /** Gives a set back; `elsewhere`: another program holds one of its ports, so skip it for a while. */
  release(set: PortSet, elsewhere = false, now = Date.now()): void {
    const index = (set.audio - this.first) / 4;
    this.used.delete(index);
    if (elsewhere) this.takenElsewhere.set(index, now + TAKEN_ELSEWHERE_MS);
  }
}

/** Whether this process can bind the set's four ports now (the media process binds them right after). */
export async function portSetFree(address: string, set: PortSet): Promise<boolean> {
  const ports = [set.audio, set.audio + 1, set.video, set.video + 1];
  const sockets = ports.map(() => createSocket('udp4'));
  const results = await Promise.all(
    sockets.map(
      (s, i) =>
        new Promise<boolean>((resolve) => {
          s.once('error', () => resolve(false));
          s.bind(ports[i], address, () => resolve(true));
        }),
    ),
  );
  const close = (s: (typeof sockets)[number]) =>
    new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve(); // its bind failed: nothing to close
      }
    });
  await Promise.all(sockets.map(close));
  return results.every(Boolean);
}
