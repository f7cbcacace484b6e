// What `tertulia loadtest` will do: its options (checked), the rooms and synthetic participants they make, and
// how those are spread over driver processes. Also the messages between a driver process (driver-process.ts)
// and its parent: the load tester's (meeting clients joining through signalling) and the benchmark's (direct
// participants of a bridge under test, bench/driver-pool.ts).
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

/**
 * Spreads participants of the given costs over `drivers` processes so that every driver gets about the same
 * cost: the costliest first, each to the driver with the least so far (ties: the lowest driver). Returns the
 * participants' positions per driver, ascending; never an empty driver while there are more participants.
 */
export function spreadOverDrivers(costs: readonly number[], drivers: number): number[][] {
  const n = Math.max(1, Math.min(Math.floor(drivers), costs.length));
  const out: number[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  const order = costs.map((_, i) => i).sort((a, b) => costs[b]! - costs[a]! || a - b);
  for (const i of order) {
    let best = 0;
    for (let d = 1; d < n; d++) {
      // an empty driver first (every process gets someone), then the least loaded
      const emptyD = out[d]!.length === 0;
      const emptyB = out[best]!.length === 0;
      if ((emptyD && !emptyB) || (emptyD === emptyB && load[d]! < load[best]!)) best = d;
    }
    out[best]!.push(i);
    load[best]! += Math.max(0, costs[i]!);
  }
  for (const d of out) d.sort((a, b) => a - b);
  return costs.length === 0 ? [] : out;
}

/** Tracks (audio + video streams) a client should receive: every other publisher of its room sends two. */
export function expectedTracks(o: Pick<LoadtestOptions, 'publishers'>, publisher: boolean): number {
  return 2 * (o.publishers - (publisher ? 1 : 0));
}

// ------------------------------------------------------------------ messages (process IPC, JSON)

/** A benchmark participant of a bridge driven directly (src/loadtest/participant.ts's constructor options). */
export interface DirectParticipantPlan {
  conferenceId: string;
  endpointId: string;
  index: number;
  publishesAudio: boolean;
  publishesVideo: boolean;
}

/** The benchmark's requests to a driver (each answered by a direct-reply with its id). */
export type DirectOp =
  /** Connect these participants to the bridge's media port (allocate/configure go through the parent). */
  | { op: 'connect'; port: number; participants: DirectParticipantPlan[]; feedback: boolean }
  /** Start the publishers' schedule at `factor` times real time (resets its skip/late counts), or stop it. */
  | { op: 'load'; factor: number }
  | { op: 'stop-load' }
  /** Forget the counters and count what is sent from startUs (send-time clock) for lengthUs. */
  | { op: 'window'; startUs: number; lengthUs: number }
  /** Received video streams whose last packet was on this simulcast layer. */
  | { op: 'layer-count'; layer: number }
  /** Start measuring this process's CPU; `since-mark` answers a DriverCpu. */
  | { op: 'mark' }
  | { op: 'since-mark' }
  /** What the participants counted in the window: a DriverTally. */
  | { op: 'tally' }
  | { op: 'close' };

export interface DriverCpu {
  cpuUs: number;
  wallUs: number;
  /** Datagrams the kernel dropped at the participants' full receive buffers (this process read too slowly). */
  socketDrops: number;
}

/** One driver's sums over its participants for one measured window (bench/scenario-run.ts adds them up). */
export interface DriverTally {
  sent: number;
  sentAudio: number;
  received: number;
  receivedAudio: number;
  bytes: number;
  decrypted: number;
  decryptErrors: number;
  sendErrors: number;
  videoExpected: number;
  videoReceived: number;
  /** Per simulcast layer: received video packets and bytes, streams that ended on it, publishers' sent bytes. */
  layerPackets: number[];
  layerBytes: number[];
  streamsAt: number[];
  sentLayerBytes: number[];
  videoPublishers: number;
  keyframeRequests: number;
  keyframeJumps: number;
  delays: Array<[number, number]>;
  /** The send schedule since its last start: frames skipped, sent late, sent. */
  skips: number;
  late: number;
  frames: number;
}

export type DirectReply = { type: 'direct-reply'; id: number; ok: boolean; result?: unknown; error?: string };

export type ToDriver =
  | { type: 'start'; host: string; httpsPort: number; videoFps: number; clients: PlannedClient[] }
  | { type: 'direct'; id: number; op: DirectOp }
  /** The parent's answer to a bridge-request. */
  | { type: 'bridge-reply'; id: number; ok: boolean; result?: unknown; error?: string }
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
  | { type: 'left' }
  | DirectReply
  /** A benchmark driver asks the bridge under test (only allocate and configure are relayed). */
  | { type: 'bridge-request'; id: number; op: 'allocate' | 'configure'; payload: Record<string, unknown> };
