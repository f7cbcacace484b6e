// Moves a room of two between the bridge and a direct connection (signal/p2p.ts) without a gap, as Jitsi does:
// the bridge connection stays up the whole time.
// - `p2p-start`: a P2pConnection to the peer. Once connected and decoding the peer's camera, we show its media
//   (`overlay`) and tell the peer (`rendering`); only when the PEER says it shows ours do we stop sending to the
//   bridge (`bridgeSendPaused`: the bridge senders get no track). So neither side ever shows a path that is empty.
// - `p2p-stop` (a third joined, a recording started...), or our P2P connection failed: we send to the bridge again
//   at once, keep showing the P2P media until the bridge brings the peer's camera again (or BRIDGE_WAIT_MS), then
//   show the bridge's; the P2P connection lingers LINGER_MS more for the peer's own switch, then closes.
import type { ClientMessage, ServerMessage } from '../../protocol/signal-messages.ts';
import type { P2pServerMessage } from '../../protocol/p2p-messages.ts';
import { P2pConnection } from './p2p-connection.ts';
import type { RemoteStreams } from './remote-media.ts';

/** Longest wait for the peer's camera over P2P before showing the P2P media anyway. */
const P2P_WAIT_MS = 4000;
/** Longest wait for the peer's camera from the bridge again before showing the bridge's media anyway. */
const BRIDGE_WAIT_MS = 5000;
/** How long a P2P connection still sends after we stopped showing it (the peer may still show it). */
const LINGER_MS = 4000;
const POLL_MS = 50;
/** New frames of the peer's camera from the bridge before its media is shown again (one could be a lone keyframe). */
const BRIDGE_FRAMES = 3;

