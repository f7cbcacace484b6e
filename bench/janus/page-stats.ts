// What the side-by-side benchmark reads from each browser page, the same way for both servers: the video
// inbound-rtp and outbound-rtp entries of getStats and the publisher's estimate (availableOutgoingBitrate of the
// selected candidate pair). A Tertulia page has one peer connection (`window.__tertulia.pc`); the Janus page one
// per publish or subscribe (`window.__janus.pcs`). `readPageStats` runs inside the page (page.evaluate).

export interface InboundVideo {
  /** Peer connection index and mid: stable for one remote video of one page. */
  key: string;
  packetsReceived: number;
  packetsLost: number;
  frameWidth: number;
  framesDecoded: number;
  /** Seconds, summed over emitted frames (getStats' jitterBufferDelay). */
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  /** Seconds, summed over emitted frames: the delay the jitter buffer would have aimed at for the network alone,
   * without audio/video sync or a playout-delay request (getStats' jitterBufferMinimumDelay). */
  jitterBufferMinimumDelay: number;
  freezeCount: number;
  /** Seconds. */
  totalFreezesDuration: number;
  /** NACKs this receiver sent. */
  nackCount: number;
}

export interface OutboundVideo {
  key: string;
  rid: string;
  frameWidth: number;
  /** Media payload bytes: bytesSent less retransmittedBytesSent (Chrome pads its bandwidth probes with
   * retransmissions of recent packets, counted in bytesSent of the layer they repeat). */
  bytesSent: number;
  /** NACKs the sender received. */
  nackCount: number;
  qualityLimitationReason: string;
}

export interface PageStats {
  /** Date.now() when read. */
  at: number;
  inbound: InboundVideo[];
  outbound: OutboundVideo[];
  /** Bit/s; 0 when the page sends nothing or has no estimate yet. */
  availableOutgoingBitrate: number;
  /** The page's played remote microphones together: jitterBufferDelay (s) and jitterBufferEmittedCount summed.
   * Chrome holds a video as long as the audio it is synced with, so the audio's delay is part of the video's;
   * `minimum`: jitterBufferMinimumDelay summed (what the audio's own arrival jitter asked for, without sync). */
  audioJitterBuffer: { delay: number; emitted: number; minimum: number };
  /** The page's playing videos as drawn (CSS px, rounded), largest first: what the browser composites. */
  drawnVideos?: { width: number; height: number }[];
  /** Tertulia: probes of its uplink the web app has asked of the browser on this connection (send-probe.ts). */
  sendProbes?: number;
}

export type PageKind = 'tertulia' | 'janus';

export async function readPageStats(kind: PageKind): Promise<PageStats> {
  const w = window as any;
  const pcs: RTCPeerConnection[] = kind === 'tertulia' ? [w.__tertulia?.pc].filter(Boolean) : (w.__janus?.pcs ?? []);
  const out: PageStats = { at: Date.now(), inbound: [], outbound: [], availableOutgoingBitrate: 0, audioJitterBuffer: { delay: 0, emitted: 0, minimum: 0 }, drawnVideos: [] };
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  for (let i = 0; i < pcs.length; i++) {
    const stats = await pcs[i].getStats();
    let pairId: string | undefined;
    let sends = false;
    stats.forEach((s: any) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      if (s.kind === 'audio' && s.type === 'inbound-rtp') {
        out.audioJitterBuffer.delay += n(s.jitterBufferDelay);
        out.audioJitterBuffer.emitted += n(s.jitterBufferEmittedCount);
        out.audioJitterBuffer.minimum += n(s.jitterBufferMinimumDelay);
      }
      if (s.kind !== 'video') return;
      if (s.type === 'inbound-rtp') {
        out.inbound.push({
          key: `${i}:${s.mid ?? s.ssrc}`,
          packetsReceived: n(s.packetsReceived),
          packetsLost: n(s.packetsLost),
          frameWidth: n(s.frameWidth),
          framesDecoded: n(s.framesDecoded),
          jitterBufferDelay: n(s.jitterBufferDelay),
          jitterBufferEmittedCount: n(s.jitterBufferEmittedCount),
          jitterBufferMinimumDelay: n(s.jitterBufferMinimumDelay),
          freezeCount: n(s.freezeCount),
          totalFreezesDuration: n(s.totalFreezesDuration),
          nackCount: n(s.nackCount),
        });
      } else if (s.type === 'outbound-rtp') {
        sends = true;
        out.outbound.push({
          key: `${i}:${s.rid ?? s.ssrc}`,
          rid: String(s.rid ?? ''),
          frameWidth: n(s.frameWidth),
          bytesSent: n(s.bytesSent) - n(s.retransmittedBytesSent),
          nackCount: n(s.nackCount),
          qualityLimitationReason: String(s.qualityLimitationReason ?? ''),
        });
      }
    });
    const pair: any = pairId ? stats.get(pairId) : undefined;
    if (sends && pair) out.availableOutgoingBitrate = Math.max(out.availableOutgoingBitrate, n(pair.availableOutgoingBitrate));
  }
  const drawn = out.drawnVideos!;
  for (const v of Array.from(document.querySelectorAll('video'))) {
    const r = v.getBoundingClientRect();
    if (v.srcObject && !v.paused && r.width > 0 && r.height > 0) drawn.push({ width: Math.round(r.width), height: Math.round(r.height) });
  }
  drawn.sort((a, b) => b.width * b.height - a.width * a.height);
  if (kind === 'tertulia' && typeof w.__tertulia?.sendProbes === 'function') out.sendProbes = n(w.__tertulia.sendProbes());
  return out;
}
