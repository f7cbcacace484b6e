// Which simulcast layers of each browser's camera anyone needs, so the browser stops encoding and sending the
// others (what LiveKit calls dynacast). Run on the publisher's thread after each layer allocation, never per
// packet. A layer is needed while a receiver here gets it or is switching to or from it, and every layer up to
// the one a receiver's tile asks for while that receiver gets less (its link, a hold after a downgrade, or the
// layer being paused itself): a short receiver keeps every smaller layer to fall back on, and its ideal one comes
// back at once. The lowest layer is never paused, and a camera nobody shows keeps every layer (whoever shows it
// next gets the layer it needs at once). Receivers on another media worker or behind a relay choose
// where this thread cannot see: a camera with any of them keeps every layer. A layer nobody needed for
// LAYER_PAUSE_AFTER_MS is paused; the browser is told the layers to send (`bridge.send-layers`) when that set
// changes, first when the camera appears (everything: a new bridge after a failover starts the browser afresh)
// and again every SEND_LAYERS_REPEAT_MS while a layer is paused (the bus may lose a message).
import type { Conference } from './conference.ts';
import type { Source } from './source.ts';
import { webrtcOf } from './webrtc-transport.ts';

/** A layer no receiver needed this long (ms) is paused. */
export const LAYER_PAUSE_AFTER_MS = 5000;
/** While a layer is paused, the browser is told again this often (ms). */
export const SEND_LAYERS_REPEAT_MS = 10_000;

/** The layers (bit i: layer i, lowest first) the receivers of simulcast camera `s` on this thread need now. */
export function neededLayers(s: Source): number {
  const all = (1 << s.layers.length) - 1;
  for (const e of s.egresses) if (!e.local) return all; // receivers on another media worker
  let mask = 1;
  let shown = false;
  for (const dt of s.localDowntracks) {
    const rw = dt.rewriter;
    if (rw === null || dt.demand === null) return all; // a relay: its far bridge chooses the layers
    if (dt.wantLayer >= 0) shown = true;
    const target = rw.targetLayer;
    if (target >= 0) mask |= 1 << target;
    if (rw.currentLayer >= 0) mask |= 1 << rw.currentLayer;
    // short of its tile's layer: every layer up to that one
    if (dt.wantLayer > target) mask |= (2 << dt.wantLayer) - 1;
  }
  // nobody shows it (alone in the room, or every tile of it off-screen): every layer, so whoever shows it next
  // gets its layer at once instead of after a resume (~2-4 s to the top layer, measured)
  return shown ? mask & all : all;
}

/**
 * Simulcast camera `s` judged at `nowMs` (performance.now()): the layers (bits) its browser should send, or -1
 * when it was told so already and is not due to hear it again. Marks the answer told.
 */
export function judgeCamera(s: Source, nowMs: number): number {
  const n = s.layers.length;
  const since = (s.layerNeededMs ??= new Float64Array(n).fill(nowMs));
  const needed = neededLayers(s);
  let send = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || (needed & (1 << i)) !== 0) since[i] = nowMs;
    if (nowMs - since[i] < LAYER_PAUSE_AFTER_MS) send |= 1 << i;
  }
  const all = (1 << n) - 1;
  if (send === s.sendLayersTold && (send === all || nowMs - s.sendLayersToldMs < SEND_LAYERS_REPEAT_MS)) return -1;
  s.sendLayersTold = send;
  s.sendLayersToldMs = nowMs;
  return send;
}

/**
 * After the layer allocation of `conference` (`nowMs`: performance.now()): the cameras of browsers this thread
 * receives whose layers to send changed, or are due again, get `tell(camera, rids)`.
 */
export function updateSendLayers(conference: Conference, nowMs: number, tell: (camera: Source, rids: string[]) => void): void {
  for (const ep of conference.endpoints.values()) {
    if (!ep.local || !ep.connected || ep.relay || webrtcOf(ep) === null) continue;
    for (const s of ep.sources) {
      const rids = s.rids;
      if (rids === null || rids.length < 2 || s.layers.length !== rids.length) continue;
      const send = judgeCamera(s, nowMs);
      if (send >= 0) tell(s, rids.filter((_, i) => (send & (1 << i)) !== 0));
    }
  }
}
