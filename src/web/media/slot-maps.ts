// Slot mode in the browser: which slot map is applied. Maps come from the bridge of our current media session
// (signal drops others), tagged with that session and a version that goes up with each map of it. Over one
// WebSocket the slot offer of a session always comes before that session's maps, but a map of the session we
// left may still be on its way, and maps may be repeated. The rules, pure (no DOM, no connection):
// - a slot offer of session S makes S current: maps of other sessions are ignored from then on, and a session new
//   to us starts with no map (nothing on any slot) until its first map;
// - a map of the current session is taken only when its version is newer than the last one taken.
import type { RemoteSource } from '../../protocol/signal-messages.ts';

export interface SlotMapState {
  /** The media session of the last slot offer (null: none yet). */
  readonly session: string | null;
  /** Version of the map taken for it (-1: none yet), and who plays on which slot by that map. */
  readonly version: number;
  readonly sources: readonly RemoteSource[];
}

export const NO_SLOT_MAP: SlotMapState = { session: null, version: -1, sources: [] };

/** A slot offer of `session` arrived: that session is current (its map kept when it already was). */
export function slotSessionOffered(state: SlotMapState, session: string): SlotMapState {
  return state.session === session ? state : { session, version: -1, sources: [] };
}

/** A slot map arrived: the state with it taken, or `state` itself when the map is stale (another session, not newer). */
export function slotMapReceived(state: SlotMapState, map: { session: string; version: number; sources: readonly RemoteSource[] }): SlotMapState {
  if (map.session !== state.session || map.version <= state.version) return state;
  return { session: map.session, version: map.version, sources: map.sources };
}
