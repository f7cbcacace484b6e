// The bridges heard on the bus: each `bridge.announce` (every bridgeHeartbeat, and at once on `bridge.discover`)
// kept with when it came, so a bridge silent for 15 s is no longer counted. For those who only watch bridges
// (health, the server's status): focus keeps its own, richer, table, and counts a bridge dead much sooner
// (bridgeFailureTimeout) to move its meetings.
import type { Bus, Unsubscribe } from './bus.ts';
import { bridgeAnnounceSchema, subjects } from '../protocol/bus-messages.ts';

/** A bridge silent this long is not counted (a status view: slower than focus's failure detection on purpose). */
export const BRIDGE_SILENT_MS = 15_000;
/** Bridges remembered at most (announcements from strangers on the bus cannot grow it without end). */
const MAX_BRIDGES = 1000;

export interface HeardBridge {
  bridgeId: string;
  endpoints: number;
  /** Its cap (maxEndpointsPerBridge); MAX_SAFE_INTEGER when it did not say. */
  maxEndpoints: number;
  /** Date.now() when last heard. */
  at: number;
  /** It said it is draining (stopping: focus moves its meetings away). */
  draining?: boolean;
}

export class BridgeDirectory {
  private readonly bridges = new Map<string, HeardBridge>();
  private readonly unsubscribe: Unsubscribe;

  constructor(bus: Bus) {
    this.unsubscribe = bus.subscribe(subjects.bridgeAnnounce, (payload) => {
      const a = bridgeAnnounceSchema.safeParse(payload);
      if (!a.success) return; // focus logs bad announcements; here they only do not count
      if (!this.bridges.has(a.data.bridgeId) && this.bridges.size >= MAX_BRIDGES) {
        this.list(); // forgets the silent ones
        if (this.bridges.size >= MAX_BRIDGES) return;
      }
      this.heard({ bridgeId: a.data.bridgeId, endpoints: a.data.endpoints, maxEndpoints: a.data.maxEndpoints ?? Number.MAX_SAFE_INTEGER, at: Date.now(), draining: a.data.draining === true });
    });
    bus.publish(subjects.bridgeDiscover, {}); // running bridges answer now rather than within 5 s
  }

  /** A bridge known without the bus (this process's own). */
  heard(b: HeardBridge): void {
    this.bridges.set(b.bridgeId, b);
  }

  /** The bridges heard within BRIDGE_SILENT_MS, by id; the others are forgotten. */
  list(): HeardBridge[] {
    const now = Date.now();
    for (const [id, b] of this.bridges) if (now - b.at > BRIDGE_SILENT_MS) this.bridges.delete(id);
    return [...this.bridges.values()].sort((a, b) => a.bridgeId.localeCompare(b.bridgeId));
  }

  close(): void {
    this.unsubscribe();
  }
}
