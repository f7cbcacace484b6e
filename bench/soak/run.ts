// `npm run soak -- --minutes 60` (./scripts/soak): the whole server (`tertulia start`, every part, default
// settings) runs one meeting for that long: two headless Chromium participants stay throughout, synthetic
// participants (src/loadtest/meeting-client.ts: the real WebSocket, ICE, DTLS, SRTP) join and leave every few
// seconds, and one more synthetic participant runs in a network namespace of its own whose link is cut,
// rate-limited and made lossy, late, reordering and duplicating (network-faults.ts: tc netem where the kernel
// has it, else lossy-relay.ts on its media); it joins again whenever the server dropped it.
// It reads the server's resource counts (its resourcesPort) when idle, every report interval and after
// everyone left, and exits 1 when the server crashed or did not come back to idle within BOUNDS.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { MeetingClient } from '../../src/loadtest/meeting-client.ts';
import { loadMedia } from '../../src/loadtest/media.ts';
import { joinThroughUi, launchBrowser, newParticipant, type Participant } from '../../test/helpers/browser.ts';
import { freeTcpPort } from '../../test/helpers/ports.ts';
import { differencesFromIdle, handleTotal, MiB, readResources, settleToIdle, summary, type Counts, type LeakBounds } from '../../test/helpers/resource-counts.ts';
import { startServer, type RunningServer } from '../../test/helpers/server.ts';
import { startLossyRelay, type LossyRelay } from './lossy-relay.ts';
import { FAULTS, createFaultyLink, faultsUnavailable, type FaultyLink } from './network-faults.ts';

const USAGE = `usage: npm run soak -- [options]
  --minutes N          how long the meeting runs (default 60; 0.5 is half a minute)
  --browsers N         headless Chromium participants that stay throughout (default 2, at most 2)
  --synthetic N        synthetic participants joining and leaving every few seconds (default 3)
  --no-faults          no network faults (no namespace either, so no root needed)
  --report-seconds N   interval of the periodic report (default 60, shorter for short runs)
  --fault-seconds N    how long each loss/delay/rate fault lasts, the clean link after it half that (default 20)
  --json FILE          also save the figures as JSON`;

/** What "back to idle" allows after everyone left (test/helpers/resource-counts.ts says what is exact). */
export const BOUNDS: LeakBounds = { fds: 8, heapBytes: 64 * MiB, rssBytes: 512 * MiB };
const ROOM = 'Soak';
const ROOT = path.join(import.meta.dirname, '..', '..');
/** A synthetic participant stays 3 to 12 s, then is away 1 to 3 s; one leave in five drops the connection without a goodbye. */
const STAY_MS: [number, number] = [3000, 12_000];
const AWAY_MS: [number, number] = [1000, 3000];

