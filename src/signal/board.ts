// The shared whiteboard and notes on the signalling server (protocol: board-messages.ts). Each Room object has
// one Yjs document, made at its first join: the stored state (room-state.ts) is merged in when read, so a room
// this process starts again (everyone reloaded, a restart, another instance taking over) goes on where it was.
// Each participant's `board-update` is applied here with yjs and relayed to the room's others; a joiner gets the
// whole state (`board-state`). When the room ends, what is on the board is saved for its moderators
// (board-archive.ts).
// Caps: an update of at most MAX_BOARD_UPDATE_BYTES (the schema), BOARD_UPDATE_BURST at once and
// BOARD_UPDATES_PER_SECOND per participant after that (`rate-limited`), and a document of at most
// MAX_BOARD_DOC_BYTES (`board-full`: the update is not applied). An update yjs cannot read is refused with
// `board-bad-update` and changes nothing.
import * as Y from 'yjs';
import type { Logger } from '../log.ts';
import { BOARD_ELEMENTS, BOARD_NOTES, MAX_BOARD_DOC_BYTES, MAX_BOARD_ELEMENT_CHARS } from '../protocol/board-messages.ts';
import { archiveId, type ArchivedBoard, type BoardArchive } from './board-archive.ts';
import type { Member, Room, Rooms, Session } from './rooms.ts';
import type { RoomState } from './room-state.ts';
import { TokenBucket } from './token-bucket.ts';

export const BOARD_UPDATE_BURST = 40;
export const BOARD_UPDATES_PER_SECOND = 20;
/** How long after a change the document is written to the store (changes meanwhile are written with it). */
export const BOARD_SAVE_DELAY_MS = 1000;

interface RoomBoard {
  doc: Y.Doc;
  /** When the board began (ms since the epoch): from the store when it had one. */
  startedAt: number;
  /** The stored state merged in (or none stored). */
  loaded: Promise<void>;
  /** An upper bound of the encoded state's size: its exact size when last measured plus every update since. */
  bytesBound: number;
  saveTimer: NodeJS.Timeout | undefined;
  /** Something was written on it (an empty board is neither stored nor archived). */
  touched: boolean;
}

/** The board's content in the archive's form: the notes' text and the elements not deleted, in drawing order. */
export function boardContent(doc: Y.Doc): { notes: string; elements: unknown[] } {
  const elements: { index?: unknown }[] = [];
  for (const text of doc.getMap<unknown>(BOARD_ELEMENTS).values()) {
    if (typeof text !== 'string' || text.length > MAX_BOARD_ELEMENT_CHARS) continue;
    try {
      const e: unknown = JSON.parse(text);
      if (e && typeof e === 'object' && !Array.isArray(e) && (e as { isDeleted?: unknown }).isDeleted !== true) elements.push(e as { index?: unknown });
    } catch {
      // a malformed element is left out of the file
    }
  }
  const key = (e: { index?: unknown }) => (typeof e.index === 'string' ? e.index : '');
  elements.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return { notes: doc.getText(BOARD_NOTES).toString(), elements };
}

export class MeetingBoards {
  private readonly boards = new WeakMap<Room, RoomBoard>();
  private readonly limits = new WeakMap<Member, TokenBucket>();
  private readonly log: Logger;
  /** Where the document outlives this process (none: it lives as long as the Room object). */
  state: RoomState | undefined;
  /** Where an ended meeting's board is saved (none: not saved). */
  archive: BoardArchive | undefined;
  /** Archive writes under way (awaited by `flush`). */
  private readonly saving = new Set<Promise<unknown>>();

  constructor(log: Logger) {
    this.log = log;
  }

  /** Saves each room's board when the room ends (chained to the rooms' presence observers). */
  watch(rooms: Rooms): void {
    const before = rooms.onPresence;
    rooms.onPresence = (change) => {
      before?.(change);
      if ((change.kind === 'left' && change.roomFinished) || change.kind === 'finished') this.roomEnded(change.room);
    };
  }

  private boardOf(room: Room): RoomBoard {
    let b = this.boards.get(room);
    if (b) return b;
    const doc = new Y.Doc();
    doc.getText(BOARD_NOTES);
    doc.getMap(BOARD_ELEMENTS);
    const board: RoomBoard = { doc, startedAt: Date.now(), loaded: Promise.resolve(), bytesBound: 0, saveTimer: undefined, touched: false };
    board.loaded = (this.state?.board(room.key) ?? Promise.resolve(undefined)).then((stored) => {
      if (!stored) return;
      try {
        Y.applyUpdate(doc, Buffer.from(stored.update, 'base64'), 'store');
        board.startedAt = stored.startedAt;
        board.bytesBound = Y.encodeStateAsUpdate(doc).byteLength;
        board.touched = true;
      } catch (e) {
        this.log.warn({ room: room.key, err: (e as Error).message }, 'the stored board could not be read; it starts empty');
      }
    });
    this.boards.set(room, board);
    return board;
  }