export interface P2pSwitchHost {
  send(m: ClientMessage): void;
  iceServers(): RTCIceServer[];
  /** Our microphone and camera as they are now (null while muted). */
  ownTracks(): { audio: MediaStreamTrack | null; video: MediaStreamTrack | null };
  /** Video frames decoded from `participantId`'s camera through the bridge; null when it has no m-line now. */
  bridgeVideoFrames(participantId: string): Promise<number | null>;
  /** Whether `participantId`'s camera is on (a camera that is off never brings frames). */
  cameraOn(participantId: string): boolean;
  /** What we show, or whether we send to the bridge, changed. */
  changed(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class P2pSwitch {
  readonly #host: P2pSwitchHost;
  /** The current session's connection (connecting or connected). */
  #current: P2pConnection | null = null;
  /** The connection whose media we show (the current one, or one on its way out). */
  #shown: P2pConnection | null = null;
  /** The peer of the current session shows our P2P media: our bridge senders are paused. */
  #peerShows = false;
  #all = new Set<P2pConnection>();
  /** performance.now() of the last change of what we show (diagnostics: where a freeze falls). */
  #switchedAt = 0;

  constructor(host: P2pSwitchHost) {
    this.#host = host;
  }

  /** True while the bridge must get neither our microphone nor our camera. */
  get bridgeSendPaused(): boolean {
    return this.#peerShows;
  }

  /** 'p2p' while we show the current session's direct media. */
  get path(): 'bridge' | 'p2p' {
    return this.#shown !== null && this.#shown === this.#current ? 'p2p' : 'bridge';
  }

  /** The current P2P connection and its peer (diagnostics and tests). */
  get diagnostics(): { pc: RTCPeerConnection | null; peerId: string | null; path: 'bridge' | 'p2p'; bridgeSendPaused: boolean; switchedAt: number } {
    return { pc: this.#current?.connection ?? null, peerId: this.#current?.peerId ?? null, path: this.path, bridgeSendPaused: this.#peerShows, switchedAt: this.#switchedAt };
  }

  /** The bridge's media by participant, with the shown P2P peer's microphone and camera in place of the bridge's. */
  overlay(media: ReadonlyMap<string, RemoteStreams>): Map<string, RemoteStreams> {
    const result = new Map(media);
    const shown = this.#shown;
    if (!shown) return result;
    const bridge = media.get(shown.peerId);
    result.set(shown.peerId, { audio: shown.remote.audio, video: shown.remote.video, screen: bridge?.screen ?? null });
    return result;
  }

  /** Handles p2p-start, p2p-stop and p2p-signal. */
  handle(m: P2pServerMessage): void {
    if (m.type === 'p2p-start') this.#start(m.session, m.peerId, m.offerer);
    else if (m.type === 'p2p-stop') {
      if (this.#current?.session === m.session) void this.#backToBridge(this.#current);
    } else if (this.#current?.session === m.session && this.#current.peerId === m.from) {
      if (m.signal.kind === 'rendering') {
        if (!this.#peerShows) {
          this.#peerShows = true;
          this.#host.changed();
        }
      } else this.#current.handle(m.signal);
    }
  }

  /** Our microphone or camera changed: the P2P senders follow (the bridge's are the caller's). */
  updateSenders(): void {
    for (const c of this.#all) c.updateSenders();
  }

  /** Back to the bridge at once, every P2P connection closed (a reconnect, another room, the end). */
  closeAll(): void {
    for (const c of this.#all) c.close();
    this.#all.clear();
    const had = this.#current !== null || this.#shown !== null || this.#peerShows;
    this.#current = this.#shown = null;
    this.#peerShows = false;
    if (had) this.#host.changed();
  }

  static isP2pMessage(m: ServerMessage): m is P2pServerMessage {
    return m.type === 'p2p-start' || m.type === 'p2p-stop' || m.type === 'p2p-signal';
  }

  #start(session: string, peerId: string, offerer: boolean): void {
    if (this.#current) void this.#backToBridge(this.#current);
    const conn = new P2pConnection({
      session,
      peerId,
      offerer,
      iceServers: this.#host.iceServers(),
      send: (signal) => this.#host.send({ type: 'p2p-signal', session, signal }),
      tracks: () => this.#host.ownTracks(),
    });
    this.#all.add(conn);
    this.#current = conn;
    conn.onConnected = () => void this.#show(conn);
    conn.onFailed = () => {
      if (this.#current !== conn) return;
      this.#host.send({ type: 'p2p-failed', session });
      void this.#backToBridge(conn);
    };
  }

  /** Shows `conn`'s media once it decodes the peer's camera (or after P2P_WAIT_MS), then tells the peer. */
  async #show(conn: P2pConnection): Promise<void> {
    const deadline = Date.now() + P2P_WAIT_MS;
    while (this.#current === conn && Date.now() < deadline && this.#host.cameraOn(conn.peerId)) {
      if ((await conn.framesDecoded()) > 0) break;
      await sleep(POLL_MS);
    }
    if (this.#current !== conn || !conn.connected) return;
    this.#shown = conn;
    this.#switchedAt = performance.now();
    this.#host.changed();
    this.#host.send({ type: 'p2p-signal', session: conn.session, signal: { kind: 'rendering' } });
  }

  /** Sends to the bridge again, shows its media once the peer's camera comes from it, lets `conn` go. */
  async #backToBridge(conn: P2pConnection): Promise<void> {
    if (this.#current === conn) {
      this.#current = null;
      this.#peerShows = false;
      this.#host.changed();
    }
    if (this.#shown === conn) {
      const peer = conn.peerId;
      const before = await this.#host.bridgeVideoFrames(peer);
      const deadline = Date.now() + BRIDGE_WAIT_MS;
      while (this.#shown === conn && Date.now() < deadline && this.#host.cameraOn(peer)) {
        const now = await this.#host.bridgeVideoFrames(peer);
        if (now !== null && now >= (before ?? 0) + BRIDGE_FRAMES) break;
        await sleep(POLL_MS);
      }
      // (a newer session may show its own connection by now: this one still lingers, then closes)
      if (this.#shown === conn) {
        this.#shown = null;
        this.#switchedAt = performance.now();
        this.#host.changed();
      }
      await sleep(LINGER_MS);
    }
    conn.close();
    this.#all.delete(conn);
  }
}
