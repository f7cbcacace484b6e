// One stream an endpoint sends into its conference, keyed by SSRC: a plain source (audio, a screen, a camera
// without simulcast), a simulcast camera as receivers see it (its layers are sources of their own, learned
// from the rid of their first packet), a layer, or an RTX stream. Packets of a source reach its receivers
// through its downtracks (downtrack.ts), one per receiver; a layer's packets through its parent's.
import type { MediaKind } from '../protocol/signal-messages.ts';
import type { Downtrack } from './downtrack.ts';
import type { Egress } from './egress.ts';
import type { Endpoint } from './endpoint.ts';
import type { RetransmitBuffer } from './retransmit-buffer.ts';
import type { RateMeter } from './simulcast/rate-meter.ts';
import type { TemporalRates } from './simulcast/temporal-rates.ts';

/** A stream one endpoint sends, keyed by SSRC in its conference. */
export class Source {
  readonly ssrc: number;
  readonly kind: MediaKind;
  readonly owner: Endpoint;
  /** The SSRC receivers subscribe to: the source's own, or the primary's for an RTX stream. */
  readonly primarySsrc: number;
  /** Endpoints that receive this source (rebuilt on every subscription or source change). */
  subscribers: Endpoint[] = [];
  /** Plaintext copies of the last packets, for NACKs (video only, not RTX). */
  readonly rtx: RetransmitBuffer | null;
  /** Date.now() of the last keyframe request sent to the owner. */
  lastKeyframeRequestMs = -Infinity;
  /** FIR command sequence number (RFC 5104 §4.3.1.1). */
  firSeq = 0;
  /** Per subscriber (same index as `subscribers`): that receiver's downtrack of this source. */
  downtracks: Downtrack[] = [];
  /** The downtracks of the subscribers this thread sends to (their egress is local). */
  localDowntracks: Downtrack[] = [];
  /** Every egress with subscribers of this source, each once: where its packets go (see egress.ts). */
  egresses: Egress[] = [];
  /** A shared screen (never left out by last-N). */
  screen = false;
  /** The SSRC receivers get retransmissions with (RTX, signalled to them as FID); 0: plain retransmissions. */
  rtxOutSsrc = 0;
  /** Who speaks in it (dominant speaker, last-N): its endpoint, or on a relay the participant on the far bridge. */
  speakerId: string;
  /** Simulcast: the SSRCs its layers cross a relay with, lowest first (empty: not given). */
  relaySsrcs: readonly number[] = [];
  /** A relay's simulcast source: the layers its receivers here want (bits), as last told the far bridge, and when. */
  relayWantSent = -1;
  relayWantSentMs = 0;
  /** A browser's simulcast camera: when each layer was last needed (performance.now(); send-layers.ts), null until first judged. */
  layerNeededMs: Float64Array | null = null;
  /** The layers (bits) the browser was last told to send, -1: none told yet, and when. */
  sendLayersTold = -1;
  sendLayersToldMs = 0;

  /** Simulcast (the camera as receivers see it): the layers' rids, lowest first; null otherwise. */
  rids: readonly string[] | null = null;
  /** Simulcast: the layer sources by index, null until a packet with that rid arrived. */
  layers: Array<Source | null> = [];
  /** A simulcast layer: the source receivers subscribe to, and this layer's index in it. */
  parent: Source | null = null;
  layerIndex = -1;
  /** A simulcast layer's RTX stream: the simulcast source (so it is forgotten with it). */
  parentOfRtx: Source | null = null;
  /** A simulcast layer: its send rate, and the frame size of its last keyframe (0 until one). */
  rate: RateMeter | null = null;
  /** A simulcast layer: the rate of each of its temporal layers (from the VP8 descriptor's TID). */
  temporalRates: TemporalRates | null = null;
  /** A layer that comes over a relay: its send rate where the camera is (bps), as the far bridge last said, and when (performance.now()). */
  farRateBps = 0;
  farRateMs = -Infinity;
  width = 0;
  height = 0;

  constructor(ssrc: number, kind: MediaKind, owner: Endpoint, primarySsrc: number, rtx: RetransmitBuffer | null) {
    this.ssrc = ssrc;
    this.kind = kind;
    this.owner = owner;
    this.primarySsrc = primarySsrc;
    this.rtx = rtx;
    this.speakerId = owner.id;
  }

  get isRtx(): boolean {
    return this.primarySsrc !== this.ssrc;
  }
}
