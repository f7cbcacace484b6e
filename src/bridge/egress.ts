// Where what the bridge sends to an endpoint is made and sent from: its egress. The router never asks where a
// receiver is; it hands a parsed packet to each egress that has receivers of its source (Source.egresses), and
// a receiver's feedback (NACK, transport-cc, PLI/FIR) to that receiver's egress.
//  - LocalEgress (here): this thread sends to the endpoint; its downtracks live here and do the work.
//  - WorkerEgress (workers/worker-egress.ts): another media worker sends to it; packets go to that worker's
//    ring once per worker (not per receiver), feedback through the control thread.
// A bridge-to-bridge relay (cascading) is one more implementation of the same interface.
import type { BridgeCounters } from './counters.ts';
import type { Endpoint } from './endpoint.ts';
import type { RtpView } from './packet/rtp-view.ts';
import type { RtcpWriter } from './rtcp-writer.ts';
import type { Source } from './source.ts';

export interface Egress {
  /** This thread sends to the endpoint (its downtracks forward here). */
  readonly local: boolean;
  /**
   * Packet `v` of `source` (a plain source, or a layer of simulcast `target`; else target = source) for the
   * receivers of `target` this egress sends to. Never throws; allocates nothing.
   */
  forward(source: Source, target: Source, v: RtpView): void;
  /** `receiver` NACKed seqs[0..count) of `source` (numbers as it got them). */
  nack(receiver: Endpoint, source: Source, seqs: Uint16Array, count: number): void;
  /** Transport-cc feedback of `receiver` at buf[offset..offset+length) (its downlink estimate lives with its egress). */
  transportFeedback(receiver: Endpoint, buf: Buffer, offset: number, length: number, nowUs: number): void;
  /** `receiver` asks for a keyframe of `source` (PLI, or FIR). */
  keyframeRequest(receiver: Endpoint, source: Source, fir: boolean): void;
}

/** This thread's egress: one per router, shared by every endpoint it sends to. */
export class LocalEgress implements Egress {
  readonly local = true;
  private readonly counters: BridgeCounters;
  private readonly rtcp: RtcpWriter;
  /** NACKed numbers to ask the sender for. */
  private readonly misses = new Uint16Array(512);

  constructor(counters: BridgeCounters, rtcp: RtcpWriter) {
    this.counters = counters;
    this.rtcp = rtcp;
  }

  forward(source: Source, target: Source, v: RtpView): void {
    const tracks = target.localDowntracks;
    if (source === target) for (let i = 0; i < tracks.length; i++) tracks[i].forward(v);
    else for (let i = 0; i < tracks.length; i++) tracks[i].forwardLayer(source, v);
  }

  nack(receiver: Endpoint, source: Source, seqs: Uint16Array, count: number): void {
    const track = receiver.downtracks.get(source.ssrc);
    if (track === undefined) return;
    track.beginNack();
    let missed = 0;
    for (let i = 0; i < count; i++) {
      const seq = seqs[i];
      if (!track.nack(seq) && missed < this.misses.length) this.misses[missed++] = seq;
    }
    // what the buffer did not have: the sender may still
    this.rtcp.nack(source.owner, source.ssrc, this.misses, missed);
  }

  transportFeedback(receiver: Endpoint, buf: Buffer, offset: number, length: number, nowUs: number): void {
    if (receiver.bwe === null) return;
    if (receiver.bwe.onFeedback(buf, offset, length, nowUs)) this.counters.twccFeedbackIn++;
    else this.counters.dropMalformed++;
  }

  keyframeRequest(receiver: Endpoint, source: Source, fir: boolean): void {
    receiver.downtracks.get(source.ssrc)?.requestKeyframe(fir);
  }
}

/** The egress of an endpoint outside any bridge (tests of the control plane): local, does nothing. */
export const DETACHED_EGRESS: Egress = {
  local: true,
  forward() {},
  nack() {},
  transportFeedback() {},
  keyframeRequest() {},
};
