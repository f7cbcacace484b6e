// How the meeting is shown: tile or speaker view, the pinned tile (speaker view), the participants pane. One
// per conference, so the toolbar, the keyboard and the IFrame API (embed/) change the same state.
import type { ViewMode } from '../components/VideoLayout.tsx';
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';

export interface ViewState {
  view: ViewMode;
  /** A tile's key (`<participantId>` or `<participantId>:screen`), or null. */
  pinned: string | null;
  paneOpen: boolean;
}

export class ViewStore extends Store<ViewState> {
  /** Tile view was left for speaker view by a screen share, not by the person: it comes back when the shares end. */
  #tileBeforeShare = false;
  /**
   * Follow me (follow-me-store.ts) applies another person's layout here: meanwhile a screen share does not switch
   * the view by itself, and a pinned tile not shown yet stays pinned (the leader's screen share arrives later).
   */
  following = false;
  /**
   * The pin follow me applied here (null: none): while following, it stays although its tile is not shown (yet);
   * a pin of our own choice goes with its tile as always.
   */
  followedPin: string | null = null;

  constructor() {
    super({ view: 'tile', pinned: null, paneOpen: false });
  }

  /** The person's (or the embedding page's) choice. */
  setView(view: ViewMode): void {
    this.#tileBeforeShare = false;
    if (view !== this.state.view) this.update({ view });
  }

  /** A new screen share takes the stage (speaker view), as in Jitsi Meet. */
  screenShareStarted(): void {
    if (this.following) return;
    if (this.state.view === 'tile') {
      this.#tileBeforeShare = true;
      this.update({ view: 'speaker' });
    }
  }

  /** No screen is shared any more: back to tile view if a share took it away (and nobody chose since). */
  screenSharesEnded(): void {
    if (this.following) return;
    if (this.#tileBeforeShare && this.state.view === 'speaker' && this.state.pinned === null) this.update({ view: 'tile' });
    this.#tileBeforeShare = false;
  }

  toggleView(): void {
    this.setView(this.state.view === 'tile' ? 'speaker' : 'tile');
  }

  /** Pins a tile (shown large, in speaker view), or unpins with null. */
  pin(key: string | null): void {
    if (key) this.#tileBeforeShare = false;
    this.update({ pinned: key, ...(key ? { view: 'speaker' as const } : {}) });
  }

  setPaneOpen(paneOpen: boolean): void {
    if (paneOpen !== this.state.paneOpen) this.update({ paneOpen });
  }
}

const stores = new WeakMap<Conference, ViewStore>();

export function viewFor(conference: Conference): ViewStore {
  let s = stores.get(conference);
  if (!s) {
    s = new ViewStore();
    stores.set(conference, s);
  }
  return s;
}
