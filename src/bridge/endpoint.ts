// One participant on the bridge: who it is (id, conference), what it sends (sources), what it receives
// (subscriptions, their downtracks, video constraints, the layer selector), mute state, and where what it
// receives is made (egress). How its packets travel is its transport's alone (transport.ts): ICE, DTLS and
// SRTP state live in webrtc-transport.ts, sockets and SDES keys in plain-transport.ts. What the receiver-side
// and send-side estimates need (twcc, bwe) stays here: the router and the downlink allocation read them
// whatever the transport.
import type { Conference } from './conference.ts';
import type { TwccRecorder } from './packet/twcc.ts';
import type { SendSideBwe } from './bwe/send-side-bwe.ts';
import type { Downtrack } from './downtrack.ts';
import type { Source } from './source.ts';
import { DETACHED_EGRESS, type Egress } from './egress.ts';
import type { LayerSelector } from './simulcast/layer-selector.ts';
import type { ReceiverShare } from './downlink.ts';
import type { Vp8Rewriter } from './simulcast/vp8-rewriter.ts';
import type { MediaTransport } from './transport.ts';
import type { ReceiveSlots } from './slots/receive-slots.ts';

/** How large a receiver shows one video source it receives (0x0: not on screen). */
export interface VideoConstraint {
  ssrc: number;
  width: number;
  height: number;
}

export class Endpoint {
  readonly id: string;
  readonly conference: Conference;
  /** How its packets leave the bridge (webrtc-transport.ts, plain-transport.ts); set right after construction. */
  transport!: MediaTransport;

  private isConnected = false;
  private isVideoMuted = false;
  private isAudioMuted = false;
  private egressNow: Egress = DETACHED_EGRESS;

  /** Its transport is up: packets can be taken from it and sent to it (WebRTC: SRTP keys made). */
  get connected(): boolean {
    return this.isConnected;
  }
  set connected(v: boolean) {
    if (v === this.isConnected) return;
    this.isConnected = v;
    this.conference.routesChanged();
  }
  /** A `connected` event was published and no `disconnected` since. */
  connectedPublished = false;
  /** Its participant's media session (focus's offer's session id, from its subscriptions), named by what the bridge
   * tells its browser through signal (slot maps, layers to send); undefined until focus gives one. */
  mediaSession: string | undefined = undefined;

  /** Coarse clock (ms) of the last valid STUN check, DTLS record, RTCP or SRTP packet. */
  lastSeenMs: number;
  /** The server has its microphone off (its choice, or a moderator's): none of its audio is forwarded. */
  get audioMuted(): boolean {
    return this.isAudioMuted;
  }
  set audioMuted(v: boolean) {
    if (v === this.isAudioMuted) return;
    this.isAudioMuted = v;
    this.conference.routesChanged();
  }
  /** The server has its camera off (its choice, or a moderator's): none of its camera's packets are forwarded. */
  get videoMuted(): boolean {
    return this.isVideoMuted;
  }
  set videoMuted(v: boolean) {
    if (v === this.isVideoMuted) return;
    this.isVideoMuted = v;
    this.conference.routesChanged();
  }

  /** Arrival times of its packets by transport-wide sequence number (made at its first such packet). */
  twcc: TwccRecorder | null = null;
  /** The estimate of its downlink (from the transport-cc feedback on what it is sent). */
  bwe: SendSideBwe | null = null;
  /** Picks the simulcast layers it receives (made at the first allocation). */
  layerSelector: LayerSelector | null = null;
  /** What it gets besides simulcast cameras, and the cameras it was told are suspended (made at the first allocation). */
  receiverShare: ReceiverShare | null = null;
  /** What it receives, by the source's SSRC (kept across subscriber rebuilds: rewriter state lives there). */
  readonly downtracks = new Map<number, Downtrack>();
  /**
   * Rewriters of video streams this endpoint stopped getting, by output SSRC (at most conference.ts's RETIRED_REWRITERS): a
   * stream under the same SSRC later (the same camera from another place) continues their numbering.
   */
  readonly retiredRewriters = new Map<number, Vp8Rewriter>();

  /** The sources this endpoint sends. */
  sources: Source[] = [];
  /**
   * One end of a relay to another bridge of the conference: it sends that bridge's participants' sources
   * (simulcast layers by their relay SSRCs) and receives this bridge's. It gets every layer its far bridge
   * asks for, unrewritten, and is never left out by last-N (its bridge's receivers choose).
   */
  relay = false;
  /** A relay: when this thread last told the far bridge the layer rates of what it sends there (performance.now()). */
  relayRatesSentMs = -Infinity;
  /** The SSRCs this endpoint receives. */
  subscriptions = new Set<number>();
  /**
   * Slot mode (slots/receive-slots.ts): it receives on these fixed slots only, whichever of its subscriptions
   * the bridge puts there; null: one stream per subscribed source, under the source's own SSRC.
   */
  slots: ReceiveSlots | null = null;
  closed = false;
  /**
   * This thread receives the endpoint's packets (WebRTC: ICE, DTLS, SRTP) and keeps its consent. False in a media
   * worker that only sends to it (see workers/).
   */
  local = true;
  /** Where what it receives is made and sent from: this thread, or another media worker (see egress.ts). */
  get egress(): Egress {
    return this.egressNow;
  }
  set egress(e: Egress) {
    if (e === this.egressNow) return;
    this.egressNow = e;
    // another thread may have told it of paused cameras meanwhile: whichever sends to it tells again
    this.receiverShare?.moved();
    this.conference.routesChanged();
  }

  /**
   * The receiver's cap on every video it gets, in pixels of height (its video-quality setting): simulcast layers
   * taller than this are not chosen (the lowest always may be); 0 is audio only (no video is forwarded to it at
   * all); -1: no cap.
   */
  maxReceiveHeight = -1;

  /** Tile size per received video SSRC, as the receiver last reported it. */
  readonly videoConstraints = new Map<number, VideoConstraint>();

  constructor(id: string, conference: Conference, nowMs: number) {
    this.id = id;
    this.conference = conference;
    this.lastSeenMs = nowMs;
  }

  /** The received video shown larger than all others (pinned, or on the speaker view's stage); 0 when none. */
  stageSsrc = 0;

  /** Returns whether the stage (the largest tile) changed. */
  setVideoConstraints(list: VideoConstraint[]): boolean {
    for (const c of list) this.videoConstraints.set(c.ssrc >>> 0, { ssrc: c.ssrc >>> 0, width: c.width, height: c.height });
    return this.updateStage();
  }

  /**
   * Forgets the tile sizes of SSRCs it no longer receives (their sources left: a long meeting with people
   * coming and going must not collect them); returns whether the stage changed.
   */
  forgetVideoConstraints(ssrcs: Iterable<number>): boolean {
    let any = false;
    for (const ssrc of ssrcs) any = this.videoConstraints.delete(ssrc >>> 0) || any;
    return any && this.updateStage();
  }

  private updateStage(): boolean {
    let stage = 0;
    let largest = 0;
    let second = 0;
    for (const c of this.videoConstraints.values()) {
      const area = c.width * c.height;
      if (area > largest) {
        second = largest;
        largest = area;
        stage = c.ssrc;
      } else if (area > second) {
        second = area;
      }
    }
    if (largest === second) stage = 0; // tile view: no stage
    const changed = stage !== this.stageSsrc;
    this.stageSsrc = stage;
    return changed;
  }
}
