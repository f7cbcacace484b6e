// The whiteboard and shared notes in the meeting page: their toolbar buttons ("Whiteboard", "Shared notes") and
// the open panel. The panels' code (yjs, Excalidraw and its styles) is loaded when one is first opened.
import { lazy, Suspense, useEffect, useState, useSyncExternalStore } from 'react';
import type { Conference } from '../media/conference.ts';
import { useStrings } from '../i18n.ts';
import { Action } from '../components/MeetingActions.tsx';
import { boardFor, type BoardPanel } from './board-store.ts';
import type { BoardSync } from './board-sync.ts';

declare global {
  interface Window {
    EXCALIDRAW_ASSET_PATH?: string;
  }
}

/** Where Excalidraw's fonts are served (copied there by vite.config.ts): never a CDN. */
const EXCALIDRAW_ASSETS = '/vendor/excalidraw/';

const LazyWhiteboard = lazy(() => {
  window.EXCALIDRAW_ASSET_PATH = EXCALIDRAW_ASSETS;
  return import('./Whiteboard.tsx').then((m) => ({ default: m.Whiteboard }));
});
const LazyNotes = lazy(() => import('./SharedNotes.tsx').then((m) => ({ default: m.SharedNotes })));

export function BoardButtons({ conference }: { conference: Conference }) {
  const t = useStrings();
  const board = boardFor(conference);
  const { panel } = useSyncExternalStore(board.subscribe, board.getSnapshot);
  return (
    <>
      <Action label={panel === 'whiteboard' ? t.closeWhiteboard : t.whiteboard} on={panel === 'whiteboard'} expanded={panel === 'whiteboard'} onClick={() => board.toggle('whiteboard')}>
        <svg className="icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <rect x="3" y="4" width="18" height="13" rx="1.5" stroke="currentColor" strokeWidth="2" fill="none" />
          <path d="M7 13l3-4 3 3 4-5M8 21l4-4 4 4" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" fill="none" />
        </svg>
      </Action>
      <Action label={panel === 'notes' ? t.closeSharedNotes : t.sharedNotes} on={panel === 'notes'} expanded={panel === 'notes'} onClick={() => board.toggle('notes')}>
        <svg className="icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <path d="M6 3h9l4 4v14H6zM9 10h7M9 14h7M9 18h4" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" fill="none" />
        </svg>
      </Action>
    </>
  );
}

/** The Yjs side, once loaded (undefined meanwhile, or when it failed: `failed`). */
function useSync(conference: Conference, wanted: boolean): { sync: BoardSync | undefined; failed: boolean } {
  const board = boardFor(conference);
  const [sync, setSync] = useState<BoardSync | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!wanted || sync) return;
    let live = true;
    board.loadSync().then(
      (s) => live && setSync(s as BoardSync),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [board, wanted, sync]);
  return { sync, failed };
}

/** The open panel: the whiteboard over the stage (`where` 'stage'), the notes beside it ('side'). */
export function BoardPanelView({ conference, where }: { conference: Conference; where: 'stage' | 'side' }) {
  const t = useStrings();
  const board = boardFor(conference);
  const { panel } = useSyncExternalStore(board.subscribe, board.getSnapshot);
  const want: BoardPanel = where === 'stage' ? 'whiteboard' : 'notes';
  const { sync, failed } = useSync(conference, panel !== null);
  if (panel !== want) return null;
  const body = failed ? (
    <p role="alert">{t.boardLoadFailed}</p>
  ) : !sync ? (
    <p className="panel-empty">{t.boardLoading}</p>
  ) : (
    <Suspense fallback={<p className="panel-empty">{t.boardLoading}</p>}>{want === 'whiteboard' ? <LazyWhiteboard sync={sync} /> : <LazyNotes sync={sync} />}</Suspense>
  );
  if (want === 'notes') return sync && !failed ? body : <aside className="side-panel" aria-label={t.sharedNotes}>{body}</aside>;
  return (
    <section className="whiteboard-panel" aria-label={t.whiteboard}>
      {body}
    </section>
  );
}
