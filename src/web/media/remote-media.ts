// Maps the receive m-lines (by mid) to remote participants, one MediaStream per participant and kind (audio,
// camera video, screen). Focus recycles inactive m-lines: a mid (and its receiver track) may later carry
// another participant's source. Streams are keyed by participant too, so the new owner gets a stream of its own
// and the old owner's, no longer in the offer's sources, is dropped (its tile goes away).
// A stream is kept only while it holds the very receiver track object of now, never matched by track id: the
// id comes from the offer's msid, and a new peer connection (after a move to another bridge) has new receiver
// tracks with the same ids as the old connection's, which its close ended. Reusing the old stream there would
// leave every tile and audio element on an ended track: black, frozen, silent.
import type { MediaKind, RemoteSource } from '../../protocol/signal-messages.ts';

export interface RemoteStreams {
  audio: MediaStream | null;
  video: MediaStream | null;
  /** The participant's shared screen, while sharing. */
  screen: MediaStream | null;
}

export class RemoteMedia {
  /** `${participantId}|${kind}` -> the receiver track shown for it and the stream holding that track. */
  #streams = new Map<string, { track: MediaStreamTrack; stream: MediaStream }>();

  /**
   * Recomputes participantId -> streams from the transceivers and the latest offer's sources. A mid
   * that is not in `sources` is inactive and ignored.
   */
  map(pc: RTCPeerConnection, sources: readonly RemoteSource[]): Map<string, RemoteStreams> {
    const byMid = new Map<string, RTCRtpTransceiver>();
    for (const t of pc.getTransceivers()) if (t.mid !== null) byMid.set(t.mid, t);
    const result = new Map<string, RemoteStreams>();
    const used = new Set<string>();
    for (const source of sources) {
      const transceiver = byMid.get(source.mid);
      const track = transceiver?.receiver.track;
      if (!track || track.kind !== source.kind) continue;
      const slot = source.kind === 'video' && source.role === 'screen' ? 'screen' : source.kind;
      const key = `${source.participantId}|${slot}`;
      let kept = this.#streams.get(key);
      if (kept?.track !== track) {
        kept = { track, stream: new MediaStream([track]) };
        this.#streams.set(key, kept);
      }
      used.add(key);
      const entry = result.get(source.participantId) ?? { audio: null, video: null, screen: null };
      entry[slot satisfies MediaKind | 'screen'] = kept.stream;
      result.set(source.participantId, entry);
    }
    for (const key of [...this.#streams.keys()]) if (!used.has(key)) this.#streams.delete(key);
    return result;
  }

  clear(): void {
    this.#streams.clear();
  }
}
