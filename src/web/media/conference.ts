// The WebRTC client: one WebSocket to the signalling server and one RTCPeerConnection that answers the
// server's offers. mid "0" sends our audio, mid "1" our camera, mid "2" our screen while sharing; the other mids
// carry remote participants.
import type { ClientMessage, Participant, RemoteSource, ServerMessage } from '../../protocol/signal-messages.ts';
import { Store } from './store.ts';
import type { LocalMedia } from './local-media.ts';
import { RemoteMedia, type RemoteStreams } from './remote-media.ts';
import { encodeClientMessage, parseServerMessage } from './server-messages.ts';
import { exposeDiagnostics } from './diagnostics.ts';

/** Join refusals the person can answer (sign in, type the room password, wait) without a new connection. */
const RECOVERABLE_JOIN_ERRORS: readonly string[] = ['auth-required', 'login-failed', 'password-required', 'wrong-password', 'rate-limited'];

export type ConferenceStatus = 'connecting' | 'joined' | 'left' | 'lost' | 'failed';

export interface ConferenceState {
  status: ConferenceStatus;
  selfId: string | null;
  /** The other participants, in the order they joined. */
  participants: readonly Participant[];
  media: ReadonlyMap<string, RemoteStreams>;
  error: { code: string; message: string } | null;
  /** Ourselves as the server sees us (hand, screen-share flag, name), once joined. */
  self: Participant | null;
  /** Our screen capture while sharing. */
  screenTrack: MediaStreamTrack | null;
}

export interface ConferenceOptions {
  url: string;
  room: string;
  displayName: string;
  local: LocalMedia;
}

export class Conference extends Store<ConferenceState> {
  readonly room: string;
  readonly local: LocalMedia;
  #displayName: string;
  #messageListeners = new Set<(m: ServerMessage) => void>();
  #url: string;
  #ws: WebSocket | null = null;
  #pc: RTCPeerConnection | null = null;
  #sources: RemoteSource[] = [];
  #remote = new RemoteMedia();
  /** Offers and sender changes run strictly one after another. */
  #queue: Promise<void> = Promise.resolve();
  #ended = false;
  #onPageHide = () => this.leave();

  constructor(opts: ConferenceOptions) {
    super({ status: 'connecting', selfId: null, participants: [], media: new Map(), error: null, self: null, screenTrack: null });
    this.#url = opts.url;
    this.room = opts.room;
    this.#displayName = opts.displayName;
    this.local = opts.local;
  }

