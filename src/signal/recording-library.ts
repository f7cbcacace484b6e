// The Recordings page's server side: signal is the gateway to the recordings the recorders keep on their own
// disks (a recorder may be another machine). A moderator asks for the room's recordings over the WebSocket
// (`list-recordings`; an admin for every room's): every live recorder is asked (`recorder.<id>.list`), the
// answers merged, and each file comes with a download link `/recordings/<recordingId>/<file>?t=<token>`
// (download-tokens.ts: an HMAC bound to that file, valid one hour). The HTTPS handler checks the token and
// streams the file from its recorder in chunks (`recorder.<id>.read`), a Range request too. `delete-recording`
// deletes one of the moderator's own room's recordings (an admin's, any). The caller checks the rights.
// A meeting's saved whiteboard and notes (board-archive.ts) are listed, read and deleted the same way, from
// signal's own disk instead of a recorder's (their links name the holder ARCHIVE_HOLDER).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BusCallError, type Bus } from '../bus/bus.ts';
import { callBus } from '../bus/typed-calls.ts';
import type { Logger } from '../log.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { MAX_READ_BYTES, recordingFileNameSchema, recordingIdSchema, type ListedRecording } from '../protocol/recorder-messages.ts';
import type { RecordingEntry } from '../protocol/recording-messages.ts';
import { ARCHIVE_HOLDER, type BoardArchive } from './board-archive.ts';
import { DownloadTokens, type TokenCheck } from './download-tokens.ts';
import { safePathSegments, setSecurityHeaders } from './http.ts';
import type { Session } from './rooms.ts';

const LIST_TIMEOUT_MS = 8000;
const READ_TIMEOUT_MS = 15_000;
const DELETE_TIMEOUT_MS = 15_000;

const REFUSALS: Record<Exclude<TokenCheck, { ok: true }>['reason'], string> = {
  missing: 'This download link has no token. Open Recordings in the meeting again for a new link.\n',
  malformed: 'This download link is not valid. Open Recordings in the meeting again for a new link.\n',
  forged: 'This download link is not valid for this file. Open Recordings in the meeting again for a new link.\n',
  expired: 'This download link has expired (links work for one hour). Open Recordings in the meeting again for a new link.\n',
};

function contentTypeOf(file: string): string {
  if (file.endsWith('.mkv')) return 'video/x-matroska';
  if (file.endsWith('.json') || file.endsWith('.excalidraw')) return 'application/json';
  if (file.endsWith('.md')) return 'text/markdown; charset=utf-8';
  return 'application/octet-stream';
}

function sendText(res: ServerResponse, req: IncomingMessage, status: number, body: string, extra: Record<string, string> = {}): void {
  const buf = Buffer.from(body);
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': buf.length, 'Cache-Control': 'no-store', ...extra });
  res.end(req.method === 'HEAD' ? undefined : buf);
}

