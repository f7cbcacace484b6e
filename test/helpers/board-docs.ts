// A browser's side of the shared whiteboard and notes in tests: its Yjs document and the updates it sends.
import * as Y from 'yjs';

export const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');

/** A Yjs document as a browser keeps it, from a `board-state` (or any update, base64). */
export function docOf(state: string): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Buffer.from(state, 'base64'));
  return doc;
}

/** The update (base64) a browser sends when it changes `doc` with `fn`. */
export function change(doc: Y.Doc, fn: (doc: Y.Doc) => void): string {
  const before = Y.encodeStateVector(doc);
  fn(doc);
  return b64(Y.encodeStateAsUpdate(doc, before));
}
