// The one place that builds the RTCP the bridge itself sends to an endpoint: keyframe requests (PLI/FIR) and
// NACKs to a sender, REMB and transport-cc feedback to a sender, and forwarded sender reports. Every compound
// starts with an empty RR from the bridge's SSRC (RFC 3550 §6.1). Packets are composed in one scratch buffer
// (used synchronously: the transport protects it into a ring slot) and sent through the endpoint's transport.
import type { MediaKind } from '../protocol/signal-messages.ts';
import type { BridgeCounters } from './counters.ts';
import { MAX_FORWARD } from './downtrack.ts';
import type { Endpoint } from './endpoint.ts';
import { writeFir, writeNack, writePli, writeRemb, writeRr } from './packet/rtcp.ts';
import { writeRelayLayers, writeRelayRates, type RelayLayerRates, type RelayLayerWish } from './packet/relay-layers.ts';

/** Transport-cc feedback packets sent to one endpoint per call at most. */
const MAX_TWCC_FEEDBACK_PER_CALL = 8;

export class RtcpWriter {
  private readonly counters: BridgeCounters;
  private readonly ssrc: number;
  private readonly scratch = Buffer.alloc(MAX_FORWARD);

  constructor(counters: BridgeCounters, bridgeSsrc: number) {
    this.counters = counters;
    this.ssrc = bridgeSsrc;
  }

  /** Protects buf[0..len) (plain RTCP, about media of `kind`; null: none in particular) for `to` and sends it. */
  send(to: Endpoint, buf: Buffer, len: number, kind: MediaKind | null): void {
    if (to.connected) to.transport.sendRtcp(buf, len, kind);
  }

  /** A PLI, or a FIR with command sequence number `firSeq`, for `mediaSsrc` to its sender `to`. */
  keyframeRequest(to: Endpoint, mediaSsrc: number, fir: boolean, firSeq: number): void {
    const s = this.scratch;
    let n = writeRr(s, 0, this.ssrc);
    n += fir ? writeFir(s, n, this.ssrc, mediaSsrc, firSeq) : writePli(s, n, this.ssrc, mediaSsrc);
    this.counters.keyframeRequests++;
    this.send(to, s, n, 'video');
  }

  /** A NACK for seqs[0..count) of `mediaSsrc` to its sender `to`. */
  nack(to: Endpoint, mediaSsrc: number, seqs: Uint16Array, count: number): void {
    if (count <= 0 || !to.connected) return;
    const s = this.scratch;
    const rr = writeRr(s, 0, this.ssrc);
    const n = writeNack(s, rr, this.ssrc, mediaSsrc, seqs, count);
    if (n <= 0) return;
    this.counters.nacksForwarded++;
    this.send(to, s, rr + n, 'video');
  }

  /** To a relay: the layers this media worker's receivers want of the far bridge's cameras (packet/relay-layers.ts). */
  relayWishes(to: Endpoint, worker: number, wishes: readonly RelayLayerWish[]): void {
    const s = this.scratch;
    const rr = writeRr(s, 0, this.ssrc);
    const n = writeRelayLayers(s, rr, this.ssrc, worker, wishes);
    if (n > 0) this.send(to, s, rr + n, 'video');
  }

  /** To a relay: what the layers of the cameras sent to it are here (rate, size). */
  relayRates(to: Endpoint, entries: readonly RelayLayerRates[]): void {
    const s = this.scratch;
    const rr = writeRr(s, 0, this.ssrc);
    const n = writeRelayRates(s, rr, this.ssrc, entries);
    if (n > 0) this.send(to, s, rr + n, 'video');
  }

  /** A REMB of `bitrateBps` for the video SSRCs `to` sends. */
  remb(to: Endpoint, ssrcs: number[], bitrateBps: number): void {
    if (ssrcs.length === 0) return;
    const s = this.scratch;
    const rr = writeRr(s, 0, this.ssrc);
    const n = writeRemb(s, rr, this.ssrc, bitrateBps, ssrcs);
    if (n <= 0) return;
    this.counters.rembsSent++;
    this.send(to, s, rr + n, null);
  }

  /** Transport-cc feedback for the packets `to` sent since the last feedback (RR + RTPFB 15 compounds). */
  transportFeedback(to: Endpoint): void {
    const rec = to.twcc;
    if (rec === null || !to.connected) return;
    const mediaSsrc = to.sources.length > 0 ? to.sources[0].ssrc : 0;
    const s = this.scratch;
    for (let i = 0; i < MAX_TWCC_FEEDBACK_PER_CALL && rec.hasPending(); i++) {
      const rr = writeRr(s, 0, this.ssrc);
      // room left for the SRTCP tag and index
      const n = rec.writeFeedback(s, rr, this.ssrc, mediaSsrc, MAX_FORWARD - rr);
      if (n <= 0) break;
      this.counters.twccFeedbackSent++;
      this.send(to, s, rr + n, null);
    }
  }

  /**
   * The sender info of the SR at buf[offset..offset+28) with its report blocks stripped, in the scratch buffer
   * (valid until the next call): what receivers get forwarded (each downtrack writes its own SSRC/timestamp).
   */
  senderInfo(buf: Buffer, offset: number): Buffer {
    const s = this.scratch;
    buf.copy(s, 0, offset, offset + 28);
    s[0] = 0x80; // V=2, P=0, RC=0
    s[2] = 0;
    s[3] = 6; // 28 bytes
    return s;
  }
}
