// What a bridge tells the far end of each relay, from the layer-allocation timer (never per packet):
//  - as the receiving side: the simulcast layers its receivers want of each camera that comes through the
//    relay (every layer a rewriter here plays or waits for), at once when it changes and every second;
//  - as the sending side: each camera's layers as measured here (rate, frame size), every second, so the
//    far side can choose a layer that does not cross the relay yet.
// The formats are in packet/relay-layers.ts; the far side's router reads them.
import type { Conference } from './conference.ts';
import { MAX_RELAY_LAYER_ENTRIES, MAX_RELAY_RATE_ENTRIES, type RelayLayerRates, type RelayLayerWish } from './packet/relay-layers.ts';
import type { RtcpWriter } from './rtcp-writer.ts';

/** How often an unchanged wish, and the layer rates, are said again. */
export const RELAY_FEEDBACK_REPEAT_MS = 1000;

/** A relay layer's rate as the far bridge measured it counts this long (ms). */
export const FAR_RATE_TTL_MS = 3000;

/**
 * The wishes of the receivers this thread sends to (`worker`: its media worker index) for the cameras each
 * relay of `conference` brings in; sent when changed or due.
 */
export function sendRelayWishes(conference: Conference, nowMs: number, worker: number, rtcp: RtcpWriter): void {
  for (const ep of conference.endpoints.values()) {
    if (!ep.relay || !ep.connected) continue;
    const wishes: RelayLayerWish[] = [];
    let due = false;
    for (const s of ep.sources) {
      if (s.rids === null || s.relaySsrcs.length === 0) continue;
      let mask = 0;
      for (const dt of s.localDowntracks) {
        const rw = dt.rewriter;
        if (rw === null) continue;
        if (rw.targetLayer >= 0) mask |= 1 << rw.targetLayer;
        if (rw.currentLayer >= 0) mask |= 1 << rw.currentLayer;
      }
      if (mask === 0 && s.relayWantSent <= 0) continue; // nothing wanted, and the far side knows
      if (mask !== s.relayWantSent || nowMs - s.relayWantSentMs >= RELAY_FEEDBACK_REPEAT_MS) due = true;
      wishes.push({ ssrc: s.ssrc, mask });
    }
    if (!due) continue;
    for (let i = 0; i < wishes.length; i += MAX_RELAY_LAYER_ENTRIES) rtcp.relayWishes(ep, worker, wishes.slice(i, i + MAX_RELAY_LAYER_ENTRIES));
    for (const s of ep.sources) {
      const w = wishes.find((x) => x.ssrc === s.ssrc);
      if (w === undefined) continue;
      s.relayWantSent = w.mask;
      s.relayWantSentMs = nowMs;
    }
  }
}

/** The layers of the cameras each relay of `conference` gets from this thread, every RELAY_FEEDBACK_REPEAT_MS. */
export function sendRelayRates(conference: Conference, nowMs: number, rtcp: RtcpWriter): void {
  for (const ep of conference.endpoints.values()) {
    if (!ep.relay || !ep.connected || !ep.egress.local) continue;
    if (nowMs - ep.relayRatesSentMs < RELAY_FEEDBACK_REPEAT_MS) continue;
    const entries: RelayLayerRates[] = [];
    for (const dt of ep.downtracks.values()) {
      const s = dt.source;
      if (dt.rewriter !== null || s.rids === null || !s.subscribers.includes(ep)) continue;
      entries.push({
        ssrc: s.ssrc,
        layers: s.layers.map((l) => (l === null ? { kbps: 0, width: 0, height: 0 } : { kbps: l.rate!.rateBps(nowMs) / 1000, width: l.width, height: l.height })),
      });
    }
    ep.relayRatesSentMs = nowMs;
    for (let i = 0; i < entries.length; i += MAX_RELAY_RATE_ENTRIES) rtcp.relayRates(ep, entries.slice(i, i + MAX_RELAY_RATE_ENTRIES));
  }
}
