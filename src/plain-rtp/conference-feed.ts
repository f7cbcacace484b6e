// A whole conference as one plain-RTP endpoint at focus that receives every source (receiveAll), SRTP keyed by
// SDES, and focus's running list of whose streams arrive with which SSRC (`plain.<endpointId>.sources`). Used by
// every kind of recording (audio and video, `attach`) and by the SIP gateway's room mix (audio only,
// `attachAudio`); it knows nothing of files, children or mixes. Shared by parts: it talks only to the bus.
// Order, so the first packets (and the keyframes the bridge asks for) are not lost: attach (deferred, nothing
// sent yet) -> the caller hands the keys to its media process -> start().
// When the conference's bridge goes away focus makes the endpoint again on another one and says so on
// `plain.<endpointId>.moved`: the same order again (onMoved hands the new keys to the media process, which keeps
// its ports and its file; then start()).
import { BusCallError, type Bus, type Unsubscribe } from '../bus/bus.ts';
import { callBus } from '../bus/typed-calls.ts';
import type { Logger } from '../log.ts';
import { FOCUS_ATTACH_TIMEOUT_MS, busCalls } from '../protocol/bus-calls.ts';
import { plainMovedSchema, plainSourcesSchema, subjects, type BridgeAllocatePlainReply, type ReceivedSource } from '../protocol/bus-messages.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';

type PlainLeg = { kind: MediaKind; address: string; port: number };

const FOCUS_TIMEOUT_MS = 10_000;

/** How large a video (by the SSRC it arrives with) is drawn; 0x0: not drawn. */
export interface VideoSize {
  ssrc: number;
  width: number;
  height: number;
}

/** What the media process needs to decrypt what arrives and to send RTCP (keyframe requests) back. */
export interface FeedKeys {
  /** SRTP key (base64 master key + salt) of what the bridge sends. */
  key: string;
  /** SRTP key the media process encrypts its RTCP with. */
  sendKey: string;
  bridge: { address: string; videoRtcpPort: number };
}

export class ConferenceFeed {
  private readonly bus: Bus;
  private readonly log: Logger;
  readonly conferenceId: string;
  readonly endpointId: string;
  private unsubscribe: Unsubscribe = () => {};
  private unsubscribeMoved: Unsubscribe = () => {};
  /** Moves are handled one at a time, in order. */
  private moving: Promise<void> = Promise.resolve();
  private heardFromFocus = false;
  private attached = false;
  private current: ReceivedSource[] = [];
  private sizesSent = '';
  private sizesWaiting: { key: string; sizes: VideoSize[] } | null = null;
  private sizesBusy = false;
  /** Every change of the conference's sources (the whole list each time). */
  onSources: (sources: ReceivedSource[]) => void = () => {};
  /** The conference ended (or focus stopped): nothing more will arrive. Called at most once. */
  onEnded: () => void = () => {};
  /**
   * The endpoint is on another bridge now (the old one died or drains): the media process gets the new keys
   * (resolving once they are set); the feed then starts it. A rejection is logged and the endpoint is not started.
   */
  onMoved: (keys: FeedKeys) => Promise<void> = async () => {};

  constructor(bus: Bus, log: Logger, conferenceId: string, endpointId: string) {
    this.bus = bus;
    this.log = log;
    this.conferenceId = conferenceId;
    this.endpointId = endpointId;
  }

  get sources(): readonly ReceivedSource[] {
    return this.current;
  }

  /** Attaches (nothing is sent until start()); the two legs are where the media process listens. */
  async attach(address: string, ports: { audioPort: number; videoPort: number }): Promise<FeedKeys> {
    const reply = await this.attachLegs(
      [
        { kind: 'audio', address, port: ports.audioPort },
        { kind: 'video', address, port: ports.videoPort },
      ],
      false,
      ['audio', 'video'],
    );
    if (!reply.legs.some((l) => l.kind === 'video')) throw new BusCallError('unavailable', 'the bridge opened no video leg');
    return keysOf(reply);
  }

  /** Attaches for the microphones only, on one port with rtcp-mux; returns the SRTP key of what arrives there. */
  async attachAudio(address: string, port: number): Promise<{ key: string }> {
    const reply = await this.attachLegs([{ kind: 'audio', address, port }], true, ['audio']);
    return { key: reply.srtp.localKey };
  }

