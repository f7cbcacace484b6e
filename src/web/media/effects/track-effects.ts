// The camera and microphone effects a participant turned on (noise suppression, background blur), remembered in
// this browser, and the processed tracks they make of the device tracks. `output(deviceTrack)` is what to send
// and show: the processed track once its pipe is up, the device track until then (and when the effect is off
// or failed). Whenever that changes, `revision` moves, so the senders and the self view follow.
import { Store } from '../store.ts';
import { backgroundBlurred } from './background-blur.ts';
import { noiseSuppressed } from './noise-suppression.ts';
import type { TrackPipe } from './track-pipe.ts';

export type Effect = 'noiseSuppression' | 'backgroundBlur';

export interface EffectsState {
  noiseSuppression: boolean;
  backgroundBlur: boolean;
  /** Effects whose pipe is being built. */
  starting: Effect[];
  /** Effects that could not start in this browser (turned off again). */
  failed: Effect[];
  revision: number;
}

const STORAGE_KEY = 'tertulia.effects';

interface Pipe {
  /** The device track it processes. */
  source: MediaStreamTrack;
  pipe: TrackPipe | null;
  closed: boolean;
}

const BUILD: Record<Effect, (t: MediaStreamTrack) => Promise<TrackPipe>> = {
  noiseSuppression: noiseSuppressed,
  backgroundBlur: backgroundBlurred,
};

function stored(): Pick<EffectsState, Effect> {
  try {
    const v = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<Record<Effect, unknown>>;
    return { noiseSuppression: v.noiseSuppression === true, backgroundBlur: v.backgroundBlur === true };
  } catch {
    return { noiseSuppression: false, backgroundBlur: false };
  }
}

export class TrackEffects extends Store<EffectsState> {
  #pipes: Partial<Record<Effect, Pipe>> = {};

  constructor() {
    super({ ...stored(), starting: [], failed: [], revision: 0 });
  }

  /** What to send and show for this device track (null stays null). */
  output(device: MediaStreamTrack | null): MediaStreamTrack | null {
    if (!device) return null;
    const effect: Effect = device.kind === 'audio' ? 'noiseSuppression' : 'backgroundBlur';
    if (!this.state[effect] || device.readyState === 'ended') return device;
    const current = this.#pipes[effect];
    if (current?.source === device) return current.pipe?.track ?? device;
    this.#build(effect, device);
    return device;
  }

  set(effect: Effect, on: boolean): void {
    this.update({ [effect]: on, failed: this.state.failed.filter((e) => e !== effect) });
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ noiseSuppression: this.state.noiseSuppression, backgroundBlur: this.state.backgroundBlur }));
    } catch {
      // private browsing: remembered for this page only
    }
    if (!on) this.#drop(effect);
    this.update({ revision: this.state.revision + 1 });
  }

  #build(effect: Effect, device: MediaStreamTrack): void {
    this.#drop(effect);
    const entry: Pipe = { source: device, pipe: null, closed: false };
    this.#pipes[effect] = entry;
    this.update({ starting: [...this.state.starting.filter((e) => e !== effect), effect] });
    BUILD[effect](device).then(
      (pipe) => {
        if (entry.closed) return pipe.close();
        entry.pipe = pipe;
        // the device track ending (another device, the camera off) ends the pipe too
        device.addEventListener(
          'ended',
          () => {
            if (this.#pipes[effect] !== entry) return;
            this.#drop(effect);
            this.update({ revision: this.state.revision + 1 });
          },
          { once: true },
        );
        this.update({ starting: this.state.starting.filter((e) => e !== effect), revision: this.state.revision + 1 });
      },
      (e: unknown) => {
        console.warn(`tertulia: ${effect} could not start`, e);
        if (entry.closed) return;
        if (this.#pipes[effect] === entry) delete this.#pipes[effect];
        this.update({
          [effect]: false,
          starting: this.state.starting.filter((x) => x !== effect),
          failed: [...this.state.failed.filter((x) => x !== effect), effect],
          revision: this.state.revision + 1,
        });
      },
    );
  }

  #drop(effect: Effect): void {
    const p = this.#pipes[effect];
    if (!p) return;
    p.closed = true;
    p.pipe?.close();
    delete this.#pipes[effect];
    if (this.state.starting.includes(effect)) this.update({ starting: this.state.starting.filter((e) => e !== effect) });
  }

  close(): void {
    this.#drop('noiseSuppression');
    this.#drop('backgroundBlur');
  }
}