  /** The room's whole document to a joiner (and a reloaded page), once the stored state is merged in. */
  afterJoin(session: Session): void {
    const member = session.member;
    if (!member) return;
    const board = this.boardOf(member.room);
    void board.loaded.then(() => {
      if (session.member !== member) return;
      session.send({ type: 'board-state', update: Buffer.from(Y.encodeStateAsUpdate(board.doc)).toString('base64'), board: archiveId(member.room.key, board.startedAt) });
    });
  }

  /** A participant's change: applied, relayed to the others, stored a moment later. */
  update(member: Member, base64: string): void {
    let bucket = this.limits.get(member);
    if (!bucket) {
      bucket = new TokenBucket(BOARD_UPDATE_BURST, BOARD_UPDATES_PER_SECOND);
      this.limits.set(member, bucket);
    }
    if (!bucket.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many board changes; wait a moment' });
      return;
    }
    const bytes = Buffer.from(base64, 'base64');
    const board = this.boardOf(member.room);
    if (board.bytesBound + bytes.length > MAX_BOARD_DOC_BYTES) {
      board.bytesBound = Y.encodeStateAsUpdate(board.doc).byteLength;
      if (board.bytesBound + bytes.length > MAX_BOARD_DOC_BYTES) {
        member.session.send({ type: 'error', code: 'board-full', message: `the whiteboard and notes of this meeting may have at most ${MAX_BOARD_DOC_BYTES / 1024} KiB; delete something first` });
        return;
      }
    }
    if (!this.apply(board, bytes)) {
      member.session.send({ type: 'error', code: 'board-bad-update', message: 'the board update could not be read' });
      return;
    }
    board.bytesBound += bytes.length;
    board.touched = true;
    for (const m of member.room.members.values()) if (m !== member) m.session.send({ type: 'board-update', update: base64 });
    this.scheduleSave(member.room, board);
  }

  /**
   * Applies `bytes` when yjs reads them whole; false (and the document unchanged) when not. yjs skips what it cannot
   * parse without always throwing, so the update is decoded first. The two shared types are defined when the
   * document is made, so an update cannot give their names another kind.
   */
  private apply(board: RoomBoard, bytes: Uint8Array): boolean {
    try {
      Y.decodeUpdate(bytes);
      Y.applyUpdate(board.doc, bytes, 'participant');
      return true;
    } catch (e) {
      this.log.info({ err: (e as Error).message }, 'board update refused');
      return false;
    }
  }

  private scheduleSave(room: Room, board: RoomBoard): void {
    if (!this.state || board.saveTimer) return;
    board.saveTimer = setTimeout(() => {
      board.saveTimer = undefined;
      this.store(room, board);
    }, BOARD_SAVE_DELAY_MS);
    board.saveTimer.unref();
  }

  private store(room: Room, board: RoomBoard): void {
    this.state?.saveBoard(room.key, { update: Buffer.from(Y.encodeStateAsUpdate(board.doc)).toString('base64'), startedAt: board.startedAt });
  }

  /** The room ended: its board written to the store at once (for people coming back) and saved for its moderators. */
  private roomEnded(room: Room): void {
    const board = this.boards.get(room);
    if (!board || !board.touched) return;
    if (board.saveTimer) {
      clearTimeout(board.saveTimer);
      board.saveTimer = undefined;
      this.store(room, board);
    }
    this.boards.delete(room);
    let content: { notes: string; elements: unknown[] };
    try {
      content = boardContent(board.doc);
    } catch (e) {
      this.log.warn({ room: room.key, err: (e as Error).message }, 'the board could not be read for saving');
      return;
    } finally {
      board.doc.destroy();
    }
    if (!this.archive || (content.notes.trim() === '' && content.elements.length === 0)) return;
    const archived: ArchivedBoard = { roomKey: room.key, roomName: room.name, startedAt: board.startedAt, ...content };
    const p = this.archive.save(archived);
    this.saving.add(p);
    void p.finally(() => this.saving.delete(p));
  }

  /** Resolves once the archive writes under way are done. */
  async flush(): Promise<void> {
    await Promise.all([...this.saving]);
  }
}
