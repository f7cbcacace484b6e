// A bridge on the bus that only records what focus asks of it: allocate returns a fixed transport (ufrag
// u-<bridge>-<endpoint>), everything else ok. For focus's unit tests.
import type { Bus } from '../../src/bus/bus.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';

export interface Call {
  subject: string;
  payload: any;
}

/** A bridge that only records: allocate returns a fixed transport. */
export function fakeBridge(bus: Bus, bridgeId: string, calls: Call[]): void {
  const record = (kind: string) => (payload: unknown) => {
    calls.push({ subject: kind, payload });
    if (kind === 'allocate') {
      const p = payload as { endpointId: string };
      return {
        ufrag: `u-${bridgeId}-${p.endpointId}`,
        pwd: 'bridgepasswordbridgepassword',
        fingerprint: { algorithm: 'sha-256', value: Array(32).fill('AB').join(':') },
        candidates: [{ foundation: '1', ip: '127.0.0.1', port: 10000, protocol: 'udp', priority: 2130706431, type: 'host' }],
      };
    }
    return { ok: true };
  };
  bus.handle(subjects.bridgeAllocate(bridgeId), record('allocate'));
  bus.handle(subjects.bridgeConfigure(bridgeId), record('configure'));
  bus.handle(subjects.bridgeSubscribe(bridgeId), record('subscribe'));
  bus.handle(subjects.bridgeMute(bridgeId), record('mute'));
  bus.handle(subjects.bridgeExpire(bridgeId), record('expire'));
  bus.handle(subjects.bridgeSetSources(bridgeId), record('set-sources'));
  bus.handle(subjects.bridgeConstraints(bridgeId), record('constraints'));
  bus.handle(subjects.bridgeAllocateRelay(bridgeId), (payload) => {
    calls.push({ subject: 'allocate-relay', payload });
    return { address: '127.0.0.1', port: 41000 };
  });
  bus.handle(subjects.bridgeAllocatePlain(bridgeId), (payload) => {
    calls.push({ subject: 'allocate-plain', payload });
    const p = payload as { legs: { kind: string }[] };
    return { address: '127.0.0.1', legs: p.legs.map((l, i) => ({ kind: l.kind, port: 40000 + 2 * i, rtcpPort: 40001 + 2 * i })), rtcpMux: false, srtp: null };
  });
}
