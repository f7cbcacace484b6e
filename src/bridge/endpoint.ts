// One participant's transport on the bridge: ICE credentials, the selected address, DTLS, SRTP sessions,
// what it sends (sources) and what it receives (subscriptions).
import type { SrtpSession } from './packet/srtp.ts';
import type { DtlsEndpoint } from './dtls.ts';
import type { Conference } from './conference.ts';
import type { TwccRecorder } from './packet/twcc.ts';
import type { SendSideBwe } from './bwe/send-side-bwe.ts';
import type { Downtrack } from './downtrack.ts';
import type { Source } from './source.ts';
import { DETACHED_EGRESS, type Egress } from './egress.ts';
import type { LayerSelector } from './simulcast/layer-selector.ts';
import type { MediaTransport } from './transport.ts';

/** How large a receiver shows one video source it receives (0x0: not on screen). */
export interface VideoConstraint {
  ssrc: number;
  width: number;
  height: number;
}

export interface Fingerprint {
  algorithm: string;
  value: string;
}

export class Endpoint {
  readonly id: string;
  readonly conference: Conference;
  readonly ufrag: string;
  readonly pwd: string;
  /**
   * How its packets leave the bridge (webrtc-transport.ts, plain-transport.ts); set right after
   * construction. ICE, DTLS and SRTP state below belong to WebRTC endpoints only.
   */
  transport!: MediaTransport;

  remoteUfrag: string | null = null;
  remotePwd: string | null = null;
  remoteFingerprint: Fingerprint | null = null;

  /** The selected (nominated) remote address; null until an ICE check succeeded. */
  address: string | null = null;
  port = 0;
  /** Every remote address:port that passed an ICE check (keys of the bridge's address map). */
  readonly checkedAddresses: Array<{ address: string; port: number }> = [];

  dtls: DtlsEndpoint | null = null;
  /** DTLS finished before configure gave us the fingerprint: verify when it arrives. */
  dtlsPendingVerify = false;
  /** DTLS handshakes that failed (only the first few are logged). */
  dtlsFailures = 0;
  /** SRTP is up: packets can be decrypted from and encrypted to this endpoint. */
  connected = false;
  /** A `connected` event was published and no `disconnected` since. */
  connectedPublished = false;
  srtpIn: SrtpSession | null = null;
  srtpOut: SrtpSession | null = null;

  /** Coarse clock (ms) of the last valid STUN check, DTLS record or SRTP packet. */
  lastSeenMs: number;
  audioMuted = false;
  videoMuted = false;

  /** Arrival times of its packets by transport-wide sequence number (made at its first such packet). */
  twcc: TwccRecorder | null = null;
  /** The transport-wide sequence number of the next packet sent to it, and the estimate of its downlink. */
  twSeq = 0;
  bwe: SendSideBwe | null = null;
  /** Picks the simulcast layers it receives (made at the first allocation). */
  layerSelector: LayerSelector | null = null;
  /** What it receives, by the source's SSRC (kept across subscriber rebuilds: rewriter state lives there). */
  readonly downtracks = new Map<number, Downtrack>();

  /** The sources this endpoint sends. */
  sources: Source[] = [];
  /** The SSRCs this endpoint receives. */
  subscriptions = new Set<number>();
  closed = false;
  /**
   * This thread receives the endpoint's packets (ICE, DTLS, SRTP) and keeps its consent. False in a media
   * worker that only sends to it (see workers/).
   */
  local = true;
  /** Where what it receives is made and sent from: this thread, or another media worker (see egress.ts). */
  egress: Egress = DETACHED_EGRESS;

  /** Tile size per received video SSRC, as the receiver last reported it. */
  readonly videoConstraints = new Map<number, VideoConstraint>();

  constructor(id: string, conference: Conference, ufrag: string, pwd: string, nowMs: number) {
    this.id = id;
    this.conference = conference;
    this.ufrag = ufrag;
    this.pwd = pwd;
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
