// "No sound from your microphone" (Jitsi Meet's no-audio-signal notice): a microphone turned on (joining unmuted,
// unmuting, another device chosen) whose track gives digital silence — exact zeros, as a microphone switched off
// by its own key, a disabled input or a broken driver gives, never a quiet room — for SILENT_READINGS readings
// in a row is said to be silent, with a way to the settings. Listening ends at the first sound (which also takes the
// notice away) or when the notice is dismissed: the check costs nothing once the microphone is heard. It says so
// again only for another track, or after a mute and unmute.
import { liveTrack, MicWatch, type LevelListener, type MicrophoneSource } from './mic-watch.ts';

/** At or below this (dBFS) a reading is digital silence (mic-level.ts reads zeros as -120; a quiet room is -70..-50). */
export const SILENT_DB = -100;
/** Readings of silence in a row that make a microphone silent (5 s). */
export const SILENT_READINGS = 50;

export interface SilentMicrophoneState {
  /** Show "no sound from your microphone". */
  notice: boolean;
}

export class SilentMicrophone extends MicWatch<SilentMicrophoneState> {
  /** The track checked in this turn-on (checked once: heard, or told). */
  #checked: MediaStreamTrack | null = null;
  #silent = 0;

  constructor(mic: MicrophoneSource, listen: LevelListener) {
    super({ notice: false }, mic, listen);
    this.follow();
  }

  /** The person dismissed the notice: this track is not checked again until the next turn-on. */
  dismiss(): void {
    this.#hide();
    if (this.#checked === null && this.mic.state.micTrack !== null) this.#done();
  }

  #hide(): void {
    if (this.state.notice) this.update({ notice: false });
  }

  protected wanted(): MediaStreamTrack | null {
    const { audioMuted, micTrack } = this.mic.state;
    const track = audioMuted ? null : liveTrack(micTrack);
    if (track === null) {
      // muted (or no microphone): the next turn-on is checked again
      this.#checked = null;
      this.#hide();
      return null;
    }
    if (this.#checked !== null && this.#checked !== track) {
      // another device: its own check, the old notice gone
      this.#checked = null;
      this.#hide();
    }
    return this.#checked === null ? track : null;
  }

  /** A new check (a turn-on, another device): a notice about the one before goes. */
  protected started(): void {
    this.#silent = 0;
    this.#hide();
  }

  protected level(db: number): void {
    if (db > SILENT_DB) {
      // it works (or works again: switched on by its own key while the notice showed)
      this.#hide();
      this.#done();
      return;
    }
    // told: still listening, for the sound that takes the notice away
    if (++this.#silent === SILENT_READINGS) this.update({ notice: true });
  }

  #done(): void {
    this.#checked = this.mic.state.micTrack;
    this.stopListening();
  }
}
