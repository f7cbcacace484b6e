// The meeting toolbar: microphone, camera, the meeting's feature buttons (children), leave. On a phone-sized screen
// (toolbar-placement.ts) the page passes the controls that do not fit as `more`: they go in the "More actions" menu,
// a menu button's menu (WAI-ARIA): opening moves the focus to its first item, the arrow keys, Home and End move
// between items, choosing one closes the menu and gives the focus back to "More actions" (a dialog the item opens
// returns it there too), Tab closes it; Escape and a press outside close it (meeting/toolbar-popovers.ts). The menu
// stays mounted while closed (hidden), so a control's own state (a dialog it opened) outlives the menu.
import { useEffect, useId, useRef, type KeyboardEvent, type MouseEvent, type ReactNode, type RefObject } from 'react';
import { useStrings } from '../i18n.ts';
import { HangUpIcon } from './Icons.tsx';
import { MediaToggles, type MediaTogglesProps } from './MediaToggles.tsx';
import { MoreIcon } from './MeetingIcons.tsx';
import { PlacementContext } from './toolbar-placement.ts';

export interface MoreActionsProps {
  /** The controls of the menu (their placement is "menu"). */
  more: ReactNode;
  moreOpen: boolean;
  onMoreOpen: (open: boolean) => void;
  /** A count to show on "More actions" (what is new inside it), and what it counts. */
  moreBadge?: { count: number; label: string };
}

export function Toolbar(props: MediaTogglesProps & { onLeave: () => void; children?: ReactNode } & Partial<MoreActionsProps>) {
  const t = useStrings();
  const { onLeave, children, more, moreOpen, onMoreOpen, moreBadge, ...toggles } = props;
  const compact = more !== undefined && onMoreOpen !== undefined;
  const bar = useRef<HTMLDivElement>(null);
  useToolbarHeight(bar);
  return (
    <div ref={bar} className={compact ? 'toolbar compact' : 'toolbar'} role="toolbar" aria-label={t.meetingControls}>
      <MediaToggles {...toggles} />
      {children}
      {compact && <MoreActions more={more} moreOpen={moreOpen ?? false} onMoreOpen={onMoreOpen} moreBadge={moreBadge} />}
      <button type="button" className="round-button danger" aria-label={t.leaveMeeting} title={t.leaveMeeting} onClick={onLeave}>
        <HangUpIcon />
      </button>
    </div>
  );
}

/**
 * The toolbar's height as `--toolbar-height` on the page, followed as it wraps to more rows (a narrow window): the
 * notices sit above it, never over its buttons.
 */
function useToolbarHeight(bar: RefObject<HTMLDivElement | null>): void {
  useEffect(() => {
    const el = bar.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const root = document.documentElement;
    const observer = new ResizeObserver(() => root.style.setProperty('--toolbar-height', `${Math.ceil(el.getBoundingClientRect().height)}px`));
    observer.observe(el);
    return () => {
      observer.disconnect();
      root.style.removeProperty('--toolbar-height');
    };
  }, [bar]);
}

function MoreActions({ more, moreOpen: open, onMoreOpen, moreBadge }: MoreActionsProps) {
  const t = useStrings();
  const menuId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const items = () => [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]:not(:disabled)') ?? [])];

  useEffect(() => {
    if (open) items()[0]?.focus();
  }, [open]);

  // (a dialog an item opened is rendered elsewhere in the page but its events come through here: not the menu's)
  const inMenu = (e: { target: EventTarget }) => e.target instanceof Node && menu.current?.contains(e.target) === true;
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (!inMenu(e)) return;
    if (e.key === 'Tab') {
      // from "More actions" the browser moves the focus on to the control after it (or before it, Shift+Tab)
      onMoreOpen(false);
      button.current?.focus();
      return;
    }
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLElement);
    const to =
      e.key === 'ArrowDown' || e.key === 'ArrowRight' ? (at + 1) % all.length
      : e.key === 'ArrowUp' || e.key === 'ArrowLeft' ? (at - 1 + all.length) % all.length
      : e.key === 'Home' ? 0
      : e.key === 'End' ? all.length - 1
      : -1;
    if (to < 0 || all.length === 0) return;
    e.preventDefault();
    all[to]!.focus();
  };
  // an item's own handler has run (bubbling): the menu closes
  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    if (!inMenu(e) || !(e.target as HTMLElement).closest('[role="menuitem"]')) return;
    onMoreOpen(false);
    button.current?.focus();
  };

  return (
    <span className="more-holder" data-popover="more">
      <span className="badge-holder">
        <button
          ref={button}
          type="button"
          className={open ? 'round-button active' : 'round-button'}
          aria-label={t.moreActions}
          title={t.moreActions}
          aria-haspopup="menu"
          aria-expanded={open}
          aria-controls={menuId}
          onClick={() => onMoreOpen(!open)}
        >
          <MoreIcon />
        </button>
        {moreBadge && moreBadge.count > 0 && (
          <span className="badge" role="status" aria-label={moreBadge.label}>
            {moreBadge.count > 99 ? '99+' : moreBadge.count}
          </span>
        )}
      </span>
      <div ref={menu} id={menuId} className="toolbar-menu" role="menu" aria-label={t.moreActions} hidden={!open} onKeyDown={onKeyDown} onClick={onClick}>
        <PlacementContext.Provider value="menu">{more}</PlacementContext.Provider>
      </div>
    </span>
  );
}
