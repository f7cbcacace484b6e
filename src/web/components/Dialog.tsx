// A modal dialog: labelled by its title, closed with Escape or its "Close" button, focus moved into it when it
// opens (and back where it was when it closes), Tab and Shift+Tab kept inside it. Focus moves only then: a parent's
// re-render (a new onClose each time) never takes it from where the user put it.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useStrings } from '../i18n.ts';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function Dialog({ title, onClose, children, className }: { title: string; onClose: () => void; children: ReactNode; className?: string }) {
  const t = useStrings();
  const titleId = useId();
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    ref.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        close.current();
      } else if (e.key === 'Tab' && ref.current) {
        // round inside the dialog: from the last control to the first, and back
        const all = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
        if (all.length === 0) return;
        const first = all[0]!;
        const last = all[all.length - 1]!;
        const at = document.activeElement;
        const inside = at instanceof Node && ref.current.contains(at);
        if (e.shiftKey ? !inside || at === first || at === ref.current : !inside || at === last) {
          e.preventDefault();
          (e.shiftKey ? last : first).focus();
        }
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      previous?.focus?.();
    };
  }, []);
  return (
    <div className="dialog-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={ref} className={`dialog ${className ?? ''}`} role="dialog" aria-modal="true" aria-labelledby={titleId} tabIndex={-1}>
        <div className="dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="secondary" onClick={onClose}>
            {t.close}
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
