// The shared notes: a textarea bound to the room's Y.Text. A local edit becomes one delete and one insert at the
// changed span (the common prefix and suffix are kept), so concurrent edits elsewhere in the text merge; a remote
// change rewrites the textarea and moves the caret and selection by what was inserted or deleted before them.
import { useEffect, useRef, useSyncExternalStore } from 'react';
import type * as Y from 'yjs';
import { BOARD_NOTES } from '../../protocol/board-messages.ts';
import { useStrings } from '../i18n.ts';
import { LOCAL, type BoardSync } from './board-sync.ts';

/** Where `before` and `after` differ: the start, how many characters went, and what came in their place. */
export function changedSpan(before: string, after: string): { start: number; removed: number; inserted: string } {
  let start = 0;
  const min = Math.min(before.length, after.length);
  while (start < min && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < min - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  return { start, removed: before.length - start - end, inserted: after.slice(start, after.length - end) };
}

/** `index` moved by a Y.Text change (its delta: retain / insert / delete). */
function moved(index: number, delta: Y.YTextEvent['delta']): number {
  let at = 0;
  let out = index;
  for (const op of delta) {
    if (op.retain !== undefined) at += op.retain;
    else if (op.insert !== undefined) {
      const n = typeof op.insert === 'string' ? op.insert.length : 1;
      if (at <= index) out += n;
      at += n;
    } else if (op.delete !== undefined) {
      if (at < index) out -= Math.min(op.delete, index - at);
    }
    if (at > index) break;
  }
  return Math.max(0, out);
}

export function SharedNotes({ sync }: { sync: BoardSync }) {
  const t = useStrings();
  const { doc, ready } = useSyncExternalStore(sync.subscribe, sync.getSnapshot);
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const area = ref.current;
    if (!area) return;
    const text = doc.getText(BOARD_NOTES);
    area.value = text.toString();
    let last = area.value;
    const onInput = () => {
      const now = area.value;
      const { start, removed, inserted } = changedSpan(last, now);
      last = now;
      if (removed === 0 && inserted === '') return;
      doc.transact(() => {
        if (removed > 0) text.delete(start, removed);
        if (inserted) text.insert(start, inserted);
      }, LOCAL);
    };
    const onRemote = (event: Y.YTextEvent, tr: Y.Transaction) => {
      if (tr.origin === LOCAL) return;
      const focused = document.activeElement === area;
      const s = moved(area.selectionStart, event.delta);
      const e = moved(area.selectionEnd, event.delta);
      area.value = text.toString();
      last = area.value;
      if (focused) area.setSelectionRange(s, e);
    };
    area.addEventListener('input', onInput);
    text.observe(onRemote);
    return () => {
      area.removeEventListener('input', onInput);
      text.unobserve(onRemote);
    };
  }, [doc]);

  return (
    <aside className="side-panel shared-notes-panel" aria-label={t.sharedNotes}>
      <h2 className="panel-title">{t.sharedNotes}</h2>
      <textarea ref={ref} className="shared-notes" aria-label={t.sharedNotes} placeholder={t.notesPlaceholder} disabled={!ready} spellCheck />
      <p className="hint">{t.boardSavedHint}</p>
    </aside>
  );
}
