// Keyboard shortcuts as in Jitsi Meet: M mute, V camera, C chat, R raise hand, D screen share, W tile view,
// ? the shortcut list. Ignored while typing in a field or with a modifier key held.
import { useEffect, useRef } from 'react';

export const SHORTCUT_KEYS = ['m', 'v', 'c', 'r', 'd', 'w', '?'] as const;
export type ShortcutKey = (typeof SHORTCUT_KEYS)[number];

function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}

export function useShortcuts(enabled: boolean, handlers: Record<ShortcutKey, () => void>): void {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.repeat || typingIn(e.target)) return;
      if (document.querySelector('[role="dialog"]')) return; // a dialog has the keyboard
      const key = e.key.toLowerCase();
      if ((SHORTCUT_KEYS as readonly string[]).includes(key)) {
        e.preventDefault();
        ref.current[key as ShortcutKey]();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled]);
}
