// The shared whiteboard and shared notes in the browser <-> signal protocol (issue 20). Both live in one Yjs
// document per room (a CRDT: updates merge in any order, applied twice change nothing): the Y.Text `notes`
// and the Y.Map `elements` (an Excalidraw element's id -> the element as JSON text). Signal keeps the room's
// document (signal/board.ts) so late joiners and reloaded pages get it, and relays each update to the others.
// Spread into meeting-messages.ts.
import { z } from 'zod';

/** The Y.Text of the shared notes. */
export const BOARD_NOTES = 'notes';
/** The Y.Map of the whiteboard: element id -> the Excalidraw element as JSON text. */
export const BOARD_ELEMENTS = 'elements';
/** Bytes one update may have (before base64): a pasted page of notes or a few hundred elements at once. */
export const MAX_BOARD_UPDATE_BYTES = 64 * 1024;
/** Bytes a room's whole document may have (its encoded state): more is refused with `board-full`. */
export const MAX_BOARD_DOC_BYTES = 512 * 1024;
/** Characters one element's JSON may have (a freehand line with many points is the big one). */
export const MAX_BOARD_ELEMENT_CHARS = 32 * 1024;

/** A Yjs update (Y.encodeStateAsUpdate / a doc's `update` event) in base64. */
export const boardUpdateSchema = z
  .string()
  .min(4)
  .max(Math.ceil(MAX_BOARD_UPDATE_BYTES / 3) * 4, `an update may have at most ${MAX_BOARD_UPDATE_BYTES} bytes`)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'an update is base64');

// ---- browser -> server ----
export const boardClientMessageSchemas = [
  /** A change this browser made to the room's document (or, after `board-state`, what it had that the server lacks). */
  z.object({ type: z.literal('board-update'), update: boardUpdateSchema }),
] as const;

export const BOARD_CLIENT_TYPES = ['board-update'] as const;

// ---- server -> browser ----
export const boardServerMessageSchemas = [
  /**
   * Sent right after `joined`: the room's whole document, and which board it is (the same for the same room's
   * meeting: a reconnected browser then sends what it changed meanwhile; another one, e.g. a breakout room's, is a
   * new document).
   */
  z.object({ type: z.literal('board-state'), update: z.string(), board: z.string() }),
  /** Someone else's change, to everyone else in the room. */
  z.object({ type: z.literal('board-update'), update: z.string() }),
] as const;

export type BoardServerMessage = { type: 'board-state'; update: string; board: string } | { type: 'board-update'; update: string };

export type BoardErrorCode =
  /** The room's document is as large as it may be (MAX_BOARD_DOC_BYTES): the change was not applied. */
  | 'board-full'
  /** The update is not a Yjs update (or breaks the document's shape). */
  | 'board-bad-update';
