// The side-by-side benchmark's figures from one run's samples: every page's getStats read once a second
// (page-stats.ts) and the server process's CPU time at the start and end of the measuring window. The same
// arithmetic for Tertulia and Janus:
// - CPU µs per forwarded packet: server CPU time over the video packets the receivers got in the window
//   (the sum of inbound-rtp packetsReceived deltas of the videos that decoded frames);
// - time to 1280: per received video, from `since` (its receiver's join, or the later sender's) to the first
//   sample whose frameWidth is 1280 or more; share of the window's samples at 1280;
// - jitter-buffer delay: jitterBufferDelay over jitterBufferEmittedCount deltas, all received videos together;
// - freezes, NACKs sent by receivers, packets lost: deltas in the window;
// - each page's playing videos as drawn at the window's end (what its browser composites);
// - each sender's layers (media kbit/s per rid, retransmissions left out) and its mean estimate
//   (availableOutgoingBitrate) in the window.
import type { PageStats } from './page-stats.ts';

export interface PageSamples {
  name: string;
  /** Date.now() from which this page's received videos count for "time to 1280". */
  since: number;
  samples: PageStats[];
}

export interface SenderFigures {
  name: string;
  /** Mean availableOutgoingBitrate in the window, bit/s. */
  estimateBps: number;
  /** kbit/s per rid (the frame width at the window's end after a colon, e.g. "h:1280"). */
  layersKbps: Record<string, number>;
  limitation: string;
}

export interface WindowFigures {
  windowSeconds: number;
  packets: number;
  cpuSeconds: number;
  /** Server CPU time over forwarded video packets, µs; NaN without packets. */
  cpuUsPerPacket: number;
  /** Share of one core. */
  cpuShare: number;
  receivedVideos: number;
  /** Each received video: its page, key and packets in the window. */
  videos: { page: string; key: string; packets: number }[];
  /** Seconds to 1280 per received video, null when it never got there before the window ended. */
  to1280: (number | null)[];
  /** Share of window samples (all received videos) at 1280 wide or more. */
  at1280Share: number;
  jitterBufferMs: number;
  /** The same from jitterBufferMinimumDelay: what the network's jitter alone asked for (no audio/video sync). */
  jitterBufferMinimumMs: number;
  /** Received audio's jitter-buffer delay (ms per emitted sample), all receivers together. */
  audioJitterBufferMs: number;
  /** The same from the audio's jitterBufferMinimumDelay: what its own arrival jitter asked for, without sync. */
  audioJitterBufferMinimumMs: number;
  freezes: number;
  freezeSeconds: number;
  nacks: number;
  lost: number;
  senders: SenderFigures[];
  /** Per page at the window's end: its playing videos as drawn, e.g. "Ana: 853x480, 853x480" (the rendering load). */
  drawn: string[];
}

/** The first sample at or after `t`, else the last one. */
export function sampleFrom(samples: PageStats[], t: number): PageStats | undefined {
  return samples.find((s) => s.at >= t) ?? samples.at(-1);
}

/** The last sample at or before `t`, else the first one. */
export function sampleUntil(samples: PageStats[], t: number): PageStats | undefined {
  for (let i = samples.length - 1; i >= 0; i--) if (samples[i].at <= t) return samples[i];
  return samples[0];
}

