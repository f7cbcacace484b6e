// Asking Chrome to probe again when its estimate of our uplink starts low and stays there.
//
// Chrome's send-side estimate starts where the server's offer says (`x-google-start-bitrate`, CAMERA_START_KBPS in
// src/protocol/media-profile.ts; 300 kbit/s without) and finds the link's capacity with two probe clusters (3 and 6
// times that, capped near twice the layers' caps; ~15 ms each) the moment media starts. When the machine is busy
// right then (a join is when the page works hardest), Chrome's own sending stalls: the probes leave it spread over 50-75 ms (seen on the wire,
// docs/BENCHMARKS.md "A publisher's first probes: the bridge is not the cause"), measure a few hundred kbit/s, and
// Chrome gives up probing and grows the estimate by ~8 % a second from whatever it has: with the start rate, seldom
// below the camera's layers, but a stall read as congestion can take it there, and then the top layer waits 10-60 s.
// Chrome probes again when the transport's maximum bitrate rises while probing is over, so the watch below, when our
// camera is held back (by bandwidth; or by the CPU, which Chrome reports first on a busy machine, while the low
// estimate keeps the top layer off all the same) with an estimate under what its layers are capped at, re-applies
// the server's last offer locally with a higher `b=AS` on the camera's m-line (nothing changes for the server: the
// answer is the same, and is not sent). A link that really is that slow costs a few 15-ms probes: at most
// SEND_PROBE_DELAYS_MS.
// Browsers without `qualityLimitationReason` and `availableOutgoingBitrate` in their stats (Firefox) are left alone.

/**
 * When the watch may ask, counted from the first estimate of a connection: one probe at each while the camera
 * is still held back (further apart each time: a slow link is not probed over and over). A probe that comes late
 * (the camera was fine at first) keeps the gap to the next one. The first comes after Chrome's own start (its
 * first probes report within a second, and it waits a second at most for them; a probe asked before is lost).
 */
export const SEND_PROBE_DELAYS_MS = [2000, 6000, 15_000, 35_000] as const;
/**
 * The watch's span, from the first estimate: later, Chrome's own probing takes over (a camera turned on later finds
 * an estimate built on audio alone, which Chrome probes up from when the camera's layers are allocated).
 */
export const SEND_PROBE_WINDOW_MS = 40_000;
/** How often the watch reads the camera sender's statistics. */
const CHECK_INTERVAL_MS = 1000;
/** The `b=AS` of the first probe (kbit/s; Chrome's own limit without one is 5000); each later one is 1 more. */
const PROBE_AS_KBPS = 10_000;

/**
 * `sdp` with `b=AS:<kbps>` in the media section whose `a=mid` is `mid` (replacing the b=AS or b=TIAS it has; placed
 * after its `c=` line, where RFC 4566 orders it). Unchanged when no section has that mid.
 */
export function withSendBandwidth(sdp: string, mid: string, kbps: number): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const sections = sdp.split(/(?=^m=)/m);
  const at = sections.findIndex((s, i) => i > 0 && s.split(/\r?\n/).includes(`a=mid:${mid}`));
  if (at < 0) return sdp;
  // TIAS too: a browser that reads both would take the lower
  const lines = sections[at].split(eol).filter((l) => !l.startsWith('b=AS:') && !l.startsWith('b=TIAS:'));
  const c = lines.findIndex((l) => l.startsWith('c='));
  lines.splice(c >= 0 ? c + 1 : 1, 0, `b=AS:${Math.max(1, Math.round(kbps))}`);
  sections[at] = lines.join(eol);
  return sections.join('');
}

/** What one look at the camera sender's statistics found. */
export interface SendSample {
  /** The selected candidate pair's availableOutgoingBitrate (bit/s); 0 when the browser gives none (yet). */
  estimateBps: number;
  /** Some layer of the camera is held back (its qualityLimitationReason is not 'none': bandwidth, cpu, other). */
  heldBack: boolean;
  /** What the camera's active layers may use together (the sum of their maxBitrate, bit/s). */
  needBps: number;
}

/** Where a connection's watch stands: when its estimate was first seen, how many probes it asked for and when the last. */
export interface SendProbeState {
  firstEstimateAt: number | null;
  probes: number;
  lastProbeAt?: number;
}

/**
 * Whether to ask for a probe now, and the state after this look: when due, the state once the probe is applied (a
 * probe the page could not apply, `state` less the probe, is asked again at the next look).
 */
