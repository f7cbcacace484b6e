// The video-quality setting (Jitsi's "Manage video quality"): high, standard, low definition or audio only. It
// caps both directions: the video this browser receives (sent to the server as `maxHeight` with the tile sizes;
// the bridge picks no simulcast layer taller than that, and with 0, audio only, forwards no video at all) and the
// video it sends (simulcast layers taller than the cap are switched off; audio only turns the camera off).
// "Low bandwidth" is audio only, as in Jitsi. The choice is kept in localStorage, so a page reload keeps it.

export const VIDEO_QUALITIES = ['high', 'standard', 'low', 'audio-only'] as const;
export type VideoQuality = (typeof VIDEO_QUALITIES)[number];

const STORAGE_KEY = 'tertulia.videoQuality';

/** The tallest video (pixels) of each setting; undefined: no cap (high definition: whatever the tile needs). */
const MAX_HEIGHT: Record<VideoQuality, number | undefined> = { high: undefined, standard: 360, low: 180, 'audio-only': 0 };

export function maxHeightOf(q: VideoQuality): number | undefined {
  return MAX_HEIGHT[q];
}

export function isVideoQuality(v: unknown): v is VideoQuality {
  return typeof v === 'string' && (VIDEO_QUALITIES as readonly string[]).includes(v);
}

export function storedVideoQuality(): VideoQuality {
  try {
    const v = window.localStorage.getItem(STORAGE_KEY);
    return isVideoQuality(v) ? v : 'high';
  } catch {
    return 'high';
  }
}

export function storeVideoQuality(q: VideoQuality): void {
  try {
    if (q === 'high') window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, q);
  } catch {
    // storage blocked: the choice lasts for this page only
  }
}

/**
 * The scale of each simulcast encoding (lowest first) of a camera `width`x`height`, 0 for one the browser will not
 * send. Chrome's encoder sends only as many layers as the capture size allows (libwebrtc's simulcast format table:
 * three from 960x540 pixels up, two from 480x270, else one) and drops the top encodings beyond that, so the ones it
 * sends must end at the camera's own size: each half the size of the next up to scale 1 (a 320x180 camera: its first
 * encoding at full size; a 640x360 one: 320x180 and 640x360). Size unknown (0): every encoding, halving from the top.
 */
export function layerScales(count: number, width: number, height: number): number[] {
  const pixels = width * height;
  const sendable = pixels > 0 ? Math.min(count, pixels >= 960 * 540 ? 3 : pixels >= 480 * 270 ? 2 : 1) : count;
  return Array.from({ length: count }, (_, i) => (i < sendable ? 2 ** (sendable - 1 - i) : 0));
}

/**
 * Which simulcast encodings (lowest first, scaled down by `scales`, 0: not sent, see layerScales) stay on under
 * `maxHeight` for a camera `trackHeight` tall: those sent and not taller than the cap (with 10 % slack) and, when
 * the bridge said which it needs (`sendRids`, null: not said), among those by their `rids`; always the lowest.
 */
export function activeLayers(
  scales: readonly number[],
  trackHeight: number,
  maxHeight: number | undefined,
  rids: readonly (string | undefined)[] = [],
  sendRids: ReadonlySet<string> | null = null,
): boolean[] {
  return scales.map((scale, i) => {
    if (i === 0) return true;
    if (scale === 0) return false;
    const rid = rids[i];
    if (sendRids !== null && rid !== undefined && !sendRids.has(rid)) return false;
    if (maxHeight === undefined || !(trackHeight > 0)) return true;
    return trackHeight / scale <= maxHeight * 1.1;
  });
}
