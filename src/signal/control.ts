// The local control socket: <dataDir>/control.sock, a unix socket only the server's own user can open (mode
// 0600), where the `tertulia` command on this machine asks the running server for what no browser may ask:
// play a file into a room (a participant sending over plain RTP), tap a participant's media (plain RTP to a
// local port), or say what the server is doing (`tertulia status`, server-status.ts). One request per connection (protocol/control-messages.ts); what it starts ends when the
// connection closes, and the connection is closed when it ends on the server's side (the player was removed).
// A player is told on its connection when the meeting's bridge went away and its endpoint moved (`moved`: where
// to send now, the key, and how long ago its old endpoint was lost), from focus's `plain.<participantId>.moved`;
// a tap ends then (its SDP is spent).
import { randomInt, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { FOCUS_ATTACH_TIMEOUT_MS, busCalls } from '../protocol/bus-calls.ts';
import { plainMovedSchema, subjects } from '../protocol/bus-messages.ts';
import { callBus } from '../bus/typed-calls.ts';
import {
  CONTROL_SOCKET,
  controlRequestSchema,
  controlStartSchema,
  MAX_CONTROL_LINE,
  type ControlPlayMoved,
  type ControlRequest,
  type ServerStatus,
} from '../protocol/control-messages.ts';
import { roomKey, type MediaKind } from '../protocol/signal-messages.ts';
import type { Room, Rooms, Session } from './rooms.ts';
import { joinPlainParticipant } from './plain-participant.ts';

const FOCUS_TIMEOUT_MS = 15_000;
/** Connections at once (each may be a participant). */
const MAX_CONNECTIONS = 32;

type Play = Extract<ControlRequest, { op: 'play' }>;
type Tap = Extract<ControlRequest, { op: 'tap' }>;

export interface ControlSocket {
  path: string;
  close(): Promise<void>;
}

/**
 * Why this data directory cannot be used now: another server runs with it (its control socket answers), or
 * undefined. `tertulia start` asks before any part starts (TURN would otherwise stop that server's coturn as a
 * leftover, and rewrite its configuration).
 */
export async function dataDirInUse(dataDir: string): Promise<string | undefined> {
  const file = path.join(dataDir, CONTROL_SOCKET);
  return (await answers(file)) ? `another Tertulia server runs with the data directory ${dataDir} (its ${file} answers)` : undefined;
}

/** Is a server already answering on `file`? (A stale file from a crash answers nothing.) */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(file);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export async function startControlSocket(opts: {
  dataDir: string;
  rooms: Rooms;
  bus: Bus;
  log: Logger;
  status: () => ServerStatus;
  /** Keeps a room's media at the bridge while a tap reads it there (peer-to-peer would take it away). */
  bridgeHold?: (room: Room) => () => void;
}): Promise<ControlSocket> {
  const { rooms, bus, log } = opts;
  const file = path.join(opts.dataDir, CONTROL_SOCKET);
  // a unix socket's path has room for 107 bytes
  if (Buffer.byteLength(file) > 107) throw new Error(`the data directory's path is too long for its control socket (${file}): choose a shorter dataDir`);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const inUse = await dataDirInUse(opts.dataDir);
  if (inUse !== undefined) throw new Error(inUse);
  try {
    unlinkSync(file);
  } catch {
    // none left over
  }
  const connections = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    if (connections.size >= MAX_CONNECTIONS) {
      conn.end(JSON.stringify({ ok: false, error: `the server has ${MAX_CONNECTIONS} control connections already` }) + '\n');
      return;
    }
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => conn.destroy());
    let buffered = '';
    /** What the next line is for: the request, then (a tap) its start; nothing after that. */
    let next: ((line: unknown) => void) | null = (line) => {
      next = null;
      const r = controlRequestSchema.safeParse(line);
      if (!r.success) return fail(conn, `bad request: ${issue(r.error.issues[0])}`);
      if (r.data.op === 'status') return void conn.end(JSON.stringify(opts.status()) + '\n');
      const run = r.data.op === 'play' ? play(conn, r.data) : tap(conn, r.data, (onStart) => (next = onStart));
      run.catch((e: unknown) => fail(conn, (e as Error).message));
    };
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!next) continue; // nothing more is asked on this connection: ignored
        const handle = next;
        try {
          handle(JSON.parse(text));
        } catch {
          fail(conn, 'the request is not JSON');
        }
      }
      if (buffered.length > MAX_CONTROL_LINE) fail(conn, 'request too long');
    });
  });

  const issue = (i: { path: PropertyKey[]; message: string } | undefined) => (i ? `${i.path.map(String).join('.') || '(request)'}: ${i.message}` : 'invalid');

  function fail(conn: net.Socket, error: string): void {
    if (!conn.destroyed) conn.end(JSON.stringify({ ok: false, error }) + '\n');
  }

  /** A participant named after the file; its media comes from the command's ffmpeg (comedia, SDES-keyed SRTP). */
  async function play(conn: net.Socket, req: Play): Promise<void> {
    const session: Session = {
      send(m) {
        // removed by a moderator, or the meeting ended: the command's connection ends (it stops ffmpeg)
        if (m.type === 'removed' || m.type === 'meeting-ended') setImmediate(() => conn.end());
      },
    };
    const kinds = [...new Set(req.kinds)].sort() as MediaKind[];
    // ffmpeg's RTP muxer takes its SSRC as a signed 32-bit number
    const ssrcs = Object.fromEntries(kinds.map((k) => [k, randomInt(1, 2 ** 31 - 1)])) as Partial<Record<MediaKind, number>>;
    const { member, attached } = await joinPlainParticipant(rooms, bus, session, { room: req.room, displayName: req.name, ssrcs });
    // the meeting's bridge went away: the player sends to the new one (ffmpeg started again there by the command)
    const unsubscribe = bus.subscribe(subjects.plainMoved(member.id), (payload) => {
      const r = plainMovedSchema.safeParse(payload);
      if (!r.success || r.data.conferenceId !== member.room.key || r.data.endpointId !== member.id || !r.data.srtp || conn.destroyed) return;
      const moved: ControlPlayMoved = { event: 'moved', address: r.data.address, legs: r.data.legs, srtpKey: r.data.srtp.remoteKey };
      // how long nobody heard it: the player goes on from where it was then (same machine, a moment later)
      if (r.data.lostMsAgo !== undefined) moved.lostMsAgo = r.data.lostMsAgo;
      conn.write(JSON.stringify(moved) + '\n');
      log.info({ room: member.room.key, participant: member.id, bridge: r.data.bridgeId }, 'a played file follows the meeting to another bridge');
    });
    const leave = () => {
      unsubscribe();
      rooms.leave(session, 'player stopped');
    };
    if (conn.destroyed) return leave();
    conn.once('close', leave);
    log.info({ room: member.room.key, participant: member.id }, 'a file plays into the meeting');
    conn.write(
      JSON.stringify({ ok: true, participantId: member.id, address: attached.address, legs: attached.legs, ssrcs, srtpKey: attached.srtp.remoteKey }) + '\n',
    );
  }

  /**
   * One participant's microphone and/or camera to the command's ports, until the connection closes. Media
   * starts when the command says its ports are open (`{"op":"start"}`), so the first keyframe is not lost.
   */
  async function tap(conn: net.Socket, req: Tap, expectStart: (onStart: (line: unknown) => void) => void): Promise<void> {
    const room = rooms.rooms.get(roomKey(req.room));
    if (!room) throw new Error(`no meeting is running in room "${req.room}"`);
    const byId = room.members.get(req.participant);
    const byName = [...room.members.values()].filter((m) => m.displayName === req.participant);
    if (!byId && byName.length > 1) throw new Error(`${byName.length} participants are called "${req.participant}": give the id`);
    const target = byId ?? byName[0];
    if (!target) throw new Error(`nobody called "${req.participant}" is in room "${req.room}"`);
    const legs = (['audio', 'video'] as const)
      .filter((k) => req.ports[k] !== undefined)
      .map((kind) => ({ kind, address: req.address, port: req.ports[kind]! }));
    const endpointId = `tap-${randomUUID().slice(0, 8)}`;
    const request = {
      conferenceId: room.key,
      endpointId,
      legs,
      rtcpMux: req.rtcpMux,
      comedia: false,
      srtp: true,
      sources: [],
      receiveFrom: { participantId: target.id, kinds: legs.map((l) => l.kind), deferred: true },
    };
    const reply = await callBus(bus, busCalls.focusAttachPlain, '', request, FOCUS_ATTACH_TIMEOUT_MS);
    // the meeting's bridge went away: the command's ffmpeg has the old key in its SDP, so the tap ends there (its
    // file is finished) rather than going silent; a new tap gets the new bridge
    const unsubscribe = bus.subscribe(subjects.plainMoved(endpointId), (payload) => {
      if (plainMovedSchema.safeParse(payload).success) fail(conn, "the meeting moved to another bridge (its bridge went away): the tap ended; tap again to go on");
    });
    conn.once('close', unsubscribe);
    const detach = () => {
      callBus(bus, busCalls.focusDetachPlain, '', { conferenceId: room.key, endpointId }, FOCUS_TIMEOUT_MS).catch((e: unknown) =>
        log.warn({ endpoint: endpointId, err: (e as Error).message }, 'detaching a tap failed'),
      );
    };
    if (conn.destroyed) return detach();
    conn.once('close', detach);
    const release = opts.bridgeHold?.(room);
    if (release) conn.once('close', release);
    log.info({ room: room.key, participant: target.id, endpoint: endpointId }, 'a participant is tapped over plain RTP');
    expectStart((line) => {
      if (!controlStartSchema.safeParse(line).success) return fail(conn, 'expected {"op":"start"}');
      callBus(bus, busCalls.focusStartPlain, '', { conferenceId: room.key, endpointId }, FOCUS_TIMEOUT_MS).then(
        () => conn.write(JSON.stringify({ ok: true }) + '\n'),
        (e: unknown) => fail(conn, (e as Error).message),
      );
    });
    conn.write(JSON.stringify({ ok: true, endpointId, sdp: reply.sdp }) + '\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(file, 0o600);
  log.debug({ path: file }, 'control socket listening');
  return {
    path: file,
    async close() {
      for (const c of connections) c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
