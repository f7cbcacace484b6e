// The admin HTTP API on the HTTPS port, for an organisation's own tools: list rooms and their participants,
// end a room, mute or remove a participant. Off unless `adminApiToken` or `adminApiJwt` is set (else every /api
// path is a 404). Each request needs `Authorization: Bearer <adminApiToken>` (compared in constant time) or, with
// adminApiJwt, a meeting-style JWT with room "*" and an admin claim; failures are limited per client address
// (beyond the limit even the right token waits). The actions are Moderation's own (what a
// moderator's browser asks), done in the name "Admin". Bodies are JSON, at most MAX_ADMIN_BODY_BYTES, checked
// with zod; the token is never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import {
  adminMuteSchema,
  adminParticipantIdSchema,
  adminRoomNameSchema,
  MAX_ADMIN_BODY_BYTES,
  type AdminErrorCode,
  type AdminParticipant,
  type AdminRoom,
} from '../protocol/admin-api.ts';
import { roomKey } from '../protocol/signal-messages.ts';
import { FailureLimiter } from './auth/failure-limiter.ts';
import type { TokenVerifier } from './auth/jwt.ts';
import { rateLimitKey } from './client-address.ts';
import { safePathSegments, setSecurityHeaders } from './http.ts';
import type { Moderation } from './moderation.ts';
import type { Member, Room, Rooms } from './rooms.ts';

/** Wrong or missing tokens per client address. */
export const ADMIN_AUTH_LIMIT = { maxFailures: 10, windowMs: 60_000 };
/** The name people see ("Admin removed you"). */
const ADMIN_NAME = 'Admin';

class ApiError extends Error {
  readonly status: number;
  readonly code: AdminErrorCode;
  readonly headers: Record<string, string>;
  constructor(status: number, code: AdminErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const buf = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': buf.length, 'Cache-Control': 'no-store', ...headers });
  res.end(buf);
}

function participantView(m: Member): AdminParticipant {
  return {
    id: m.id,
    displayName: m.displayName,
    moderator: m.role === 'moderator',
    audioMuted: m.audioMuted,
    videoMuted: m.videoMuted,
    joinedAt: new Date(m.joinedAt).toISOString(),
  };
}

function roomView(r: Room): AdminRoom {
  return { name: r.name, participants: r.members.size, startedAt: new Date(r.startedAt).toISOString() };
}

/** The first problem of a failed zod parse, as "field: message". */
function reason(issues: readonly { path: PropertyKey[]; message: string }[], what: string): string {
  const i = issues[0];
  return i ? `${what}${i.path.length ? ` ${i.path.map(String).join('.')}` : ''}: ${i.message}` : `bad ${what}`;
}

export class AdminApi {
  private readonly token: Buffer | undefined;
  private readonly jwt: TokenVerifier | undefined;
  private readonly rooms: Rooms;
  private readonly moderation: Moderation;
  private readonly log: Logger;
  private readonly failures = new FailureLimiter(ADMIN_AUTH_LIMIT);

  constructor(opts: { token: string; jwt?: TokenVerifier | undefined; rooms: Rooms; moderation: Moderation; log: Logger }) {
    this.token = opts.token ? digest(opts.token) : undefined;
    this.jwt = opts.jwt;
    this.rooms = opts.rooms;
    this.moderation = opts.moderation;
    this.log = opts.log;
  }

  /** The HTTPS handler's part for /api/...: true when the path is ours (answered here, whatever the outcome). */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const segments = safePathSegments(req.url);
    if (segments?.[0] !== 'api' && !/^\/api(\/|\?|$)/i.test(req.url ?? '')) return false;
    setSecurityHeaders(res, req);
    this.answer(req, segments).then(
      ({ status, body }) => sendJson(res, status, body),
      (e: unknown) => {
        if (!(e instanceof ApiError)) this.log.error({ err: (e as Error).message }, 'admin API request failed');
        const err = e instanceof ApiError ? e : new ApiError(500, 'internal', 'internal error');
        // a body left unread (too large, or never wanted): the connection ends with the answer
        const close: Record<string, string> = req.complete ? {} : { Connection: 'close' };
        if (!res.headersSent) sendJson(res, err.status, { error: err.code, message: err.message }, { ...err.headers, ...close });
        else res.destroy();
      },
    );
    return true;
  }

