// The load tester's report: what every driver measured, summed up as an admin reads it (and as JSON).
import { DelayHistogram } from './delay-histogram.ts';
import { expectedTracks, type ClientResult, type LoadtestOptions } from './plan.ts';

export interface DriverReport {
  clients: ClientResult[];
  delays: Array<[number, number]>;
  cpuMs: number;
  windowMs: number;
}

export interface LoadtestReport {
  url: string;
  rooms: number;
  participantsPerRoom: number;
  publishersPerRoom: number;
  seconds: number;
  joins: { attempted: number; joined: number; failed: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null };
  /** Failed joins grouped by their error (the server's code and message). */
  joinErrors: Record<string, number>;
  /** Audio and video tracks received against what the rooms' publishers send (joined clients only). */
  tracks: { expected: number; received: number; clientsMissingTracks: number };
  /** Of the received streams, packets missing by their sequence numbers. */
  lossPercent: number | null;
  /** One-way delay of received packets, sender to receiver, through the server. */
  delayMs: { p50: number | null; p95: number | null; p99: number | null };
  bitrateKbps: { receivedPerClient: number | null; sentPerPublisher: number | null; receivedTotal: number; sentTotal: number };
  /** Received video streams by the simulcast layer they mostly carried, lowest first (320, 640, 1280 wide). */
  videoLayers: number[];
  droppedDuringRun: number;
  /** Each driver process's CPU over the window, in percent of one core. */
  driverCpuPercent: number[];
  /** The load tester was itself short of CPU: the figures may describe it rather than the server. */
  driverBusy: boolean;
  /** The publishers' media: clips encoded by ffmpeg, or generated payloads of realistic sizes (no ffmpeg). */
  media: 'ffmpeg' | 'generated';
  /** Every participant joined and received every track it should have. */
  ok: boolean;
}

/** A driver above this share of a core falls behind its own timers: its figures are not the server's. */
const BUSY_DRIVER_PERCENT = 80;

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const ms = (us: number) => (Number.isNaN(us) ? null : Math.round(us / 100) / 10);

const RETRY_WAIT = /try again in (\d+) s/;

/** Counts refusals by their message. Messages that differ only in "try again in N s" (a rate limit's countdown, a
 *  second apart between clients) are one group, shown with the longest wait. */
export function groupErrors(errors: string[]): Record<string, number> {
  const groups = new Map<string, { count: number; wait: number; message: string }>();
  for (const e of errors) {
    const wait = Number(RETRY_WAIT.exec(e)?.[1] ?? -1);
    const key = e.replace(RETRY_WAIT, 'try again in N s');
    const g = groups.get(key);
    if (!g) groups.set(key, { count: 1, wait, message: e });
    else {
      g.count++;
      if (wait > g.wait) Object.assign(g, { wait, message: e });
    }
  }
  return Object.fromEntries([...groups.values()].map((g) => [g.message, g.count]));
}

export function summarize(o: LoadtestOptions, drivers: DriverReport[], media: LoadtestReport['media']): LoadtestReport {
  const clients = drivers.flatMap((d) => d.clients);
  const joined = clients.filter((c) => c.joined);
  const joinTimes = joined.map((c) => c.joinMs ?? 0).sort((a, b) => a - b);
  const joinErrors = groupErrors(clients.filter((c) => !c.joined).map((c) => c.error ?? 'unknown'));
  let expected = 0;
  let received = 0;
  let missing = 0;
  for (const c of joined) {
    const want = expectedTracks(o, c.publisher);
    const got = Math.min(c.audioTracks + c.videoTracks, want);
    expected += want;
    received += got;
    if (got < want) missing++;
  }
  const expectedPackets = joined.reduce((a, c) => a + c.expectedPackets, 0);
  const lost = joined.reduce((a, c) => a + c.lostPackets, 0);
  const delays = new DelayHistogram();
  for (const d of drivers) delays.addSparse(d.delays);
  const seconds = Math.max(0.001, Math.min(...drivers.map((d) => d.windowMs), o.duration * 1000) / 1000);
  const receivedTotal = joined.reduce((a, c) => a + c.bytes, 0);
  const publishers = joined.filter((c) => c.publisher);
  const sentTotal = publishers.reduce((a, c) => a + c.sentBytes, 0);
  const kbps = (bytes: number) => Math.round((bytes * 8) / seconds / 1000);
  const videoLayers = [0, 0, 0, 0];
  for (const c of joined) c.videoLayers.forEach((n, i) => (videoLayers[i]! += n));
  const driverCpuPercent = drivers.map((d) => Math.round((100 * d.cpuMs) / Math.max(1, d.windowMs)));
  const report: LoadtestReport = {
    url: o.url,
    rooms: o.rooms,
    participantsPerRoom: o.participants,
    publishersPerRoom: o.publishers,
    seconds: Math.round(seconds * 10) / 10,
    joins: {
      attempted: clients.length,
      joined: joined.length,
      failed: clients.length - joined.length,
      p50Ms: quantile(joinTimes, 0.5),
      p95Ms: quantile(joinTimes, 0.95),
      maxMs: joinTimes.length ? joinTimes[joinTimes.length - 1]! : null,
    },
    joinErrors,
    tracks: { expected, received, clientsMissingTracks: missing },
    lossPercent: expectedPackets > 0 ? Math.round((10000 * lost) / expectedPackets) / 100 : null,
    delayMs: { p50: ms(delays.quantile(0.5)), p95: ms(delays.quantile(0.95)), p99: ms(delays.quantile(0.99)) },
    bitrateKbps: {
      receivedPerClient: joined.length ? kbps(receivedTotal / joined.length) : null,
      sentPerPublisher: publishers.length ? kbps(sentTotal / publishers.length) : null,
      receivedTotal: kbps(receivedTotal),
      sentTotal: kbps(sentTotal),
    },
    videoLayers: videoLayers.slice(0, 3),
    droppedDuringRun: joined.filter((c) => c.dropped).length,
    driverCpuPercent,
    driverBusy: driverCpuPercent.some((p) => p > BUSY_DRIVER_PERCENT),
    media,
    ok: false,
  };
  report.ok = report.joins.failed === 0 && received === expected && report.droppedDuringRun === 0;
  return report;
}

