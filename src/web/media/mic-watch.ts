// Listening to the microphone's level for a while, as the local media's state allows (talk-while-muted.ts: while
// muted; silent-microphone.ts: just after it is turned on). The base follows the microphone (muted or not, which
// track) and opens a level listener on the track a subclass wants, closing it when the subclass no longer wants one,
// when the track changes, or at dispose. A subclass shows what it found through its Store state.
import { Store } from './store.ts';
import type { LocalMediaState } from './local-media.ts';

/** How often the microphone's level is read. */
export const READ_EVERY_MS = 100;

/** Starts reading a track's level (dBFS) every READ_EVERY_MS; returns the function that stops it. */
export type LevelListener = (track: MediaStreamTrack, onLevel: (db: number) => void) => () => void;

/** What the local media says about the microphone (LocalMedia is one). */
export interface MicrophoneSource {
  readonly state: Pick<LocalMediaState, 'audioMuted' | 'micTrack'>;
  subscribe(listener: () => void): () => void;
}

/** A live track, or null. */
export function liveTrack(track: MediaStreamTrack | null): MediaStreamTrack | null {
  return track !== null && track.readyState !== 'ended' ? track : null;
}

export abstract class MicWatch<S extends object> extends Store<S> {
  protected readonly mic: MicrophoneSource;
  readonly #listen: LevelListener;
  readonly #unsubscribe: () => void;
  #listening: { track: MediaStreamTrack; stop: () => void } | null = null;
  #disposed = false;

  constructor(initial: S, mic: MicrophoneSource, listen: LevelListener) {
    super(initial);
    this.mic = mic;
    this.#listen = listen;
    this.#unsubscribe = mic.subscribe(() => this.follow());
  }

  /** The track to listen to now (null: none), after the microphone's state changed. */
  protected abstract wanted(): MediaStreamTrack | null;
  /** A new listening started (on `track`): detectors start afresh. */
  protected abstract started(track: MediaStreamTrack): void;
  /** One reading of the track listened to. */
  protected abstract level(db: number): void;

  /** Reconsiders what to listen to; subclasses call it after changing what they want (and once constructed). */
  protected follow(): void {
    if (this.#disposed) return;
    const want = this.wanted();
    if (this.#listening?.track === want) return;
    this.stopListening();
    if (want === null) return;
    const listening: { track: MediaStreamTrack; stop: () => void } = { track: want, stop: () => {} };
    this.#listening = listening;
    this.started(want);
    listening.stop = this.#listen(want, (db) => {
      if (this.#listening === listening) this.level(db);
    });
  }

  protected stopListening(): void {
    const l = this.#listening;
    this.#listening = null;
    l?.stop();
  }

  dispose(): void {
    this.#disposed = true;
    this.#unsubscribe();
    this.stopListening();
  }
}
