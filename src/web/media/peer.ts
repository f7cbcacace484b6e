// The meeting's one RTCPeerConnection, on the answering side: the server always offers. Offers and changes to
// what we send run strictly one after another. mid "0" sends our audio, mid "1" our camera, mid "2" our screen
// while sharing; every other mid receives one remote source (`sources`, from the offer, says whose).
// An offer with other ICE credentials than the current session's comes from a new bridge endpoint (our bridge
// died or is stopping, and focus moved us): it gets a fresh connection, answered with the same local tracks,
// and the old one is closed; the meeting (its roster, tiles, our mute state) carries on around it.
// Slot mode (an offer with `slots`, in a big room): mids 3.. are fixed receive slots and `slot-map` messages say
// whose media plays on each; a map change moves a track to another tile with no renegotiation. Only the newest
// map of the current media session counts (slot-maps.ts): a late one from a bridge we left is never applied.
// A camera held back by an estimate that started low gets Chrome to probe again (send-probe.ts): the last offer
// re-applied here with a higher b=AS for mid 1, in the same queue as the server's offers.
import { CAMERA_LAYER_MAX_BPS } from '../../protocol/media-profile.ts';
import type { RemoteSource } from '../../protocol/signal-messages.ts';
import { RemoteMedia, type RemoteStreams } from './remote-media.ts';
import { NO_SLOT_MAP, slotMapReceived, slotSessionOffered, type SlotMapState } from './slot-maps.ts';
import { MediaConnectionWatch } from './connection-watch.ts';
import { SendProbeWatch, withSendBandwidth } from './send-probe.ts';
import { activeLayers, layerScales } from './video-quality.ts';

/** What we send now: a track, or null while muted / not sharing. */
export interface OwnTracks {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  screen: MediaStreamTrack | null;
}

export class PeerSession {
  #pc: RTCPeerConnection | null = null;
  #sources: RemoteSource[] = [];
  /** The media session of the last offer applied when it is in slot mode (null: one m-line per source). */
  #slotSession: string | null = null;
  /** The slot maps: the current session's newest (updated as messages arrive, ahead of the queued offers). */
  #slotMaps: SlotMapState = NO_SLOT_MAP;
  /** The rids of our camera the bridge of this connection says somebody needs (null: it said nothing: every layer). */
  #sendRids: ReadonlySet<string> | null = null;
  #remote = new RemoteMedia();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #tracks: () => OwnTracks;
  readonly #onMedia: (media: Map<string, RemoteStreams>) => void;
  readonly #onMediaFailed: (failed: boolean) => void;
  readonly #onMediaInterrupted: (interrupted: boolean) => void;
  readonly #maxSendHeight: () => number | undefined;
  #watch: MediaConnectionWatch | null = null;
  #probeWatch: SendProbeWatch | null = null;
  /** Probes of our uplink the current connection applied (send-probe.ts). */
  #uplinkProbes = 0;
  #iceServers: RTCIceServer[] = [];
  readonly #prepare: (pc: RTCPeerConnection) => void;
  readonly #insertableStreams: () => boolean;

  /**
   * `tracks` is read each time the senders are set; `onMedia` gets the remote streams by participant;
   * `onMediaFailed` is told when audio and video could not connect (connection-watch.ts), and when they did after all.
   */
  constructor(opts: {
    tracks: () => OwnTracks;
    onMedia: (media: Map<string, RemoteStreams>) => void;
    onMediaFailed?: (failed: boolean) => void;
    /** Told when a connection that was up is interrupted, and when it is back (connection-watch.ts). */
    onMediaInterrupted?: (interrupted: boolean) => void;
    /** The tallest camera layer to send (the video-quality setting); undefined: every layer. */
    maxSendHeight?: () => number | undefined;
    /**
     * Called with the connection right after each offer is applied, before anything else runs (E2EE transforms):
     * Chromium runs a script transform only if it is set on a sender or receiver before media flows through it.
     */
    prepare?: (pc: RTCPeerConnection) => void;
    /** Make connections with Chrome's `encodedInsertableStreams` (E2EE in a Chrome without RTCRtpScriptTransform). */
    insertableStreams?: () => boolean;
  }) {
    this.#prepare = opts.prepare ?? (() => {});
    this.#insertableStreams = opts.insertableStreams ?? (() => false);
    this.#maxSendHeight = opts.maxSendHeight ?? (() => undefined);
    this.#tracks = opts.tracks;
    this.#onMedia = opts.onMedia;
    this.#onMediaFailed = opts.onMediaFailed ?? (() => {});
    this.#onMediaInterrupted = opts.onMediaInterrupted ?? (() => {});
  }