const show = (v: number | null, unit = '') => (v === null ? '-' : `${v}${unit}`);

/** The report as text for a terminal. */
export function reportText(r: LoadtestReport): string {
  const lines = [
    `Load test of ${r.url}: ${r.rooms} room(s) x ${r.participantsPerRoom} participants (${r.publishersPerRoom} publishing per room), measured ${r.seconds} s`,
    '',
    `Joins:        ${r.joins.joined} of ${r.joins.attempted}; time to media p50 ${show(r.joins.p50Ms, ' ms')}, p95 ${show(r.joins.p95Ms, ' ms')}, max ${show(r.joins.maxMs, ' ms')}`,
  ];
  for (const [error, n] of Object.entries(r.joinErrors)) lines.push(`  failed (${n}): ${error}`);
  if (Object.keys(r.joinErrors).some((e) => /too many|limit|rate/i.test(e))) {
    lines.push('  (the server caps what one address may open: raise maxConnectionsPerAddress, maxParticipantsPerAddress and');
    lines.push('   maxRoomsPerAddressPerMinute on it for the test, or run the load tester from several machines)');
  }
  lines.push(
    `Tracks:       ${r.tracks.received} of ${r.tracks.expected} received${r.tracks.clientsMissingTracks ? ` (${r.tracks.clientsMissingTracks} participant(s) missing some)` : ''}`,
    `Loss:         ${show(r.lossPercent, ' %')}`,
    `Delay:        p50 ${show(r.delayMs.p50, ' ms')}, p95 ${show(r.delayMs.p95, ' ms')}, p99 ${show(r.delayMs.p99, ' ms')} (sender to receiver, through the server)`,
    `Bitrate:      received ${show(r.bitrateKbps.receivedPerClient, ' kbit/s')} per participant, sent ${show(r.bitrateKbps.sentPerPublisher, ' kbit/s')} per publisher; server out ${r.bitrateKbps.receivedTotal} kbit/s, in ${r.bitrateKbps.sentTotal} kbit/s`,
    `Video layers: ${r.videoLayers[0]} x 320, ${r.videoLayers[1]} x 640, ${r.videoLayers[2]} x 1280 wide (received streams)`,
  );
  if (r.droppedDuringRun) lines.push(`Dropped:      ${r.droppedDuringRun} participant(s) lost their connection during the run`);
  lines.push(`Load tester:  ${r.driverCpuPercent.length} process(es) at ${r.driverCpuPercent.map((p) => `${p} %`).join(', ')} of a core; media ${r.media === 'ffmpeg' ? 'encoded by ffmpeg' : 'generated payloads (no ffmpeg)'}`);
  if (r.driverBusy) lines.push('  WARNING: a load tester process was short of CPU, so these figures may describe it, not the server: use more --processes or machines');
  lines.push('', r.ok ? 'Result: every participant joined and received every track.' : 'Result: NOT every participant joined and received every track (see above).');
  return lines.join('\n') + '\n';
}
