// Where the meeting toolbar's controls go, and which ones the device can use. A phone-sized screen (the CSS's
// phone breakpoint, 760px wide, or a phone on its side: at most 500px tall) keeps microphone, camera, chat,
// participants, raise hand and leave in the bar, and puts the rest in the "More actions" menu, labelled, as Jitsi
// Meet's mobile web does; a wider screen shows every control in the bar, as before. A control reads its placement
// from `PlacementContext`: a round icon button in the bar, a menu item with its name written out in the menu.
// Share screen is offered only where the browser can share one (no getDisplayMedia on phones), full screen only
// with the Fullscreen API, the keyboard-shortcut list only with a fine pointer (a mouse, not a finger).
import { createContext, useCallback, useSyncExternalStore } from 'react';

export type Placement = 'bar' | 'menu';

export const PlacementContext = createContext<Placement>('bar');

/** Matches styles.css: the phone-sized screen (max-width: 760px), or one lying on its side. */
export const COMPACT_TOOLBAR_QUERY = '(max-width: 760px), (max-height: 500px)';

/** Whether a CSS media query matches, following changes (a window resized, a phone turned). */
export function useMediaQuery(query: string): boolean {
  const subscribe = useCallback(
    (onChange: () => void) => {
      const list = window.matchMedia(query);
      list.addEventListener('change', onChange);
      return () => list.removeEventListener('change', onChange);
    },
    [query],
  );
  return useSyncExternalStore(subscribe, () => window.matchMedia(query).matches);
}

/** The toolbar keeps its main buttons and a "More actions" menu. */
export function useCompactToolbar(): boolean {
  return useMediaQuery(COMPACT_TOOLBAR_QUERY);
}

/** The primary pointer is precise (a mouse or a trackpad), so a keyboard is likely at hand too. */
export function useFinePointer(): boolean {
  return useMediaQuery('(pointer: fine)');
}

export function canShareScreen(): boolean {
  return typeof navigator.mediaDevices?.getDisplayMedia === 'function';
}

export function canFullScreen(): boolean {
  return document.fullscreenEnabled === true && typeof document.documentElement.requestFullscreen === 'function';
}