export function sendProbeDue(state: SendProbeState, sample: SendSample, now: number): { due: boolean; state: SendProbeState } {
  if (sample.estimateBps <= 0) return { due: false, state };
  const firstEstimateAt = state.firstEstimateAt ?? now;
  const next = { ...state, firstEstimateAt };
  const n = state.probes;
  const delay = SEND_PROBE_DELAYS_MS[n];
  if (delay === undefined || now - firstEstimateAt < delay || now - firstEstimateAt > SEND_PROBE_WINDOW_MS) return { due: false, state: next };
  if (n > 0 && now - (state.lastProbeAt ?? now) < delay - SEND_PROBE_DELAYS_MS[n - 1]!) return { due: false, state: next };
  if (!sample.heldBack || sample.needBps <= 0 || sample.estimateBps >= sample.needBps) return { due: false, state: next };
  return { due: true, state: { ...next, probes: n + 1, lastProbeAt: now } };
}

/** The `b=AS` (kbit/s) of the n-th probe of a connection (1-based): above Chrome's default and every one before. */
export function probeBandwidthKbps(n: number): number {
  return PROBE_AS_KBPS + n - 1;
}

/**
 * One connection's watch; `probe(kbps)` is asked for at most SEND_PROBE_DELAYS_MS.length times, within
 * SEND_PROBE_WINDOW_MS of its first estimate (it stops then). `probe` resolves to false when it could not be applied now
 * (one of our directions waits for the server's next offer): that probe counts for nothing and is asked again at the
 * next look, a second later.
 */
export class SendProbeWatch {
  #state: SendProbeState = { firstEstimateAt: null, probes: 0 };
  #timer: ReturnType<typeof setInterval> | null;
  #busy = false;
  readonly #sender: () => RTCRtpSender | undefined;
  readonly #probe: (kbps: number) => Promise<boolean>;
  readonly #now: () => number;

  /** `clock`: the time (ms) and how often to look (tests run the watch on their own clock). */
  constructor(
    sender: () => RTCRtpSender | undefined,
    probe: (kbps: number) => Promise<boolean>,
    clock: { now: () => number; intervalMs: number } = { now: () => performance.now(), intervalMs: CHECK_INTERVAL_MS },
  ) {
    this.#sender = sender;
    this.#probe = probe;
    this.#now = clock.now;
    this.#timer = setInterval(() => void this.#check(), clock.intervalMs);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #check(): Promise<void> {
    const sender = this.#sender();
    if (this.#busy || this.#timer === null || !sender?.track) return;
    this.#busy = true;
    try {
      const sample = await readSendSample(sender);
      if (this.#timer === null) return;
      const { due, state } = sendProbeDue(this.#state, sample, this.#now());
      const applied = due && (await this.#probe(probeBandwidthKbps(state.probes)));
      this.#state = due && !applied ? { ...this.#state, firstEstimateAt: state.firstEstimateAt } : state;
      if (this.#timer === null) return;
      const spent = this.#state.firstEstimateAt !== null && this.#now() - this.#state.firstEstimateAt > SEND_PROBE_WINDOW_MS;
      if (spent || this.#state.probes >= SEND_PROBE_DELAYS_MS.length) this.stop();
    } catch {
      // a closed connection: the next look (or the next connection's watch) decides
    } finally {
      this.#busy = false;
    }
  }
}

/** The camera sender's estimate, limitation and need, from its own statistics (and the pair they refer to). */
async function readSendSample(sender: RTCRtpSender): Promise<SendSample> {
  const needBps = sender
    .getParameters()
    .encodings.filter((e) => e.active !== false)
    .reduce((sum, e) => sum + (e.maxBitrate ?? 0), 0);
  let heldBack = false;
  const stats = await sender.getStats();
  let pairId: string | undefined;
  stats.forEach((s: { type?: string; qualityLimitationReason?: string; selectedCandidatePairId?: string }) => {
    if (s.type === 'outbound-rtp' && s.qualityLimitationReason && s.qualityLimitationReason !== 'none') heldBack = true;
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  const pair = (pairId === undefined ? undefined : stats.get(pairId)) as { availableOutgoingBitrate?: number } | undefined;
  const estimateBps = pair?.availableOutgoingBitrate ?? 0;
  return { estimateBps: Number.isFinite(estimateBps) ? estimateBps : 0, heldBack, needBps };
}
