// One side panel at a time, as in Jitsi Meet: the participants pane, the chat, the polls, the shared notes and the
// moderator tools each keep their open state in their own store (the toolbar, the keyboard and the IFrame API open
// them there); whichever opens closes the one that was open, so the stage always keeps room for the video. Escape
// closes the open panel, unless a dialog is open or the key means something where it was pressed.
import { useEffect } from 'react';
import { accessFor } from '../access/access-client.ts';
import { boardFor } from '../board/board-store.ts';
import type { Conference } from '../media/conference.ts';
import { chatStoreFor } from './chat-store.ts';
import { perConference } from './per-conference.ts';
import { pollsFor } from './polls-store.ts';
import { viewFor } from './view-store.ts';

interface Panel {
  isOpen(): boolean;
  close(): void;
  subscribe(listener: () => void): () => void;
}

export class SidePanels {
  readonly #panels: readonly Panel[];
  /** Which panels were open at the last change (a panel open now and not then was just opened). */
  #wasOpen: boolean[];
  readonly #openedListeners = new Set<() => void>();

  constructor(conference: Conference) {
    const view = viewFor(conference);
    const chat = chatStoreFor(conference);
    const polls = pollsFor(conference);
    const board = boardFor(conference);
    const access = accessFor(conference);
    this.#panels = [
      { isOpen: () => view.state.paneOpen, close: () => view.setPaneOpen(false), subscribe: view.subscribe },
      { isOpen: () => chat.state.open, close: () => chat.setOpen(false), subscribe: chat.subscribe },
      { isOpen: () => polls.state.open, close: () => polls.setOpen(false), subscribe: polls.subscribe },
      // the whiteboard covers the stage instead: not a side panel
      { isOpen: () => board.state.panel === 'notes', close: () => board.close(), subscribe: board.subscribe },
      { isOpen: () => access.state.toolsOpen, close: () => access.setToolsOpen(false), subscribe: access.subscribe },
    ];
    this.#wasOpen = this.#panels.map((p) => p.isOpen());
    // (the panels' stores live as long as the conference, and so does this: nothing to unsubscribe)
    for (const p of this.#panels) p.subscribe(() => this.#changed());
  }

  #changed(): void {
    const open = this.#panels.map((p) => p.isOpen());
    const opened = open.findLastIndex((o, i) => o && !this.#wasOpen[i]);
    this.#wasOpen = open;
    if (opened < 0) return;
    // closing the others comes back here (their stores change): by then only the new one is open
    this.#panels.forEach((p, i) => i !== opened && open[i] && p.close());
    for (const l of this.#openedListeners) l();
  }

  /** Calls `listener` whenever a panel opens (the toolbar's popovers close then). */
  onOpened(listener: () => void): () => void {
    this.#openedListeners.add(listener);
    return () => this.#openedListeners.delete(listener);
  }

  /** For useSyncExternalStore: any panel's change. */
  subscribe = (listener: () => void): (() => void) => {
    const unsubscribe = this.#panels.map((p) => p.subscribe(listener));
    return () => {
      for (const u of unsubscribe) u();
    };
  };

  /** A side panel is open (the snapshot of `subscribe`). */
  anyOpen = (): boolean => this.#panels.some((p) => p.isOpen());

  /** Closes the open panel; false when none was. */
  closeOpen(): boolean {
    const open = this.#panels.filter((p) => p.isOpen());
    for (const p of open) p.close();
    return open.length > 0;
  }
}

export const sidePanelsFor = perConference((conference) => new SidePanels(conference));

/** Escape there already means something: a search field clears, an editor (the whiteboard's) or an IME uses it. */
function escapeTakenBy(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.closest('.whiteboard-panel')) return true;
  return target instanceof HTMLInputElement && target.type === 'search';
}

/** Escape closes the open side panel (not while a dialog is open: Escape closes the dialog). */
export function useEscapeClosesPanel(conference: Conference, enabled: boolean): void {
  useEffect(() => {
    if (!enabled) return;
    const panels = sidePanelsFor(conference);
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
      if (document.querySelector('[aria-modal="true"]') || escapeTakenBy(e.target)) return;
      if (panels.closeOpen()) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [conference, enabled]);
}
