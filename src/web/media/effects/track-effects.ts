// The camera and microphone effects a participant turned on (noise suppression; the camera's background: blurred
// or replaced by a picture), remembered in this browser, and the processed tracks they make of the device tracks.
// `output(deviceTrack)` is what to send and show: the processed track once its pipe is up, the device track until
// then (and when the effect is off or failed). Whenever that changes, `revision` moves, so the senders and the
// self view follow.
import { Store } from '../store.ts';
import { backgroundReplaced } from './background-effect.ts';
import { isBackground, loadBackgroundImage, storeCustomImage, storedCustomImage, type Background } from './background-images.ts';
import { noiseSuppressed } from './noise-suppression.ts';
import type { TrackPipe } from './track-pipe.ts';

/** An effect with a pipe of its own: the microphone's, the camera's. */
export type Effect = 'noiseSuppression' | 'background';

export interface EffectsState {
  noiseSuppression: boolean;
  background: Background;
  /** A picture of the user's own is kept in this browser (the 'custom' background may be chosen). */
  hasCustomImage: boolean;
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
  /** What it was built for (the camera's pipe is built again when the background changes). */
  config: string;
  pipe: TrackPipe | null;
  closed: boolean;
}

/** The pipe that makes `config` of `device`. */
async function buildPipe(effect: Effect, config: string, device: MediaStreamTrack): Promise<TrackPipe> {
  if (effect === 'noiseSuppression') return await noiseSuppressed(device);
  const background = config as Exclude<Background, 'none'>;
  if (background === 'blur') return await backgroundReplaced(device, { kind: 'blur' });
  return await backgroundReplaced(device, { kind: 'image', image: await loadBackgroundImage(background) });
}

function stored(): Pick<EffectsState, 'noiseSuppression' | 'background'> {
  try {
    const v = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as { noiseSuppression?: unknown; background?: unknown; backgroundBlur?: unknown };
    // `backgroundBlur: true`: what this browser kept before virtual backgrounds
    const background = isBackground(v.background) ? v.background : v.backgroundBlur === true ? 'blur' : 'none';
    return { noiseSuppression: v.noiseSuppression === true, background: background === 'custom' && storedCustomImage() === null ? 'none' : background };
  } catch {
    return { noiseSuppression: false, background: 'none' };
  }
}

export class TrackEffects extends Store<EffectsState> {
  #pipes: Partial<Record<Effect, Pipe>> = {};

  constructor() {
    super({ ...stored(), hasCustomImage: storedCustomImage() !== null, starting: [], failed: [], revision: 0 });
  }

  /** What to send and show for this device track (null stays null). */
  output(device: MediaStreamTrack | null): MediaStreamTrack | null {
    if (!device) return null;
    const effect: Effect = device.kind === 'audio' ? 'noiseSuppression' : 'background';
    const config = this.#config(effect);
    if (config === null || device.readyState === 'ended') return device;
    const current = this.#pipes[effect];
    if (current?.source === device && current.config === config) return current.pipe?.track ?? device;
    this.#build(effect, config, device);
    return device;
  }

  setNoiseSuppression(on: boolean): void {
    this.#change('noiseSuppression', { noiseSuppression: on });
  }

  setBackground(background: Background): void {
    if (background === 'custom' && !this.state.hasCustomImage) return;
    this.#change('background', { background });
  }

  /** Keeps `file` as the user's own picture and puts it behind them; rejects (BackgroundImageError) when refused. */
  async setCustomImage(file: Blob): Promise<void> {
    await storeCustomImage(file);
    // a pipe already showing the previous picture is built again
    if (this.#pipes.background !== undefined && this.state.background === 'custom') this.#drop('background');
    this.update({ hasCustomImage: true });
    this.#change('background', { background: 'custom' });
  }

  /** The effect's current configuration, null when it is off. */
  #config(effect: Effect): string | null {
    if (effect === 'noiseSuppression') return this.state.noiseSuppression ? 'on' : null;
    return this.state.background === 'none' ? null : this.state.background;
  }

  #change(effect: Effect, patch: Partial<Pick<EffectsState, 'noiseSuppression' | 'background'>>): void {
    this.update({ ...patch, failed: this.state.failed.filter((e) => e !== effect) });
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ noiseSuppression: this.state.noiseSuppression, background: this.state.background }));
    } catch {
      // private browsing: remembered for this page only
    }
    // the next output() builds the pipe the new setting wants
    if (this.#pipes[effect]?.config !== this.#config(effect)) this.#drop(effect);
    this.update({ revision: this.state.revision + 1 });
  }

  #build(effect: Effect, config: string, device: MediaStreamTrack): void {
    this.#drop(effect);
    const entry: Pipe = { source: device, config, pipe: null, closed: false };
    this.#pipes[effect] = entry;
    this.update({ starting: [...this.state.starting.filter((e) => e !== effect), effect] });
    buildPipe(effect, config, device).then(
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
        console.warn(`tertulia: ${effect} (${config}) could not start`, e);
        if (entry.closed) return;
        if (this.#pipes[effect] === entry) delete this.#pipes[effect];
        this.update({
          ...(effect === 'noiseSuppression' ? { noiseSuppression: false } : { background: 'none' as const }),
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
    this.#drop('background');
  }
}
