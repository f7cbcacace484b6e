// How an endpoint's packets leave the bridge: one interface, one implementation per kind of transport.
//  - webrtc (webrtc-transport.ts): ICE-lite + DTLS-SRTP on the shared media port or an ICE-TCP connection;
//    numbers each RTP packet transport-wide for the receiver's bandwidth estimate.
//  - plain (plain-transport.ts): RTP/RTCP over UDP on sockets of its own (ffmpeg, GStreamer, a SIP leg),
//    optionally SRTP keyed by SDES (RFC 4568), with or without rtcp-mux, with comedia.
//  - relay (plain-transport.ts too): the same, between two bridges of one conference: one port, SRTP with the
//    keys focus made for both ends, a keepalive so the far end learns where it is.
// The router hands a transport plaintext packets that are already rewritten for this receiver; the transport
// protects and sends them. Never throws; a packet it cannot send is counted.
import type { MediaKind } from '../protocol/signal-messages.ts';

export type TransportKind = 'webrtc' | 'plain' | 'relay';

export interface MediaTransport {
  readonly kind: TransportKind;
  /**
   * Sends out[0..len), a ring slot holding plain RTP for this endpoint only (it may be protected in place).
   * `kind`: the media it carries (a plain transport may send audio and video to different ports);
   * `probeCluster`: the bandwidth probe it belongs to (-1: none). `twOffset`: where the packet's
   * transport-wide sequence number is (known from the parsed packet; -1: it has none; omitted: look).
   */
  sendRtp(out: Buffer, len: number, kind: MediaKind, probeCluster: number, twOffset?: number): void;
  /** Protects buf[0..len) (plain RTCP, the caller's scratch: copied) and sends it; `kind` as for sendRtp (null: either). */
  sendRtcp(buf: Buffer, len: number, kind: MediaKind | null): void;
  /** Releases sockets and timers; idempotent. */
  close(): void;
}
