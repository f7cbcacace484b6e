// Which simulcast layers of each browser's camera anyone needs, so the browser stops encoding and sending the
// ones above them (what Jitsi's sender constraints and LiveKit's dynacast do). Run on the publisher's thread after
// each layer allocation, never per packet. The highest layer needed is the highest any receiver here gets, is
// switching to or from, or has a tile that asks for (paused layers counted: a receiver short of its tile's layer,
// whatever the reason, brings it back). Every layer up to that one is sent: a receiver whose link dips always has
// the smaller layers to fall back on, measured, with no wait for a layer to come back (the selector's thinning
// guard and its hold after a downgrade assume exactly that). So what pauses is the top of the ladder no tile
// needs: the larger sizes of a camera only seen as thumbnails (which ones: the thumbnails' size decides). A layer
// the bridge never received is never paused (the sender's own cap, or a camera too small for it, keeps it off). A
// camera nobody shows (alone in the room, every tile of it off-screen) keeps every layer, so whoever shows it next
// gets its layer at once instead of after a resume (~2-4 s to the top layer, measured). Receivers on another media
// worker or behind a relay choose where this thread cannot see: a camera with any of them keeps every layer. A
// layer nobody needed for LAYER_PAUSE_AFTER_MS is paused. The browser is told the layers to send
// (`bridge.send-layers`) when that set changes, first when the camera appears (everything: a new bridge after a
// failover starts the browser afresh), and again every SEND_LAYERS_REPEAT_MS (the bus may lose a message, and a
// camera's media may have moved between media workers meanwhile).
import type { Conference } from './conference.ts';
import type { Source } from './source.ts';
import { webrtcOf } from './webrtc-transport.ts';

/** A layer no receiver needed this long (ms) is paused. */
export const LAYER_PAUSE_AFTER_MS = 5000;
/** The browser is told the layers to send again this often (ms), changed or not. */
export const SEND_LAYERS_REPEAT_MS = 10_000;

/** The layers (bit i: layer i, lowest first) the receivers of simulcast camera `s` on this thread need now. */
export function neededLayers(s: Source): number {
  const all = (1 << s.layers.length) - 1;
  for (const e of s.egresses) if (!e.local) return all; // receivers on another media worker
  let highest = -1;
  for (const dt of s.localDowntracks) {
    const rw = dt.rewriter;
    if (rw === null || dt.demand === null) return all; // a relay: its far bridge chooses the layers
    highest = Math.max(highest, dt.wantLayer, rw.targetLayer, rw.currentLayer);
  }
  return highest < 0 ? all : ((2 << highest) - 1) & all;
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
    // (a layer never received is never paused: the sender's own cap or its camera's size keeps it off, and once it
    // comes its size is known and tiles can ask for it)
    if (i === 0 || (needed & (1 << i)) !== 0 || s.layers[i] === null) since[i] = nowMs;
    if (nowMs - since[i] < LAYER_PAUSE_AFTER_MS) send |= 1 << i;
  }
  if (send === s.sendLayersTold && nowMs - s.sendLayersToldMs < SEND_LAYERS_REPEAT_MS) return -1;
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
    if (!ep.local) {
      // another media worker receives it now: if it comes back, it starts afresh here (that worker said its own)
      for (const s of ep.sources) {
        if (s.layerNeededMs === null) continue;
        s.layerNeededMs = null;
        s.sendLayersTold = -1;
      }
      continue;
    }
    if (!ep.connected || ep.relay || webrtcOf(ep) === null) continue;
    for (const s of ep.sources) {
      const rids = s.rids;
      if (rids === null || rids.length < 2 || s.layers.length !== rids.length) continue;
      const send = judgeCamera(s, nowMs);
      if (send >= 0) tell(s, rids.filter((_, i) => (send & (1 << i)) !== 0));
    }
  }
}
