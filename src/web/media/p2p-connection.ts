// One peer-to-peer RTCPeerConnection to the other browser of a room of two (signal/p2p.ts): our microphone and
// camera (one audio, one video transceiver, both sendrecv) and theirs. Descriptions and ICE candidates go through
// the server (`send`); the offerer offers once, the other answers. Screen shares stay on the bridge.
// It reports once that it connected, and once that it failed (ICE/DTLS failed, no connection in time, or
// disconnected for P2P_DISCONNECTED_MS: the bridge is the way back, not waiting for ICE to give up).
import type { P2pSignal } from '../../protocol/p2p-messages.ts';

/** How long a P2P connection may take to connect before the room stays on the bridge. */
export const P2P_CONNECT_TIMEOUT_MS = 15_000;
/** How long a connected P2P connection may stay 'disconnected' (its media frozen) before it counts as failed. */
export const P2P_DISCONNECTED_MS = 3000;

export class P2pConnection {
  readonly session: string;
  readonly peerId: string;
  readonly #pc: RTCPeerConnection;
  readonly #send: (signal: P2pSignal) => void;
  readonly #tracks: () => { audio: MediaStreamTrack | null; video: MediaStreamTrack | null };
  #queue: Promise<void> = Promise.resolve();
  #early: RTCIceCandidateInit[] = [];
  #remote: { audio: MediaStream | null; video: MediaStream | null } = { audio: null, video: null };
  #timer: ReturnType<typeof setTimeout> | null;
  #closed = false;
  #connected = false;
  #failed = false;
  onConnected: () => void = () => {};
  onFailed: () => void = () => {};

  constructor(opts: {
    session: string;
    peerId: string;
    offerer: boolean;
    iceServers: RTCIceServer[];
    send: (signal: P2pSignal) => void;
    tracks: () => { audio: MediaStreamTrack | null; video: MediaStreamTrack | null };
  }) {
    this.session = opts.session;
    this.peerId = opts.peerId;
    this.#send = opts.send;
    this.#tracks = opts.tracks;
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers: opts.iceServers });
    this.#pc = pc;
    pc.onicecandidate = (ev) => {
      if (this.#closed) return;
      const c = ev.candidate;
      this.#send(
        c
          ? { kind: 'candidate', candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment }
          : { kind: 'candidate', candidate: '', sdpMid: null, sdpMLineIndex: null },
      );
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected' && !this.#connected) {
        this.#connected = true;
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = null;
        this.onConnected();
      } else if (pc.connectionState === 'failed') this.#fail();
      else if (pc.connectionState === 'disconnected' && this.#connected && !this.#timer) {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          if (pc.connectionState !== 'connected') this.#fail();
        }, P2P_DISCONNECTED_MS);
      }
    };
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#connected) this.#fail();
    }, P2P_CONNECT_TIMEOUT_MS);
    if (opts.offerer) {
      const t = this.#tracks();
      pc.addTransceiver(t.audio ?? 'audio', { direction: 'sendrecv' });
      pc.addTransceiver(t.video ?? 'video', { direction: 'sendrecv' });
      this.#enqueue(async () => {
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        this.#send({ kind: 'description', type: 'offer', sdp: pc.localDescription?.sdp ?? offer.sdp ?? '' });
      });
    }
  }

  /** The live connection (diagnostics and tests). */
  get connection(): RTCPeerConnection {
    return this.#pc;
  }

  get connected(): boolean {
    return this.#connected && !this.#failed && !this.#closed;
  }

  /** The peer's microphone and camera as streams (null before the descriptions are exchanged). */
  get remote(): { audio: MediaStream | null; video: MediaStream | null } {
    return this.#remote;
  }

  /** A description or candidate from the peer. */
  handle(signal: P2pSignal): void {
    if (signal.kind === 'rendering') return;
    this.#enqueue(async () => {
      const pc = this.#pc;
      if (signal.kind === 'candidate') {
        const c: RTCIceCandidateInit = { candidate: signal.candidate, sdpMid: signal.sdpMid, sdpMLineIndex: signal.sdpMLineIndex, usernameFragment: signal.usernameFragment ?? null };
        if (pc.remoteDescription) await pc.addIceCandidate(c);
        else this.#early.push(c);
        return;
      }
      if (signal.type === 'offer') {
        await pc.setRemoteDescription({ type: 'offer', sdp: signal.sdp });
        for (const t of pc.getTransceivers()) t.direction = 'sendrecv';
        await this.#applyTracks();
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        this.#send({ kind: 'description', type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
      } else {
        await pc.setRemoteDescription({ type: 'answer', sdp: signal.sdp });
      }
      for (const c of this.#early.splice(0)) await pc.addIceCandidate(c);
      this.#remote = {
        audio: this.#receiverStream('audio'),
        video: this.#receiverStream('video'),
      };
    });
  }

  /** Puts our current microphone and camera (or nothing, muted) on the P2P senders. */
  updateSenders(): void {
    this.#enqueue(() => this.#applyTracks());
  }

  /** Video frames decoded from the peer over this connection so far. */
  async framesDecoded(): Promise<number> {
    let frames = 0;
    if (this.#closed) return frames;
    (await this.#pc.getStats()).forEach((s: { type?: string; kind?: string; framesDecoded?: number }) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
    });
    return frames;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pc.onicecandidate = this.#pc.onconnectionstatechange = null;
    this.#pc.close();
  }

  #fail(): void {
    if (this.#failed || this.#closed) return;
    this.#failed = true;
    this.onFailed();
  }

  #receiverStream(kind: 'audio' | 'video'): MediaStream | null {
    const t = this.#transceiver(kind);
    return t ? new MediaStream([t.receiver.track]) : null;
  }

  #transceiver(kind: 'audio' | 'video'): RTCRtpTransceiver | undefined {
    return this.#pc.getTransceivers().find((t) => t.receiver.track.kind === kind);
  }

  async #applyTracks(): Promise<void> {
    if (this.#closed) return;
    const t = this.#tracks();
    await this.#transceiver('audio')?.sender.replaceTrack(t.audio);
    await this.#transceiver('video')?.sender.replaceTrack(t.video);
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue
      .then(() => (this.#closed ? undefined : task()))
      .catch((err: unknown) => {
        // (a task the close overtook fails on the closed connection: nothing to say)
        if (this.#closed) return;
        console.error('tertulia: peer-to-peer media error', err);
        this.#fail();
      });
  }
}
