// How large this browser shows each remote video, for the bridge's simulcast choice: every remote video tile's
// <video> is observed (ResizeObserver for its size, IntersectionObserver for being on screen), and the whole set
// goes to the server as one `receiver-video-constraints` message, debounced and only when it changed (and again
// after each new offer). Sizes are CSS pixels times devicePixelRatio, rounded; a tile that is not visible (off
// screen, scrolled out of the filmstrip, not displayed) or not shown at all (camera off: the avatar) is 0x0.
import {
  MAX_TILE_PIXELS,
  MAX_VIDEO_CONSTRAINT_TILES,
  type RemoteSource,
  type TileSize,
} from '../../protocol/signal-messages.ts';

export type TileSource = TileSize['source'];

/** Wait this long after a change before sending, so that a resize or a layout switch sends one message. */
export const TILE_SIZES_DEBOUNCE_MS = 400;
/** ...but never hold a change back longer than this while changes keep coming. */
export const TILE_SIZES_MAX_WAIT_MS = 1000;

const tileKey = (participantId: string, source: TileSource) => `${source}\n${participantId}`;

/** A length in CSS pixels as device pixels: rounded, within the protocol's bounds. */
export function devicePixels(cssPixels: number, devicePixelRatio: number): number {
  const v = Math.round(cssPixels * (devicePixelRatio > 0 ? devicePixelRatio : 1));
  return Number.isFinite(v) ? Math.max(0, Math.min(MAX_TILE_PIXELS, v)) : 0;
}

/**
 * The message's tiles: one per remote video source of the latest offer (camera or screen), with its measured
 * size or 0x0 when no visible tile shows it; then measured tiles the offer does not list (yet). At most
 * MAX_VIDEO_CONSTRAINT_TILES, visible ones first; in a stable order.
 */
export function tileSizeList(measured: ReadonlyMap<string, TileSize>, sources: readonly RemoteSource[]): TileSize[] {
  const byKey = new Map<string, TileSize>();
  for (const s of sources) {
    if (s.kind !== 'video' || s.participantId.length < 1 || s.participantId.length > 64) continue;
    const source: TileSource = s.role === 'screen' ? 'screen' : 'camera';
    const key = tileKey(s.participantId, source);
    if (!byKey.has(key)) byKey.set(key, { participantId: s.participantId, source, width: 0, height: 0 });
  }
  for (const [key, t] of measured) byKey.set(key, t);
  const list = [...byKey.values()].sort(
    (a, b) =>
      Number(b.width > 0) - Number(a.width > 0) ||
      (a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0) ||
      a.source.localeCompare(b.source),
  );
  return list.slice(0, MAX_VIDEO_CONSTRAINT_TILES);
}

/** A string that is equal for equal tile lists. */
export function tileListKey(tiles: readonly TileSize[]): string {
  return tiles.map((t) => `${t.participantId}/${t.source}/${t.width}x${t.height}`).join(',');
}

interface Observed {
  participantId: string;
  source: TileSource;
  /** From the IntersectionObserver; undefined until its first report. */
  intersecting?: boolean;
}

export interface TileSizeReporterOptions {
  /** Sends the set and the cap; false when it could not be sent (not joined, socket closed): it is tried again later. */
  send(tiles: TileSize[], maxHeight: number | undefined): boolean;
  /** The receiver's cap on every video (the video-quality setting, video-quality.ts); undefined: none. */
  maxHeight?(): number | undefined;
  /** The remote sources of the latest offer. */
  sources(): readonly RemoteSource[];
  debounceMs?: number;
  maxWaitMs?: number;
}

export class TileSizeReporter {
  readonly #opts: TileSizeReporterOptions;
  readonly #elements = new Map<Element, Observed>();
  #resize: ResizeObserver | null = null;
  #intersection: IntersectionObserver | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #firstChangeAt = 0;
  #force = false;
  #lastKey: string | null = null;
  #closed = false;
  #onWindowResize = () => this.schedule();

