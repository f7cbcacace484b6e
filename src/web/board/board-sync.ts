// The room's Yjs document in this browser (protocol: board-messages.ts): replaced by each `board-state` (a join,
// a reconnect, a move to a breakout room), merged with each `board-update`. After a reconnect to the same board,
// what this browser changed while its socket was down is merged in and sent. This browser's own changes
// (transactions with the origin LOCAL) are sent to the server, merged over SEND_DELAY_MS so a stroke being
// drawn or a word being typed is one message, not one per pointer move or key.
import * as Y from 'yjs';
import { MAX_BOARD_UPDATE_BYTES } from '../../protocol/board-messages.ts';
import { Store } from '../media/store.ts';
import type { BoardReceiver, BoardStore } from './board-store.ts';

/** The origin of this browser's own transactions. */
export const LOCAL = Symbol('local');
const REMOTE = Symbol('remote');
const SEND_DELAY_MS = 100;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export interface BoardSyncState {
  doc: Y.Doc;
  /** The room's state has arrived (before, the document is empty and not the room's). */
  ready: boolean;
}

export class BoardSync extends Store<BoardSyncState> implements BoardReceiver {
  readonly #board: BoardStore;
  #pending: Uint8Array[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Which board the document is (from `board-state`). */
  #boardId: string | undefined;

  constructor(board: BoardStore) {
    super({ doc: new Y.Doc(), ready: false });
    this.#board = board;
    this.#watch(this.state.doc);
    board.attach(this);
  }

  #watch(doc: Y.Doc): void {
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== LOCAL || doc !== this.state.doc) return;
      this.#pending.push(update);
      this.#timer ??= setTimeout(() => this.#flush(), SEND_DELAY_MS);
    });
  }

  #flush(): void {
    this.#timer = undefined;
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) return;
    const merged = pending.length === 1 ? pending[0]! : Y.mergeUpdates(pending);
    // one update too large for a message goes as the pieces it was made of (one over the cap is refused by the server)
    if (merged.length <= MAX_BOARD_UPDATE_BYTES) this.#board.send(toBase64(merged));
    else for (const u of pending) this.#board.send(toBase64(u));
  }

  receive(kind: 'state' | 'update', update: string, board?: string): void {
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(update);
    } catch {
      return;
    }
    if (kind === 'state') {
      const old = this.state.doc;
      const doc = new Y.Doc();
      let missed: Uint8Array | undefined;
      try {
        Y.applyUpdate(doc, bytes, REMOTE);
        // the same board again (a reconnect): what this browser changed that the server lacks (made while the
        // socket was down, when sending dropped it) goes into the new document and to the server
        if (this.state.ready && board !== undefined && board === this.#boardId) {
          missed = Y.encodeStateAsUpdate(old, Y.encodeStateVectorFromUpdate(bytes));
          Y.applyUpdate(doc, missed, REMOTE);
        }
      } catch {
        // as below
      }
      this.#boardId = board;
      this.#pending = [];
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#watch(doc);
      this.update({ doc, ready: true });
      old.destroy();
      // an update with nothing in it is two bytes (no structs, no deletions)
      if (missed && missed.length > 2 && missed.length <= MAX_BOARD_UPDATE_BYTES) this.#board.send(toBase64(missed));
      return;
    }
    try {
      Y.applyUpdate(this.state.doc, bytes, REMOTE);
    } catch {
      // the server relays only updates it could apply: nothing to do with one that is not
    }
  }
}

const syncs = new WeakMap<BoardStore, BoardSync>();

/** The Yjs side of a conference's board (made, and attached, on first use). */
export function boardSyncFor(board: BoardStore): BoardSync {
  let s = syncs.get(board);
  if (!s) {
    s = new BoardSync(board);
    syncs.set(board, s);
  }
  return s;
}
