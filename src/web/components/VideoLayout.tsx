// The video area: tile view (a grid sized to the count and the window) or speaker view (one large tile —
// the pinned one, else a shared screen, else someone else — and a strip of the rest).
import { useEffect, useState } from 'react';
import { useStrings } from '../i18n.ts';
import type { ConnectionLevel } from '../i18n-meeting.ts';
import { bestColumns, tileGridColumn } from '../layout.ts';
import { Tile } from './Tile.tsx';

export interface LayoutItem {
  /** `<participantId>` for a camera, `<participantId>:screen` for a screen. */
  key: string;
  /** Whose camera or screen it is. */
  participantId: string;
  screen: boolean;
  displayName: string;
  isSelf: boolean;
  video: MediaStream | null;
  audioMuted: boolean;
  handRaised: boolean;
  /** A caller on the phone. */
  phone?: boolean;
  quality?: ConnectionLevel;
  /** Its connection is interrupted (the server has not heard from it for a few seconds). */
  interrupted?: boolean;
  /** The bridge sends us none of this camera for now: our bandwidth has no room for it. */
  suspended?: boolean;
}

export type ViewMode = 'tile' | 'speaker';

/** The element's content size, followed as the window changes; attach with the returned callback ref. */
function useSize(): [(el: HTMLElement | null) => void, { width: number; height: number }] {
  const [el, setEl] = useState<HTMLElement | null>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => {
      if (!entry) return;
      const { width, height } = entry.contentRect;
      setSize((s) => (Math.abs(s.width - width) < 1 && Math.abs(s.height - height) < 1 ? s : { width, height }));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [el]);
  return [setEl, size];
}

/**
 * Which item the speaker view shows large: the pinned one, else the latest screen share, else the dominant
 * speaker's camera (never ourselves), else the first other participant.
 */
export function stageItem(items: readonly LayoutItem[], pinned: string | null, dominant: string | null = null): LayoutItem | undefined {
  return (
    items.find((i) => i.key === pinned) ??
    [...items].reverse().find((i) => i.screen) ??
    (dominant !== null ? items.find((i) => i.key === dominant && !i.isSelf && !i.screen) : undefined) ??
    items.find((i) => !i.isSelf) ??
    items[0]
  );
}

export function VideoLayout({
  items,
  view,
  pinned,
  dominant = null,
  onPin,
}: {
  items: readonly LayoutItem[];
  view: ViewMode;
  pinned: string | null;
  /** The dominant speaker's participant id (their camera tile's key). */
  dominant?: string | null;
  onPin: (key: string | null) => void;
}) {
  const t = useStrings();
  const [gridRef, size] = useSize();
  const tile = (item: LayoutItem, gridColumn?: string) => (
    <Tile
      key={item.key}
      displayName={item.displayName}
      isSelf={item.isSelf}
      video={item.video}
      audioMuted={item.audioMuted}
      screen={item.screen}
      handRaised={item.handRaised}
      phone={item.phone}
      quality={item.quality}
      interrupted={item.interrupted}
      suspended={item.suspended}
      gridColumn={gridColumn}
      pinned={pinned === item.key}
      onTogglePin={() => onPin(pinned === item.key ? null : item.key)}
      sizeReport={item.isSelf ? undefined : { participantId: item.participantId, source: item.screen ? 'screen' : 'camera' }}
    />
  );

  if (view === 'speaker' && items.length > 1) {
    const stage = stageItem(items, pinned, dominant)!;
    const rest = items.filter((i) => i !== stage);
    return (
      <main className="speaker-view" aria-label={t.videoLayout}>
        <div className="stage">{tile(stage)}</div>
        <div className="filmstrip" role="region" aria-label={t.filmstrip}>
          {rest.map((i) => tile(i))}
        </div>
      </main>
    );
  }

  const count = items.length;
  const cols = bestColumns(count, size.width, size.height);
  const rows = Math.max(1, Math.ceil(count / cols));
  return (
    <main
      ref={gridRef}
      className="grid"
      aria-label={t.videoLayout}
      style={{ gridTemplateColumns: `repeat(${cols * 2}, minmax(0, 1fr))`, gridTemplateRows: `repeat(${rows}, minmax(0, 1fr))` }}
    >
      {items.map((item, i) => tile(item, tileGridColumn(i, count, cols)))}
    </main>
  );
}
