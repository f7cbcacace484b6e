// `npm run bench -- janus` (bench/janus/run.ts): Tertulia and Janus 1.1.2 side by side (issue 16), with the same
// headless Chromium clients and the same fake camera (1280x720, 30 fps, rid simulcast in three layers with the web
// app's bitrate caps), one server after the other, alternated for --rounds (the order flips every round). Scenarios:
// "1->6" (one publisher, six receivers that show it large) and "meeting-3" (three people, each sending and receiving
// the other two). Tertulia runs as `tertulia start` in a child process and its pages join through the real web app;
// Janus runs with a generated configuration (janus-server.ts) and its pages speak Janus's HTTP API (janus-client.ts),
// receiving `substream` 2. A receiver's join counts from its click on Join (Tertulia) or its subscribe request
// (Janus). Every page's getStats is read once a second; --settle seconds after the last join (or at once, when
// that join took longer) the window of --seconds is measured (window-figures.ts says how each figure is made).
// Several settles (--settle 30,150) measure several windows of the same meeting: how the cost moves as it goes on
// (a Node server's first minute carries one-time work, its compilers' and the collection of the joins' garbage).
import { parseArgs } from 'node:util';
import os from 'node:os';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, sleep } from '../../test/helpers/browser.ts';
import { startServer } from '../../test/helpers/server.ts';
import { pidTreeCpuSeconds, pidTreeThreadCpu, rssBytes, type ThreadCpu } from '../process-cpu.ts';
import { fmt, median, table } from '../stats.ts';
import { startJanus, JANUS_ROOM } from './janus-server.ts';
import { audioFigures, pcapDatagrams, startCapture, udpPortsOf, type AudioFigures } from './audio-capture.ts';
import { installJanusClient, type JanusPageApi, type JanusTiles } from './janus-client.ts';
import { readPageStats, type PageKind } from './page-stats.ts';
import { describeLayers, describeTo1280, windowFigures, type PageSamples, type WindowFigures } from './window-figures.ts';

const USAGE = `usage: npm run bench -- janus [options]
  --rounds N               rounds; each runs every scenario on both servers, the order flipping per round (default 2)
  --seconds N              measuring window (default 20)
  --settle N[,N...]        seconds from the last join before the window (default 5); several: a window at each,
                           in the same meeting (e.g. 30,150: early and steady)
  --scenario NAME          only this scenario (repeatable): 1->6, meeting-3
  --server NAME            only this server (repeatable): tertulia, janus
  --janus-event-loops N    Janus's event_loops (default: its own default, a loop per handle)
  --janus-bitrate BPS      the Janus room's bitrate: the REMB it sends publishers, ramped over their first four
                           video packets (default 4000000; 0: no REMB, their own estimate alone)
  --env JSON               extra environment for the Tertulia server, e.g. '{"TERTULIA_MEDIA_WORKERS":"1"}'
  --threads                also say which threads of the server used the CPU in each window (name, thread id)
  --capture                also record the window's UDP with tcpdump (root) and read the audio on the wire: the
                           senders' and the receivers' arrival jitter, and how long the server held each packet
  --json FILE              save every run's figures
  --samples                with --json: also every page's once-a-second stats (each video's width, the layers sent)
  --chrome-log PREFIX      Chromium's own log, WebRTC's congestion control and probing included (--vmodule
                           */webrtc/*=1), to PREFIX-<round>-<scenario>-<server>-<browser>.log
  --server-log PREFIX      write each Tertulia run's log to PREFIX-<round>-<scenario>.log (with --env's
                           TERTULIA_LOG_LEVEL=debug: every layer target the bridge set, with its estimate)`;