  constructor(opts: TileSizeReporterOptions) {
    this.#opts = opts;
  }

  /** Follows `el`, the video of a remote participant's camera or screen; returns the function that stops. */
  observe(el: Element, participantId: string, source: TileSource): () => void {
    if (this.#closed) return () => {};
    if (this.#elements.size === 0) window.addEventListener('resize', this.#onWindowResize);
    this.#elements.set(el, { participantId, source });
    if (typeof ResizeObserver === 'function') (this.#resize ??= new ResizeObserver(() => this.schedule())).observe(el);
    if (typeof IntersectionObserver === 'function') {
      this.#intersection ??= new IntersectionObserver((entries) => {
        for (const e of entries) {
          const o = this.#elements.get(e.target);
          if (o) o.intersecting = e.isIntersecting;
        }
        this.schedule();
      });
      this.#intersection.observe(el);
    }
    this.schedule();
    return () => {
      if (!this.#elements.delete(el)) return;
      this.#resize?.unobserve(el);
      this.#intersection?.unobserve(el);
      if (this.#elements.size === 0) window.removeEventListener('resize', this.#onWindowResize);
      this.schedule();
    };
  }

  /** Something may have changed: measure and send after the debounce. `force`: send even if unchanged (a new offer). */
  schedule(force = false): void {
    if (this.#closed) return;
    if (force) this.#force = true;
    const now = Date.now();
    if (this.#timer === null) this.#firstChangeAt = now;
    else clearTimeout(this.#timer);
    const debounce = this.#opts.debounceMs ?? TILE_SIZES_DEBOUNCE_MS;
    const maxWait = this.#opts.maxWaitMs ?? TILE_SIZES_MAX_WAIT_MS;
    const delay = Math.max(0, Math.min(debounce, this.#firstChangeAt + maxWait - now));
    this.#timer = setTimeout(() => this.flush(), delay);
  }

  /** Measures every tile now and sends the set if it changed (or a send is forced). */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#closed) return;
    const tiles = tileSizeList(this.#measure(), this.#opts.sources());
    const maxHeight = this.#opts.maxHeight?.();
    const key = `${maxHeight ?? ''};${tileListKey(tiles)}`;
    if (key === this.#lastKey && !this.#force) return;
    if (!this.#opts.send(tiles, maxHeight)) return; // not now: the next change or offer sends it
    this.#lastKey = key;
    this.#force = false;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#resize?.disconnect();
    this.#intersection?.disconnect();
    this.#elements.clear();
    window.removeEventListener('resize', this.#onWindowResize);
  }

  #measure(): Map<string, TileSize> {
    const dpr = window.devicePixelRatio || 1;
    const measured = new Map<string, TileSize>();
    for (const [el, o] of this.#elements) {
      let width = 0;
      let height = 0;
      if (el.isConnected && this.#visible(el, o)) {
        const r = el.getBoundingClientRect();
        width = devicePixels(r.width, dpr);
        height = devicePixels(r.height, dpr);
        if (width === 0 || height === 0) width = height = 0;
      }
      const key = tileKey(o.participantId, o.source);
      const before = measured.get(key);
      // the same source twice on screen: the larger one counts
      if (!before || width * height > before.width * before.height) {
        measured.set(key, { participantId: o.participantId, source: o.source, width, height });
      }
    }
    return measured;
  }

  #visible(el: Element, o: Observed): boolean {
    // display:none (on it or an ancestor), visibility:hidden, content-visibility
    if (typeof el.checkVisibility === 'function' && !el.checkVisibility({ visibilityProperty: true })) return false;
    if (o.intersecting !== undefined) return o.intersecting;
    // before the IntersectionObserver's first report: does it overlap the window at all?
    const r = el.getBoundingClientRect();
    return r.right > 0 && r.bottom > 0 && r.left < window.innerWidth && r.top < window.innerHeight;
  }
}