  private async answer(req: IncomingMessage, segments: string[] | null): Promise<{ status: number; body: unknown }> {
    if (!this.token && !this.jwt) throw new ApiError(404, 'not-found', 'the admin API is off on this server (set adminApiToken)');
    await this.authenticate(req);
    if (!segments) throw new ApiError(400, 'bad-request', 'bad request path (encoding, control characters or "..")');
    const [, version, collection, room, sub, id, action, ...rest] = segments;
    if (version !== 'v1' || collection !== 'rooms' || rest.length > 0) throw new ApiError(404, 'not-found', 'no such path');
    const method = req.method ?? '';
    if (room === undefined) {
      this.allow(method, ['GET']);
      // breakout rooms are parts of their main room's meeting, not rooms of their own here (README)
      return { status: 200, body: { rooms: [...this.rooms.rooms.values()].filter((r) => !r.breakout).map(roomView) } };
    }
    const name = adminRoomNameSchema.safeParse(room);
    if (!name.success) throw new ApiError(400, 'bad-request', reason(name.error.issues, 'room name'));
    if (sub === undefined) {
      this.allow(method, ['GET', 'DELETE']);
      const r = this.room(name.data);
      if (method === 'GET') return { status: 200, body: { ...roomView(r), participants: [...r.members.values()].map(participantView) } };
      const count = r.members.size;
      this.log.info({ room: r.key, address: req.socket.remoteAddress, participants: count }, 'admin API: meeting ended');
      this.moderation.endMeeting(r, ADMIN_NAME, 'meeting ended by the admin API');
      return { status: 200, body: { ended: r.name, participants: count } };
    }
    if (sub !== 'participants' || id === undefined) throw new ApiError(404, 'not-found', 'no such path');
    const pid = adminParticipantIdSchema.safeParse(id);
    if (!pid.success) throw new ApiError(400, 'bad-request', reason(pid.error.issues, 'participant id'));
    if (action === undefined) {
      this.allow(method, ['GET', 'DELETE']);
      const m = this.member(name.data, pid.data);
      if (method === 'GET') return { status: 200, body: participantView(m) };
      this.log.info({ room: m.room.key, participant: m.id, address: req.socket.remoteAddress }, 'admin API: participant removed');
      this.moderation.remove(m, ADMIN_NAME, 'removed by the admin API');
      return { status: 200, body: { removed: m.id } };
    }
    if (action !== 'mute') throw new ApiError(404, 'not-found', 'no such path');
    this.allow(method, ['POST']);
    const body = adminMuteSchema.safeParse(await readJson(req));
    if (!body.success) throw new ApiError(400, 'bad-request', reason(body.error.issues, 'body'));
    const m = this.member(name.data, pid.data);
    this.log.info({ room: m.room.key, participant: m.id, kind: body.data.kind, address: req.socket.remoteAddress }, 'admin API: participant muted');
    this.moderation.forceMute(m, ADMIN_NAME, body.data.kind);
    return { status: 200, body: participantView(m) };
  }

  /**
   * The Bearer token (in constant time) or an admin JWT; failures counted per address, and refused beyond the
   * limit. Counted as failed before the (asynchronous) JWT check and forgiven if right, so requests sent at once
   * cannot all pass the limit.
   */
  private async authenticate(req: IncomingMessage): Promise<void> {
    const key = rateLimitKey(req.socket.remoteAddress);
    const now = Date.now();
    const wait = this.failures.retryAfterSeconds(key, now);
    if (wait > 0) throw new ApiError(429, 'rate-limited', `too many failed attempts; try again in ${wait} s`, { 'Retry-After': String(wait) });
    this.failures.fail(key, now);
    const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    const given = m?.[1];
    let why = given ? 'wrong' : 'none';
    if (given && this.token && timingSafeEqual(digest(given), this.token)) return this.failures.forgive(key, now);
    if (given && this.jwt && given.split('.').length === 3) {
      const r = await this.jwt.verify(given, '*');
      if (r.ok && r.identity.admin) {
        this.log.info({ address: key, user: r.identity.id }, 'admin API: token accepted');
        return this.failures.forgive(key, now);
      }
      why = r.ok ? 'a token without the admin claim' : r.reason;
    }
    this.log.warn({ address: key, given: why }, 'admin API: request refused (token)');
    throw new ApiError(401, 'unauthorized', 'send Authorization: Bearer <adminApiToken>', { 'WWW-Authenticate': 'Bearer realm="tertulia-admin"' });
  }

  private allow(method: string, methods: string[]): void {
    if (!methods.includes(method)) throw new ApiError(405, 'method-not-allowed', `use ${methods.join(' or ')} here`, { Allow: methods.join(', ') });
  }

  private room(name: string): Room {
    const r = this.rooms.rooms.get(roomKey(name));
    if (!r) throw new ApiError(404, 'not-found', 'no meeting is running in that room');
    return r;
  }

  private member(room: string, id: string): Member {
    const m = this.room(room).members.get(id);
    if (!m) throw new ApiError(404, 'not-found', 'that participant is not in this meeting');
    return m;
  }
}

/** The request's JSON body (at most MAX_ADMIN_BODY_BYTES, Content-Type application/json). */
async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) throw new ApiError(415, 'unsupported-media-type', 'send the body as Content-Type: application/json');
  if (Number(req.headers['content-length'] ?? 0) > MAX_ADMIN_BODY_BYTES) throw new ApiError(413, 'too-large', `the body may have at most ${MAX_ADMIN_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES) throw new ApiError(413, 'too-large', `the body may have at most ${MAX_ADMIN_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'bad-request', 'the body is not JSON');
  }
}
