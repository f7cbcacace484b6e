// The shared whiteboard: Excalidraw bound to the room's Y.Map of elements (id -> the element as JSON text).
// Local changes are written at most every WRITE_DELAY_MS (a stroke being drawn changes its element at every
// pointer move): each element whose version differs from the one in the map is written again. Remote changes
// are merged into the scene with Excalidraw's own reconcileElements (the higher version wins, as in its
// collaboration mode). Images are not shared (their files are not in the document), so the image tool is off.
// Excalidraw's fonts are served by this server (/vendor/excalidraw/, see vite.config.ts).
import { CaptureUpdateAction, Excalidraw, reconcileElements } from '@excalidraw/excalidraw';
import '@excalidraw/excalidraw/index.css';
import type { ExcalidrawImperativeAPI } from '@excalidraw/excalidraw/types';
import type { OrderedExcalidrawElement } from '@excalidraw/excalidraw/element/types';
import type { RemoteExcalidrawElement } from '@excalidraw/excalidraw/data/reconcile';
import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type * as Y from 'yjs';
import { BOARD_ELEMENTS, MAX_BOARD_ELEMENT_CHARS } from '../../protocol/board-messages.ts';
import { dictionaries, useStrings } from '../i18n.ts';
import { LOCAL, type BoardSync } from './board-sync.ts';

const WRITE_DELAY_MS = 80;

type Element = OrderedExcalidrawElement;

function parse(text: unknown): Element | undefined {
  if (typeof text !== 'string' || text.length > MAX_BOARD_ELEMENT_CHARS) return undefined;
  try {
    const e = JSON.parse(text) as Element;
    return e && typeof e === 'object' && typeof e.id === 'string' && typeof e.version === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}

function byIndex(a: Element, b: Element): number {
  const x = a.index ?? '';
  const y = b.index ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

function elementsOf(map: Y.Map<string>): Element[] {
  const out: Element[] = [];
  for (const text of map.values()) {
    const e = parse(text);
    if (e) out.push(e);
  }
  return out.sort(byIndex);
}

export function Whiteboard({ sync }: { sync: BoardSync }) {
  const t = useStrings();
  const { doc, ready } = useSyncExternalStore(sync.subscribe, sync.getSnapshot);
  if (!ready) return <p className="panel-empty">{t.boardLoading}</p>;
  // a new document (a reconnect, a breakout room) is a new scene
  return <BoundWhiteboard key={doc.guid} doc={doc} spanish={t === dictionaries.es} />;
}

function BoundWhiteboard({ doc, spanish }: { doc: Y.Doc; spanish: boolean }) {
  const map = useMemo(() => doc.getMap<string>(BOARD_ELEMENTS), [doc]);
  const initial = useMemo(() => elementsOf(map), [map]);
  /** The version of each element as it is in the map. */
  const versions = useRef(new Map(initial.map((e) => [e.id, e.version])));
  const api = useRef<ExcalidrawImperativeAPI | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const write = () => {
    timer.current = undefined;
    const scene: readonly Element[] = api.current?.getSceneElementsIncludingDeleted() ?? [];
    const changed = scene.filter((e: Element) => versions.current.get(e.id) !== e.version);
    if (changed.length === 0) return;
    doc.transact(() => {
      for (const e of changed) {
        const text = JSON.stringify(e);
        if (text.length > MAX_BOARD_ELEMENT_CHARS) continue;
        map.set(e.id, text);
        versions.current.set(e.id, e.version);
      }
    }, LOCAL);
  };

  useEffect(() => {
    const onRemote = (event: Y.YMapEvent<string>, tr: Y.Transaction) => {
      if (tr.origin === LOCAL || !api.current) return;
      const remote: Element[] = [];
      for (const key of event.keysChanged) {
        const e = parse(map.get(key));
        if (!e) continue;
        remote.push(e);
        versions.current.set(e.id, e.version);
      }
      if (remote.length === 0) return;
      const local = api.current.getSceneElementsIncludingDeleted();
      const elements = reconcileElements(local, remote as RemoteExcalidrawElement[], api.current.getAppState());
      api.current.updateScene({ elements, captureUpdate: CaptureUpdateAction.NEVER });
    };
    map.observe(onRemote);
    return () => {
      map.unobserve(onRemote);
      if (timer.current !== undefined) {
        clearTimeout(timer.current);
        write();
      }
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [map]);

  return (
    <Excalidraw
      initialData={{ elements: initial, appState: { viewBackgroundColor: '#ffffff' } }}
      excalidrawAPI={(a: ExcalidrawImperativeAPI) => (api.current = a)}
      langCode={spanish ? 'es-ES' : 'en'}
      onChange={() => {
        timer.current ??= setTimeout(write, WRITE_DELAY_MS);
      }}
      UIOptions={{ canvasActions: { loadScene: false, saveToActiveFile: false }, tools: { image: false } }}
    />
  );
}
