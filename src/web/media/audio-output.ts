// The speaker chosen in the settings, applied to every remote participant's audio element (setSinkId).
import { Store } from './store.ts';

class AudioOutput extends Store<{ sinkId: string }> {
  constructor() {
    super({ sinkId: '' });
  }

  /** True when this browser can route audio to a chosen output device. */
  get supported(): boolean {
    return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  }

  set(sinkId: string): void {
    this.update({ sinkId });
  }
}

export const audioOutput = new AudioOutput();
