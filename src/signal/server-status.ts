// What a running server is doing, for `tertulia status` (asked through the control socket, control.ts): its
// rooms and participants, the bus (NATS connected or not), the bridges and recorders heard on it, and the
// certificate HTTPS serves (when it expires), TURN. Read from what signal already keeps; nothing here changes anything.
import { X509Certificate } from 'node:crypto';
import type { BridgeDirectory } from '../bus/bridge-directory.ts';
import type { BusLink } from '../bus/bus.ts';
import type { ServerStatus } from '../protocol/control-messages.ts';
import { policyOf } from './room-policy.ts';
import type { Recordings } from './recording.ts';

/** A bridge not heard for this long is shown as silent (its heartbeat comes every half second). */
const SILENT_SHOWN_MS = 3000;
import type { Rooms } from './rooms.ts';

const DAY_MS = 24 * 3600 * 1000;

export function serverStatus(o: {
  version: string;
  startedAt: number;
  rooms: Rooms;
  recordings: Recordings;
  bridges: BridgeDirectory;
  /** The certificate HTTPS serves now (PEM), and whether it is the self-signed one. */
  certificate: () => { pem: string; selfSigned: boolean; domain: string };
  /** TURN's mode and coturn's state (turn-service.ts). */
  turn?: () => ServerStatus['turn'];
  /** What links this process to the others (Bus.link; undefined: not said). */
  busLink?: () => BusLink | undefined;
}): ServerStatus {
  const now = Date.now();
  const rooms = [...o.rooms.rooms.values()]
    .map((room) => {
      const members = [...room.members.values()];
      const policy = policyOf(room);
      return {
        name: room.name,
        participants: members.length,
        moderators: members.filter((m) => m.role === 'moderator').length,
        locked: policy.password !== undefined,
        lobby: policy.lobby,
        running: o.recordings.running(room),
      };
    })
    .sort((a, b) => b.participants - a.participants || a.name.localeCompare(b.name));
  const cert = o.certificate();
  let certificate: ServerStatus['certificate'];
  try {
    const x = new X509Certificate(cert.pem);
    const notAfter = Date.parse(x.validTo);
    certificate = { subject: x.subject.replace(/\n/g, ', '), issuer: x.issuer.replace(/\n/g, ', '), selfSigned: cert.selfSigned, notAfter: new Date(notAfter).toISOString(), daysLeft: Math.floor((notAfter - now) / DAY_MS) };
  } catch {
    certificate = undefined;
  }
  const bus = busStatus(o.busLink?.(), now);
  return {
    ok: true,
    version: o.version,
    uptimeSeconds: Math.round((now - o.startedAt) / 1000),
    participants: rooms.reduce((n, r) => n + r.participants, 0),
    rooms,
    bridges: o.bridges.list().map((b) => ({
      id: b.bridgeId,
      endpoints: b.endpoints,
      ...(b.maxEndpoints < Number.MAX_SAFE_INTEGER ? { maxEndpoints: b.maxEndpoints } : {}),
      ...(b.draining ? { draining: true } : {}),
      // a heartbeat comes every bridgeHeartbeat (0.5 s): seconds of silence mean it stopped or cannot be reached
      ...(now - b.at >= SILENT_SHOWN_MS ? { silentSeconds: Math.round((now - b.at) / 1000) } : {}),
    })),
    ...(bus ? { bus } : {}),
    recorders: o.recordings.liveRecorders(),
    ...(certificate ? { certificate } : {}),
    ...(cert.domain ? { domain: cert.domain } : {}),
    ...(o.turn ? { turn: o.turn() } : {}),
  };
}

/** The bus as the status says it: NATS's address as the bus shows it (no credentials), seconds since it was lost. */
export function busStatus(link: BusLink | undefined, now = Date.now()): ServerStatus['bus'] {
  if (!link) return undefined;
  if (link.kind === 'memory') return { kind: 'memory', connected: true };
  return {
    kind: 'nats',
    server: link.server,
    connected: link.connected,
    ...(!link.connected && link.downSince !== undefined ? { downSeconds: Math.max(0, Math.round((now - link.downSince) / 1000)) } : {}),
  };
}
