// The shared whiteboard and notes on the signalling server (protocol: board-messages.ts). A room gets a Yjs
// document only once its board is used (a change, or a stored state to go on from): an unused board costs
// nothing. The stored state (board-store.ts) is merged in when the room is taken up here, so a room this process
// starts again (everyone reloaded, a restart, another instance taking over) goes on where it was.
// Each participant's `board-update` is applied here with yjs and relayed to the room's others on this instance;
// with several signal instances (board-sync.ts) it goes over the bus to the room's other instances, which apply it
// to their document and relay it to their own participants. A joiner gets the whole state (`board-state`).
// Changes are written to the store (merged with what is there) at most every BOARD_SAVE_DELAY_MS. When the room
// ends, what is on the board is saved for its moderators (board-archive.ts); when it ends for good (its stored
// state forgotten), a save still pending is dropped, so the next meeting of that name starts with a new board.
// Caps: an update of at most MAX_BOARD_UPDATE_BYTES (the schema), BOARD_UPDATE_BURST at once and
// BOARD_UPDATES_PER_SECOND per participant after that (`rate-limited`); a document of at most MAX_BOARD_DOC_BYTES
// encoded and MAX_BOARD_STRUCTS Yjs structs (in memory a Y.Doc is some 40 times its encoded size), and all of this
// process's documents together at most `budgetBytes` encoded (the `maxBoardMemoryMb` setting): past either,
// `board-full` and the update is not applied. An update yjs cannot read is refused with `board-bad-update` and
// changes nothing. Updates from the room's other instances were capped there and are applied here as they come.
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
export const BOARD_SAVE_DELAY_MS = 5000;
/** Yjs structs (items and deleted runs) one document may hold: what its memory grows with. */
export const MAX_BOARD_STRUCTS = 50_000;
/** The default of `maxBoardMemoryMb`: encoded bytes of all boards of this process together. */
export const DEFAULT_BOARD_BUDGET_BYTES = 16 * 1024 * 1024;
const EMPTY_STATE_BYTES = Y.encodeStateAsUpdate(new Y.Doc());
/** An update that adds and deletes nothing has this many bytes. */
const EMPTY_UPDATE_BYTES = EMPTY_STATE_BYTES.byteLength;
/** An empty document's state, sent for a board nobody used yet (no Y.Doc is made for it). */
const EMPTY_STATE = Buffer.from(EMPTY_STATE_BYTES).toString('base64');

/** What the board needs to share a room's changes with the room's other signal instances (board-sync.ts). */
export interface BoardPeers {
  /** Another instance applies and relays this update (base64). */
  publish(roomKey: string, update: string): void;
  /** The room's other instances send what a document with this state vector lacks. */
  want(roomKey: string, stateVector: Uint8Array): void;
}

interface RoomBoard {
  room: Room;
  /** Made at the first change or stored state (an unused board has none). */
  doc: Y.Doc | undefined;
  /** When the board began (ms since the epoch): from the store when it had one. */
  startedAt: number;
  /** The stored state merged in (or none stored). */
  loaded: Promise<void>;
  /** An upper bound of the encoded state's size: its exact size when last measured plus every update since. */
  bytesBound: number;
  /** Likewise for its count of Yjs structs. */
  structsBound: number;
  saveTimer: NodeJS.Timeout | undefined;
  /** Something was written on it (an empty board is neither stored nor archived). */
  touched: boolean;
  /** The meeting ended for good (its stored state forgotten): nothing more is written to the store. */
  forgotten: boolean;
}

