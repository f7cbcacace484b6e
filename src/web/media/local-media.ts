// The local camera and microphone: acquiring them, muting, stopping and restarting the camera.
import { Store } from './store.ts';
import { TrackEffects } from './effects/track-effects.ts';
import { videoConstraints } from '../url-options.ts';

export interface LocalMediaState {
  /** False until the first getUserMedia attempt settled. */
  ready: boolean;
  micTrack: MediaStreamTrack | null;
  camTrack: MediaStreamTrack | null;
  audioMuted: boolean;
  videoMuted: boolean;
  noMicrophone: boolean;
  noCamera: boolean;
  /** True while a camera (re)start is in progress. */
  cameraStarting: boolean;
  /** The devices chosen in the settings (null: the browser's default). */
  micDeviceId: string | null;
  camDeviceId: string | null;
}

export class LocalMedia extends Store<LocalMediaState> {
  #resolution: number;
  /** Noise suppression and background blur: what is sent and shown is `effects.output(track)`. */
  readonly effects = new TrackEffects();
  #closed = false;
  #cameraRequest = 0;
  #ready: Promise<void> | null = null;
  readonly #resized = new Set<() => void>();

  constructor(resolution: number, startAudioMuted: boolean, startVideoMuted: boolean) {
    super({
      ready: false,
      micTrack: null,
      camTrack: null,
      audioMuted: startAudioMuted,
      videoMuted: startVideoMuted,
      noMicrophone: false,
      noCamera: false,
      cameraStarting: !startVideoMuted,
      micDeviceId: null,
      camDeviceId: null,
    });
    this.#resolution = resolution;
  }

  /** The capture height in pixels (16:9). */
  get resolution(): number {
    return this.#resolution;
  }

  /** Captures at another height from now on, the live camera too (a camera that cannot keep its size as it was). */
  async setResolution(height: number): Promise<void> {
    if (height === this.#resolution) return;
    this.#resolution = height;
    const track = this.state.camTrack;
    if (!track) return;
    await track.applyConstraints(videoConstraints(height)).catch(() => undefined);
    for (const l of [...this.#resized]) l();
  }

  /** Calls `listener` when the live camera was asked for another size (the sender's layers depend on it). */
  onResize(listener: () => void): () => void {
    this.#resized.add(listener);
    return () => this.#resized.delete(listener);
  }

  /** Acquires the microphone (always) and the camera (unless starting with the camera off). Never throws. */
  init(): Promise<void> {
    this.#ready ??= this.#init();
    return this.#ready;
  }

  async #init(): Promise<void> {
    const wantVideo = !this.state.videoMuted;
    const request = ++this.#cameraRequest;
    let mic: MediaStreamTrack | null = null;
    let cam: MediaStreamTrack | null = null;
    let noMic = false;
    let noCam = false;
    try {
      const s = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: wantVideo ? videoConstraints(this.resolution) : false,
      });
      mic = s.getAudioTracks()[0] ?? null;
      cam = s.getVideoTracks()[0] ?? null;
    } catch {
      // One of the two (or both) is missing or refused: ask for each alone to find out which.
      mic = await this.#getTrack('audio');
      noMic = mic === null;
      if (wantVideo) {
        cam = await this.#getTrack('video');
        noCam = cam === null;
      }
    }
    if (this.#closed) {
      mic?.stop();
      cam?.stop();
      return;
    }
    const patch: Partial<LocalMediaState> = { ready: true, micTrack: mic, noMicrophone: noMic };
    if (!mic) patch.audioMuted = true;
    if (request === this.#cameraRequest) {
      // Nobody stopped or restarted the camera while we were waiting for it.
      patch.camTrack = cam;
      patch.noCamera = noCam;
      patch.videoMuted = cam === null;
      patch.cameraStarting = false;
    } else {
      cam?.stop();
    }
    this.update(patch);
  }

  async #getTrack(kind: 'audio' | 'video'): Promise<MediaStreamTrack | null> {
    try {
      const { micDeviceId, camDeviceId } = this.state;
      const s = await navigator.mediaDevices.getUserMedia(
        kind === 'audio'
          ? { audio: micDeviceId ? { deviceId: { exact: micDeviceId } } : true }
          : { video: { ...videoConstraints(this.resolution), ...(camDeviceId ? { deviceId: { exact: camDeviceId } } : {}) } },
      );
      return s.getTracks()[0] ?? null;
    } catch {
      return null; // NotFoundError, NotAllowedError, NotReadableError...: no usable device
    }
  }

  setAudioMuted(muted: boolean): void {
    this.update({ audioMuted: muted });
  }

  /** Unmutes the microphone, asking for it again if there was none. Resolves to the track or null. */
  async unmuteMicrophone(): Promise<MediaStreamTrack | null> {
    let mic = this.state.micTrack;
    if (!mic || mic.readyState === 'ended') {
      mic = await this.#getTrack('audio');
      if (this.#closed) {
        mic?.stop();
        return null;
      }
    }
    this.update({ micTrack: mic, audioMuted: mic === null, noMicrophone: mic === null });
    return mic;
  }

  /** Turns the camera off (stops the track, so the camera light goes off). */
  stopCamera(): void {
    this.#cameraRequest++;
    this.state.camTrack?.stop();
    this.update({ camTrack: null, videoMuted: true, cameraStarting: false });
  }

  /** Turns the camera on again. Resolves to the new track, or null when there is no camera. */
  async startCamera(): Promise<MediaStreamTrack | null> {
    if (this.state.camTrack && !this.state.videoMuted) return this.state.camTrack;
    const request = ++this.#cameraRequest;
    this.update({ cameraStarting: true });
    const cam = await this.#getTrack('video');
    if (this.#closed || request !== this.#cameraRequest) {
      cam?.stop();
      return null;
    }
    this.update({ camTrack: cam, videoMuted: cam === null, noCamera: cam === null, cameraStarting: false });
    return cam;
  }

  /** Uses another microphone from now on (switching the live track when there is one). False when it failed. */
  async setMicrophoneDevice(deviceId: string): Promise<boolean> {
    const previous = this.state.micDeviceId;
    this.update({ micDeviceId: deviceId });
    if (!this.state.micTrack) return true;
    const mic = await this.#getTrack('audio');
    if (this.#closed || !mic) {
      mic?.stop();
      if (!mic) this.update({ micDeviceId: previous });
      return false;
    }
    const old = this.state.micTrack;
    this.update({ micTrack: mic, noMicrophone: false });
    old?.stop();
    return true;
  }

  /** Uses another camera from now on (switching the live track while the camera is on). False when it failed. */
  async setCameraDevice(deviceId: string): Promise<boolean> {
    const previous = this.state.camDeviceId;
    this.update({ camDeviceId: deviceId });
    if (!this.state.camTrack || this.state.videoMuted) return true;
    const request = ++this.#cameraRequest;
    const cam = await this.#getTrack('video');
    if (this.#closed || request !== this.#cameraRequest || !cam) {
      cam?.stop();
      if (!cam) this.update({ camDeviceId: previous });
      return false;
    }
    const old = this.state.camTrack;
    this.update({ camTrack: cam, noCamera: false });
    old?.stop();
    return true;
  }

  /** Stops every local track; the object is unusable afterwards. */
  close(): void {
    this.#closed = true;
    this.#cameraRequest++;
    this.effects.close();
    this.state.micTrack?.stop();
    this.state.camTrack?.stop();
    this.update({ micTrack: null, camTrack: null, cameraStarting: false });
  }
}
