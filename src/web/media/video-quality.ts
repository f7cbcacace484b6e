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
 * Which simulcast encodings (lowest first, each half the size of the next) stay on under `maxHeight` for a
 * camera `trackHeight` tall: those not taller than the cap (with 10 % slack) and, when the bridge said which it
 * needs (`sendRids`, null: not said), among those by their `rids`; always the lowest.
 */
export function activeLayers(
  count: number,
  trackHeight: number,
  maxHeight: number | undefined,
  rids: readonly (string | undefined)[] = [],
  sendRids: ReadonlySet<string> | null = null,
): boolean[] {
  return Array.from({ length: count }, (_, i) => {
    if (i === 0) return true;
    const rid = rids[i];
    if (sendRids !== null && rid !== undefined && !sendRids.has(rid)) return false;
    if (maxHeight === undefined || !(trackHeight > 0)) return true;
    return trackHeight / 2 ** (count - 1 - i) <= maxHeight * 1.1;
  });
}