function options() {
  try {
    return parseArgs({
      options: {
        help: { type: 'boolean', default: false },
        rounds: { type: 'string', default: '2' },
        seconds: { type: 'string', default: '20' },
        settle: { type: 'string', default: '5' },
        scenario: { type: 'string', multiple: true },
        server: { type: 'string', multiple: true },
        'janus-event-loops': { type: 'string', default: '0' },
        'janus-bitrate': { type: 'string' },
        env: { type: 'string', default: '{}' },
        json: { type: 'string' },
        threads: { type: 'boolean', default: false },
        capture: { type: 'boolean', default: false },
        samples: { type: 'boolean', default: false },
        'server-log': { type: 'string' },
        'chrome-log': { type: 'string' },
      },
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

interface Person {
  name: string;
  sends: boolean;
}

interface Scenario {
  name: string;
  people: Person[];
  /** What a Janus page draws: the sizes the Tertulia app draws in this scenario at VIEWPORT (read in each run's
   * "drawn" figures), so that the browsers' rendering loads the shared machine alike for both servers. */
  janusTiles: JanusTiles;
}

/** Both servers' pages: large enough that Tertulia's bridge picks the 1280 layer (it takes the smallest layer at
 * least 0.9 x the tile): in a meeting of three, tiles of about 830 px (at 1600x900 they are 675, and get 640). */
const VIEWPORT = { width: 1920, height: 1080 };

const SCENARIOS: Scenario[] = [
  {
    name: '1->6',
    people: [{ name: 'Pub', sends: true }, ...[1, 2, 3, 4, 5, 6].map((i) => ({ name: `Sub${i}`, sends: false }))],
    // receivers pin the publisher in speaker view; the publisher sees its own camera alone
    janusTiles: { remote: { width: 1477, height: 830 }, self: { width: 541, height: 304 } },
  },
  {
    name: 'meeting-3',
    people: ['Ana', 'Ben', 'Cai'].map((name) => ({ name, sends: true })),
    // a grid of three: the two others and oneself
    janusTiles: { remote: { width: 830, height: 467 }, self: { width: 830, height: 467 } },
  },
];
const SERVERS: PageKind[] = ['tertulia', 'janus'];

interface RunResult {
  round: number;
  scenario: string;
  server: PageKind;
  figures: WindowFigures;
  /** Seconds from the last join to the window's end: "never" in time to 1280 means not within this. */
  runSeconds: number;
  /** The --settle this window was asked at. */
  settle: number;
  /** Seconds from the last join to the window's start (later than the settle when the joins took longer). */
  windowStart: number;
  rssMiB: number;
  load: number[];
  /** CPU of the browsers and this process in the window, share of one core: the clients' load on the machine. */
  clientsCpuShare: number;
  /** With --capture: the audio on the wire in the window (audio-capture.ts). */
  audio?: AudioFigures;
  /** With --threads: the threads that used the CPU in the window, busiest first (share: of one core). */
  threads?: ThreadShare[];
  /** With --samples, on a meeting's last window: every page's stats, once a second from its join. */
  samples?: PageSamples[];
}

const v = options();
if (v.help) {
  console.log(USAGE);
  process.exit(0);
}
const rounds = Number(v.rounds);
const seconds = Number(v.seconds);
const settles = v.settle!.split(',').map(Number);
const eventLoops = Number(v['janus-event-loops']);
const janusBitrate = v['janus-bitrate'] === undefined ? undefined : Number(v['janus-bitrate']);
const tertuliaEnv = JSON.parse(v.env!) as Record<string, string>;
const scenarios = v.scenario?.length ? v.scenario.map((n) => SCENARIOS.find((s) => s.name === n) ?? fail(`unknown scenario ${n}`)) : SCENARIOS;
const servers = v.server?.length ? v.server.map((n) => SERVERS.find((s) => s === n) ?? fail(`unknown server ${n}`)) : SERVERS;
if (!(rounds >= 1 && seconds >= 1)) fail('--rounds and --seconds must be at least 1');
if (janusBitrate !== undefined && !(janusBitrate >= 0)) fail('--janus-bitrate wants bit/s, 0 or more');
if (!settles.every((x, i) => x >= 0 && (i === 0 || x >= settles[i - 1]! + seconds))) {
  fail(`--settle wants seconds (0 or more), each at least --seconds (${seconds}) after the one before, not ${v.settle}`);
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

/** Reads every page's stats once a second, from the first join on, into its PageSamples. */
class Sampler {
  readonly pages: { page: Page; samples: PageSamples }[] = [];
  #stopped = false;
  #loop: Promise<void> | null = null;
  readonly kind: PageKind;
  constructor(kind: PageKind) {
    this.kind = kind;
  }
  add(page: Page, name: string, since: number): PageSamples {
    const samples: PageSamples = { name, since, samples: [] };
    this.pages.push({ page, samples });
    this.#loop ??= this.#run();
    return samples;
  }
  async sampleAll(): Promise<void> {
    await Promise.all(
      this.pages.map(async (p) => {
        const s = await p.page.evaluate(readPageStats, this.kind).catch(() => null);
        if (s) p.samples.samples.push(s);
      }),
    );
  }
  async #run(): Promise<void> {
    while (!this.#stopped) {
      const next = Date.now() + 1000;
      await this.sampleAll();
      await sleep(Math.max(0, next - Date.now()));
    }
  }
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}

async function newPage(browser: Browser, viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US', viewport });
  // a machine shared with other work loads pages slowly: more time than the tests' defaults
  context.setDefaultTimeout(90_000);
  context.setDefaultNavigationTimeout(90_000);
  return await context.newPage();
}

/** Joins everyone to a Tertulia server through its web app; receivers of 1->6 pin the publisher in speaker view. */
async function joinTertulia(baseUrl: string, s: Scenario, browsers: Browser[], sampler: Sampler): Promise<PageSamples[]> {
  const joined: PageSamples[] = [];
  const sender = s.people.find((p) => p.sends)!;
  for (const [i, person] of s.people.entries()) {
    const page = await newPage(browsers[i === 0 ? 0 : 1], VIEWPORT);
    // the pre-join page as joinThroughUi fills it; the join counts from the click on Join (as Janus's from the
    // subscribe request), not from loading the app
    await page.goto(`${baseUrl}/bench-${s.name.replace(/\W+/g, '-')}#config.resolution=720`);
    await page.getByRole('textbox', { name: 'Your name' }).fill(person.name);
    if (!person.sends) {
      await page.getByRole('button', { name: 'Mute microphone' }).click();
      await page.getByRole('button', { name: 'Stop camera' }).click();
    }
    const since = Date.now();
    await page.getByRole('button', { name: 'Join meeting' }).click();
    await page.getByRole('group', { name: `${person.name} (you)` }).waitFor();
    if (!person.sends) {
      await page.getByRole('button', { name: 'Speaker view' }).click();
      await page.getByRole('group', { name: sender.name, exact: true }).getByRole('button', { name: 'Pin' }).click();
    }
    joined.push(sampler.add(page, person.name, since));
  }
  return joined;
}

/** Publishes every sender to Janus, then subscribes every receiver to the others' feeds (substream 2). */
async function joinJanus(baseUrl: string, s: Scenario, browsers: Browser[], sampler: Sampler): Promise<PageSamples[]> {
  const pages: { page: Page; person: Person; feed: number }[] = [];
  for (const [i, person] of s.people.entries()) {
    const page = await newPage(browsers[i === 0 ? 0 : 1], VIEWPORT);
    await page.route(`${baseUrl}/bench.html`, (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>janus bench</title><body></body>' }));
    await page.goto(`${baseUrl}/bench.html`);
    await page.evaluate(installJanusClient, s.janusTiles);
    const feed = person.sends ? await page.evaluate(([room, name]) => ((window as any).__janus as JanusPageApi).publish(room, name), [JANUS_ROOM, person.name] as const) : 0;
    pages.push({ page, person, feed });
  }
  const joined: PageSamples[] = [];
  for (const p of pages) {
    const feeds = pages.filter((o) => o !== p && o.person.sends).map((o) => o.feed);
    const since = Date.now();
    if (feeds.length > 0) await p.page.evaluate(([room, f]) => ((window as any).__janus as JanusPageApi).subscribe(room, f, 2), [JANUS_ROOM, feeds] as const);
    joined.push(sampler.add(p.page, p.person.name, since));
  }
  return joined;
}

async function runOnce(round: number, s: Scenario, kind: PageKind): Promise<RunResult[]> {
  // each server in a session of its own (setsid), as a service runs: the kernel's autogroup scheduling then
  // shares the CPU between it and the benchmark's own process (Playwright, the sampling) as between services,
  // instead of both drawing on one group's share
  const server = kind === 'tertulia' ? await startServer(tertuliaEnv, { wrap: () => ['setsid'] }) : await startJanus({ eventLoops, ownSession: true, roomBitrate: janusBitrate });
  const pid = 'pid' in server ? server.pid : server.process.pid!;
  const browsers = [await launchLogged(round, s, kind, 0), await launchLogged(round, s, kind, 1)];
  const sampler = new Sampler(kind);
  try {
    const pages = kind === 'tertulia' ? await joinTertulia(server.baseUrl, s, browsers, sampler) : await joinJanus(server.baseUrl, s, browsers, sampler);
    // in a meeting everyone's video counts from the last join (there is nothing to receive before)
    const lastJoin = Math.max(...pages.map((p) => p.since));
    if (s.people.every((p) => p.sends)) for (const p of pages) p.since = lastJoin;
    const out: RunResult[] = [];
    for (const [i, settle] of settles.entries()) {
      await sleep(Math.max(0, lastJoin + settle * 1000 - Date.now()));
      const window = { start: Date.now(), end: 0 };
      const cpu = { start: pidTreeCpuSeconds(pid), end: 0 };
      // the browsers (and this process): the clients' load on the machine, the same for both servers or not
      const clientsAtStart = pidTreeCpuSeconds(process.pid) - cpu.start;
      const threadsAtStart = v.threads ? pidTreeThreadCpu(pid) : null;
      const capture = v.capture ? await startCapture() : null;
      await sleep(seconds * 1000);
      // the server's ports while it still runs; the capture read once the window's figures are taken
      const captured = capture === null ? null : { ports: udpPortsOf(pid), pcap: await capture.stop() };
      const last = i === settles.length - 1;
      if (last) await sampler.stop();
      await sampler.sampleAll(); // the window's last sample
      window.end = Date.now();
      cpu.end = pidTreeCpuSeconds(pid);
      const clientsCpu = pidTreeCpuSeconds(process.pid) - cpu.end - clientsAtStart;
      const audio = captured === null ? undefined : audioFigures(pcapDatagrams(captured.pcap), captured.ports);
      const threads = threadsAtStart ? threadShares(threadsAtStart, pidTreeThreadCpu(pid), (window.end - window.start) / 1000) : undefined;
      const figures = windowFigures(pages, window, cpu);
      const r: RunResult = {
        round,
        scenario: s.name,
        server: kind,
        figures,
        runSeconds: Math.round((window.end - lastJoin) / 1000),
        settle,
        windowStart: Math.round((window.start - lastJoin) / 1000),
        rssMiB: rssBytes(pid) / 2 ** 20,
        load: os.loadavg(),
        clientsCpuShare: clientsCpu / ((window.end - window.start) / 1000),
        ...(audio ? { audio } : {}),
        ...(threads ? { threads } : {}),
        ...(v.samples && last ? { samples: pages } : {}),
      };
      console.log(`  ${summaryLine(r)}`);
      if (audio) console.log(`    ${audioLine(audio)}`);
      if (threads) console.log(`    threads: ${threads.map((t) => `${t.name}#${t.tid} ${fmt(t.share * 100, 2)}% (${fmt(t.wakeUps, 0)} wake-ups/s)`).join(', ')}`);
      out.push(r);
    }
    return out;
  } finally {
    await sampler.stop();
    for (const b of browsers) await b.close().catch(() => undefined);
    await server.stop();
    if (v['server-log'] && kind === 'tertulia' && 'output' in server) writeFileSync(`${v['server-log']}-${round}-${s.name.replace(/\W+/g, '-')}.log`, server.output());
  }
}

/**
 * A browser; with --chrome-log, one whose processes' log (WebRTC's included: its renderers log to stderr only, not
 * to --log-file) goes to a file of its own, through a launcher script that redirects Chromium's stderr.
 */
async function launchLogged(round: number, s: Scenario, kind: PageKind, i: number): Promise<Browser> {
  const prefix = v['chrome-log'];
  if (!prefix) return await launchBrowser();
  const file = path.resolve(`${prefix}-${round}-${s.name.replace(/\W+/g, '-')}-${kind}-${i}.log`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-chrome-log-'));
  const launcher = path.join(dir, 'chromium');
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  writeFileSync(launcher, `#!/bin/sh\nexec ${shellQuote(chromium)} "$@" 2>>${shellQuote(file)}\n`);
  chmodSync(launcher, 0o755);
  const browser = await launchBrowser(launcher, ['--enable-logging=stderr', '--vmodule=*/webrtc/*=1']);
  browser.on('disconnected', () => rmSync(dir, { recursive: true, force: true }));
  return browser;
}

/** s as one word for sh: single-quoted, its own single quotes closed and escaped. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A thread's CPU and wake-ups in a window. */
interface ThreadShare {
  name: string;
  tid: number;
  /** Of one core. */
  share: number;
  /** Wake-ups a second. */
  wakeUps: number;
}

/** Each thread's CPU in the window as a share of one core, busiest first; threads under 0.05 % left out. */
function threadShares(start: Map<number, ThreadCpu>, end: Map<number, ThreadCpu>, windowSeconds: number): ThreadShare[] {
  return [...end]
    .map(([tid, t]) => ({
      name: t.name,
      tid,
      share: (t.cpu - (start.get(tid)?.cpu ?? 0)) / windowSeconds,
      wakeUps: (t.wakeUps - (start.get(tid)?.wakeUps ?? 0)) / windowSeconds,
    }))
    .filter((t) => t.share >= 0.0005)
    .sort((a, b) => b.share - a.share);
}

function audioLine(a: AudioFigures): string {
  const held = a.heldMs === null ? 'not matched (the server renumbers audio)' : `${fmt(a.heldMs.p50, 2)} / ${fmt(a.heldMs.p99, 1)} / ${fmt(a.heldMs.max, 1)} ms (median / 99th / max)`;
  return `audio on the wire: ${a.packetsIn} packets in, ${a.packetsOut} out; arrival jitter (99th percentile) into the server ${fmt(a.sendersJitterP99Ms, 1)} ms, out of it ${fmt(a.receiversJitterP99Ms, 1)} ms; held in the server ${held}`;
}

function summaryLine(r: RunResult): string {
  const f = r.figures;
  const pub = f.senders.map((x) => `${x.name} ${fmt(x.estimateBps / 1e6, 2)} Mbit/s est. [${describeLayers(x.layersKbps)}]${x.limitation !== 'none' ? ` (${x.limitation})` : ''}`).join('; ');
  return (
    `round ${r.round} ${r.scenario} ${r.server}, from ${r.windowStart} s: ${fmt(f.cpuUsPerPacket)} µs/pkt (${fmt(f.packets / f.windowSeconds, 0)} pkt/s, CPU ${fmt(f.cpuShare * 100, 0)}%), ` +
    `1280 at ${describeTo1280(f.to1280, r.runSeconds)}, ${fmt(f.at1280Share * 100, 0)}% of window at 1280, jitter buffer ${fmt(f.jitterBufferMs, 0)} ms (network alone ${fmt(f.jitterBufferMinimumMs, 0)}; audio ${fmt(f.audioJitterBufferMs, 0)} ms, network alone ${fmt(f.audioJitterBufferMinimumMs, 0)}), ` +
    `freezes ${f.freezes} (${fmt(f.freezeSeconds, 1)} s), NACKs ${f.nacks}, lost ${f.lost}; ${pub}; load ${r.load.map((x) => x.toFixed(1)).join(' ')}; clients' CPU ${fmt(r.clientsCpuShare * 100, 0)}%; drawn: ${f.drawn.join('; ')}`
  );
}

function resultsTable(results: RunResult[]): string {
  return table(
    ['round', 'scenario', 'server', 'window from (s after the last join)', 'fwd video pkt/s', 'server CPU', 'CPU µs / fwd pkt', 'time to 1280 (median / slowest)', 'window at 1280', 'jitter buffer ms, video / audio (network alone)', 'freezes (s)', 'NACKs sent', "sender's estimate Mbit/s", "sender's layers kbit/s", 'server RSS MiB', 'load avg (1 min)', "clients' CPU (browsers)"],
    results.map((r) => {
      const f = r.figures;
      return [
        String(r.round),
        r.scenario,
        r.server,
        String(r.windowStart),
        fmt(f.packets / f.windowSeconds, 0),
        `${fmt(f.cpuShare * 100, 0)}%`,
        fmt(f.cpuUsPerPacket),
        describeTo1280(f.to1280, r.runSeconds),
        `${fmt(f.at1280Share * 100, 0)}%`,
        `${fmt(f.jitterBufferMs, 0)} (${fmt(f.jitterBufferMinimumMs, 0)}) / ${fmt(f.audioJitterBufferMs, 0)} (${fmt(f.audioJitterBufferMinimumMs, 0)})`,
        `${f.freezes} (${fmt(f.freezeSeconds, 1)})`,
        String(f.nacks),
        f.senders.map((x) => fmt(x.estimateBps / 1e6, 2)).join(', '),
        f.senders.map((x) => describeLayers(x.layersKbps) + (x.limitation !== 'none' ? ` (${x.limitation})` : '')).join('; '),
        fmt(r.rssMiB, 0),
        fmt(r.load[0], 1),
        `${fmt(r.clientsCpuShare * 100, 0)}%`,
      ];
    }),
  );
}

function medianTable(results: RunResult[]): string {
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const settle of settles) {
      const per = (kind: PageKind) => results.filter((r) => r.scenario === s.name && r.server === kind && r.settle === settle).map((r) => r.figures.cpuUsPerPacket);
      const t = per('tertulia');
      const j = per('janus');
      if (t.length === 0 || j.length === 0) continue;
      rows.push([s.name, String(settle), `${fmt(median(t))} (${t.map((x) => fmt(x, 0)).join(', ')})`, `${fmt(median(j))} (${j.map((x) => fmt(x, 0)).join(', ')})`, `${fmt(median(t) / median(j), 2)}×`]);
    }
  }
  return table(['scenario', '--settle (s)', 'Tertulia µs/pkt, median (each round)', 'Janus µs/pkt, median (each round)', 'Tertulia / Janus'], rows);
}

const results: RunResult[] = [];
console.log(`janus bench: ${os.availableParallelism()} × ${os.cpus()[0]?.model ?? '?'}; ${rounds} round(s), ${settles.join(', ')} s settle + ${seconds} s window; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (let round = 1; round <= rounds; round++) {
  const order = round % 2 === 1 ? servers : [...servers].reverse();
  for (const s of scenarios) {
    for (const kind of order) {
      // once more after a failure (on a loaded machine a page may not load in time); a second failure is reported
      for (let attempt = 1; attempt <= 2; attempt++) {
        try {
          results.push(...(await runOnce(round, s, kind)));
          break;
        } catch (e) {
          console.error(`  round ${round} ${s.name} ${kind}: attempt ${attempt} failed: ${(e as Error).stack ?? e}`);
          if (attempt === 2) process.exitCode = 1;
        }
      }
    }
  }
}
console.log(`\n${resultsTable(results)}\n`);
if (servers.length === 2) console.log(`${medianTable(results)}\n`);
if (v.json) writeFileSync(v.json, JSON.stringify({ command: process.argv.slice(2), date: new Date().toISOString(), results }, null, 2));
