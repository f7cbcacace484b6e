// What an effect makes of a device track: a processed track to send and show instead, and how to stop it.

export interface TrackPipe {
  /** The processed track (the device track stays as it is, owned by LocalMedia). */
  readonly track: MediaStreamTrack;
  close(): void;
}