function options() {
  try {
    return parseArgs({
      options: {
        help: { type: 'boolean', default: false },
        minutes: { type: 'string', default: '60' },
        browsers: { type: 'string', default: '2' },
        synthetic: { type: 'string', default: '3' },
        'no-faults': { type: 'boolean', default: false },
        'report-seconds': { type: 'string' },
        'fault-seconds': { type: 'string', default: '20' },
        json: { type: 'string' },
      },
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const o = options();
if (o.help) {
  console.log(USAGE);
  process.exit(0);
}
const minutes = Number(o.minutes);
const browserCount = Number(o.browsers);
const syntheticCount = Number(o.synthetic);
if (!(minutes > 0) || !(browserCount >= 0 && browserCount <= 2) || !(syntheticCount >= 0)) {
  console.error(`bad --minutes, --browsers (0..2) or --synthetic\n${USAGE}`);
  process.exit(2);
}
const durationMs = minutes * 60_000;
const reportMs = o['report-seconds'] ? Number(o['report-seconds']) * 1000 : Math.min(60_000, Math.max(10_000, durationMs / 4));
const withFaults = !o['no-faults'];
/** An impairment or rate limit lasts FAULT_MS, then the link is clean for half that (cuts last what FAULTS says). */
const FAULT_MS = Number(o['fault-seconds']) * 1000;
const CLEAN_MS = FAULT_MS / 2;
if (!(FAULT_MS > 0)) {
  console.error(`bad --fault-seconds\n${USAGE}`);
  process.exit(2);
}
if (withFaults) {
  const why = faultsUnavailable();
  if (why) {
    console.error(`soak: network faults ${why}; run as root, or with --no-faults`);
    process.exit(2);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const between = ([lo, hi]: [number, number]) => lo + Math.random() * (hi - lo);
const t0 = Date.now();
const clock = () => {
  const s = Math.round((Date.now() - t0) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const say = (line: string) => console.log(`[${clock()}] ${line}`);

const stats = {
  joins: 0,
  leaves: 0,
  joinFailures: 0,
  /** Of the leaves, the ones without a goodbye (connection dropped). */
  abruptLeaves: 0,
  roamingJoins: 0,
  roamingDrops: 0,
  roamingJoinFailures: 0,
  faults: {} as Record<string, number>,
  /** RTP packets the synthetic participants received (the meeting carried media). */
  syntheticRtpReceived: 0,
};

let server: RunningServer | undefined;
let link: FaultyLink | undefined;
let relay: LossyRelay | undefined;
let roaming: ChildProcess | undefined;
const browsers: Browser[] = [];
let ending = false;
let interrupted = false;

// the namespace and its qdiscs go whatever way the process ends
process.on('exit', () => link?.destroy());
const onSignal = (sig: string) => {
  if (interrupted) {
    link?.destroy();
    roaming?.kill('SIGKILL');
    server?.process.kill('SIGKILL');
    process.exit(130);
  }
  interrupted = true;
  ending = true;
  say(`${sig}: ending the soak (again to stop at once)`);
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

/** Sleeps until `ms` passed or the soak is ending. */
async function wait(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ending && Date.now() < end) await sleep(Math.min(250, end - Date.now()));
}

async function churn(slot: number, media: ReturnType<typeof loadMedia>, httpsPort: number): Promise<void> {
  for (let n = 0; !ending; n++) {
    const c = new MeetingClient({ host: '127.0.0.1', httpsPort, room: ROOM, name: `Synthetic ${slot}.${n}`, index: slot * 100 + (n % 100), media, videoFps: 10 });
    try {
      await c.join();
      stats.joins++;
    } catch (e) {
      stats.joinFailures++;
      if (stats.joinFailures <= 5) say(`a synthetic join failed: ${(e as Error).message.slice(0, 160)}`);
      await c.leave(true);
      await wait(between(AWAY_MS));
      continue;
    }
    await wait(between(STAY_MS));
    const abrupt = Math.random() < 0.2;
    stats.syntheticRtpReceived += c.received;
    await c.leave(abrupt);
    stats.leaves++;
    if (abrupt) stats.abruptLeaves++;
    await wait(between(AWAY_MS));
  }
}

async function faults(l: FaultyLink, relay: LossyRelay): Promise<void> {
  for (let i = 0; !ending; i++) {
    const f = FAULTS[i % FAULTS.length]!;
    stats.faults[f.name] = (stats.faults[f.name] ?? 0) + 1;
    if (f.cutMs !== undefined) {
      l.cut();
      await wait(f.cutMs);
      l.restore();
    } else {
      if (f.impairment && l.hasNetem) l.impair(f.impairment);
      else if (f.impairment) relay.set(f.impairment);
      if (f.rateKbit) l.limit(f.rateKbit);
      await wait(FAULT_MS);
      relay.set(null);
      l.clear();
    }
    await wait(CLEAN_MS);
  }
  relay.set(null);
  l.clear();
}

function startRoaming(l: FaultyLink, httpsPort: number, relayPort: number): ChildProcess {
  const child = spawn(
    'ip',
    [
      'netns', 'exec', l.ns, process.execPath, '--disable-warning=ExperimentalWarning', 'src/loadtest/meeting-client-process.ts',
      '--host', l.hostAddress, '--https-port', String(httpsPort), '--room', ROOM, '--name', 'Roaming',
      '--media-target', `${l.hostAddress}:${relayPort}`,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let inMeeting = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let e: { event?: string; error?: string };
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    // a leave is counted once per join: dropped by the server, or told to stop while in the meeting
    if (e.event === 'joined') {
      stats.roamingJoins++;
      stats.joins++;
      inMeeting = true;
    } else if (e.event === 'closed' && inMeeting) {
      stats.roamingDrops++;
      stats.leaves++;
      inMeeting = false;
    } else if (e.event === 'left' && inMeeting) {
      stats.leaves++;
      inMeeting = false;
    }
    else if (e.event === 'join-failed') stats.roamingJoinFailures++;
  });
  return child;
}

interface Sample {
  at: string;
  counts: Counts;
}
const samples: Sample[] = [];

function record(label: string, counts: Counts): void {
  samples.push({ at: label, counts });
  const faultCount = Object.values(stats.faults).reduce((a, b) => a + b, 0);
  say(`${label}: ${summary(counts)} | joins ${stats.joins}, leaves ${stats.leaves}, faults ${faultCount}`);
}

async function main(): Promise<number> {
  const resourcesPort = await freeTcpPort();
  say(`starting the server (resource counts on 127.0.0.1:${resourcesPort})`);
  server = await startServer({ TERTULIA_RESOURCES_PORT: String(resourcesPort) });
  const srv = server;
  let idle = await readResources(resourcesPort);
  idle = (await settleToIdle(resourcesPort, idle, { fds: 0, heapBytes: 64 * MiB, rssBytes: 1024 * MiB }, 10)).counts;
  record('idle', idle);
  const media = loadMedia();

  // the meeting: browsers first (they stay), then the roaming participant, the faults and the churn
  const people: Participant[] = [];
  for (let i = 0; i < browserCount && !ending; i++) {
    const b = await launchBrowser();
    browsers.push(b);
    const p = await newParticipant(b, ['Ana', 'Ben'][i]!);
    await joinThroughUi(p, srv.baseUrl, ROOM);
    people.push(p);
    stats.joins++;
    say(`${p.name} (Chromium) joined`);
  }
  if (withFaults && !ending) {
    link = createFaultyLink();
    relay = await startLossyRelay({ address: link.hostAddress, target: { address: '127.0.0.1', port: srv.mediaPort } });
    roaming = startRoaming(link, srv.httpsPort, relay.port);
    say(`the roaming participant runs in namespace ${link.ns} (${link.clientAddress}), reaching the server at ${link.hostAddress}; ` + (link.hasNetem ? 'faults by tc netem' : 'no netem in this kernel: loss, delay, reordering by the relay its media goes through'));
  }
  const runs: Promise<void>[] = [];
  for (let s = 0; s < syntheticCount; s++) runs.push(churn(s, media, srv.httpsPort));
  if (link && relay) runs.push(faults(link, relay));

  let crashed = false;
  const end = t0 + durationMs;
  while (!ending && Date.now() < end) {
    await wait(Math.min(reportMs, end - Date.now()));
    if (!srv.alive()) {
      crashed = true;
      break;
    }
    if (!ending) record(clock(), await readResources(resourcesPort));
  }
  ending = true;
  say('ending: everyone leaves');
  await Promise.all(runs);
  if (roaming && roaming.exitCode === null) {
    // 'close', not 'exit': its last line (its leave) may still be in the pipe when it exits
    const exited = new Promise((r) => roaming!.once('close', r));
    roaming.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
  }
  link?.clear();
  await relay?.close();
  for (const p of people) {
    try {
      await p.page.getByRole('button', { name: 'Leave meeting' }).click({ timeout: 5000 });
    } catch {
      // the page is stuck or gone: closing the browser ends its connection, a leave all the same
    }
    stats.leaves++;
  }
  for (const b of browsers) await b.close().catch(() => {});
  crashed ||= !srv.alive();

  let differences: string[] = [];
  let final = idle;
  if (!crashed) {
    ({ counts: final, differences } = await settleToIdle(resourcesPort, idle, BOUNDS, 120));
    record('after everyone left', final);
    crashed = !srv.alive();
  }
  const errorLines = srv.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
  await srv.stop();
  link?.destroy();

  const faultCount = Object.values(stats.faults).reduce((a, b) => a + b, 0);
  const ranMin = (Date.now() - t0) / 60_000;
  const peak = samples.reduce((m, s) => Math.max(m, s.counts['process.rss'] ?? 0), 0);
  console.log('');
  console.log(`soak: ${ranMin.toFixed(1)} minutes${interrupted ? ' (interrupted)' : ''}, ${browserCount} Chromium + ${syntheticCount} churning synthetic + ${link ? 1 : 0} roaming participants`);
  console.log(`  joins ${stats.joins}, leaves ${stats.leaves} (${stats.abruptLeaves} without a goodbye), failed synthetic joins ${stats.joinFailures}`);
  console.log(`  roaming participant: ${stats.roamingJoins} joins, ${stats.roamingDrops} dropped by the server after a cut, ${stats.roamingJoinFailures} failed joins`);
  if (relay) console.log(`  roaming media through the relay: ${relay.counts.relayed} datagrams relayed, ${relay.counts.dropped} dropped, ${relay.counts.reordered} reordered, ${relay.counts.duplicated} duplicated`);
  console.log(`  faults injected: ${faultCount}${faultCount ? ` (${Object.entries(stats.faults).map(([k, v]) => `${k} x${v}`).join('; ')})` : ''}`);
  console.log(`  RTP packets received by the churning synthetic participants: ${stats.syntheticRtpReceived}`);
  console.log(`  idle:  ${summary(idle)}`);
  console.log(`  end:   ${summary(final)}`);
  console.log(`  peak RSS ${(peak / MiB).toFixed(1)} MiB; handles idle ${handleTotal(idle)}, end ${handleTotal(final)}; server error lines ${errorLines.length}`);
  console.log(`  bounds after everyone left: parts' counts and handles exactly idle, fds +${BOUNDS.fds}, heap after GC +${BOUNDS.heapBytes / MiB} MiB, RSS +${BOUNDS.rssBytes / MiB} MiB`);
  if (o.json) {
    writeFileSync(o.json, JSON.stringify({ minutes: ranMin, browsers: browserCount, synthetic: syntheticCount, stats, idle, final, differences, crashed, errorLines: errorLines.length, samples }, null, 2));
  }
  if (crashed) {
    console.log(`FAIL: the server crashed:\n${srv.output().slice(-4000)}`);
    return 1;
  }
  if (differences.length > 0) {
    console.log(`FAIL: not back to idle:\n  ${differences.join('\n  ')}`);
    return 1;
  }
  if (stats.joins === 0 || (syntheticCount > 0 && stats.syntheticRtpReceived === 0)) {
    console.log('FAIL: the meeting did not run (no join, or no media reached the synthetic participants)');
    return 1;
  }
  console.log(`PASS: no crash; back to idle (${differencesFromIdle(idle, final, BOUNDS).length} differences)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (e: Error) => {
    console.error(`soak: ${e.stack ?? e.message}`);
    ending = true;
    roaming?.kill('SIGKILL');
    for (const b of browsers) await b.close().catch(() => {});
    await server?.stop().catch(() => {});
    link?.destroy();
    process.exit(1);
  },
);
