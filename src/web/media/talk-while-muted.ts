// "You are muted. Are you trying to speak?" (Jitsi Meet's talk-while-muted notice). A muted microphone's track
// stays live (muting only stops sending it), so the page can hear what the others do not: once per mute, when it
// hears speech, it says so, with a button to unmute. Speech is most of the last readings loud (SPEECH_READINGS of
// WINDOW_READINGS, ~0.5 s of the last 0.8 s), which a click, a cough or Chromium's fake beeps (20 ms twice a second)
// are not. Nothing is read while unmuted, after the notice, or without a microphone: the listening costs nothing
// then. The levels come from `listen` (mic-level.ts in the page; tests feed their own).
import { liveTrack, MicWatch, type LevelListener, type MicrophoneSource } from './mic-watch.ts';

export { READ_EVERY_MS, type LevelListener, type MicrophoneSource } from './mic-watch.ts';

/** A reading at or above this RMS level (dBFS) is loud: speech close to a microphone is -35..-15, a quiet room below -50. */
export const LOUD_DB = -40;
/** Readings looked at, and how many of them must be loud. */
export const WINDOW_READINGS = 8;
export const SPEECH_READINGS = 5;
/** How long the notice stays unless answered. */
export const NOTICE_MS = 15_000;

/** Whether the last readings sound like someone speaking. */
export class SpeechDetector {
  readonly #loud = new Uint8Array(WINDOW_READINGS);
  #next = 0;
  #count = 0;

  /** One reading (dBFS); true when speech is heard now. */
  feed(db: number): boolean {
    const loud = db >= LOUD_DB ? 1 : 0;
    this.#count += loud - this.#loud[this.#next]!;
    this.#loud[this.#next] = loud;
    this.#next = (this.#next + 1) % WINDOW_READINGS;
    return this.#count >= SPEECH_READINGS;
  }

  reset(): void {
    this.#loud.fill(0);
    this.#next = 0;
    this.#count = 0;
  }
}

export interface TalkWhileMutedState {
  /** Show "you are muted, are you trying to speak?". */
  notice: boolean;
}

export class TalkWhileMuted extends MicWatch<TalkWhileMutedState> {
  readonly #detector = new SpeechDetector();
  /** Told in this mute already (reset by unmuting). */
  #told = false;
  /** Whether we may unmute now (false: a moderator's word keeps us muted; nothing is listened to, nothing used up). */
  #mayUnmute = true;
  #hide: ReturnType<typeof setTimeout> | null = null;

  constructor(mic: MicrophoneSource, listen: LevelListener) {
    super({ notice: false }, mic, listen);
    this.follow();
  }

  /**
   * Whether we may unmute now. While we may not (moderated microphones, self-unmuting turned off) nothing is heard:
   * the one notice of this mute waits for when Unmute would work.
   */
  setMayUnmute(may: boolean): void {
    if (may === this.#mayUnmute) return;
    this.#mayUnmute = may;
    if (!may) this.dismiss();
    this.follow();
  }

  /** Hides the notice (answered or dismissed); it comes back only after the next unmute and mute. */
  dismiss(): void {
    this.#clearHide();
    if (this.state.notice) this.update({ notice: false });
  }

  override dispose(): void {
    super.dispose();
    this.#clearHide();
  }

  protected wanted(): MediaStreamTrack | null {
    const { audioMuted, micTrack } = this.mic.state;
    if (!audioMuted) {
      this.#told = false;
      this.dismiss();
      return null;
    }
    return this.#told || !this.#mayUnmute ? null : liveTrack(micTrack);
  }

  protected started(): void {
    this.#detector.reset();
  }

  protected level(db: number): void {
    if (!this.#detector.feed(db)) return;
    this.#told = true;
    this.stopListening();
    this.update({ notice: true });
    this.#clearHide();
    this.#hide = setTimeout(() => this.dismiss(), NOTICE_MS);
  }

  #clearHide(): void {
    if (this.#hide !== null) clearTimeout(this.#hide);
    this.#hide = null;
  }
}