  /** Waits for the local devices, then connects and joins. */
  async start(): Promise<void> {
    await this.local.init();
    if (this.#ended) return;
    window.addEventListener('pagehide', this.#onPageHide);
    const ws = new WebSocket(this.#url);
    this.#ws = ws;
    ws.onopen = () => this.retryJoin();
    ws.onmessage = (ev) => {
      const m = parseServerMessage(ev.data);
      if (m) this.#onMessage(m);
      else console.warn('tertulia: ignored a message the app does not understand');
    };
    ws.onclose = () => {
      if (!this.#ended) this.#end(this.state.status === 'joined' || this.state.status === 'connecting' ? 'lost' : this.state.status);
    };
    this.#publish();
  }

  get displayName(): string {
    return this.#displayName;
  }

  /** The live peer connection (for statistics), or null before the first offer and after the end. */
  get peerConnection(): RTCPeerConnection | null {
    return this.#pc;
  }

  /** Which participant each receive m-line carries (from the latest offer). */
  get remoteSources(): readonly RemoteSource[] {
    return this.#sources;
  }

  /** Every message from the server, after the conference itself handled it. */
  onMessage(listener: (m: ServerMessage) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }

  /** Sends a message to the server (dropped when not connected). */
  sendMessage(m: ClientMessage): void {
    this.#send(m);
  }

  /** Changes our display name for everyone. */
  rename(name: string): void {
    const trimmed = name.trim().slice(0, 64);
    if (!trimmed || trimmed === this.#displayName) return;
    this.#displayName = trimmed;
    this.#send({ type: 'rename', displayName: trimmed });
    this.update({ self: this.state.self ? { ...this.state.self, displayName: trimmed } : null });
    this.#publish();
  }

  /** Switches to another microphone or camera (settings); the new track replaces the old one on the wire. */
  async setDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<boolean> {
    const ok = kind === 'audioinput' ? await this.local.setMicrophoneDevice(deviceId) : await this.local.setCameraDevice(deviceId);
    this.#enqueue(() => this.#applySenders());
    return ok;
  }

  /** Asks for a screen (the browser's picker), then sends it on mid 2. Resolves false when refused. */
  async startScreenShare(): Promise<boolean> {
    if (this.state.screenTrack || this.#ended) return true;
    let track: MediaStreamTrack | null = null;
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
      track = stream.getVideoTracks()[0] ?? null;
    } catch {
      return false;
    }
    if (!track) return false;
    if (this.#ended) {
      track.stop();
      return false;
    }
    track.contentHint = 'detail';
    // The browser's own "Stop sharing" bar ends the track.
    track.addEventListener('ended', () => {
      if (this.state.screenTrack === track) this.stopScreenShare();
    });
    this.update({ screenTrack: track });
    this.#enqueue(() => this.#applySenders());
    this.#send({ type: 'screen-share', sharing: true });
    return true;
  }

  stopScreenShare(): void {
    const track = this.state.screenTrack;
    if (!track) return;
    track.stop();
    this.update({ screenTrack: null });
    this.#enqueue(() => this.#applySenders());
    this.#send({ type: 'screen-share', sharing: false });
  }

  /** Extra `join` fields (token, sign-in session, room password); set by the access client (access-client.ts). */
  joinExtras: () => Partial<Pick<Extract<ClientMessage, { type: 'join' }>, 'jwt' | 'session' | 'password'>> = () => ({});

  /** Sends `join` (again, on the same socket, after signing in or typing the room password). */
  retryJoin(): void {
    const l = this.local.state;
    this.#send({
      type: 'join',
      room: this.room,
      displayName: this.displayName,
      audioMuted: l.audioMuted || !l.micTrack,
      videoMuted: l.videoMuted || !l.camTrack,
      ...this.joinExtras(),
    });
  }

  #send(m: ClientMessage): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(encodeClientMessage(m));
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'joined':
        this.update({
          status: 'joined',
          selfId: m.selfId,
          participants: m.participants.filter((p) => p.id !== m.selfId),
          self: {
            id: m.selfId,
            displayName: this.#displayName,
            audioMuted: this.local.state.audioMuted,
            videoMuted: this.local.state.videoMuted,
            ...('role' in m && m.role ? { role: m.role } : {}),
          },
        });
        break;
      case 'participant-joined':
      case 'participant-updated': {
        if (m.participant.id === this.state.selfId) {
          this.update({ self: m.participant });
          break;
        }
        const list = this.state.participants;
        const i = list.findIndex((p) => p.id === m.participant.id);
        const next = i < 0 ? [...list, m.participant] : list.map((p, j) => (j === i ? m.participant : p));
        this.update({ participants: next });
        break;
      }
      case 'participant-left': {
        const media = new Map(this.state.media);
        media.delete(m.id);
        this.update({ participants: this.state.participants.filter((p) => p.id !== m.id), media });
        break;
      }
      case 'offer':
        this.#enqueue(() => this.#answer(m.sdp, m.version, m.sources));
        break;
      case 'error':
        // sign-in, room password and rate limits before joining: the access client asks, the socket stays open
        if (this.state.status === 'connecting' && RECOVERABLE_JOIN_ERRORS.includes(m.code)) break;
        this.update({ error: { code: m.code, message: m.message } });
        if (this.state.status === 'connecting') this.#end('failed');
        break;
    }
    this.#publish();
    for (const l of [...this.#messageListeners]) {
      try {
        l(m);
      } catch (e) {
        console.error('tertulia: message listener failed', e);
      }
    }
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => console.error('tertulia: media error', err));
  }

  #createPeerConnection(): RTCPeerConnection {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    pc.ontrack = () => this.#remap();
    this.#pc = pc;
    return pc;
  }

