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
  constructor() {
    super({ view: 'tile', pinned: null, paneOpen: false });
  }

  setView(view: ViewMode): void {
    if (view !== this.state.view) this.update({ view });
  }

  toggleView(): void {
    this.setView(this.state.view === 'tile' ? 'speaker' : 'tile');
  }

  /** Pins a tile (shown large, in speaker view), or unpins with null. */
  pin(key: string | null): void {
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
