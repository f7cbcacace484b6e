// The toolbar's popovers: the reactions bar and, on a phone-sized screen, the "More actions" menu. One is open at a
// time (opening one closes the other); Escape closes it and gives the focus back to the button that opened it; a
// press or focus outside it closes it; so does a side panel opening (side-panels.ts) or a dialog. Each popover and
// its button sit in an element marked `data-popover="<id>"`, the button first.
import { useEffect } from 'react';
import type { Conference } from '../media/conference.ts';
import { perConference } from './per-conference.ts';
import { sidePanelsFor } from './side-panels.ts';

export type PopoverId = 'reactions' | 'more';

export class ToolbarPopovers {
  #open: PopoverId | null = null;
  readonly #listeners = new Set<() => void>();

  constructor(conference: Conference) {
    // lives as long as the conference, as the side panels do
    sidePanelsFor(conference).onOpened(() => this.close());
  }

  /** Which popover is open (the snapshot of `subscribe`). */
  getSnapshot = (): PopoverId | null => this.#open;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  setOpen(id: PopoverId, open: boolean): void {
    if (open) this.#set(id);
    else if (this.#open === id) this.#set(null);
  }

  close(): void {
    this.#set(null);
  }

  #set(id: PopoverId | null): void {
    if (this.#open === id) return;
    this.#open = id;
    for (const l of this.#listeners) l();
  }
}

export const toolbarPopoversFor = perConference((conference) => new ToolbarPopovers(conference));

function holderOf(id: PopoverId): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-popover="${id}"]`);
}

/** Focuses the button that opens popover `id`. */
export function focusPopoverButton(id: PopoverId): void {
  holderOf(id)?.querySelector<HTMLElement>('button')?.focus();
}

/** Escape, a press or focus elsewhere close the open popover. Escape here goes before the side panels' (side-panels.ts). */
export function useToolbarPopoverDismissal(popovers: ToolbarPopovers, enabled: boolean): void {
  useEffect(() => {
    if (!enabled) return;
    const outside = (target: EventTarget | null): boolean => {
      const open = popovers.getSnapshot();
      return open !== null && target instanceof Node && !holderOf(open)?.contains(target);
    };
    const onKey = (e: KeyboardEvent) => {
      const open = popovers.getSnapshot();
      if (e.key !== 'Escape' || open === null || e.defaultPrevented || e.isComposing) return;
      if (document.querySelector('[aria-modal="true"]')) return; // the dialog's Escape
      e.preventDefault();
      popovers.close();
      focusPopoverButton(open);
    };
    const onPress = (e: PointerEvent) => {
      if (outside(e.target)) popovers.close();
    };
    const onFocus = (e: FocusEvent) => {
      if (outside(e.target)) popovers.close();
    };
    // capture: before the side panels' Escape and before the pressed control's own handlers
    window.addEventListener('keydown', onKey, true);
    document.addEventListener('pointerdown', onPress, true);
    document.addEventListener('focusin', onFocus, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      document.removeEventListener('pointerdown', onPress, true);
      document.removeEventListener('focusin', onFocus, true);
    };
  }, [popovers, enabled]);
}
