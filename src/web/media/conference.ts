// The meeting client: one WebSocket to the signalling server (join, the roster, our mute/screen/name changes,
// every server message to the listeners) and the peer connection that answers the server's offers (peer.ts).
// When the socket drops after we joined (the signal process or the network went away), the client reconnects
// by itself (reconnect.ts: backoff, giving up after a while) and joins again with the resume token the server
// gave in `joined`: back in as the same participant with the same role, our local tracks kept, media set up
// again by a new offer/answer. Meanwhile `reconnecting` is true (the page says "Reconnecting…").
// In a room of two, the server may move the media to a direct connection between the browsers (p2p-switch.ts):
// the bridge connection stays up; what we send to it and what we show follow the switch.
import type { ClientMessage, Participant, RemoteSource, ServerMessage } from '../../protocol/signal-messages.ts';
import { Store } from './store.ts';
import type { LocalMedia } from './local-media.ts';
import type { RemoteStreams } from './remote-media.ts';
import { PeerSession, type OwnTracks } from './peer.ts';
import { encodeClientMessage, parseServerMessage } from './server-messages.ts';
import { exposeDiagnostics } from './diagnostics.ts';
import { TileSizeReporter } from './tile-sizes.ts';
import { ReconnectSchedule, shouldReconnect } from './reconnect.ts';
import { maxHeightOf, storedVideoQuality, storeVideoQuality, type VideoQuality } from './video-quality.ts';
import { P2pSwitch } from './p2p-switch.ts';
import { displayMedia, ScreenAudio } from './screen-audio.ts';
import type { StatsSource } from './quality.ts';
import { visibleDisplayName } from '../../protocol/display-name.ts';

