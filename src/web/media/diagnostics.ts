// `window.__tertulia`: the live peer connection and who is who, for tests and troubleshooting.
import type { Participant, RemoteSource } from '../../protocol/signal-messages.ts';

export interface Diagnostics {
  pc: RTCPeerConnection | null;
  selfId: string | null;
  sources: readonly RemoteSource[];
  participants: readonly Participant[];
  status: string;
  /** Probes of our uplink asked of the browser on the current connection, its estimate having started low (send-probe.ts). */
  sendProbes?: () => number;
  /** The direct connection of a room of two (p2p-switch.ts): its peer, whether we show it, whether the bridge gets our media. */
  p2p?: { pc: RTCPeerConnection | null; peerId: string | null; path: 'bridge' | 'p2p'; bridgeSendPaused: boolean; switchedAt: number };
  /**
   * End-to-end encryption: the room's setting, the worker's frame counts, the encoded-transform API in use and how many
   * transforms this page attached (e2ee/e2ee-session.ts; none while E2EE was never on).
   */
  e2ee?: {
    enabled: boolean;
    supported: boolean;
    keyed: readonly string[];
    unsupported: readonly string[];
    stats: { transforms: number; encrypted: number; decrypted: number; undecryptable: number; plainDropped: number };
    api: 'script' | 'streams' | null;
    attached: number;
  };
}

declare global {
  interface Window {
    __tertulia?: Diagnostics;
  }
}

export function exposeDiagnostics(d: Partial<Diagnostics>): void {
  const current = window.__tertulia;
  if (current) Object.assign(current, d);
  else window.__tertulia = { pc: null, selfId: null, sources: [], participants: [], status: 'connecting', ...d };
}
