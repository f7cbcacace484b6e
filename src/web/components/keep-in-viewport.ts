// A popover centred over its button (styles.css `.popover`) moves sideways just enough to stay inside the window,
// 8px from its edges, at any width: measured when it opens and again when the window changes size. It shifts through
// the `--popover-shift` CSS variable; the CSS also caps its width to the window's, wrapping its content.
import { useLayoutEffect, type RefObject } from 'react';

const MARGIN = 8;

export function useKeepInViewport(ref: RefObject<HTMLElement | null>, open: boolean): void {
  useLayoutEffect(() => {
    const el = ref.current;
    if (!open || !el) return;
    const place = () => {
      el.style.setProperty('--popover-shift', '0px');
      const r = el.getBoundingClientRect();
      const width = document.documentElement.clientWidth;
      let shift = 0;
      if (r.right > width - MARGIN) shift = width - MARGIN - r.right;
      if (r.left + shift < MARGIN) shift = MARGIN - r.left;
      el.style.setProperty('--popover-shift', `${shift}px`);
    };
    place();
    window.addEventListener('resize', place);
    return () => window.removeEventListener('resize', place);
  }, [ref, open]);
}
