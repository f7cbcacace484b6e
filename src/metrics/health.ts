// Health of this process for load balancers and autoscalers: alive (/healthz), ready to take meetings (/readyz:
// the bus is connected and a bridge with room has announced itself within 15 s), and the
// JSON detail of both (/about/health). Bridges are learnt from `bridge.announce` like focus does, so a process
// of any parts (signal alone, a bridge alone) answers the same way; a process that runs a bridge also counts its
// own bridge at once, without waiting for its announcement to come back over the bus.
import type { Bus } from '../bus/bus.ts';
import { BridgeDirectory } from '../bus/bridge-directory.ts';
import type { PartName } from '../config/config.ts';

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
  /** Stopping (SIGTERM): it takes no new meetings, so this process is not ready. */
  readonly draining?: boolean;
}

export class HealthWatch {
  private readonly directory: BridgeDirectory;
  private readonly bus: Bus;
  private readonly parts: PartName[];
  private readonly local: LocalBridge | undefined;

  constructor(bus: Bus, parts: PartName[], local?: LocalBridge) {
    this.bus = bus;
    this.parts = parts;
    this.local = local;
    this.directory = new BridgeDirectory(bus);
  }

  report(): HealthReport {
    if (this.local) this.directory.heard({ bridgeId: this.local.bridgeId, ...this.local.load(), at: Date.now() });
    const heard = this.directory.list();
    const bridges = heard.length;
    const bridgesWithRoom = heard.filter((b) => b.endpoints < b.maxEndpoints).length;
    const busConnected = this.bus.connected();
    const problems: string[] = [];
    if (!busConnected) problems.push('the bus (NATS) is not connected');
    if (this.local?.draining) problems.push('this bridge is stopping (draining after SIGTERM)');
    if (bridgesWithRoom === 0) problems.push(bridges === 0 ? 'no bridge has announced itself within 15 s' : 'every bridge is at its cap');
    return { healthy: true, ready: problems.length === 0, parts: this.parts, busConnected, bridges, bridgesWithRoom, problems };
  }

  close(): void {
    this.directory.close();
  }
}