  async #answer(sdp: string, version: number, sources: RemoteSource[]): Promise<void> {
    if (this.#ended) return;
    const pc = this.#pc ?? this.#createPeerConnection();
    this.#sources = sources;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await this.#applySenders();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (this.#ended) return;
    this.#send({ type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '', version });
    this.#remap();
  }

  #transceiver(mid: '0' | '1' | '2'): RTCRtpTransceiver | undefined {
    return this.#pc?.getTransceivers().find((t) => t.mid === mid);
  }

  /**
   * Our own audio (mid 0) and video (mid 1): send-only, with the track or null while muted. Our screen (mid 2):
   * send-only while sharing, inactive otherwise (the direction takes effect in the next answer).
   */
  async #applySenders(): Promise<void> {
    const l = this.local.state;
    const audio = this.#transceiver('0');
    const video = this.#transceiver('1');
    const screen = this.#transceiver('2');
    if (screen) {
      const track = this.state.screenTrack;
      if (screen.direction !== 'stopped') screen.direction = track ? 'sendonly' : 'inactive';
      await screen.sender.replaceTrack(track);
    }
    if (audio) {
      audio.direction = 'sendonly';
      await audio.sender.replaceTrack(l.audioMuted ? null : l.micTrack);
    }
    if (video) {
      video.direction = 'sendonly';
      await video.sender.replaceTrack(l.videoMuted ? null : l.camTrack);
    }
  }

  #remap(): void {
    if (!this.#pc) return;
    this.update({ media: this.#remote.map(this.#pc, this.#sources) });
    this.#publish();
  }

  async setAudioMuted(muted: boolean): Promise<void> {
    if (muted) this.local.setAudioMuted(true);
    else await this.local.unmuteMicrophone();
    const nowMuted = this.local.state.audioMuted;
    this.#enqueue(() => this.#applySenders());
    this.#send({ type: 'mute', kind: 'audio', muted: nowMuted });
    this.#publish();
  }

  async setVideoMuted(muted: boolean): Promise<void> {
    if (!muted && this.local.state.cameraStarting) return; // a start is already on its way
    if (muted) this.local.stopCamera();
    else await this.local.startCamera();
    const nowMuted = this.local.state.videoMuted;
    this.#enqueue(() => this.#applySenders());
    this.#send({ type: 'mute', kind: 'video', muted: nowMuted });
    this.#publish();
  }

  dismissError(): void {
    this.update({ error: null });
  }

  /** Leaves on purpose: tells the server, then closes everything. */
  leave(): void {
    if (this.#ended) return;
    this.#send({ type: 'leave' });
    this.#end('left');
  }

  #end(status: ConferenceStatus): void {
    this.#ended = true;
    window.removeEventListener('pagehide', this.#onPageHide);
    const ws = this.#ws;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    }
    this.#pc?.close();
    this.#pc = null;
    this.local.close();
    this.state.screenTrack?.stop();
    this.#remote.clear();
    this.update({ status, media: new Map(), screenTrack: null });
    this.#publish();
  }

  #publish(): void {
    const l = this.local.state;
    const self = this.state.selfId
      ? [{ id: this.state.selfId, displayName: this.#displayName, audioMuted: l.audioMuted, videoMuted: l.videoMuted }]
      : [];
    exposeDiagnostics({
      pc: this.#pc,
      selfId: this.state.selfId,
      sources: this.#sources,
      participants: [...self, ...this.state.participants],
      status: this.state.status,
    });
  }
}