export function windowFigures(pages: PageSamples[], window: { start: number; end: number }, cpu: { start: number; end: number }): WindowFigures {
  const f: WindowFigures = {
    windowSeconds: (window.end - window.start) / 1000,
    packets: 0,
    cpuSeconds: cpu.end - cpu.start,
    cpuUsPerPacket: NaN,
    cpuShare: 0,
    receivedVideos: 0,
    videos: [],
    to1280: [],
    at1280Share: 0,
    jitterBufferMs: 0,
    jitterBufferMinimumMs: 0,
    audioJitterBufferMs: 0,
    audioJitterBufferMinimumMs: 0,
    freezes: 0,
    freezeSeconds: 0,
    nacks: 0,
    lost: 0,
    senders: [],
    drawn: [],
  };
  let delay = 0;
  let emitted = 0;
  let minimum = 0;
  let audioDelay = 0;
  let audioEmitted = 0;
  let audioMinimum = 0;
  let wide = 0;
  let counted = 0;
  for (const p of pages) {
    const a = sampleFrom(p.samples, window.start);
    const b = sampleUntil(p.samples, window.end);
    if (!a || !b) continue;
    f.drawn.push(`${p.name}: ${(b.drawnVideos ?? []).map((v) => `${v.width}x${v.height}`).join(', ') || 'none'}`);
    audioDelay += (b.audioJitterBuffer?.delay ?? 0) - (a.audioJitterBuffer?.delay ?? 0);
    audioEmitted += (b.audioJitterBuffer?.emitted ?? 0) - (a.audioJitterBuffer?.emitted ?? 0);
    audioMinimum += (b.audioJitterBuffer?.minimum ?? 0) - (a.audioJitterBuffer?.minimum ?? 0);
    for (const end of b.inbound) {
      // a remote camera that is off, or a stream that carried only the server's padding (bandwidth probes
      // to a sender that receives no video): no received video
      if (end.packetsReceived === 0 || end.framesDecoded === 0) continue;
      const start = a.inbound.find((x) => x.key === end.key);
      const d = (k: keyof typeof end) => (end[k] as number) - ((start?.[k] as number | undefined) ?? 0);
      f.receivedVideos++;
      f.videos.push({ page: p.name, key: end.key, packets: d('packetsReceived') });
      f.packets += d('packetsReceived');
      f.lost += d('packetsLost');
      f.nacks += d('nackCount');
      f.freezes += d('freezeCount');
      f.freezeSeconds += d('totalFreezesDuration');
      delay += d('jitterBufferDelay');
      minimum += d('jitterBufferMinimumDelay');
      emitted += d('jitterBufferEmittedCount');
      const first = p.samples.find((s) => s.at <= window.end && s.inbound.some((x) => x.key === end.key && x.frameWidth >= 1280));
      f.to1280.push(first ? Math.max(0, (first.at - p.since) / 1000) : null);
      for (const s of p.samples) {
        if (s.at < window.start || s.at > window.end) continue;
        const x = s.inbound.find((v) => v.key === end.key);
        counted++;
        if (x && x.frameWidth >= 1280) wide++;
      }
    }
    if (b.outbound.length > 0) {
      const seconds = (b.at - a.at) / 1000;
      const layersKbps: Record<string, number> = {};
      for (const o of b.outbound) {
        const before = a.outbound.find((x) => x.key === o.key)?.bytesSent ?? 0;
        layersKbps[`${o.rid || o.key}:${o.frameWidth}`] = seconds > 0 ? ((o.bytesSent - before) * 8) / seconds / 1000 : 0;
      }
      const inWindow = p.samples.filter((s) => s.at >= window.start && s.at <= window.end);
      const estimateBps = inWindow.length ? inWindow.reduce((sum, s) => sum + s.availableOutgoingBitrate, 0) / inWindow.length : 0;
      if (!Object.values(layersKbps).some((kbps) => kbps > 0)) continue; // a camera that is off
      const limitation = b.outbound.map((o) => o.qualityLimitationReason).find((r) => r && r !== 'none') ?? 'none';
      f.senders.push({ name: p.name, estimateBps, layersKbps, limitation });
    }
  }
  f.cpuUsPerPacket = f.packets > 0 ? (f.cpuSeconds * 1e6) / f.packets : NaN;
  f.cpuShare = f.windowSeconds > 0 ? f.cpuSeconds / f.windowSeconds : 0;
  f.jitterBufferMs = emitted > 0 ? (1000 * delay) / emitted : NaN;
  f.jitterBufferMinimumMs = emitted > 0 ? (1000 * minimum) / emitted : NaN;
  f.audioJitterBufferMs = audioEmitted > 0 ? (1000 * audioDelay) / audioEmitted : NaN;
  f.audioJitterBufferMinimumMs = audioEmitted > 0 ? (1000 * audioMinimum) / audioEmitted : NaN;
  f.at1280Share = counted > 0 ? wide / counted : 0;
  return f;
}

/** "1.2 / 3.4 s" (median / slowest); ">N" for a video that never got to 1280 within the run. */
export function describeTo1280(to1280: (number | null)[], runSeconds: number): string {
  if (to1280.length === 0) return '–';
  const never = to1280.filter((t) => t === null).length;
  const got = to1280.filter((t): t is number => t !== null).sort((x, y) => x - y);
  if (got.length === 0) return `never (>${runSeconds} s)`;
  const med = got[(got.length - 1) >> 1];
  const worst = never > 0 ? `>${runSeconds}` : got.at(-1)!.toFixed(1);
  return `${med.toFixed(1)} / ${worst} s${never > 0 ? ` (${never} never)` : ''}`;
}

/** A sender's layers, widest first, with their rids: "h 1280: 1150, m 640: 480, l 320: 140". */
export function describeLayers(layersKbps: Record<string, number>): string {
  return Object.entries(layersKbps)
    .map(([k, v]) => {
      const colon = k.lastIndexOf(':');
      return { rid: k.slice(0, colon), width: Number(k.slice(colon + 1)), kbps: v };
    })
    .sort((x, y) => y.width - x.width)
    .map((l) => `${l.rid} ${l.width || '?'}: ${Math.round(l.kbps)}`)
    .join(', ');
}