function structCount(doc: Y.Doc): number {
  let n = 0;
  for (const structs of doc.store.clients.values()) n += structs.length;
  return n;
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
  /** The boards of rooms open here (their bytes count against `budgetBytes`). */
  private readonly live = new Set<RoomBoard>();
  /** The sum of the live boards' `bytesBound`. */
  private usedBound = 0;
  private readonly limits = new WeakMap<Member, TokenBucket>();
  private readonly log: Logger;
  /** Where the document outlives this process (none: it lives as long as the Room object). */
  state: RoomState | undefined;
  /** Where an ended meeting's board is saved (none: not saved). */
  archive: BoardArchive | undefined;
  /** The room's other signal instances (none: one instance). */
  peers: BoardPeers | undefined;
  /** Encoded bytes all boards of this process may hold together (`maxBoardMemoryMb`). */
  budgetBytes = DEFAULT_BOARD_BUDGET_BYTES;
  /** Archive writes under way (awaited by `flush`). */
  private readonly saving = new Set<Promise<unknown>>();

  constructor(log: Logger) {
    this.log = log;
  }

  /** Boards held in memory (with a Y.Doc) and an upper bound of their encoded bytes together. */
  usage(): { docs: number; bytes: number } {
    let docs = 0;
    for (const b of this.live) if (b.doc) docs++;
    return { docs, bytes: this.usedBound };
  }

  /**
   * Saves each room's board when the room ends (chained to the rooms' presence observers), lets it go when the
   * room is gone from here (its last stand-in left), and drops its pending save when the store forgets the room.
   */
  watch(rooms: Rooms): void {
    const before = rooms.onPresence;
    rooms.onPresence = (change) => {
      before?.(change);
      if ((change.kind === 'left' && change.roomFinished) || change.kind === 'finished') this.roomEnded(change.room);
    };
    rooms.watchMembers((room) => {
      if (room.members.size === 0 && rooms.rooms.get(room.key) !== room) this.roomEnded(room);
    });
    const store = this.state?.boards;
    if (store) {
      store.onForget = (roomKey) => {
        for (const b of this.live) {
          if (b.room.key !== roomKey) continue;
          b.forgotten = true;
          clearTimeout(b.saveTimer);
          b.saveTimer = undefined;
        }
      };
    }
  }

  private boardOf(room: Room): RoomBoard {
    let b = this.boards.get(room);
    if (b) return b;
    const board: RoomBoard = { room, doc: undefined, startedAt: Date.now(), loaded: Promise.resolve(), bytesBound: 0, structsBound: 0, saveTimer: undefined, touched: false, forgotten: false };
    const store = this.state?.boards;
    store?.revive(room.key);
    board.loaded = (store?.read(room.key) ?? Promise.resolve(undefined)).then((stored) => {
      if (stored && !board.forgotten) {
        try {
          const doc = this.docOf(board);
          Y.applyUpdate(doc, Buffer.from(stored.update, 'base64'), 'store');
          board.startedAt = stored.startedAt;
          board.touched = true;
          this.measure(board);
        } catch (e) {
          this.log.warn({ room: room.key, err: (e as Error).message }, 'the stored board could not be read; it starts empty');
        }
      }
      // changes another instance made since its last save
      if ([...room.members.values()].some((m) => m.remote)) this.peers?.want(room.key, board.doc ? Y.encodeStateVector(board.doc) : new Uint8Array([0]));
    });
    this.boards.set(room, board);
    this.live.add(board);
    return board;
  }

  private docOf(board: RoomBoard): Y.Doc {
    if (!board.doc) {
      board.doc = new Y.Doc();
      board.doc.getText(BOARD_NOTES);
      board.doc.getMap(BOARD_ELEMENTS);
    }
    return board.doc;
  }

  /** Sets the board's bounds to its exact encoded size and struct count. */
  private measure(board: RoomBoard): void {
    const bytes = board.doc ? Y.encodeStateAsUpdate(board.doc).byteLength : 0;
    this.usedBound += bytes - board.bytesBound;
    board.bytesBound = bytes;
    board.structsBound = board.doc ? structCount(board.doc) : 0;
  }

  /** The room's whole document to a joiner (and a reloaded page), once the stored state is merged in. */
  afterJoin(session: Session): void {
    const member = session.member;
    if (!member) return;
    const board = this.boardOf(member.room);
    void board.loaded.then(() => {
      if (session.member !== member) return;
      const update = board.doc ? Buffer.from(Y.encodeStateAsUpdate(board.doc)).toString('base64') : EMPTY_STATE;
      session.send({ type: 'board-state', update, board: archiveId(member.room.key, board.startedAt) });
    });
  }

  /** A participant's change: applied, relayed to the others (here and on other instances), stored a moment later. */
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
    const structs = this.decode(bytes);
    if (structs === undefined) {
      member.session.send({ type: 'error', code: 'board-bad-update', message: 'the board update could not be read' });
      return;
    }
    const board = this.boardOf(member.room);
    const full = this.fullness(board, bytes.length, structs);
    if (full) {
      member.session.send({ type: 'error', code: 'board-full', message: full });
      return;
    }
    if (!this.apply(board, bytes, structs, 'participant')) {
      member.session.send({ type: 'error', code: 'board-bad-update', message: 'the board update could not be read' });
      return;
    }
    this.relay(member.room, base64, member);
    this.peers?.publish(member.room.key, base64);
  }

  /**
   * A change made on another signal instance (board-sync.ts): applied, and relayed to this instance's members when
   * it added or deleted something here (a change can come twice: relayed as it was made, and again in another
   * instance's answer to this one's `want` while it took the room up).
   */
  applyElsewhere(room: Room, base64: string): void {
    const bytes = Buffer.from(base64, 'base64');
    const structs = this.decode(bytes);
    if (structs === undefined) return;
    const board = this.boardOf(room);
    const doc = this.docOf(board);
    let changed = false;
    const onUpdate = () => {
      changed = true;
    };
    doc.on('update', onUpdate);
    try {
      if (!this.apply(board, bytes, structs, 'peer')) return;
    } finally {
      doc.off('update', onUpdate);
    }
    if (changed) this.relay(room, base64);
  }

  /** What a document with `stateVector` lacks of this room's (base64), or undefined (nothing, or no document here). */
  missing(room: Room, stateVector: Uint8Array): string | undefined {
    const doc = this.boards.get(room)?.doc;
    if (!doc) return undefined;
    const diff = Y.encodeStateAsUpdate(doc, stateVector);
    return diff.byteLength > EMPTY_UPDATE_BYTES ? Buffer.from(diff).toString('base64') : undefined;
  }

  /** The update's count of structs when yjs reads it whole; undefined when not (yjs skips what it cannot parse). */
  private decode(bytes: Uint8Array): number | undefined {
    try {
      return Y.decodeUpdate(bytes).structs.length;
    } catch (e) {
      this.log.info({ err: (e as Error).message }, 'board update refused');
      return undefined;
    }
  }

  /** Why this update would make the board or all boards too large (the bounds measured again first), or undefined. */
  private fullness(board: RoomBoard, bytes: number, structs: number): string | undefined {
    const over = () => board.bytesBound + bytes > MAX_BOARD_DOC_BYTES || board.structsBound + structs > MAX_BOARD_STRUCTS || this.usedBound + bytes > this.budgetBytes;
    if (!over()) return undefined;
    this.measure(board);
    if (board.bytesBound + bytes > MAX_BOARD_DOC_BYTES || board.structsBound + structs > MAX_BOARD_STRUCTS) {
      return `the whiteboard and notes of this meeting may have at most ${MAX_BOARD_DOC_BYTES / 1024} KiB and ${MAX_BOARD_STRUCTS} pieces; delete something first`;
    }
    if (this.usedBound + bytes > this.budgetBytes) return 'this server holds as many whiteboards and notes as it may; try again after other meetings ended';
    return undefined;
  }

  /**
   * Applies `bytes` (read whole by `decode`); false (and the document unchanged) when yjs throws. The two shared
   * types are defined when the document is made, so an update cannot give their names another kind.
   */
  private apply(board: RoomBoard, bytes: Uint8Array, structs: number, origin: string): boolean {
    try {
      Y.applyUpdate(this.docOf(board), bytes, origin);
    } catch (e) {
      this.log.info({ err: (e as Error).message }, 'board update refused');
      return false;
    }
    board.bytesBound += bytes.length;
    board.structsBound += structs;
    this.usedBound += bytes.length;
    board.touched = true;
    this.scheduleSave(board);
    return true;
  }

  /** To the room's members on this instance (the others get it from their own instance). */
  private relay(room: Room, base64: string, except?: Member): void {
    for (const m of room.members.values()) if (m !== except && !m.remote) m.session.send({ type: 'board-update', update: base64 });
  }

  private scheduleSave(board: RoomBoard): void {
    if (!this.state || board.saveTimer || board.forgotten) return;
    board.saveTimer = setTimeout(() => {
      board.saveTimer = undefined;
      this.store(board);
    }, BOARD_SAVE_DELAY_MS);
    board.saveTimer.unref();
  }

  private store(board: RoomBoard): void {
    if (!board.doc || board.forgotten) return;
    void this.state?.boards.save(board.room.key, Y.encodeStateAsUpdate(board.doc), board.startedAt);
  }

  /**
   * The room ended here (its last member left, or its last stand-in): a pending change written to the store at
   * once (unless the meeting ended for good), the board saved for its moderators, its memory let go.
   */
  private roomEnded(room: Room): void {
    const board = this.boards.get(room);
    if (!board) return;
    this.boards.delete(room);
    this.live.delete(board);
    this.usedBound -= board.bytesBound;
    if (board.saveTimer) {
      clearTimeout(board.saveTimer);
      board.saveTimer = undefined;
      this.store(board);
    }
    const doc = board.doc;
    if (!doc || !board.touched) return;
    let content: { notes: string; elements: unknown[] };
    try {
      content = boardContent(doc);
    } catch (e) {
      this.log.warn({ room: room.key, err: (e as Error).message }, 'the board could not be read for saving');
      return;
    } finally {
      doc.destroy();
    }
    if (!this.archive || (content.notes.trim() === '' && content.elements.length === 0)) return;
    const archived: ArchivedBoard = { roomKey: room.key, roomName: room.name, startedAt: board.startedAt, ...content };
    const p = this.archive.save(archived);
    this.saving.add(p);
    void p.finally(() => this.saving.delete(p));
  }

  /** Resolves once the archive and store writes under way are done. */
  async flush(): Promise<void> {
    await Promise.all([...this.saving, this.state?.boards.flush()]);
  }
}
