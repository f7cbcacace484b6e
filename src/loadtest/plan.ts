// What `tertulia loadtest` will do: its options (checked), the rooms and synthetic participants they make, and
// how those are spread over driver processes. Also the messages between the load tester and its drivers.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const count = (max: number) => z.coerce.number().int().min(1).max(max);

export const loadtestOptionsSchema = z
  .object({
    /** The server as participants reach it: https://host[:port] (its web port). */
    url: z
      .string()
      .url()
      .refine((u) => new URL(u).protocol === 'https:', 'the URL must start with https://'),
    rooms: count(1000).default(1),
    participants: count(500).default(5),
    /** Per room, the first this many send camera (three-layer simulcast) and microphone; the rest only listen. */
    publishers: z.coerce.number().int().min(0).max(500).default(2),
    /** Measured seconds, once everyone has joined. */
    duration: count(3600).default(30),
    /** Driver processes the participants are spread over (default: one per 25 participants, at most the CPUs). */
    processes: count(64).optional(),
    /** Joins per second, over all drivers (a crowd arriving, not a stampede). */
    joinRate: z.coerce.number().min(0.1).max(1000).default(10),
    /** Video frames per second of each publisher. */
    videoFps: count(30).default(30),
    /** Rooms are named <prefix>-<n>: a prefix of its own keeps them apart from real meetings. */
    roomPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,40}$/, 'room prefix: letters, digits, - and _ (at most 40)')
      .optional(),
  })
  .refine((o) => o.publishers <= o.participants, { message: 'cannot exceed --participants', path: ['publishers'] });

export type LoadtestOptions = z.infer<typeof loadtestOptionsSchema>;

export interface PlannedClient {
  room: string;
  name: string;
  /** Distinct over the whole run: picks the client's SSRCs. */
  index: number;
  publisher: boolean;
  /** Delay before this client joins, from the start (the join rate, spread over all drivers). */
  joinAfterMs: number;
}

export interface Plan {
  host: string;
  httpsPort: number;
  rooms: string[];
  /** One list of clients per driver process. */
  drivers: PlannedClient[][];
}

export function makePlan(o: LoadtestOptions, cpus: number): Plan {
  const url = new URL(o.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const httpsPort = url.port === '' ? 443 : Number(url.port);
  const prefix = o.roomPrefix ?? `loadtest-${randomBytes(3).toString('hex')}`;
  const rooms = Array.from({ length: o.rooms }, (_, r) => `${prefix}-${r + 1}`);
  const total = o.rooms * o.participants;
  const processes = Math.max(1, Math.min(total, o.processes ?? Math.min(Math.max(1, cpus), Math.ceil(total / 25))));
  const drivers: PlannedClient[][] = Array.from({ length: processes }, () => []);
  let n = 0;
  // participant by participant across rooms, so that every room fills at the same pace and its first members
  // (the publishers) are in before its listeners
  for (let p = 0; p < o.participants; p++) {
    for (let r = 0; r < o.rooms; r++) {
      drivers[n % processes]!.push({
        room: rooms[r]!,
        name: `${p < o.publishers ? 'Publisher' : 'Listener'} ${r + 1}.${p + 1}`,
        index: n,
        publisher: p < o.publishers,
        joinAfterMs: Math.round((n * 1000) / o.joinRate),
      });
      n++;
    }
  }
  return { host, httpsPort, rooms, drivers };
}

/** Tracks (audio + video streams) a client should receive: every other publisher of its room sends two. */
export function expectedTracks(o: Pick<LoadtestOptions, 'publishers'>, publisher: boolean): number {
  return 2 * (o.publishers - (publisher ? 1 : 0));
}

// ------------------------------------------------------------------ messages (process IPC, JSON)

export type ToDriver =
  | { type: 'start'; host: string; httpsPort: number; videoFps: number; clients: PlannedClient[] }
  /** Count from startUs (the shared send-time clock, µs, low 32 bits) for lengthUs. */
  | { type: 'measure'; startUs: number; lengthUs: number }
  | { type: 'report' }
  | { type: 'leave' };

export interface ClientResult {
  name: string;
  room: string;
  publisher: boolean;
  joined: boolean;
  joinMs?: number;
  error?: string;
  /** Streams with packets inside the window, by kind. */
  audioTracks: number;
  videoTracks: number;
  packets: number;
  bytes: number;
  /** Of the received streams: packets the sequence numbers say were sent in the window, and of them missing. */
  expectedPackets: number;
  lostPackets: number;
  sentBytes: number;
  /** Received video streams by the simulcast layer most of their packets were on (lowest first). */
  videoLayers: number[];
  /** A WebSocket that closed during the run (the server dropped this client). */
  dropped: boolean;
}

export type FromDriver =
  | { type: 'joined'; name: string; ms: number }
  | { type: 'join-failed'; name: string; error: string }
  | { type: 'ready' }
  | { type: 'report'; clients: ClientResult[]; delays: Array<[number, number]>; cpuMs: number; windowMs: number }
  | { type: 'left' };
