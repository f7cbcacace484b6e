// The shared whiteboard and notes as the meeting page knows them before their code is loaded: which panel is
// open, and the server's board messages (the room's state, then each change) kept until the Yjs side
// (board-sync.ts, loaded with the first panel opened) takes them. yjs and Excalidraw are not in the meeting's
// bundle: a meeting where nobody opens the board never downloads them.
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { perConference } from '../meeting/per-conference.ts';

export type BoardPanel = 'whiteboard' | 'notes';

export interface BoardState {
  /** The panel shown (one at a time). */
  panel: BoardPanel | null;
}

/** What board-sync.ts does with a server message: `state` replaces the document (of board `board`), `update` merges into it. */
export interface BoardReceiver {
  receive(kind: 'state' | 'update', update: string, board?: string): void;
}

/** Buffered base64 beyond which the Yjs side is loaded anyway, to merge what is kept. */
const MAX_BUFFERED_CHARS = 4 * 1024 * 1024;

export class BoardStore extends Store<BoardState> {
  readonly conference: Conference;
  readonly dispose: () => void;
  #buffer: { kind: 'state' | 'update'; update: string; board?: string }[] = [];
  #buffered = 0;
  #receiver: BoardReceiver | undefined;
  #loading: Promise<unknown> | undefined;

  constructor(conference: Conference) {
    super({ panel: null });
    this.conference = conference;
    this.dispose = conference.onMessage((m) => {
      if (m.type !== 'board-state' && m.type !== 'board-update') return;
      const kind = m.type === 'board-state' ? 'state' : 'update';
      const board = m.type === 'board-state' ? m.board : undefined;
      if (this.#receiver) return this.#receiver.receive(kind, m.update, board);
      if (kind === 'state') {
        this.#buffer = [];
        this.#buffered = 0;
      }
      this.#buffer.push({ kind, update: m.update, board });
      this.#buffered += m.update.length;
      if (this.#buffered > MAX_BUFFERED_CHARS) void this.loadSync();
    });
  }

  /** Hands the kept messages, then every new one, to the Yjs side. */
  attach(receiver: BoardReceiver): void {
    this.#receiver = receiver;
    for (const { kind, update, board } of this.#buffer) receiver.receive(kind, update, board);
    this.#buffer = [];
    this.#buffered = 0;
  }

  /** Loads the Yjs side (once) and attaches it. */
  loadSync(): Promise<unknown> {
    this.#loading ??= import('./board-sync.ts').then((m) => m.boardSyncFor(this));
    return this.#loading;
  }

  send(update: string): void {
    this.conference.sendMessage({ type: 'board-update', update });
  }

  toggle(panel: BoardPanel): void {
    this.update({ panel: this.state.panel === panel ? null : panel });
  }

  close(): void {
    this.update({ panel: null });
  }
}

/** The board of a conference (created on first use; lives as long as the conference). */
export const boardFor = perConference((conference) => new BoardStore(conference));
