// Health of this process for load balancers and autoscalers: alive (/healthz), ready to take meetings (/readyz:
// the bus is connected and a bridge with room has announced itself within 15 s, as focus counts them), and the
// JSON detail of both (/about/health). Bridges are learnt from `bridge.announce` like focus does, so a process
// of any parts (signal alone, a bridge alone) answers the same way; a process that runs a bridge also counts its
// own bridge at once, without waiting for its announcement to come back over the bus.
import type { Bus, Unsubscribe } from '../bus/bus.ts';
import type { PartName } from '../config/config.ts';
import { bridgeAnnounceSchema, subjects } from '../protocol/bus-messages.ts';

/** A bridge silent this long is not counted (focus's BRIDGE_EXPIRY_MS). */
const BRIDGE_SILENT_MS = 15_000;

export interface HealthReport {
  healthy: boolean;
  ready: boolean;
  parts: PartName[];
  /** False while NATS is reconnecting (always true with one process). */
  busConnected: boolean;
  /** Bridges heard within 15 s, and those of them below their cap. */
  bridges: number;
  bridgesWithRoom: number;
  /** Why not ready, in words; empty when ready. */
  problems: string[];
}

/** This process's own bridge, when it runs one. */
export interface LocalBridge {
  bridgeId: string;
  load(): { endpoints: number; maxEndpoints: number };
}

export class HealthWatch {
  private readonly bridges = new Map<string, { at: number; endpoints: number; maxEndpoints: number }>();
  private readonly unsubscribe: Unsubscribe;
  private readonly bus: Bus;
  private readonly parts: PartName[];
  private readonly local: LocalBridge | undefined;

  constructor(bus: Bus, parts: PartName[], local?: LocalBridge) {
    this.bus = bus;
    this.parts = parts;
    this.local = local;
    this.unsubscribe = bus.subscribe(subjects.bridgeAnnounce, (payload) => {
      const a = bridgeAnnounceSchema.safeParse(payload);
      if (!a.success) return; // focus logs bad announcements; here they only do not count
      this.bridges.set(a.data.bridgeId, { at: Date.now(), endpoints: a.data.endpoints, maxEndpoints: a.data.maxEndpoints ?? Number.MAX_SAFE_INTEGER });
    });
    bus.publish(subjects.bridgeDiscover, {}); // running bridges answer now rather than within 5 s
  }

  report(): HealthReport {
    const now = Date.now();
    let bridges = 0;
    let bridgesWithRoom = 0;
    if (this.local) {
      const load = this.local.load();
      this.bridges.set(this.local.bridgeId, { at: now, endpoints: load.endpoints, maxEndpoints: load.maxEndpoints });
    }
    for (const [id, b] of this.bridges) {
      if (now - b.at > BRIDGE_SILENT_MS) {
        this.bridges.delete(id);
        continue;
      }
      bridges++;
      if (b.endpoints < b.maxEndpoints) bridgesWithRoom++;
    }
    const busConnected = this.bus.connected();
    const problems: string[] = [];
    if (!busConnected) problems.push('the bus (NATS) is not connected');
    if (bridgesWithRoom === 0) problems.push(bridges === 0 ? 'no bridge has announced itself within 15 s' : 'every bridge is at its cap');
    return { healthy: true, ready: problems.length === 0, parts: this.parts, busConnected, bridges, bridgesWithRoom, problems };
  }

  close(): void {
    this.unsubscribe();
  }
}
