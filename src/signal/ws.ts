// The WebSocket endpoint (/ws): one JSON message per text frame, parsed with the protocol schema. A bad
// message gets an `error` reply and changes nothing; too big (1009) or too many (1008) closes the socket.
// Liveness: a ping every 2 s (more often when participantTimeout is under 8 s); a socket with neither a
// pong nor a message for 4 s is interrupted for the others, for config.participantTimeout seconds dropped (a leave); time this process itself did not
// run (a stalled event loop) does not count (stall-clock.ts).
// Caps: a socket beyond its address's maxConnectionsPerAddress gets `error` address-limit and is closed. A socket
// that is not in a meeting is closed (`error` join-timeout, close code 4001) joinTimeout seconds after it opened
// or last asked to join or sign in; after a sign-in or room-password prompt (the person is typing), or told to wait
// for the host (the page asks again every few seconds), it has promptTimeout seconds; while it waits in a lobby or
// its join is being checked it is not idle.
import type { Server as HttpsServer } from 'node:https';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Logger } from '../log.ts';
import { MAX_WS_MESSAGE_BYTES, type IceServer, type ServerMessage } from '../protocol/signal-messages.ts';
import type { Rooms, Session } from './rooms.ts';
import type { MeetingFeatures } from './meeting.ts';
import type { BreakoutRooms } from './breakout-rooms.ts';
import { isBreakoutClientMessage } from '../protocol/breakout-messages.ts';
import { isE2eeClientMessage } from '../protocol/e2ee-messages.ts';
import { isAccessClientMessage } from '../protocol/access-messages.ts';
import { isP2pClientMessage } from '../protocol/p2p-messages.ts';
import type { PeerToPeer } from './p2p.ts';
import { parseClientText } from './client-message.ts';
import type { Access } from './access.ts';
import type { VideoConstraintsForwarder } from './video-constraints.ts';
import type { Caps } from './caps.ts';
import type { SignalMetrics } from './signal-metrics.ts';
import { participantRegion, type RegionSettings } from './region.ts';
import { StallClock } from './stall-clock.ts';

export const WS_PATH = '/ws';
export const MAX_MESSAGES_PER_SECOND = 50;
export const HEARTBEAT_INTERVAL_MS = 2000;
/**
 * A member silent this long shows as interrupted to the others (as Jitsi Meet's "Connection interrupted"); it
 * leaves only after participantTimeout, so a network back within that keeps its connection and nobody sees it leave.
 */
export const INTERRUPTED_AFTER_MS = 4000;
/** The close code of a socket that did not join in time (4000-4999: the application's own). */
export const JOIN_TIMEOUT_CLOSE_CODE = 4001;
/** The close code of a socket refused by a cap (1008: policy violation). */
export const CAP_CLOSE_CODE = 1008;
/** Refusals after which the person is answering a prompt (sign in, room password, wait after too many tries). */
const PROMPT_CODES = new Set<string>(['auth-required', 'login-failed', 'password-required', 'wrong-password', 'rate-limited']);

interface WsSession extends Session {
  ws: WebSocket;
  lastSeen: number;
  windowStart: number;
  windowCount: number;
  closing: boolean;
  /** When this socket, not in a meeting, is closed as idle (ms since the epoch). */
  joinDeadline: number;
  /** performance.now() of its last `join` not yet answered by `joined` (the join-time metric); -1: none. */
  joinAsked: number;
}

