// Connection quality per participant, from the peer connection's statistics (getStats), every 2 seconds:
// for others, the packet loss of what we receive from them; for ourselves, the round-trip time of the connection
// (to the server, or to the other browser on a direct one) and the worse of the loss it reports for what we send and the least loss of what we receive from anyone
// (a link that loses only downstream shows too; one sender's lossy uplink does not count as ours). The connection
// is the one that carries the others' media now: the bridge's, or the direct one in a room of two that switched.
import type { ConnectionLevel } from '../i18n-meeting.ts';
import { Store } from './store.ts';

export const SELF_KEY = '__self__';
const INTERVAL_MS = 2000;

/** Loss ratio (0..1) and round-trip time (seconds) -> a level. */
export function levelFrom(loss: number, rttSeconds: number | undefined): ConnectionLevel {
  let level: ConnectionLevel = loss < 0.02 ? 'good' : loss < 0.08 ? 'fair' : 'poor';
  if (rttSeconds !== undefined) {
    if (rttSeconds > 1 || level === 'poor') level = 'poor';
    else if (rttSeconds > 0.4 && level === 'good') level = 'fair';
  }
  return level;
}

interface Counters {
  received: number;
  lost: number;
}

/** A connection to read, and whose media each of its receivers (by mid) carries. */
export interface StatsSource {
  pc: RTCPeerConnection | null;
  participantOf: (mid: string) => string | undefined;
}

export class QualityMonitor extends Store<{ levels: ReadonlyMap<string, ConnectionLevel> }> {
  #timer: ReturnType<typeof setInterval> | null = null;
  #previous = new Map<string, Counters>();
  #previousPc: RTCPeerConnection | null = null;
  #source: () => StatsSource;

  constructor(source: () => StatsSource) {
    super({ levels: new Map() });
    this.#source = source;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#sample(), INTERVAL_MS);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #sample(): Promise<void> {
    const { pc, participantOf } = this.#source();
    if (!pc || pc.connectionState === 'closed') return;
    // another connection (a switch to or from the direct one): its counters start afresh
    if (pc !== this.#previousPc) this.#previous = new Map();
    this.#previousPc = pc;
    let report: RTCStatsReport;
    try {
      report = await pc.getStats();
    } catch {
      return;
    }
    const totals = new Map<string, Counters>();
    let rtt: number | undefined;
    let ownLoss = 0;
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.mid !== undefined) {
        const who = participantOf(String(s.mid));
        if (!who) return;
        const c = totals.get(who) ?? { received: 0, lost: 0 };
        c.received += Number(s.packetsReceived ?? 0);
        c.lost += Math.max(0, Number(s.packetsLost ?? 0));
        totals.set(who, c);
      } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && typeof s.currentRoundTripTime === 'number') {
        rtt = s.currentRoundTripTime;
      } else if (s.type === 'remote-inbound-rtp' && typeof s.fractionLost === 'number') {
        ownLoss = Math.max(ownLoss, s.fractionLost);
      }
    });
    const levels = new Map<string, ConnectionLevel>();
    // our own downlink's loss: what everyone's media loses on the way to us (the least of them: one sender's own
    // lossy uplink is theirs, not ours)
    let downLoss = Infinity;
    for (const [who, now] of totals) {
      const before = this.#previous.get(who) ?? { received: 0, lost: 0 };
      const received = now.received - before.received;
      const lost = now.lost - before.lost;
      if (received + lost > 0) downLoss = Math.min(downLoss, lost / (received + lost));
      levels.set(who, received + lost > 0 ? levelFrom(lost / (received + lost), rtt) : 'unknown');
    }
    this.#previous = totals;
    // ours: the worse of what the server says it lost of what we send and what we lose of what it sends us
    const ours = Math.max(ownLoss, Number.isFinite(downLoss) ? downLoss : 0);
    levels.set(SELF_KEY, pc.connectionState === 'connected' ? levelFrom(ours, rtt) : pc.connectionState === 'failed' ? 'poor' : 'unknown');
    this.update({ levels });
  }
}
