// `window.__tertulia`: the live peer connection and who is who, for tests and troubleshooting.
import type { Participant, RemoteSource } from '../../protocol/signal-messages.ts';

export interface Diagnostics {
  pc: RTCPeerConnection | null;
  selfId: string | null;
  sources: readonly RemoteSource[];
  participants: readonly Participant[];
  status: string;
}

declare global {
  interface Window {
    __tertulia?: Diagnostics;
  }
}

export function exposeDiagnostics(d: Diagnostics): void {
  const current = window.__tertulia;
  if (current) Object.assign(current, d);
  else window.__tertulia = { ...d };
}
