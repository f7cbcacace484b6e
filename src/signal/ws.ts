// The WebSocket endpoint (/ws): one JSON message per text frame, parsed with the protocol schema. A bad
// message gets an `error` reply and changes nothing; too big (1009) or too many (1008) closes the socket.
// Liveness: a ping every 2 s (more often when participantTimeout is under 4 s); a socket with neither a
// pong nor a message for config.participantTimeout seconds is dropped (a leave).
import type { Server as HttpsServer } from 'node:https';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Logger } from '../log.ts';
import { clientMessageSchema, MAX_WS_MESSAGE_BYTES, type ServerMessage } from '../protocol/signal-messages.ts';
import type { Rooms, Session } from './rooms.ts';
import type { MeetingFeatures } from './meeting.ts';
import { MEETING_CLIENT_TYPES } from '../protocol/meeting-messages.ts';
import { ACCESS_CLIENT_TYPES, isAccessClientMessage } from '../protocol/access-messages.ts';
import type { Access } from './access.ts';
import type { VideoConstraintsForwarder } from './video-constraints.ts';

export const WS_PATH = '/ws';
export const MAX_MESSAGES_PER_SECOND = 50;
export const HEARTBEAT_INTERVAL_MS = 2000;

interface WsSession extends Session {
  ws: WebSocket;
  lastSeen: number;
  windowStart: number;
  windowCount: number;
  closing: boolean;
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const text = issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(message)'}: ${i.message}`)
    .join('; ');
  return text.length > 500 ? text.slice(0, 500) + '…' : text;
}

const KNOWN_TYPES = new Set<string>(['join', 'answer', 'mute', 'leave', 'receiver-video-constraints', ...MEETING_CLIENT_TYPES, ...ACCESS_CLIENT_TYPES]);

export function attachWebSocket(opts: {
  server: HttpsServer;
  rooms: Rooms;
  meeting: MeetingFeatures;
  access: Access;
  videoConstraints: VideoConstraintsForwarder;
  participantTimeoutSeconds: number;
  log: Logger;
}): { close(): Promise<void>; sessions: Set<WsSession> } {
  const { rooms, meeting, access, videoConstraints, log } = opts;
  const timeoutMs = opts.participantTimeoutSeconds * 1000;
  const intervalMs = Math.max(100, Math.min(HEARTBEAT_INTERVAL_MS, timeoutMs / 2));
  const sessions = new Set<WsSession>();
  const wss = new WebSocketServer({
    server: opts.server,
    path: WS_PATH,
    maxPayload: MAX_WS_MESSAGE_BYTES,
    perMessageDeflate: false,
    // A browser page of another site must not open meetings in its visitors' name: when the browser says
    // which page opens the socket (Origin), it must be this server's own. Non-browser clients send none.
    verifyClient: ({ origin, req }: { origin: string | undefined; req: { headers: Record<string, string | string[] | undefined> } }) =>
      sameOrigin(origin, req.headers.host),
  });
  // the HTTPS server's own errors (e.g. EADDRINUSE) are re-emitted here; startSignal reports those
  wss.on('error', (e) => log.debug({ err: e.message }, 'websocket server error'));

  const handleText = (session: WsSession, text: string): void => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      session.send({ type: 'error', code: 'bad-message', message: 'the message is not valid JSON' });
      return;
    }
    const parsed = clientMessageSchema.safeParse(json);
    if (!parsed.success) {
      const type = json && typeof json === 'object' && !Array.isArray(json) ? (json as { type?: unknown }).type : undefined;
      const message =
        typeof type === 'string' && !KNOWN_TYPES.has(type)
          ? `unknown message type "${type.slice(0, 40)}"`
          : `invalid message: ${describeIssues(parsed.error.issues)}`;
      session.send({ type: 'error', code: 'bad-message', message });
      return;
    }
    const msg = parsed.data;
    if (msg.type === 'join') {
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
      case 'receiver-video-constraints':
        videoConstraints.receive(session.member, msg.tiles);
        break;
    }
  };

  wss.on('connection', (ws, req) => {
    const now = Date.now();
    const session: WsSession = {
      ws,
      lastSeen: now,
      windowStart: now,
      windowCount: 0,
      closing: false,
      remoteAddress: req.socket.remoteAddress,
      send(message: ServerMessage) {
        if (ws.readyState !== WebSocket.OPEN) return;
        try {
          ws.send(JSON.stringify(message));
        } catch (e) {
          log.debug({ err: (e as Error).message }, 'websocket send failed');
        }
      },
    };
    sessions.add(session);
    log.debug({ remote: req.socket.remoteAddress }, 'websocket connected');

    ws.on('pong', () => {
      session.lastSeen = Date.now();
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (session.closing) return;
      try {
        const t = Date.now();
        session.lastSeen = t;
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
      try {
        access.closed(session);
        rooms.leave(session, `socket closed (${code})`);
      } catch (e) {
        log.error({ err: (e as Error).message }, 'leave on close failed');
      }
    });
    ws.on('error', (e) => {
      // oversize (1009), bad UTF-8 (1007), protocol errors: ws closes the socket itself
      log.debug({ err: e.message, participant: session.member?.id }, 'websocket error');
    });
  });

  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const s of sessions) {
      if (now - s.lastSeen > timeoutMs) {
        log.info({ participant: s.member?.id, room: s.member?.room.key }, 'websocket heartbeat timed out');
        s.ws.terminate();
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
