// The egress of endpoints another media worker sends to (see ../egress.ts): one object per other worker,
// shared by every endpoint that worker sends to. A packet is handed to that worker once, however many of its
// receivers get the source, through the single-producer ring to it (flushed once per event-loop turn);
// feedback about those receivers (NACKs, transport-cc, keyframe requests) goes to it through the control
// thread, where their downtracks and downlink estimates live.
import type { Egress } from '../egress.ts';
import type { Endpoint } from '../endpoint.ts';
import type { RtpView } from '../packet/rtp-view.ts';
import type { Source } from '../source.ts';
import type { PeerUpdate } from './worker-bridge.ts';

/** What a WorkerEgress needs of its worker. */
export interface WorkerLink {
  /** Puts buf[0..len), a decrypted packet of `source`, in the ring to worker `to` (false: not handed). */
  handOff(to: number, source: Source, buf: Buffer, len: number): void;
  sendPeerUpdate(update: PeerUpdate): void;
}

export class WorkerEgress implements Egress {
  readonly local = false;
  /** The media worker that sends to the endpoints of this egress. */
  readonly worker: number;
  private readonly link: WorkerLink;

  constructor(worker: number, link: WorkerLink) {
    this.worker = worker;
    this.link = link;
  }

  forward(source: Source, _target: Source, v: RtpView): void {
    this.link.handOff(this.worker, source, v.buf, v.len);
  }

  nack(receiver: Endpoint, source: Source, seqs: Uint16Array, count: number): void {
    this.link.sendPeerUpdate({
      kind: 'nack',
      conferenceId: receiver.conference.id,
      endpointId: receiver.id,
      ssrc: source.ssrc,
      seqs: Array.from(seqs.subarray(0, count)),
    });
  }

  transportFeedback(receiver: Endpoint, buf: Buffer, offset: number, length: number): void {
    this.link.sendPeerUpdate({
      kind: 'twcc',
      conferenceId: receiver.conference.id,
      endpointId: receiver.id,
      packet: Uint8Array.prototype.slice.call(buf, offset, offset + length),
    });
  }

  keyframeRequest(receiver: Endpoint, source: Source, fir: boolean): void {
    this.link.sendPeerUpdate({ kind: 'keyframe', conferenceId: receiver.conference.id, endpointId: receiver.id, ssrc: source.ssrc, fir });
  }
}