  /** The live peer connection, or null before the first offer and after close. */
  get connection(): RTCPeerConnection | null {
    return this.#pc;
  }

  /** Probes of our uplink the browser was asked for on the current connection (send-probe.ts). */
  get sendProbes(): number {
    return this.#uplinkProbes;
  }

  /** Which participant each receive m-line carries (from the latest offer). */
  get sources(): readonly RemoteSource[] {
    return this.#sources;
  }

  /** The TURN servers from the last `joined` (the peer-to-peer connection uses them too). */
  get iceServers(): RTCIceServer[] {
    return this.#iceServers;
  }

  /** Video frames decoded from `participantId`'s camera so far; null when no m-line carries it now. */
  async cameraFramesFrom(participantId: string): Promise<number | null> {
    const mid = this.#sources.find((s) => s.participantId === participantId && s.kind === 'video' && s.role !== 'screen')?.mid;
    const receiver = mid === undefined ? undefined : this.#pc?.getTransceivers().find((t) => t.mid === mid)?.receiver;
    if (!receiver) return null;
    let frames = 0;
    (await receiver.getStats()).forEach((s: { type?: string; framesDecoded?: number }) => {
      if (s.type === 'inbound-rtp') frames += s.framesDecoded ?? 0;
    });
    return frames;
  }

  /** TURN servers (from `joined`): used by the connection the next offer creates, or by the live one from its next ICE restart. */
  setIceServers(servers: readonly { urls: string[]; username: string; credential: string }[]): void {
    this.#iceServers = servers.map((s) => ({ urls: [...s.urls], username: s.username, credential: s.credential }));
    try {
      this.#pc?.setConfiguration({ ...this.#pc.getConfiguration(), iceServers: this.#iceServers });
    } catch (err) {
      console.error('tertulia: TURN servers not applied', err);
    }
  }

