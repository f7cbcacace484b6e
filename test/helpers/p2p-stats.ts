// What a participant's page says about peer-to-peer for two (src/web/media/p2p-switch.ts): where its media goes,
// what the direct connection carries (getStats), what it still sends to the bridge, and the frames a tile
// presents (requestVideoFrameCallback), to measure the longest freeze across a switch.
import type { Page } from 'playwright-core';
import { remoteStats, waitUntil, type Participant } from './browser.ts';

export interface P2pState {
  /** 'p2p' while the page shows the peer's media from the direct connection. */
  path: 'bridge' | 'p2p' | 'none';
  /** The page sends neither microphone nor camera to the bridge. */
  bridgeSendPaused: boolean;
  /** A direct connection exists (connecting, connected, or lingering as the current one). */
  connection: boolean;
}

export async function p2pState(page: Page): Promise<P2pState> {
  return await page.evaluate(() => {
    const p = (window as any).__tertulia?.p2p;
    return { path: p?.path ?? 'none', bridgeSendPaused: p?.bridgeSendPaused === true, connection: !!p?.pc };
  });
}

export interface P2pMedia {
  framesDecoded: number;
  audioPackets: number;
  /** Bytes received on the selected candidate pair, and its local candidate's type (host, srflx, relay). */
  pairBytesReceived: number;
  localCandidateType: string;
  remoteAddress: string;
}

/** What the direct connection received so far (zeros when there is none). */
export async function p2pMedia(page: Page): Promise<P2pMedia> {
  return await page.evaluate(async () => {
    const out = { framesDecoded: 0, audioPackets: 0, pairBytesReceived: 0, localCandidateType: '', remoteAddress: '' };
    const pc: RTCPeerConnection | null = (window as any).__tertulia?.p2p?.pc ?? null;
    if (!pc) return out;
    const stats = await pc.getStats();
    let pairId: string | undefined;
    stats.forEach((s: any) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') out.framesDecoded += s.framesDecoded ?? 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPackets += s.packetsReceived ?? 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair: any = pairId ? stats.get(pairId) : undefined;
    if (pair) {
      out.pairBytesReceived = pair.bytesReceived ?? 0;
      out.localCandidateType = stats.get(pair.localCandidateId)?.candidateType ?? '';
      const remote: any = stats.get(pair.remoteCandidateId);
      out.remoteAddress = remote?.address ?? '';
    }
    return out;
  });
}

/** Bytes the page has sent to the bridge so far: its microphone and its camera (every simulcast layer). */
export async function bridgeBytesSent(page: Page): Promise<{ audio: number; video: number }> {
  return await page.evaluate(async () => {
    const out = { audio: 0, video: 0 };
    const pc: RTCPeerConnection | null = (window as any).__tertulia?.pc ?? null;
    if (!pc) return out;
    const camMids = new Set(['0', '1']);
    (await pc.getStats()).forEach((s: any) => {
      if (s.type !== 'outbound-rtp' || !camMids.has(String(s.mid))) return;
      if (s.kind === 'audio') out.audio += s.bytesSent ?? 0;
      else out.video += s.bytesSent ?? 0;
    });
    return out;
  });
}

/** The page's clock (performance.now()), the one frame times are in. */
export async function pageNow(page: Page): Promise<number> {
  return await page.evaluate(() => performance.now());
}

/**
 * Records when each frame of `name`'s camera tile is presented (requestVideoFrameCallback on whichever <video>
 * the tile holds, followed as elements come and go).
 */
export async function watchTileFrames(page: Page, name: string): Promise<void> {
  await page.evaluate((who) => {
    const w = window as any;
    w.__frames ??= {};
    const times: number[] = (w.__frames[who] = []);
    const watched = new WeakSet<HTMLVideoElement>();
    const follow = (v: HTMLVideoElement) => {
      const onFrame = (now: number) => {
        times.push(now);
        if (times.length > 20_000) times.splice(0, 10_000);
        if (v.isConnected) v.requestVideoFrameCallback(onFrame);
        else watched.delete(v);
      };
      v.requestVideoFrameCallback(onFrame);
    };
    setInterval(() => {
      for (const g of document.querySelectorAll('[role="group"]')) {
        if (g.getAttribute('aria-label') !== who) continue;
        const v = g.querySelector('video');
        if (v && !watched.has(v)) {
          watched.add(v);
          follow(v);
        }
      }
    }, 100);
  }, name);
}

/**
 * The longest time between two presented frames of `name`'s tile after `fromMs` (page clock), their count, and
 * where that gap began relative to the page's last switch of what it shows (negative: before the switch).
 */
export async function longestFrameGap(page: Page, name: string, fromMs: number): Promise<{ gapMs: number; frames: number; fromSwitchMs: number }> {
  return await page.evaluate(
    ({ who, from }) => {
      const times: number[] = ((window as any).__frames?.[who] ?? []).filter((t: number) => t >= from);
      let gap = 0;
      let at = 0;
      for (let i = 1; i < times.length; i++) {
        if (times[i]! - times[i - 1]! > gap) [gap, at] = [times[i]! - times[i - 1]!, times[i - 1]!];
      }
      // a tile that stopped presenting frames: the time since its last one counts too
      const last = times[times.length - 1];
      if (last !== undefined && performance.now() - last > gap) [gap, at] = [performance.now() - last, last];
      const switchedAt: number = (window as any).__tertulia?.p2p?.switchedAt ?? 0;
      return { gapMs: Math.round(gap), frames: times.length, fromSwitchMs: Math.round(at - switchedAt) };
    },
    { who: name, from: fromMs },
  );
}

/** Waits until `p` shows the peer's media from the direct connection and sends nothing to the bridge. */
export async function untilDirect(p: Participant, timeoutMs = 60_000): Promise<void> {
  await waitUntil(`${p.name} to show the direct media and stop sending to the bridge`, () => p2pState(p.page), (s) => s.path === 'p2p' && s.bridgeSendPaused, timeoutMs);
}

/**
 * After `join` adds a third participant: waits until each of `pair` is back on the bridge, decodes the other and the
 * newcomer through it (frames beyond those decoded before), and has closed its direct connection.
 */
export async function untilBackOnBridge(pair: readonly [Participant, Participant], newcomer: Participant, join: () => Promise<void>): Promise<void> {
  const before = await Promise.all(pair.map((p) => remoteStats(p.page)));
  await join();
  for (const [i, p] of pair.entries()) {
    const other = pair[1 - i]!.name;
    const was = before[i]![other]?.framesDecoded ?? 0;
    await waitUntil(`${p.name} to be back on the bridge`, () => p2pState(p.page), (s) => s.path === 'bridge' && !s.bridgeSendPaused, 30_000);
    await waitUntil(
      `${p.name} to decode ${other} and ${newcomer.name} through the bridge`,
      () => remoteStats(p.page),
      (s) => (s[other]?.framesDecoded ?? 0) > was + 10 && (s[newcomer.name]?.framesDecoded ?? 0) > 10 && (s[newcomer.name]?.audioPackets ?? 0) > 20,
      45_000,
    );
  }
  for (const p of pair) await waitUntil(`${p.name}'s direct connection to close`, () => p2pState(p.page), (s) => !s.connection, 30_000);
}