  private async attachLegs(legs: PlainLeg[], rtcpMux: boolean, kinds: MediaKind[]) {
    let ended = false;
    this.unsubscribeMoved = this.bus.subscribe(subjects.plainMoved(this.endpointId), (payload) => {
      const r = plainMovedSchema.safeParse(payload);
      if (!r.success || r.data.endpointId !== this.endpointId || r.data.conferenceId !== this.conferenceId || ended) return;
      const moved = r.data;
      this.moving = this.moving.then(async () => {
        if (ended || !this.attached) return;
        try {
          await this.onMoved(keysOf(moved));
          await this.start();
          this.log.info({ bridge: moved.bridgeId }, 'the conference feed moved to another bridge');
        } catch (e) {
          this.log.warn({ bridge: moved.bridgeId, err: (e as Error).message }, 'following the conference to another bridge failed');
        }
      });
    });
    this.unsubscribe = this.bus.subscribe(subjects.plainSources(this.endpointId), (payload) => {
      const r = plainSourcesSchema.safeParse(payload);
      if (!r.success || r.data.endpointId !== this.endpointId || ended) return;
      this.heardFromFocus = true;
      if (r.data.ended) {
        ended = true;
        this.onEnded();
        return;
      }
      this.current = r.data.sources;
      this.onSources(this.current);
    });
    const reply = await callBus(
      this.bus,
      busCalls.focusAttachPlain,
      '',
      {
        conferenceId: this.conferenceId,
        endpointId: this.endpointId,
        legs,
        rtcpMux,
        comedia: false,
        srtp: true,
        sources: [],
        receiveAll: { deferred: true, kinds },
      },
      FOCUS_ATTACH_TIMEOUT_MS,
    );
    this.attached = true;
    if (this.sizesWaiting) {
      const waiting = this.sizesWaiting;
      this.sizesWaiting = null;
      this.setVideoSizes(waiting.sizes);
    }
    if (!reply.srtp) throw new BusCallError('unavailable', 'the bridge gave no SRTP key');
    if (!this.heardFromFocus) {
      this.current = reply.receives.flatMap((s) => (s.participantId === undefined ? [] : [{ ...s, participantId: s.participantId }]));
    }
    return { ...reply, srtp: reply.srtp };
  }

  /** Focus starts sending (after the media process has the keys). */
  async start(): Promise<void> {
    await callBus(this.bus, busCalls.focusStartPlain, '', { conferenceId: this.conferenceId, endpointId: this.endpointId }, FOCUS_TIMEOUT_MS);
  }

  /**
   * How large the media process draws each video (its SSRC): the bridge sends the simulcast layer that fits. Only
   * a change is sent, one call at a time, the latest set winning; a failure is logged (the media flows anyway).
   */
  setVideoSizes(sizes: VideoSize[]): void {
    const key = JSON.stringify(sizes);
    if (key === this.sizesSent || key === this.sizesWaiting?.key) return;
    this.sizesWaiting = { key, sizes };
    if (this.sizesBusy || !this.attached) return;
    this.sizesBusy = true;
    void (async () => {
      while (this.sizesWaiting && this.attached) {
        const { key: k, sizes: s } = this.sizesWaiting;
        this.sizesWaiting = null;
        try {
          await callBus(this.bus, busCalls.focusPlainConstraints, '', { conferenceId: this.conferenceId, endpointId: this.endpointId, constraints: s }, FOCUS_TIMEOUT_MS);
          this.sizesSent = k;
        } catch (e) {
          this.log.warn({ err: (e as Error).message }, 'telling focus the tile sizes failed');
        }
      }
      this.sizesBusy = false;
    })();
  }

  /** Stops listening and leaves the conference; never throws (a failure is logged). */
  async detach(): Promise<void> {
    this.sizesWaiting = null;
    this.unsubscribe();
    this.unsubscribe = () => {};
    this.unsubscribeMoved();
    this.unsubscribeMoved = () => {};
    try {
      await callBus(this.bus, busCalls.focusDetachPlain, '', { conferenceId: this.conferenceId, endpointId: this.endpointId }, FOCUS_TIMEOUT_MS);
    } catch (e) {
      if (this.attached) this.log.warn({ err: (e as Error).message }, 'leaving the conference failed');
    }
  }
}

/** The keys and the bridge's RTCP address from what focus or the bridge said (no SRTP: no keys). */
function keysOf(reply: Pick<BridgeAllocatePlainReply, 'address' | 'legs' | 'srtp'>): FeedKeys {
  if (!reply.srtp) throw new BusCallError('unavailable', 'the bridge gave no SRTP key');
  const leg = reply.legs.find((l) => l.kind === 'video') ?? reply.legs[0]!;
  return { key: reply.srtp.localKey, sendKey: reply.srtp.remoteKey, bridge: { address: reply.address, videoRtcpPort: leg.rtcpPort } };
}
