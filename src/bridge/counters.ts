// Packet counters of one bridge (read by the benchmark and by stats; plain numeric fields, no allocation).
export class BridgeCounters {
  packetsIn = 0;
  bytesIn = 0;
  stunIn = 0;
  dtlsIn = 0;
  rtpIn = 0;
  rtcpIn = 0;

  packetsOut = 0;
  bytesOut = 0;
  stunOut = 0;
  rtpOut = 0;
  rtcpOut = 0;
  /**
   * Failed sends, counted on the sends that ask for a completion callback: one in SEND_ERROR_SAMPLE
   * (a callback costs Node a nextTick per datagram). Non-zero means sends fail; the true number is ~16 times it.
   */
  sendErrors = 0;
  /** UDP send system calls: a native batch (sendmmsg) counts once for all its datagrams, each dgram send once. */
  udpSendCalls = 0;

  retransmits = 0;
  nackMisses = 0;
  nacksForwarded = 0;
  keyframeRequests = 0;
  keyframeRequestsThrottled = 0;
  rembsSent = 0;
  /** Transport-cc feedback packets sent to senders. */
  twccFeedbackSent = 0;
  /** Transport-cc feedback packets receivers sent (what their bandwidth estimates come from). */
  twccFeedbackIn = 0;
  /** RTX packets from senders turned back into the originals. */
  rtxIn = 0;
  /** Padding-only probe packets sent to receivers. */
  probePackets = 0;
  /** Simulcast: spatial layer switches made by receivers' rewriters. */
  layerSwitches = 0;
  /** Cameras a receiver shows that were suspended for it, its bandwidth having no room for them (downlink.ts). */
  videoSuspensions = 0;
  /** Video packets that waited in a receiver's pacer queue before leaving (pacer.ts). */
  pacedPackets = 0;
  /** Received RTP packets the native routes forwarded without JavaScript (native/routes.c). */
  nativeForwarded = 0;

  /** Dropped: first byte outside the RFC 7983 ranges. */
  dropUnknownType = 0;
  /** Dropped: STUN that is not a valid, authenticated Binding request for a known endpoint. */
  dropStun = 0;
  /** Dropped: DTLS/RTP/RTCP from an address that never passed an ICE check. */
  dropUnknownAddress = 0;
  /**
   * Dropped: DTLS records refused before werift (bad framing, alerts, unknown types; after the handshake,
   * anything but the session's epoch) or that failed to decrypt.
   */
  dropDtls = 0;
  /** Dropped: RTP/RTCP before SRTP was set up. */
  dropNotConnected = 0;
  /** Dropped: SRTP/SRTCP authentication or replay check failed. */
  dropSrtp = 0;
  /** Dropped: malformed or oversized RTP/RTCP after decryption. */
  dropMalformed = 0;
  /** Dropped: RTP whose SSRC is not a source of the sending endpoint. */
  dropUnknownSsrc = 0;
  /** Dropped: padding-only RTX (a sender's bandwidth probe) or RTX without an original. */
  dropPadding = 0;
  /** Dropped: an RTX packet whose original the bridge already had (a sender's probe, or a late retransmission). */
  dropDuplicate = 0;
  /** Dropped: audio, or camera video (all its layers and RTX; never a screen), of an endpoint muted on the server. */
  dropMuted = 0;
  /** Dropped: a video packet for a receiver whose pacer queue (or the thread's pacer pool) was full. */
  dropPacerFull = 0;
  /**
   * Dropped by the kernel before the bridge read them: a media socket's receive buffer was full (the event loop
   * fell behind). Known only when the native module reads the socket (`nativeReceive`: SO_RXQ_OVFL); with dgram
   * reads it stays 0 (the socket's line in /proc/net/udp still counts them).
   */
  dropSocketFull = 0;
  /** Dropped: a packet for another media worker whose ring from this one was full (that worker fell behind). */
  dropRingFull = 0;
  /** Dropped: an exception in the packet path (a bug or hostile input). */
  dropError = 0;
  /** Outgoing packets the SRTP layer refused to protect. */
  protectErrors = 0;

  snapshot(): Record<string, number> {
    return { ...this } as unknown as Record<string, number>;
  }
}
