// Reading a running server's resource counts (its `resourcesPort`, src/resources/resources-endpoint.ts) and
// comparing them with the idle ones: for the idle-resources test and the soak (bench/soak/).
// What "back to idle" means, count by count:
//   - what the parts hold (signal.*, focus.*, bridge.*, mediaWorkers.bridge.*): exactly the idle count
//     (0 for rooms, participants, sockets, endpoints, conferences; focus.bridges stays 1);
//   - handles by type (handles.*, mediaWorkers.handles.*): exactly the idle count (the one request reading
//     the counts is open both times);
//   - file descriptors: at most `fds` more than idle; heap used after a forced GC (the main thread's, and the
//     media workers' together): at most `heapBytes` more each;
//     RSS: at most `rssBytes` more (the allocator keeps memory it got, so RSS is a coarse bound only).

export type Counts = Record<string, number>;

export interface LeakBounds {
  fds: number;
  heapBytes: number;
  rssBytes: number;
}

export const MiB = 1024 * 1024;

/** GET /resources (after a forced GC when `gc`); the server closes the connection after answering. */
export async function readResources(port: number, gc = true): Promise<Counts> {
  const res = await fetch(`http://127.0.0.1:${port}/resources${gc ? '?gc=1' : ''}`);
  if (!res.ok) throw new Error(`GET /resources: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { gc: boolean; counts: Counts };
  if (gc && !body.gc) throw new Error('the server could not force a garbage collection');
  return body.counts;
}

const EXACT = /^(signal|focus|bridge|mediaWorkers\.bridge)\.|^(mediaWorkers\.)?handles\./;

/** What differs from idle beyond the bounds, one line each; empty when the server is back to idle. */
export function differencesFromIdle(idle: Counts, now: Counts, bounds: LeakBounds): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(idle), ...Object.keys(now)])) {
    if (!EXACT.test(key)) continue;
    const a = idle[key] ?? 0;
    const b = now[key] ?? 0;
    if (a !== b) out.push(`${key}: ${b} (idle ${a})`);
  }
  const over = (key: string, bound: number, unit = 1, label = '') => {
    const a = idle[key] ?? 0;
    const b = now[key] ?? 0;
    if (b > a + bound) out.push(`${key}: ${fmtCount(b, unit)}${label} (idle ${fmtCount(a, unit)}${label}, bound +${fmtCount(bound, unit)}${label})`);
  };
  over('process.fds', bounds.fds);
  over('process.heapUsed', bounds.heapBytes, MiB, ' MiB');
  over('mediaWorkers.heapUsed', bounds.heapBytes, MiB, ' MiB');
  over('process.rss', bounds.rssBytes, MiB, ' MiB');
  return out;
}

function fmtCount(n: number, unit: number): string {
  return unit === 1 ? String(n) : (n / unit).toFixed(1);
}

/** Sum of the handles by type (main thread and media workers). */
export function handleTotal(c: Counts): number {
  let n = 0;
  for (const [k, v] of Object.entries(c)) if (/^(mediaWorkers\.)?handles\./.test(k)) n += v;
  return n;
}

/** Bridge endpoints of the control thread (media workers each hold their own copy; they are checked apart). */
export function endpointsOf(c: Counts): number {
  return c['bridge.endpoints'] ?? 0;
}

/** One line: RSS, heap, fds, handles, endpoints, rooms, participants, WebSockets. */
export function summary(c: Counts): string {
  return (
    `rss ${fmtCount(c['process.rss'] ?? 0, MiB)} MiB, heap ${fmtCount(c['process.heapUsed'] ?? 0, MiB)} MiB ` +
    `(+ media workers ${fmtCount(c['mediaWorkers.heapUsed'] ?? 0, MiB)} MiB), ` +
    `fds ${c['process.fds']}, handles ${handleTotal(c)}, endpoints ${endpointsOf(c)}, rooms ${c['signal.rooms']}, ` +
    `participants ${c['signal.participants']}, websockets ${c['signal.sockets']}`
  );
}

/**
 * Reads the counts until they are back to idle (the server closes what a leave frees as the events reach it:
 * sockets, then endpoints), or `maxReads` reads `everyMs` apart went by; returns the last counts and what still
 * differs. Waiting is for the events to arrive, never a measure of speed.
 */
export async function settleToIdle(port: number, idle: Counts, bounds: LeakBounds, maxReads = 60, everyMs = 1000): Promise<{ counts: Counts; differences: string[] }> {
  let counts = await readResources(port);
  let differences = differencesFromIdle(idle, counts, bounds);
  for (let i = 1; i < maxReads && differences.length > 0; i++) {
    await new Promise((r) => setTimeout(r, everyMs));
    counts = await readResources(port);
    differences = differencesFromIdle(idle, counts, bounds);
  }
  return { counts, differences };
}
