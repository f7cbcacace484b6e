// The audio of a screen share (a tab's sound, "Share tab audio" in Chrome's picker), sent mixed into our
// microphone's track as Jitsi Meet does: the bridge, recordings and phone callers get it as our voice, with no
// source of its own. So it is heard while our microphone is on; muted, neither goes. The mix is a WebAudio graph
// (both tracks into one MediaStreamAudioDestinationNode), made for a pair of tracks and kept while they last: the
// same output track as long as the microphone (after its effects) and the shared audio stay the same. Without a
// microphone at all, unmuting sends the shared audio alone (conference.ts), so a presenter's machine with no
// microphone can still play a video's sound to the meeting.
export interface AudioMixer {
  /** The mix of `main` and `extra` as one track. */
  readonly track: MediaStreamTrack;
  close(): void;
}

/** Mixes two tracks with WebAudio; null where the browser has none. */
export function webAudioMixer(main: MediaStreamTrack, extra: MediaStreamTrack): AudioMixer | null {
  let ctx: AudioContext;
  try {
    ctx = new AudioContext();
  } catch {
    return null;
  }
  let destination: MediaStreamAudioDestinationNode;
  let sources: MediaStreamAudioSourceNode[];
  try {
    destination = ctx.createMediaStreamDestination();
    sources = [main, extra].map((t) => {
      const s = ctx.createMediaStreamSource(new MediaStream([t]));
      s.connect(destination);
      return s;
    });
  } catch {
    // a track the browser cannot read from: the microphone is sent alone
    void ctx.close().catch(() => {});
    return null;
  }
  void ctx.resume().catch(() => {});
  const track = destination.stream.getAudioTracks()[0]!;
  return {
    track,
    close: () => {
      for (const s of sources) s.disconnect();
      track.stop();
      void ctx.close().catch(() => {});
    },
  };
}

export class ScreenAudio {
  readonly #mix: (main: MediaStreamTrack, extra: MediaStreamTrack) => AudioMixer | null;
  #shared: MediaStreamTrack | null = null;
  #mixer: { main: MediaStreamTrack; extra: MediaStreamTrack; mixer: AudioMixer } | null = null;

  constructor(mix: (main: MediaStreamTrack, extra: MediaStreamTrack) => AudioMixer | null = webAudioMixer) {
    this.#mix = mix;
  }

  /** The shared screen's audio track, or null when the share has none (or ended). */
  get shared(): MediaStreamTrack | null {
    return this.#shared;
  }

  /** Takes the share's audio (the previous one, if any, is stopped). */
  set(track: MediaStreamTrack | null): void {
    if (track === this.#shared) return;
    this.#shared?.stop();
    this.#shared = track;
    this.#dropMixer();
  }

  /** Whether there is shared audio to send (a share with sound that has not ended). */
  get live(): boolean {
    return this.#shared !== null && this.#shared.readyState !== 'ended';
  }

  /**
   * What to send for our microphone while unmuted (`mic`, after its effects): it, mixed with the shared audio; the
   * shared audio alone when there is no microphone (null).
   */
  withShared(mic: MediaStreamTrack | null): MediaStreamTrack | null {
    const extra = this.#shared;
    if (extra === null || !this.live) return mic;
    if (mic === null) return extra;
    const m = this.#mixer;
    if (m !== null && m.main === mic && m.extra === extra) return m.mixer.track;
    this.#dropMixer();
    const mixer = this.#mix(mic, extra);
    if (mixer === null) return mic;
    this.#mixer = { main: mic, extra, mixer };
    return mixer.track;
  }

  /** Stops the shared audio and the mix. */
  close(): void {
    this.set(null);
  }

  #dropMixer(): void {
    this.#mixer?.mixer.close();
    this.#mixer = null;
  }
}

const SCREEN_VIDEO: MediaTrackConstraints = { frameRate: { ideal: 15, max: 30 } };

/**
 * The browser's screen picker, offering the sound of what is shared (Chrome: "Share tab audio"); a browser that
 * cannot capture sound (one that refuses the audio constraint itself) is asked for the screen alone. Null when the
 * person cancels, or nothing can be shared.
 */
export async function displayMedia(): Promise<MediaStream | null> {
  try {
    // a tab's sound only: a whole screen's would carry the meeting's own voices back to everyone (Chrome's hints)
    const options = { video: SCREEN_VIDEO, audio: true, systemAudio: 'exclude', selfBrowserSurface: 'exclude' };
    return await navigator.mediaDevices.getDisplayMedia(options as DisplayMediaStreamOptions);
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name !== 'TypeError' && name !== 'NotSupportedError' && name !== 'OverconstrainedError') return null;
  }
  try {
    return await navigator.mediaDevices.getDisplayMedia({ video: SCREEN_VIDEO, audio: false });
  } catch {
    return null;
  }
}