/** Join refusals the person can answer (sign in, type the room password, wait) without a new connection. */
const RECOVERABLE_JOIN_ERRORS: readonly string[] = ['auth-required', 'login-failed', 'password-required', 'wrong-password', 'rate-limited'];
/** Refusals that end the meeting for us even after `joined` (no bridge had room for our media). */
const ENDING_ERRORS: readonly string[] = ['server-full'];

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
  /** The share carries the tab's sound (sent mixed with our microphone, so heard while it is on). */
  screenAudio: boolean;
  /** Who speaks now, as the bridge judges from audio levels (may be ourselves); null until someone spoke. */
  dominantSpeakerId: string | null;
  /** Audio and video could not connect (the peer connection failed, or did not connect in time). */
  mediaFailed: boolean;
  /** The bridge connection, up before, is interrupted (the network dropped): the browser is trying to get it back. */
  mediaInterrupted: boolean;
  /** The connection to the server dropped after we joined; trying to get back in (status stays 'joined'). */
  reconnecting: boolean;
  /** The video-quality setting (video-quality.ts): caps what we receive and send; 'audio-only' receives no video. */
  videoQuality: VideoQuality;
  /** Where the other participant's media comes from now: the bridge, or straight from their browser (a room of two). */
  mediaPath: 'bridge' | 'p2p';
  /** Participants whose cameras the bridge does not send us now, as our bandwidth has no room for them. */
  suspendedVideos: ReadonlySet<string>;
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
  /** A rename sent and not yet echoed by the server: our updates from before it keep this name (no flicker back). */
  #renamePending: string | null = null;
  #messageListeners = new Set<(m: ServerMessage) => void>();
  #url: string;
  #ws: WebSocket | null = null;
  #peer = this.#newPeer();
  /** The remote media by participant as the bridge brings it (before the P2P overlay). */
  #bridgeMedia: ReadonlyMap<string, RemoteStreams> = new Map();
  readonly #p2p = new P2pSwitch({
    send: (m) => this.#send(m),
    iceServers: () => this.#peer.iceServers,
    ownTracks: () => {
      const own = this.#ownTracks();
      return { audio: own.audio, video: own.video };
    },
    bridgeVideoFrames: (id) => this.#peer.cameraFramesFrom(id),
    cameraOn: (id) => this.state.participants.some((p) => p.id === id && !p.videoMuted),
    changed: () => {
      this.#peer.updateSenders();
      this.#showMedia();
    },
  });
  /** Audio only turned our camera off: leaving audio only turns it on again. */
  #cameraOffForAudioOnly = false;
  /** The shared screen's sound, mixed into what the microphone sends. */
  readonly #screenAudio = new ScreenAudio();
  #ended = false;
  /** From the last `joined`: joins again as the same participant after a reconnect. */
  #resumeToken: string | null = null;
  #reconnect = new ReconnectSchedule();
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #onPageHide = () => this.leave();
  /** The network is back (maybe another one): our socket may be dead without knowing it, so start a new one. */
  #onOnline = () => this.renewSession();
  /**
   * A new session with the server, so a new media connection, as after a network change (the socket is closed and
   * we join again with the resume token). End-to-end encryption asks for it when Chromium cannot put its transforms
   * on the live connection (e2ee/e2ee-session.ts).
   */
  renewSession(): void {
    const ws = this.#ws;
    if (this.#ended || this.state.status !== 'joined' || this.state.reconnecting || !ws) return;
    this.#ws = null;
    ws.onclose = ws.onmessage = ws.onopen = null;
    ws.close(1000);
    this.#scheduleReconnect();
  }

  /** End-to-end encryption (e2ee/e2ee-session.ts): puts its transforms on each connection right after each offer. */
  prepareConnection: ((pc: RTCPeerConnection) => void) | null = null;
  /** Connections are made with Chrome's `encodedInsertableStreams` (set before the first offer). */
  encodedInsertableStreams = false;
  /** An effect turned on or off, or its processed track ready: the senders follow. */
  #unwatchLocal: () => void = () => {};
  /** The size of every remote video tile, sent as `receiver-video-constraints` once joined. */
  readonly tileSizes = new TileSizeReporter({
    send: (tiles, maxHeight) =>
      this.state.status === 'joined' && this.#send({ type: 'receiver-video-constraints', tiles, ...(maxHeight !== undefined ? { maxHeight } : {}) }),
    sources: () => this.#peer.sources,
    maxHeight: () => maxHeightOf(this.state.videoQuality),
  });

  constructor(opts: ConferenceOptions) {
    super({ status: 'connecting', selfId: null, participants: [], media: new Map(), error: null, self: null, screenTrack: null, screenAudio: false, dominantSpeakerId: null, mediaFailed: false, mediaInterrupted: false, reconnecting: false, videoQuality: storedVideoQuality(), mediaPath: 'bridge', suspendedVideos: new Set() });
    this.#url = opts.url;
    this.room = opts.room;
    this.#displayName = opts.displayName;
    this.local = opts.local;
  }

  /** Waits for the local devices, then connects and joins. */
  async start(): Promise<void> {
    await this.local.init();
    if (this.#ended) return;
    // audio only kept from before a reload: join with the camera off
    if (this.state.videoQuality === 'audio-only' && !this.local.state.videoMuted) {
      this.local.stopCamera();
      this.#cameraOffForAudioOnly = true;
    }
    window.addEventListener('pagehide', this.#onPageHide);
    window.addEventListener('online', this.#onOnline);
    // effects change the track sent; a new capture size changes the simulcast layers' scales
    const unwatch = [this.local.effects.subscribe(() => this.#updateSenders()), this.local.onResize(() => this.#updateSenders())];
    this.#unwatchLocal = () => unwatch.forEach((u) => u());
    this.#connect();
    this.#publish();
  }

  #connect(): void {
    const ws = new WebSocket(this.#url);
    this.#ws = ws;
    ws.onopen = () => this.retryJoin();
    ws.onmessage = (ev) => {
      const m = parseServerMessage(ev.data);
      if (m) this.#onMessage(m);
      else console.warn('tertulia: ignored a message the app does not understand');
    };
    ws.onclose = (ev) => {
      if (this.#ended || this.#ws !== ws) return;
      this.#ws = null;
      // in the meeting (or getting back in): reconnect, unless the server closed us on purpose
      if ((this.state.status === 'joined' || this.state.reconnecting) && shouldReconnect(ev.code)) this.#scheduleReconnect();
      else this.#end(this.state.status === 'joined' || this.state.status === 'connecting' ? 'lost' : this.state.status);
    };
  }

  #scheduleReconnect(): void {
    const wait = this.#reconnect.next();
    if (wait === null) {
      this.#end('lost');
      return;
    }
    if (!this.state.reconnecting) {
      // the old session's media is gone with it: a new offer comes after the join
      this.#p2p.closeAll();
      this.#peer.restart();
      this.update({ reconnecting: true, dominantSpeakerId: null, suspendedVideos: new Set() });
      this.#publish();
    }
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (!this.#ended) this.#connect();
    }, wait);
  }

  get displayName(): string {
    return this.#displayName;
  }

  /** The live peer connection (for statistics), or null before the first offer and after the end. */
  get peerConnection(): RTCPeerConnection | null {
    return this.#peer.connection;
  }

  /**
   * The connection that carries the others' media now, for statistics (media/quality.ts): the direct one while a
   * room of two shows it (all its media is the other participant's), else the bridge's (by the latest offer's mids).
   */
  get mediaStats(): StatsSource {
    const direct = this.#p2p.diagnostics;
    if (direct.path === 'p2p' && direct.pc !== null && direct.peerId !== null) {
      const peerId = direct.peerId;
      return { pc: direct.pc, participantOf: () => peerId };
    }
    const byMid = new Map(this.#peer.sources.map((s) => [s.mid, s.participantId]));
    return { pc: this.#peer.connection, participantOf: (mid) => byMid.get(mid) };
  }

  /** Which participant each receive m-line carries (from the latest offer). */
  get remoteSources(): readonly RemoteSource[] {
    return this.#peer.sources;
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
    const trimmed = visibleDisplayName(name);
    if (!trimmed || trimmed === this.#displayName) return;
    this.#displayName = trimmed;
    if (this.#send({ type: 'rename', displayName: trimmed })) this.#renamePending = trimmed;
    this.update({ self: this.state.self ? { ...this.state.self, displayName: trimmed } : null });
    this.#publish();
  }

  /** Switches to another microphone or camera (settings); the new track replaces the old one on the wire. */
  async setDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<boolean> {
    const ok = kind === 'audioinput' ? await this.local.setMicrophoneDevice(deviceId) : await this.local.setCameraDevice(deviceId);
    this.#updateSenders();
    return ok;
  }

  /** Asks for a screen (the browser's picker; a tab's sound too when offered), then sends it on mid 2. Resolves false when refused. */
  async startScreenShare(): Promise<boolean> {
    if (this.state.screenTrack || this.#ended) return true;
    const stream = await displayMedia();
    const track = stream?.getVideoTracks()[0] ?? null;
    const audio = stream?.getAudioTracks()[0] ?? null;
    if (!track || this.#ended) {
      for (const t of stream?.getTracks() ?? []) t.stop();
      return false;
    }
    track.contentHint = 'detail';
    // The browser's own "Stop sharing" bar ends the track.
    track.addEventListener('ended', () => {
      if (this.state.screenTrack === track) this.stopScreenShare();
    });
    // the tab's sound, when the picker shared it: mixed into what our microphone sends (screen-audio.ts)
    this.#screenAudio.set(audio);
    audio?.addEventListener('ended', () => {
      if (this.#screenAudio.shared !== audio) return;
      this.#screenAudio.set(null);
      this.update({ screenAudio: false });
      this.#updateSenders();
      this.#muteWhenNothingToSay();
    });
    this.update({ screenTrack: track, screenAudio: audio !== null });
    this.#updateSenders();
    this.#send({ type: 'screen-share', sharing: true });
    return true;
  }

  stopScreenShare(): void {
    const track = this.state.screenTrack;
    if (!track) return;
    track.stop();
    this.#screenAudio.close();
    this.update({ screenTrack: null, screenAudio: false });
    this.#updateSenders();
    this.#send({ type: 'screen-share', sharing: false });
    this.#muteWhenNothingToSay();
  }

  /**
   * Unmuted without a microphone means sending the shared tab's sound alone (setAudioMuted): when that ends too,
   * we are muted again, as everyone is told.
   */
  #muteWhenNothingToSay(): void {
    const l = this.local.state;
    if (!l.audioMuted && l.micTrack === null && !this.#screenAudio.live) void this.setAudioMuted(true);
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
      audioMuted: l.audioMuted || (!l.micTrack && !this.#screenAudio.live), // (without a microphone, a shared tab's sound may be what we send)
      videoMuted: l.videoMuted || !l.camTrack,
      ...this.joinExtras(),
      ...(this.#resumeToken ? { resume: this.#resumeToken } : {}),
    });
  }

  /** False when the socket is not open (the message is dropped). */
  #send(m: ClientMessage): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(encodeClientMessage(m));
    return true;
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'joined':
        this.#renamePending = null;
        this.#resumeToken = m.resumeToken ?? null;
        this.#reconnect.reset();
        // joined again on the same socket: moved to another room of the meeting (a breakout room, or back);
        // that room's media is a new session, our tracks stay
        if (this.state.status === 'joined' && !this.state.reconnecting) this.#restartMedia();
        // after a reconnect: what the new session does not know yet (our screen, our raised hand)
        if (this.state.reconnecting && this.state.screenTrack) this.#send({ type: 'screen-share', sharing: true });
        if (this.state.reconnecting && this.state.self?.handRaisedAt !== undefined) this.#send({ type: 'hand', raised: true });
        // TURN servers (with credentials for this join), for the peer connection the first offer creates
        this.#peer.setIceServers(m.iceServers ?? []);
        this.update({
          reconnecting: false,
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
        this.tileSizes.schedule(true); // a new session (after a reconnect too) starts without our sizes
        break;
      case 'participant-joined':
      case 'participant-updated': {
        if (m.participant.id === this.state.selfId) {
          const pending = this.#renamePending;
          if (pending !== null && m.participant.displayName === pending) this.#renamePending = null;
          this.update({ self: pending === null ? m.participant : { ...m.participant, displayName: pending } });
          break;
        }
        const list = this.state.participants;
        const i = list.findIndex((p) => p.id === m.participant.id);
        const next = i < 0 ? [...list, m.participant] : list.map((p, j) => (j === i ? m.participant : p));
        this.update({ participants: next });
        break;
      }
      case 'participant-left': {
        const bridgeMedia = new Map(this.#bridgeMedia);
        bridgeMedia.delete(m.id);
        this.#bridgeMedia = bridgeMedia;
        const media = new Map(this.state.media);
        media.delete(m.id);
        const suspendedVideos = new Set(this.state.suspendedVideos);
        suspendedVideos.delete(m.id);
        this.update({
          participants: this.state.participants.filter((p) => p.id !== m.id),
          media,
          suspendedVideos,
          ...(this.state.dominantSpeakerId === m.id ? { dominantSpeakerId: null } : {}),
        });
        break;
      }
      case 'dominant-speaker':
        this.update({ dominantSpeakerId: m.participantId });
        break;
      case 'offer':
        this.#peer.answer(
          m.sdp,
          m.sources,
          (sdp) => {
            this.#send({ type: 'answer', sdp, version: m.version });
            // the sources may have changed, and focus offers again after our server-side state changed: say it again
            this.tileSizes.schedule(true);
          },
          m.slots === true ? (m.session ?? '') : null,
        );
        break;
      case 'slot-map':
        this.#peer.setSlotMap(m.session, m.version, m.sources);
        break;
      case 'send-layers':
        this.#peer.setSendLayers(m.rids);
        break;
      case 'video-suspended':
        this.update({ suspendedVideos: new Set(m.participantIds) });
        break;
      case 'p2p-start':
      case 'p2p-stop':
      case 'p2p-signal':
        this.#p2p.handle(m);
        break;
      case 'error':
        // a refused rename (too many) is not echoed: the server's name holds again
        this.#renamePending = null;
        // sign-in, room password and rate limits before joining: the access client asks, the socket stays open
        if (this.state.status === 'connecting' && RECOVERABLE_JOIN_ERRORS.includes(m.code)) break;
        // an error that ends the meeting arrives with the end (one change: watchers see it as fatal)
        if (this.state.status === 'connecting' || ENDING_ERRORS.includes(m.code)) this.#end('failed', { code: m.code, message: m.message });
        else this.update({ error: { code: m.code, message: m.message } });
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

  #newPeer(): PeerSession {
    return new PeerSession({
      tracks: () => {
        const own = this.#ownTracks();
        // the P2P peer shows our microphone and camera from the direct connection: the bridge gets neither
        return this.#p2p.bridgeSendPaused ? { audio: null, video: null, screen: own.screen } : own;
      },
      onMedia: (media) => {
        this.#bridgeMedia = media;
        this.#showMedia();
      },
      onMediaFailed: (mediaFailed) => this.update({ mediaFailed }),
      onMediaInterrupted: (mediaInterrupted) => this.update({ mediaInterrupted }),
      maxSendHeight: () => maxHeightOf(this.state.videoQuality),
      prepare: (pc) => this.prepareConnection?.(pc),
      insertableStreams: () => this.encodedInsertableStreams,
    });
  }

  /** The bridge's media with the P2P peer's in its place while we show that (p2p-switch.ts). */
  #showMedia(): void {
    this.update({ media: this.#p2p.overlay(this.#bridgeMedia), mediaPath: this.#p2p.path });
    this.#publish();
  }

  /** Our tracks to the bridge (not while the P2P peer shows them from the direct connection) and to the P2P peer. */
  #updateSenders(): void {
    this.#peer.updateSenders();
    this.#p2p.updateSenders();
  }

  /** A new peer connection for the next offer (another room); a screen share ends with the room it was in. */
  #restartMedia(): void {
    this.#p2p.closeAll();
    this.#peer.close();
    this.#peer = this.#newPeer();
    this.state.screenTrack?.stop();
    this.#screenAudio.close();
    this.#bridgeMedia = new Map();
    this.update({ media: new Map(), screenTrack: null, screenAudio: false, dominantSpeakerId: null, mediaFailed: false, mediaInterrupted: false, reconnecting: false, mediaPath: 'bridge', suspendedVideos: new Set() });
    this.#muteWhenNothingToSay();
  }

  /** What we send: our microphone and camera unless muted (through their effects), and our screen while sharing. */
  #ownTracks(): OwnTracks {
    const l = this.local.state;
    const effects = this.local.effects;
    return { audio: l.audioMuted ? null : this.#screenAudio.withShared(effects.output(l.micTrack)), video: l.videoMuted ? null : effects.output(l.camTrack), screen: this.state.screenTrack };
  }

  async setAudioMuted(muted: boolean): Promise<void> {
    if (muted) this.local.setAudioMuted(true);
    else {
      await this.local.unmuteMicrophone();
      // no microphone, but a shared tab's sound: that alone is what we send (screen-audio.ts)
      if (this.local.state.micTrack === null && this.#screenAudio.live) this.local.setAudioMuted(false);
    }
    const nowMuted = this.local.state.audioMuted;
    this.#updateSenders();
    this.#send({ type: 'mute', kind: 'audio', muted: nowMuted });
    this.#publish();
  }

  async setVideoMuted(muted: boolean): Promise<void> {
    if (!muted && this.local.state.cameraStarting) return; // a start is already on its way
    if (!muted) this.#cameraOffForAudioOnly = false;
    if (muted) this.local.stopCamera();
    else await this.local.startCamera();
    const nowMuted = this.local.state.videoMuted;
    this.#updateSenders();
    this.#send({ type: 'mute', kind: 'video', muted: nowMuted });
    this.#publish();
  }

  /**
   * The video-quality setting: kept for the next visit, told to the server (the cap on what we receive) and
   * applied to what we send. Audio only turns our camera off; leaving it turns the camera on again if audio only
   * had turned it off.
   */
  async setVideoQuality(q: VideoQuality): Promise<void> {
    const before = this.state.videoQuality;
    if (q === before) return;
    storeVideoQuality(q);
    this.update({ videoQuality: q });
    this.tileSizes.schedule(true);
    this.#updateSenders();
    if (q === 'audio-only' && !this.local.state.videoMuted) {
      this.#cameraOffForAudioOnly = true;
      await this.setVideoMuted(true);
    } else if (before === 'audio-only' && this.#cameraOffForAudioOnly) {
      this.#cameraOffForAudioOnly = false;
      await this.setVideoMuted(false);
    }
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

  #end(status: ConferenceStatus, error?: ConferenceState['error']): void {
    this.#ended = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    window.removeEventListener('pagehide', this.#onPageHide);
    window.removeEventListener('online', this.#onOnline);
    this.#unwatchLocal();
    const ws = this.#ws;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    }
    this.#p2p.closeAll();
    this.#peer.close();
    this.tileSizes.close();
    this.local.close();
    this.state.screenTrack?.stop();
    this.#screenAudio.close();
    this.update({ status, media: new Map(), screenTrack: null, screenAudio: false, reconnecting: false, suspendedVideos: new Set(), ...(error ? { error } : {}) });
    this.#publish();
  }

  #publish(): void {
    const l = this.local.state;
    const self = this.state.selfId
      ? [{ id: this.state.selfId, displayName: this.#displayName, audioMuted: l.audioMuted, videoMuted: l.videoMuted }]
      : [];
    exposeDiagnostics({
      pc: this.#peer.connection,
      selfId: this.state.selfId,
      sources: this.#peer.sources,
      participants: [...self, ...this.state.participants],
      status: this.state.status,
      p2p: this.#p2p.diagnostics,
      sendProbes: () => this.#peer.sendProbes,
    });
  }
}