/** A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range; null for none or one this handler does not serve. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

export class RecordingLibrary {
  readonly tokens: DownloadTokens;
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly recorders: () => string[];
  /** Sessions with a list or delete under way: one at a time each (every one asks every recorder). */
  private readonly busy = new WeakSet<Session>();
  /** The meetings' saved whiteboards and notes, listed with the recordings (none: not listed). */
  archive: BoardArchive | undefined;

  /** `recorders`: the ids of the recorders heard from lately. */
  constructor(bus: Bus, log: Logger, recorders: () => string[], tokens = new DownloadTokens()) {
    this.bus = bus;
    this.log = log;
    this.recorders = recorders;
    this.tokens = tokens;
  }

  /** Every live recorder's recordings (of one conference, when given), the newest first; a silent recorder is left out. */
  async list(conferenceId?: string): Promise<ListedRecording[]> {
    const replies = await Promise.allSettled(
      this.recorders().map((id) => callBus(this.bus, busCalls.recorderList, id, conferenceId === undefined ? {} : { conferenceId }, LIST_TIMEOUT_MS)),
    );
    const out: ListedRecording[] = [];
    if (this.archive) out.push(...(await this.archive.list(conferenceId)));
    for (const r of replies) {
      if (r.status === 'fulfilled') out.push(...r.value.recordings);
      else this.log.warn({ err: (r.reason as Error).message }, 'a recorder did not list its recordings');
    }
    return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** What a moderator sees: each file with a download link. */
  entries(listed: ListedRecording[], nowMs = Date.now()): RecordingEntry[] {
    return listed.map((r) => {
      const e: RecordingEntry = {
        recordingId: r.recordingId,
        room: r.room,
        startedAt: r.startedAt,
        running: r.running,
        size: r.files.reduce((n, f) => n + f.size, 0),
        files: r.files.map((f) => ({
          name: f.name,
          size: f.size,
          url: `/recordings/${r.recordingId}/${encodeURIComponent(f.name)}?t=${this.tokens.make(r.recordingId, f.name, r.recorderId, nowMs)}`,
        })),
      };
      if (r.endedAt) e.endedAt = r.endedAt;
      if (r.endReason) e.endReason = r.endReason;
      return e;
    });
  }

  /** `list-recordings` of a moderator (one conference: their room's) or of an admin (all): the answer to `session`. */
  async listTo(session: Session, conferenceId: string | undefined): Promise<void> {
    await this.oneAtATime(session, async () => {
      const listed = await this.list(conferenceId);
      session.send({ type: 'recordings', recordings: this.entries(listed) });
    });
  }

  private async oneAtATime(session: Session, work: () => Promise<void>): Promise<void> {
    if (this.busy.has(session)) {
      session.send({ type: 'error', code: 'rate-limited', message: 'a recordings request of this connection is under way; wait for its answer' });
      return;
    }
    this.busy.add(session);
    try {
      await work();
    } finally {
      this.busy.delete(session);
    }
  }

  /**
   * `delete-recording` of a moderator (only a recording of `conferenceId`, their room: found by listing it) or of
   * an admin (conferenceId undefined: any). The rights are checked by the caller.
   */
  async deleteFor(session: Session, recordingId: string, conferenceId: string | undefined, who: string): Promise<void> {
    await this.oneAtATime(session, () => this.delete(session, recordingId, conferenceId, who));
  }

  private async delete(session: Session, recordingId: string, conferenceId: string | undefined, who: string): Promise<void> {
    const found = (await this.list(conferenceId)).find((r) => r.recordingId === recordingId);
    if (found?.recorderId === ARCHIVE_HOLDER && this.archive) {
      await this.archive.delete(recordingId);
      this.log.info({ conference: found.conferenceId, recording: recordingId, by: who }, 'meeting notes deleted');
      session.send({ type: 'recording-deleted', recordingId });
      return;
    }
    if (!found) {
      session.send({ type: 'error', code: 'recording-not-found', message: 'there is no such recording here' });
      return;
    }
    if (found.running) {
      session.send({ type: 'error', code: 'not-allowed', message: 'this recording is running; stop it first' });
      return;
    }
    try {
      await callBus(this.bus, busCalls.recorderDelete, found.recorderId, { recordingId }, DELETE_TIMEOUT_MS);
    } catch (e) {
      this.log.warn({ recording: recordingId, err: (e as Error).message }, 'deleting a recording failed');
      const gone = e instanceof BusCallError && e.code === 'not-found';
      session.send({ type: 'error', code: gone ? 'recording-not-found' : 'internal', message: gone ? 'there is no such recording here' : 'the recording could not be deleted' });
      return;
    }
    this.log.info({ conference: found.conferenceId, recording: recordingId, by: who }, 'recording deleted');
    session.send({ type: 'recording-deleted', recordingId });
  }

  /**
   * The HTTPS handler's part for /recordings/<recordingId>/<file>?t=<token>: true when the path is one of ours
   * (answered here, whatever the outcome), false for any other path.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const segments = safePathSegments(req.url);
    if (!segments || segments[0] !== 'recordings' || segments.length < 2) return false;
    setSecurityHeaders(res, req);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, req, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return true;
    }
    const [, recordingId, file] = segments;
    if (segments.length !== 3 || !recordingIdSchema.safeParse(recordingId).success || !recordingFileNameSchema.safeParse(file).success) {
      sendText(res, req, 400, 'bad recording path\n');
      return true;
    }
    let token: string | null;
    try {
      token = new URL(req.url!, 'https://x').searchParams.get('t');
    } catch {
      sendText(res, req, 400, 'bad recording path\n');
      return true;
    }
    const check = this.tokens.check(token, recordingId!, file!);
    if (!check.ok) {
      this.log.warn({ recording: recordingId, reason: check.reason }, 'recording download refused');
      sendText(res, req, 403, REFUSALS[check.reason]);
      return true;
    }
    this.stream(req, res, check.recorderId, recordingId!, file!).catch((e: unknown) => {
      this.log.warn({ recording: recordingId, err: (e as Error).message }, 'recording download failed');
      if (!res.headersSent) {
        const notFound = e instanceof BusCallError && e.code === 'not-found';
        sendText(res, req, notFound ? 404 : 503, notFound ? 'no such recording (deleted?)\n' : 'the recorder holding this recording does not answer; try again later\n');
      } else res.destroy();
    });
    return true;
  }

  /** Reads the file from its recorder chunk by chunk, waiting for the client to take each one. */
  private async stream(req: IncomingMessage, res: ServerResponse, recorderId: string, recordingId: string, file: string): Promise<void> {
    const archive = this.archive;
    const read = (offset: number, length: number) =>
      recorderId === ARCHIVE_HOLDER && archive
        ? archive.read(recordingId, file, offset, length).catch((e: unknown) => {
            throw (e as { code?: string }).code === 'ENOENT' ? new BusCallError('not-found', 'no such file') : e;
          })
        : callBus(this.bus, busCalls.recorderRead, recorderId, { recordingId, file, offset, length }, READ_TIMEOUT_MS);
    let closed = false;
    res.once('close', () => (closed = true));
    const first = await read(0, 1);
    const size = first.size;
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      sendText(res, req, 416, 'range not satisfiable\n', { 'Content-Range': `bytes */${size}` });
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeOf(file),
      'Content-Length': Math.max(0, end - start + 1),
      'Content-Disposition': `attachment; filename="${file}"`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-store',
    };
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    let offset = start;
    while (offset <= end && !closed) {
      const { data } = await read(offset, Math.min(MAX_READ_BYTES, end - offset + 1));
      const bytes = Buffer.from(data, 'base64');
      if (bytes.length === 0) throw new Error(`${file} ended at ${offset} of ${size} bytes`);
      offset += bytes.length;
      if (!res.write(bytes)) await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    res.end();
  }
}
