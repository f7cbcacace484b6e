// What a meeting's whiteboard and notes leave behind: when a room ends, signal writes them to
// <dataDir>/meeting-notes/<id>/ (`notes.md`, `whiteboard.excalidraw`, and `meta.json` saying whose they are).
// Moderators find them beside the recordings: this archive answers the Recordings library (recording-library.ts)
// the way a recorder does (list, read by chunks, delete) under the holder id ARCHIVE_HOLDER, so the same
// unguessable one-hour links and the same rights (a moderator: their room's; an admin: all) apply.
// - The id is derived from the room and when its board began: the same meeting saved again (everyone dropped and
//   came back) rewrites its entry instead of adding one.
// - At most MAX_ARCHIVES entries are kept (anyone can open a room and write on its board): the oldest go first.
// - Every failure is logged and never stops the meeting.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile, open } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { ListedRecording } from '../protocol/recorder-messages.ts';

/** The holder id in download tokens of archived notes (a recorder id never has this form: see recorderIdSchema users). */
export const ARCHIVE_HOLDER = 'signal-meeting-notes';
export const MAX_ARCHIVES = 500;
export const NOTES_FILE = 'notes.md';
export const WHITEBOARD_FILE = 'whiteboard.excalidraw';
const META_FILE = 'meta.json';

const metaSchema = z.object({
  roomKey: z.string(),
  room: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
});

export interface ArchivedBoard {
  roomKey: string;
  roomName: string;
  /** When the board began (ms since the epoch). */
  startedAt: number;
  notes: string;
  /** The Excalidraw elements still on the board (deleted ones left out). */
  elements: unknown[];
}

/** The id of a room's board begun at `startedAt`: the recordings' form (rec- and 16 hex digits). */
export function archiveId(roomKey: string, startedAt: number): string {
  return `rec-${createHash('sha256').update(`${roomKey}\n${startedAt}`).digest('hex').slice(0, 16)}`;
}

/** The .excalidraw file of `elements` (Excalidraw opens it with File > Open). */
export function excalidrawFile(elements: unknown[]): string {
  return JSON.stringify({ type: 'excalidraw', version: 2, source: 'tertulia', elements, appState: { viewBackgroundColor: '#ffffff' }, files: {} }, null, 2);
}

export class BoardArchive {
  readonly dir: string;
  private readonly log: Logger;

  constructor(dataDir: string, log: Logger) {
    this.dir = path.join(dataDir, 'meeting-notes');
    this.log = log;
  }

  /** Writes (or rewrites) the board; resolves to its id, or undefined when it could not be written (logged). */
  async save(board: ArchivedBoard, endedAt = Date.now()): Promise<string | undefined> {
    const id = archiveId(board.roomKey, board.startedAt);
    const final = path.join(this.dir, id);
    const temp = path.join(this.dir, `.${id}.${process.pid}.${Date.now()}`);
    try {
      await mkdir(temp, { recursive: true });
      const meta = { roomKey: board.roomKey, room: board.roomName, startedAt: new Date(board.startedAt).toISOString(), endedAt: new Date(endedAt).toISOString() };
      await writeFile(path.join(temp, NOTES_FILE), board.notes);
      await writeFile(path.join(temp, WHITEBOARD_FILE), excalidrawFile(board.elements));
      await writeFile(path.join(temp, META_FILE), JSON.stringify(meta));
      await rm(final, { recursive: true, force: true });
      await rename(temp, final);
      this.log.info({ room: board.roomKey, archive: id, elements: board.elements.length, notesChars: board.notes.length }, 'meeting notes and whiteboard saved');
      await this.prune();
      return id;
    } catch (e) {
      this.log.warn({ room: board.roomKey, err: (e as Error).message }, 'saving the meeting notes and whiteboard failed');
      await rm(temp, { recursive: true, force: true }).catch(() => {});
      return undefined;
    }
  }

  /** Every archived board (of one room, when given), as the Recordings library lists recordings. */
  async list(roomKey?: string): Promise<ListedRecording[]> {
    const out: ListedRecording[] = [];
    for (const id of await this.ids()) {
      const meta = await this.meta(id);
      if (!meta || (roomKey !== undefined && meta.roomKey !== roomKey)) continue;
      const files = [];
      for (const name of [NOTES_FILE, WHITEBOARD_FILE]) {
        const s = await stat(path.join(this.dir, id, name)).catch(() => undefined);
        if (s) files.push({ name, size: s.size });
      }
      out.push({ recordingId: id, recorderId: ARCHIVE_HOLDER, room: meta.room, conferenceId: meta.roomKey, kind: 'meeting-notes', startedAt: meta.startedAt, endedAt: meta.endedAt, running: false, files });
    }
    return out;
  }

  /** `length` bytes of `file` from `offset` (base64) and the file's size; throws ENOENT for an unknown one. */
  async read(id: string, file: string, offset: number, length: number): Promise<{ data: string; size: number }> {
    if (!/^rec-[0-9a-f]{16}$/.test(id) || (file !== NOTES_FILE && file !== WHITEBOARD_FILE)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    const handle = await open(path.join(this.dir, id, file), 'r');
    try {
      const { size } = await handle.stat();
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      if (buf.length > 0) await handle.read(buf, 0, buf.length, offset);
      return { data: buf.toString('base64'), size };
    } finally {
      await handle.close();
    }
  }

  /** True when `id` was archived here and is now deleted. */
  async delete(id: string): Promise<boolean> {
    if (!/^rec-[0-9a-f]{16}$/.test(id) || !(await this.meta(id))) return false;
    await rm(path.join(this.dir, id), { recursive: true, force: true });
    return true;
  }

  private async ids(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => /^rec-[0-9a-f]{16}$/.test(n));
    } catch {
      return [];
    }
  }

  private async meta(id: string): Promise<z.infer<typeof metaSchema> | undefined> {
    try {
      const parsed = metaSchema.safeParse(JSON.parse(await readFile(path.join(this.dir, id, META_FILE), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Deletes the oldest entries beyond MAX_ARCHIVES. */
  private async prune(): Promise<void> {
    const ids = await this.ids();
    if (ids.length <= MAX_ARCHIVES) return;
    const dated = await Promise.all(ids.map(async (id) => ({ id, at: (await this.meta(id))?.endedAt ?? '' })));
    dated.sort((a, b) => a.at.localeCompare(b.at));
    for (const { id } of dated.slice(0, dated.length - MAX_ARCHIVES)) await rm(path.join(this.dir, id), { recursive: true, force: true });
  }
}