export function attachWebSocket(opts: {
  server: HttpsServer;
  rooms: Rooms;
  meeting: MeetingFeatures;
  breakouts: BreakoutRooms;
  access: Access;
  videoConstraints: VideoConstraintsForwarder;
  /** Peer-to-peer for two (p2p.ts): relays the browsers' signals. */
  p2p: PeerToPeer;
  participantTimeoutSeconds: number;
  caps: Caps;
  joinTimeoutSeconds: number;
  promptTimeoutSeconds: number;
  metrics: SignalMetrics;
  /** TURN servers for a browser that reached us with this Host header (src/turn/). */
  iceServers?: (hostHeader: string | undefined) => IceServer[];
  /** Where participants are (region.ts): this server's region, or the load balancer's header. */
  regions: RegionSettings;
  log: Logger;
}): { close(): Promise<void>; sessions: Set<WsSession> } {
  const { rooms, meeting, breakouts, access, videoConstraints, p2p, caps, metrics, log } = opts;
  const timeoutMs = opts.participantTimeoutSeconds * 1000;
  const joinMs = opts.joinTimeoutSeconds * 1000;
  const promptMs = opts.promptTimeoutSeconds * 1000;
  // (at least four pings per timeout: between half of it, when a silent connection counts as interrupted, and all of
  // it, when it is dropped, comes at least one look)
  const intervalMs = Math.max(100, Math.min(HEARTBEAT_INTERVAL_MS, timeoutMs / 4, joinMs / 2));
  // silent this long: its connection counts as interrupted for the others (INTERRUPTED_AFTER_MS, or half the timeout
  // when that is shorter; at least a missed pong and a half, so a browser answering every ping is never taken for one)
  const interruptedAfterMs = Math.max(Math.min(timeoutMs / 2, INTERRUPTED_AFTER_MS), intervalMs * 1.5);
  const sessions = new Set<WsSession>();
  /** A pong or a message from `s` at `t`: it is alive (and no longer interrupted for the others). */
  const heard = (s: WsSession, t: number): void => {
    s.lastSeen = t;
    if (s.member?.interrupted) rooms.setInterrupted(s, false);
  };
  const wss = new WebSocketServer({
    server: opts.server,
    path: WS_PATH,
    maxPayload: MAX_WS_MESSAGE_BYTES,
    perMessageDeflate: false,
    // A browser page of another site must not open meetings in its visitors' name: when the browser says
    // which page opens the socket (Origin), it must be this server's own. Non-browser clients send none.
    // Refused with 403 (the page is not allowed, whoever its visitor is), not ws's default 401.
    verifyClient: (
      { origin, req }: { origin: string | undefined; req: { headers: Record<string, string | string[] | undefined> } },
      done: (ok: boolean, code?: number, message?: string) => void,
    ) => (sameOrigin(origin, req.headers.host) ? done(true) : done(false, 403, 'Forbidden')),
  });
  // the HTTPS server's own errors (e.g. EADDRINUSE) are re-emitted here; startSignal reports those
  wss.on('error', (e) => log.debug({ err: e.message }, 'websocket server error'));

  const handleText = (session: WsSession, text: string): void => {
    const parsed = parseClientText(text);
    if (!parsed.ok) {
      session.send(parsed.error);
      return;
    }
    const msg = parsed.message;
    if (msg.type === 'join' || msg.type === 'login') session.joinDeadline = Date.now() + joinMs;
    if (msg.type === 'join') {
      session.joinAsked = performance.now();
      // admission (access mode, lock, lobby) decides; it calls meeting.afterJoin once joined (see index.ts)
      access.join(session, msg);
      return;
    }
    if (isAccessClientMessage(msg)) {
      access.handle(session, msg);
      return;
    }
    if (!session.member) {
      session.send({ type: 'error', code: 'not-joined', message: `"${msg.type}" needs a joined room; send "join" first` });
      return;
    }
    if (isBreakoutClientMessage(msg)) {
      breakouts.handle(session, msg);
      return;
    }
    if (isP2pClientMessage(msg)) {
      if (msg.type === 'p2p-signal') p2p.signal(session.member, msg.session, msg.signal);
      else p2p.failed(session.member, msg.session);
      return;
    }
    if (isE2eeClientMessage(msg)) {
      meeting.e2ee.handle(session.member, msg);
      return;
    }
    switch (msg.type) {
      case 'answer':
        rooms.answer(session, msg.sdp, msg.version);
        break;
      case 'mute':
        access.mute(session, msg.kind, msg.muted);
        break;
      case 'leave':
        rooms.leave(session, 'left');
        break;
      case 'chat':
        meeting.chat(session.member, msg.text, msg.to);
        break;
      case 'hand':
        meeting.hand(session.member, msg.raised);
        break;
      case 'reaction':
        meeting.reaction(session.member, msg.reaction);
        break;
      case 'rename':
        meeting.rename(session.member, msg.displayName);
        break;
      case 'screen-share':
        meeting.screenShare(session.member, msg.sharing);
        break;
      case 'set-subject':
        meeting.subjects.set(session.member, msg.subject);
        break;
      case 'speaker-stats':
        meeting.speakerStats.ask(session.member);
        break;
      case 'set-follow-me':
        meeting.followMe.set(session.member, msg.enabled, msg.layout);
        break;
      case 'follow-me-layout':
        meeting.followMe.layout(session.member, msg.layout);
        break;
      case 'create-poll':
        meeting.polls.create(session.member, msg.question, msg.options, msg.key);
        break;
      case 'answer-poll':
        meeting.polls.answer(session.member, msg.pollId, msg.option, msg.key);
        break;
      case 'close-poll':
        meeting.polls.close(session.member, msg.pollId, msg.key);
        break;
      case 'board-update':
        meeting.boards.update(session.member, msg.update);
        break;
      case 'receiver-video-constraints':
        videoConstraints.receive(session.member, msg.tiles, msg.maxHeight);
        break;
      case 'set-av-moderation':
      case 'ask-to-unmute':
      case 'allow-unmute':
      case 'dismiss-unmute-request':
        access.moderation.avModeration.handle(session.member, msg);
        break;
    }
  };

  wss.on('connection', (ws, req) => {
    const now = Date.now();
    const refusal = caps.connect(req.socket.remoteAddress);
    if (refusal) {
      metrics.refusedSockets.inc();
      const level = caps.warnAbout(req.socket.remoteAddress) ? 'warn' : 'debug';
      log[level]({ remote: req.socket.remoteAddress }, `websocket refused: ${refusal.message}`);
      ws.on('error', () => {});
      try {
        ws.send(JSON.stringify({ type: 'error', code: refusal.code, message: refusal.message } satisfies ServerMessage));
        ws.close(CAP_CLOSE_CODE, 'too many connections');
      } catch {
        // already gone
      }
      setTimeout(() => ws.terminate(), 1000).unref(); // not counted, so not kept waiting for the peer's close
      return;
    }
    const session: WsSession = {
      ws,
      lastSeen: now,
      windowStart: now,
      windowCount: 0,
      closing: false,
      joinDeadline: now + joinMs,
      joinAsked: -1,
      remoteAddress: req.socket.remoteAddress,
      iceServers: opts.iceServers && (() => opts.iceServers!(req.headers.host)),
      region: participantRegion(req.headers, opts.regions),
      send(message: ServerMessage) {
        if (message.type === 'error') metrics.refused(message.code);
        else if (message.type === 'joined' && session.joinAsked >= 0) {
          metrics.joined((performance.now() - session.joinAsked) / 1000);
          session.joinAsked = -1;
        }
        if (ws.readyState !== WebSocket.OPEN) return;
        const prompt = (message.type === 'error' && PROMPT_CODES.has(message.code)) || message.type === 'host-wait';
        if (prompt && !session.member) session.joinDeadline = Date.now() + promptMs;
        try {
          ws.send(JSON.stringify(message));
        } catch (e) {
          log.debug({ err: (e as Error).message }, 'websocket send failed');
        }
      },
    };
    sessions.add(session);
    log.debug({ remote: req.socket.remoteAddress }, 'websocket connected');

    ws.on('pong', () => heard(session, Date.now()));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (session.closing) return;
      try {
        const t = Date.now();
        heard(session, t);
        if (t - session.windowStart >= 1000) {
          session.windowStart = t;
          session.windowCount = 0;
        }
        if (++session.windowCount > MAX_MESSAGES_PER_SECOND) {
          session.closing = true;
          log.warn({ remote: req.socket.remoteAddress, participant: session.member?.id }, 'websocket closed: too many messages');
          ws.close(1008, 'too many messages');
          return;
        }
        if (isBinary) {
          session.send({ type: 'error', code: 'bad-message', message: 'binary messages are not supported; send JSON text' });
          return;
        }
        const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
        handleText(session, text);
      } catch (e) {
        log.error({ err: (e as Error).message, stack: (e as Error).stack }, 'websocket message handler failed');
        session.send({ type: 'error', code: 'internal', message: 'internal error' });
      }
    });
    ws.on('close', (code) => {
      sessions.delete(session);
      caps.disconnect(req.socket.remoteAddress);
      try {
        access.closed(session);
        // a browser leaving on purpose said `leave` first; any other close may come back with its resume token
        rooms.leave(session, `socket closed (${code})`, { resumable: true });
      } catch (e) {
        log.error({ err: (e as Error).message }, 'leave on close failed');
      }
    });
    ws.on('error', (e) => {
      // oversize (1009), bad UTF-8 (1007), protocol errors: ws closes the socket itself
      log.debug({ err: e.message, participant: session.member?.id }, 'websocket error');
    });
  });

  const stalls = new StallClock(intervalMs);
  const heartbeat = setInterval(() => {
    const now = Date.now();
    // time this process did not run is not a peer's silence (stall-clock.ts)
    const stalled = stalls.tick(now);
    for (const s of sessions) {
      s.lastSeen += stalled;
      s.joinDeadline += stalled;
      if (now - s.lastSeen > timeoutMs) {
        log.info({ participant: s.member?.id, room: s.member?.room.key }, 'websocket heartbeat timed out');
        s.ws.terminate();
        continue;
      }
      // silent for half the timeout: the others see its connection interrupted until it answers or times out
      if (s.member && !s.member.interrupted && now - s.lastSeen > interruptedAfterMs) rooms.setInterrupted(s, true);
      if (s.member || access.waiting(s)) s.joinDeadline = now + joinMs;
      else if (now > s.joinDeadline && !s.closing) {
        s.closing = true;
        log.info({ remote: s.remoteAddress }, 'websocket closed: did not join in time');
        s.send({ type: 'error', code: 'join-timeout', message: 'this connection did not join a meeting in time; reload the page to try again' });
        s.ws.close(JOIN_TIMEOUT_CLOSE_CODE, 'join timeout');
        setTimeout(() => s.ws.terminate(), 1000).unref();
        continue;
      }
      if (s.ws.readyState === WebSocket.OPEN) {
        try {
          s.ws.ping();
        } catch {
          // closing meanwhile
        }
      }
    }
  }, intervalMs);
  heartbeat.unref();

  return {
    sessions,
    async close() {
      clearInterval(heartbeat);
      for (const s of sessions) {
        try {
          s.ws.close(1001, 'server stopping');
        } catch {
          s.ws.terminate();
        }
      }
      // give clients a moment to see the close frame, then cut whoever is left
      const deadline = Date.now() + 1000;
      while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const s of sessions) s.ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

/** True when there is no Origin header, or its host:port is the Host the request was sent to. */
export function sameOrigin(origin: string | undefined, host: string | string[] | undefined): boolean {
  if (origin === undefined || origin === '') return true;
  if (typeof host !== 'string') return false;
  try {
    const o = new URL(origin);
    return (o.protocol === 'https:' || o.protocol === 'http:') && o.host.toLowerCase() === new URL(`https://${host}`).host.toLowerCase();
  } catch {
    return false;
  }
}