  /**
   * Answers an offer after everything queued before it; `send` gets the answer's SDP (not once closed).
   * `slotSession`: the offer is in slot mode, for that media session (null: one m-line per source).
   */
  answer(sdp: string, sources: RemoteSource[], send: (answerSdp: string) => void, slotSession: string | null = null): void {
    // from now on only this session's maps count (its maps may arrive before the queue reaches this offer)
    if (slotSession !== null) this.#slotMaps = slotSessionOffered(this.#slotMaps, slotSession);
    this.#enqueue(async () => {
      if (this.#closed) return;
      const current = this.#pc?.remoteDescription?.sdp;
      const renewed = !(this.#pc && (!current || iceUfrag(current) === iceUfrag(sdp)));
      const pc = renewed ? this.#renew() : this.#pc!;
      this.#slotSession = slotSession;
      this.#sources = slotSession === null ? sources : this.#slotSourcesOf(slotSession);
      await pc.setRemoteDescription({ type: 'offer', sdp });
      this.#prepare(pc); // synchronously after the offer: before our tracks are set and any frame flows
      await this.#applySenders();
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      if (this.#closed) return;
      send(pc.localDescription?.sdp ?? answer.sdp ?? '');
      this.#remap();
    });
  }

  /**
   * Slot mode: who plays on which receive slot now (the bridge's `slot-map` of media session `session`, version
   * `version`); the tracks move to their tiles. A stale map (another session, not newer) changes nothing.
   */
  setSlotMap(session: string, version: number, sources: RemoteSource[]): void {
    const next = slotMapReceived(this.#slotMaps, { session, version, sources });
    if (next === this.#slotMaps) return;
    this.#slotMaps = next;
    if (this.#slotSession !== session) return; // its offer is still queued: applied with it
    this.#sources = this.#slotSourcesOf(session);
    this.#remap();
  }

  /** Who plays on the slots of media session `session` by its newest map (nothing before its first map). */
  #slotSourcesOf(session: string): RemoteSource[] {
    return this.#slotMaps.session === session ? [...this.#slotMaps.sources] : [];
  }

  /** Puts the current tracks on the wire (after a mute, a device change, a screen share starting or stopping). */
  updateSenders(): void {
    this.#enqueue(() => this.#applySenders());
  }

  /**
   * A new session with the server (after a reconnect): the old connection is closed and its remote media
   * dropped; the next offer builds a new one, sending the same local tracks.
   */
  restart(): void {
    if (this.#closed) return;
    this.#stopWatches();
    this.#pc?.close();
    this.#pc = null;
    this.#sources = [];
    this.#slotMaps = NO_SLOT_MAP;
    this.#slotSession = null;
    this.#remote.clear();
    this.#onMedia(new Map());
    this.#onMediaFailed(false);
    this.#onMediaInterrupted(false);
  }

  close(): void {
    this.#closed = true;
    this.#stopWatches();
    this.#pc?.close();
    this.#pc = null;
    this.#remote.clear();
  }

  /** Runs `task` after every task before it; resolves to its result (undefined when it failed: logged). */
  #enqueue<T>(task: () => Promise<T>): Promise<T | undefined> {
    const run = this.#queue.then(task).catch((err: unknown) => {
      // (a task the leave overtook fails on the closed connection: nothing to say)
      if (!this.#closed) console.error('tertulia: media error', err);
      return undefined;
    });
    this.#queue = run.then(() => undefined);
    return run;
  }

  /** A fresh connection for a new bridge endpoint, in place of the current one (if any). */
  #renew(): RTCPeerConnection {
    const old = this.#pc;
    if (old) {
      this.#stopWatches();
      old.ontrack = null;
      old.close();
      this.#pc = null;
      this.#onMediaFailed(false); // judged again for the new connection
      this.#onMediaInterrupted(false);
    }
    return this.#create();
  }

  #create(): RTCPeerConnection {
    this.#sendRids = null; // every layer until this connection's bridge says otherwise
    const config = { bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require', iceServers: this.#iceServers } as RTCConfiguration;
    // Chrome's older encoded-transform API must be asked for when the connection is made
    if (this.#insertableStreams()) Object.assign(config, { encodedInsertableStreams: true });
    const pc = new RTCPeerConnection(config);
    pc.ontrack = () => this.#remap();
    this.#pc = pc;
    this.#watch = new MediaConnectionWatch(
      pc,
      (failed) => {
        if (!this.#closed) this.#onMediaFailed(failed);
      },
      undefined,
      (interrupted) => {
        if (!this.#closed) this.#onMediaInterrupted(interrupted);
      },
    );
    this.#uplinkProbes = 0;
    this.#probeWatch = new SendProbeWatch(
      () => this.#transceiver('1')?.sender,
      // skipped (false): asked again at the watch's next look; applied, or failed and rolled back (undefined): done
      async (kbps) => (await this.#enqueue(() => this.#probeUplink(pc, kbps))) !== false,
    );
    return pc;
  }

  #stopWatches(): void {
    this.#watch?.stop();
    this.#watch = null;
    this.#probeWatch?.stop();
    this.#probeWatch = null;
  }

  /**
   * Chrome probes its uplink again when the transport's maximum bitrate rises: the server's last offer is applied
   * once more with `b=AS:<kbps>` on our camera's m-line and answered locally. The answer is the one the server
   * has (same credentials, streams and directions), so it is not sent; the server's next offer drops the b=AS.
   * Not while one of our own directions waits for the server's next offer (a screen share starting or stopping): the
   * local answer would put it into effect before the server has it (false: not applied, the watch asks again). A
   * re-apply that fails is rolled back.
   */
  async #probeUplink(pc: RTCPeerConnection, kbps: number): Promise<boolean> {
    const offer = pc.remoteDescription;
    if (this.#closed || pc !== this.#pc || offer?.type !== 'offer' || pc.signalingState !== 'stable') return false;
    const own = (['0', '1', '2'] as const).map((mid) => this.#transceiver(mid));
    if (own.some((t) => t !== undefined && t.currentDirection !== null && t.currentDirection !== 'stopped' && t.direction !== t.currentDirection)) return false;
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: withSendBandwidth(offer.sdp, '1', kbps) });
      await pc.setLocalDescription(await pc.createAnswer());
      if (pc === this.#pc) this.#uplinkProbes++;
      return true;
    } catch (err) {
      // (the state as it is now: TypeScript narrowed it to 'stable' from the check above)
      if ((pc.signalingState as RTCSignalingState) === 'have-remote-offer') await pc.setRemoteDescription({ type: 'rollback' }).catch(() => undefined);
      throw err;
    }
  }

  #remap(): void {
    if (this.#pc) this.#onMedia(this.#remote.map(this.#pc, this.#sources));
  }

  #transceiver(mid: '0' | '1' | '2'): RTCRtpTransceiver | undefined {
    return this.#pc?.getTransceivers().find((t) => t.mid === mid);
  }

