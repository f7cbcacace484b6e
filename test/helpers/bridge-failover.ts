// What the bridge failover test and benchmark share: a cluster of real processes (nats-server, a web/signal/focus
// process, bridge processes) and, for browsers in one meeting, the wait until every one of them decodes every
// other's video and audio on a NEW peer connection (the one it had when `markConnections` ran is replaced when
// focus moves it to another bridge): frames decoded and audio packets received growing between two reads
// (headless Chromium plays no audio out, so getStats' audio energy stays 0: packets are what can be read).
import type { Page } from 'playwright-core';
import { startNatsServer, type NatsServer } from './nats.ts';
import { startServer, type RunningServer } from './server.ts';
import type { Participant } from './browser.ts';

export interface BridgeCluster {
  nats: NatsServer;
  web: RunningServer;
  bridges: RunningServer[];
  /** Starts one more bridge process (ids bridge-1, bridge-2, ...). */
  addBridge(): Promise<RunningServer>;
  /** The running bridge the meeting is on now (one meeting: where focus last started or moved it). */
  hosting(): RunningServer | undefined;
  stop(): Promise<void>;
}

/** `env`: for every process; `webEnv`: for the web/signal/focus process only (its parts, say, with the recorder). */
export async function startBridgeCluster(bridgeCount: number, env: Record<string, string> = {}, webEnv: Record<string, string> = {}): Promise<BridgeCluster> {
  const nats = await startNatsServer();
  const common = { TERTULIA_NATS_URL: nats.url, TERTULIA_LOG_LEVEL: 'info', ...env };
  const bridges: RunningServer[] = [];
  const ids = new Map<RunningServer, string>();
  let made = 0;
  const addBridge = async () => {
    const n = ++made;
    const ports = 40000 + (n % 20) * 500; // each bridge its own plain-RTP (relay) port range
    const b = await startServer({
      ...common,
      TERTULIA_PARTS: 'bridge',
      TERTULIA_BRIDGE_ID: `bridge-${n}`,
      TERTULIA_PLAIN_RTP_PORT_MIN: String(ports),
      TERTULIA_PLAIN_RTP_PORT_MAX: String(ports + 499),
    });
    bridges.push(b);
    ids.set(b, `bridge-${n}`);
    return b;
  };
  for (let i = 0; i < bridgeCount; i++) await addBridge();
  const web = await startServer({ ...common, TERTULIA_PARTS: 'web,signal,focus', ...webEnv });
  return {
    nats,
    web,
    bridges,
    addBridge,
    hosting() {
      // focus's log says where the meeting started and where it moved each time
      let id: string | undefined;
      for (const line of web.output().split('\n')) {
        if (!line.startsWith('{')) continue;
        const l = JSON.parse(line) as { msg?: string; bridge?: string; moved?: Record<string, string> };
        if (l.msg === 'conference started') id = l.bridge;
        else if (l.msg === 'conference moved off a bridge' && l.moved) id = Object.values(l.moved)[0] ?? id;
      }
      return bridges.find((b) => ids.get(b) === id && b.alive());
    },
    async stop() {
      for (const p of [web, ...bridges]) await p.stop();
      await nats.stop();
    },
  };
}

interface PeerCounters {
  fresh: boolean;
  /** By remote display name. */
  from: Record<string, { frames: number; audioPackets: number }>;
}

/** Remembers each page's current peer connection: `decodingAgain` waits for a new one. */
export async function markConnections(people: Participant[]): Promise<void> {
  for (const p of people) await p.page.evaluate(() => ((window as any).__failoverMarked = (window as any).__tertulia?.pc ?? null));
}

async function counters(page: Page): Promise<PeerCounters> {
  return await page.evaluate(async () => {
    const t = (window as any).__tertulia;
    const out: PeerCounters = { fresh: false, from: {} };
    if (!t?.pc) return out;
    out.fresh = t.pc !== (window as any).__failoverMarked;
    const byMid = new Map<string, string>();
    for (const s of t.sources ?? []) byMid.set(String(s.mid), s.participantId);
    const names = new Map<string, string>();
    for (const p of t.participants ?? []) names.set(p.id, p.displayName);
    (await (t.pc as RTCPeerConnection).getStats()).forEach((s: any) => {
      if (s.type !== 'inbound-rtp' || s.mid === undefined) return;
      const id = byMid.get(String(s.mid));
      if (!id) return;
      const e = (out.from[names.get(id) ?? id] ??= { frames: 0, audioPackets: 0 });
      if (s.kind === 'video') e.frames += s.framesDecoded ?? 0;
      else e.audioPackets += s.packetsReceived ?? 0;
    });
    return out;
  });
}

/**
 * Waits until every one of `people` decodes every other one again, `movers` (default: everyone) on a new peer
 * connection (the others may keep theirs: in a meeting over two bridges, those on the surviving one); returns the
 * ms from `since` (Date.now()) to the first read that showed it for all. Throws with the last counters after
 * `timeoutMs`.
 */
export async function decodingAgain(people: Participant[], since: number, timeoutMs = 60_000, movers: Participant[] = people): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let previous = new Map<string, PeerCounters>();
  for (;;) {
    const now = new Map<string, PeerCounters>();
    for (const p of people) now.set(p.name, await counters(p.page));
    const at = Date.now();
    const ok = people.every((p) => {
      const c = now.get(p.name)!;
      const before = previous.get(p.name);
      if (!before || (movers.includes(p) && (!c.fresh || !before.fresh))) return false;
      return people.every((o) => {
        if (o === p) return true;
        const x = c.from[o.name];
        const y = before.from[o.name];
        return x !== undefined && y !== undefined && x.frames > y.frames && x.audioPackets > y.audioPackets;
      });
    });
    if (ok) return at - since;
    if (at > deadline) throw new Error(`not everyone decodes everyone again within ${timeoutMs} ms: ${JSON.stringify(Object.fromEntries(now))}`);
    previous = now;
    await new Promise((r) => setTimeout(r, 200));
  }
}