  /**
   * Our own audio (mid 0) and video (mid 1): send-only, with the track or null while muted. Our screen (mid 2):
   * send-only while sharing, inactive otherwise (the direction takes effect in the next answer).
   */
  async #applySenders(): Promise<void> {
    const tracks = this.#tracks();
    const audio = this.#transceiver('0');
    const video = this.#transceiver('1');
    const screen = this.#transceiver('2');
    if (screen) {
      if (screen.direction !== 'stopped') screen.direction = tracks.screen ? 'sendonly' : 'inactive';
      await screen.sender.replaceTrack(tracks.screen);
    }
    if (audio) {
      audio.direction = 'sendonly';
      await audio.sender.replaceTrack(tracks.audio);
    }
    if (video) {
      video.direction = 'sendonly';
      await video.sender.replaceTrack(tracks.video);
      await scaleSimulcastLayers(video.sender, this.#maxSendHeight(), this.#sendRids);
    }
  }

  /**
   * The layers of our camera the bridge says somebody needs (by rid): the others pause until it says otherwise, or
   * until a new bridge endpoint (which starts from every layer).
   */
  setSendLayers(rids: readonly string[]): void {
    this.#enqueue(async () => {
      // (in the queue: after an offer for a new endpoint queued before it, which starts from every layer)
      this.#sendRids = new Set(rids);
      const video = this.#transceiver('1');
      if (video) await scaleSimulcastLayers(video.sender, this.#maxSendHeight(), this.#sendRids);
    });
  }
}

/** The session's ICE username fragment (the first a=ice-ufrag line), or '' when it has none. */
function iceUfrag(sdp: string): string {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1] ?? '';
}

/**
 * The camera is offered as rid simulcast (lowest layer first): each layer half the size of the next, the
 * top one the camera's own, each with a bitrate cap. Chrome sends fewer layers from a small capture (dropping the
 * top encodings): then the ones it sends are scaled to end at the camera's own size (layerScales), so a 320x180
 * camera is sent at 320x180, not 80x45.
 * Layers taller than `maxHeight` (the video-quality setting), and those the bridge says nobody needs, are switched
 * off, never the lowest.
 */
async function scaleSimulcastLayers(sender: RTCRtpSender, maxHeight: number | undefined, sendRids: ReadonlySet<string> | null): Promise<void> {
  const params = sender.getParameters();
  const n = params.encodings.length;
  if (n < 2) return;
  const size = sender.track?.getSettings();
  const scales = layerScales(n, size?.width ?? 0, size?.height ?? 0);
  const active = activeLayers(scales, size?.height ?? 0, maxHeight, params.encodings.map((e) => e.rid), sendRids);
  let changed = false;
  params.encodings.forEach((e, i) => {
    const scale = scales[i] || 2 ** (n - 1 - i); // (one not sent keeps a valid scale)
    const max = CAMERA_LAYER_MAX_BPS[Math.min(i + CAMERA_LAYER_MAX_BPS.length - n, CAMERA_LAYER_MAX_BPS.length - 1)];
    if (e.scaleResolutionDownBy !== scale || e.maxBitrate !== max || e.active !== active[i]) {
      e.scaleResolutionDownBy = scale;
      e.maxBitrate = max;
      e.active = active[i];
      changed = true;
    }
  });
  if (changed) await sender.setParameters(params);
}
