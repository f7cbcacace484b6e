// `npm run bench` (or ./scripts/bench): drives a bridge in its own process with synthetic participants
// (real ICE, DTLS and SRTP; VP8 rid simulcast in three layers and Opus, made once with ffmpeg; receivers send
// transport-cc feedback and ask for 1280x720 tiles) and reports its cost per forwarded packet and which
// simulcast layer the receivers got. Options: USAGE below (`npm run bench -- --help`).
import { parseArgs } from 'node:util';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeLayers, loadMedia } from '../src/loadtest/media.ts';
import { EXTRA_SCENARIOS, SCENARIOS, SHORT_SCENARIOS } from './scenarios.ts';
import { LOSS_LIMIT, ScenarioRun, holds, layerShares, layerSummary, type Measurement, type ScenarioResult } from './scenario-run.ts';
import { fmt, table } from './stats.ts';
import { LATE_MS } from '../src/loadtest/send-schedule.ts';

const USAGE = `usage: npm run bench -- [options]
       npm run bench -- recording [options]   (recordings: bench/recording/cli.ts, --help there)
  --short                    CI sanity check: light load, exits 1 on loss >= 1% or any error
  --scenario NAME            only this scenario (repeatable): ${[...SCENARIOS, ...EXTRA_SCENARIOS].map((s) => s.name).join(', ')}
  --seconds N                measuring window per step
  --step-seconds N           window of each capacity-search step (default 3)
  --warm-up N                seconds of load before the first window (default 1; e.g. 20 to measure after the
                             JIT has optimized the media path, as in a server that has been running)
  --no-search                nominal load only, no capacity search
  --bridge-config JSON       extra bridge configuration, e.g. '{"mediaWorkers":1}'
  --drivers N                driver processes the synthetic participants are spread over (default: one per core)
  --write-doc                also rewrite a figures block of docs/BENCHMARKS.md
  --doc-section NAME         which block --write-doc replaces (default figures)
  --json FILE                save the results
  --doc-from FILE            write the doc block from a saved --json run instead of running`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        help: { type: 'boolean', default: false },
        short: { type: 'boolean', default: false },
        scenario: { type: 'string', multiple: true },
        seconds: { type: 'string' },
        'step-seconds': { type: 'string', default: '3' },
        'warm-up': { type: 'string', default: '1' },
        'no-search': { type: 'boolean', default: false },
        'write-doc': { type: 'boolean', default: false },
        'bridge-config': { type: 'string', default: '{}' },
        drivers: { type: 'string' },
        json: { type: 'string' },
        'doc-section': { type: 'string', default: 'figures' },
        'doc-from': { type: 'string' },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const { values } = parseOptions();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const DRIVERS = values.drivers === undefined ? os.availableParallelism() : Number(values.drivers);
if (!Number.isInteger(DRIVERS) || DRIVERS < 1 || DRIVERS > 64) {
  console.error(`--drivers: a whole number from 1 to 64\n${USAGE}`);
  process.exit(2);
}

const DOC = path.join(import.meta.dirname, '..', 'docs', 'BENCHMARKS.md');
const BEGIN = `<!-- bench:${values['doc-section']}:begin -->`;
const END = `<!-- bench:${values['doc-section']}:end -->`;

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  let model = cpu;
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    // not Linux
  }
  return `${os.availableParallelism()} × ${model}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

const mb = (bytes: number) => bytes / 2 ** 20;

function resultTable(results: ScenarioResult[]): string {
  return table(
    ['scenario', 'participants', 'fwd pkt/s', 'fwd Mbit/s', 'bridge CPU µs/pkt', 'of the bridge RTP out: probes', 'bridge CPU (1 core = 100%)', 'loss', 'delay p50 / p99 ms', 'bridge MiB per participant', "receivers' cameras by layer", 'highest load < 1% loss'],
    results.map((r) => {
      const m = r.nominal;
      const cap = r.capacity;
      return [
        r.scenario.name,
        String(r.participants),
        fmt(m.fwdPps, 0),
        fmt(m.fwdMbps),
        fmt(m.cpuPerPacketUs),
        `${fmt(((m.probePackets ?? 0) / m.bridgeRtpOutWindow) * 100)}%`,
        `${fmt(m.bridgeCpu * 100, 0)}%`,
        `${fmt(m.loss * 100, 2)}%`,
        `${fmt(m.delayP50Us / 1000, 2)} / ${fmt(m.delayP99Us / 1000, 2)}`,
        fmt(mb(r.memPerParticipant), 2),
        layerSummary(m.layers) || '–',
        cap === null
          ? 'below x1'
          : `x${cap.load}: ${fmt(cap.fwdPps, 0)} pkt/s, ${fmt(cap.fwdMbps)} Mbit/s${limitedAbove(r) ? ' (driver-limited)' : ''}`,
      ];
    }),
  );
}

/** The capacity search stopped on a driver-limited step (or the capacity step was one): the bridge may hold more. */
function limitedAbove(r: ScenarioResult): boolean {
  const cap = r.capacity;
  if (cap === null) return false;
  if (cap.driverLimited) return true;
  const next = r.steps.find((m) => m.load > cap.load);
  return next !== undefined && !!next.driverLimited;
}

/** Older saved runs (--doc-from) have neither the busiest driver nor the late sends. */
const driverCell = (m: Measurement) =>
  m.drivers > 1 ? `${fmt(m.driverCpu * 100, 0)}% (${m.drivers}; busiest ${fmt(m.driverCpuMax * 100, 0)}%)` : `${fmt(m.driverCpu * 100, 0)}%`;

function stepsTable(results: ScenarioResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const m of r.steps) {
      rows.push([
        r.scenario.name,
        `x${m.load}`,
        fmt(m.fwdPps, 0),
        fmt(m.fwdMbps),
        fmt(m.cpuPerPacketUs),
        `${fmt(m.bridgeCpu * 100, 0)}%`,
        driverCell(m),
        `${fmt(m.loss * 100, 2)}%`,
        `${fmt(m.delayP50Us / 1000, 2)} / ${fmt(m.delayP99Us / 1000, 2)}`,
        layerShares(m.layers),
        holds(m) ? 'yes' : 'no',
        String(m.senderSkips),
        m.driverLimited ? `**yes**: ${m.driverLimited}` : 'no',
      ]);
    }
  }
  return table(
    ['scenario', 'load', 'fwd pkt/s', 'fwd Mbit/s', 'bridge µs/pkt', 'bridge CPU', 'driver CPU', 'loss', 'delay p50 / p99 ms', 'video packets by layer', 'held', 'frames skipped by driver', 'driver-limited'],
    rows,
  );
}

function figures(results: ScenarioResult[], command: string, mediaSource: string, when: string): string {
  const webinar = results.find((r) => r.scenario.name === 'webinar-50');
  const lines = [
    `Measured ${when} with \`${command}\` on ${machine()}.`,
    `Media: ${mediaSource === 'ffmpeg' ? 'VP8 rid simulcast (320x180 ~150 kbit/s, 640x360 ~500 kbit/s, 1280x720 ~1.2 Mbit/s) and Opus 32 kbit/s encoded by ffmpeg' : 'generated payloads of realistic sizes (no ffmpeg)'}; ` +
      `receivers ask for 1280x720 tiles and send transport-cc feedback every 50 ms; ` +
      `SRTP profile ${results[0]?.profile ?? '?'}. Load x1 is real time; xN sends the same media N times faster. ` +
      `A load is held with loss < 1%, no errors and p99 delay < 200 ms. The synthetic participants run in ` +
      `${results[0]?.nominal.drivers ?? 1} driver process(es) beside the bridge; "driver-limited": a driver could not send on schedule ` +
      `(skipped frames, or over 1% of its frames sent over ${LATE_MS} ms late), its receivers read too slowly (the kernel dropped packets at their sockets) or it used over 90% of a core, so that step measured the ` +
      `benchmark rather than the bridge and the bridge may hold more.`,
    '',
    resultTable(results),
    '',
    'Every measured step (driver CPU: summed over the driver processes, with their number and the busiest one):',
    '',
    stepsTable(results),
  ];
  if (webinar) {
    const m = webinar.nominal;
    lines.push('', `First target (≤ 20 µs of bridge CPU per forwarded packet, webinar-50): **${fmt(m.cpuPerPacketUs)} µs** — ${m.cpuPerPacketUs <= 20 ? 'met' : 'not met'}.`);
  }
  return lines.join('\n');
}

function writeDoc(results: ScenarioResult[], command: string, mediaSource: string, when: string): void {
  const block = `${BEGIN}\n${figures(results, command, mediaSource, when)}\n${END}`;
  const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
  const i = doc.indexOf(BEGIN);
  const j = doc.indexOf(END);
  writeFileSync(DOC, i >= 0 && j > i ? doc.slice(0, i) + block + doc.slice(j + END.length) : `${doc}\n${block}\n`);
  console.log(`bench: figures written to ${path.relative(process.cwd(), DOC)}`);
}

interface SavedRun {
  command: string;
  media: string;
  date: string;
  results: ScenarioResult[];
}

async function main(): Promise<void> {
  const quote = (a: string) => (/^[\w./=-]*$/.test(a) ? a : `'${a}'`);
  const command = ['npm run bench --', ...process.argv.slice(2).filter((a) => a !== '--write-doc').map(quote)].join(' ').replace(/ --$/, '');
  if (values['doc-from']) {
    const saved = JSON.parse(readFileSync(values['doc-from'], 'utf8')) as SavedRun;
    writeDoc(saved.results, saved.command, saved.media, saved.date);
    return;
  }
  const short = values.short;
  let scenarios = short ? SHORT_SCENARIOS : SCENARIOS;
  if (values.scenario?.length) {
    const all = [...SCENARIOS, ...SHORT_SCENARIOS, ...EXTRA_SCENARIOS];
    scenarios = values.scenario.map((n) => {
      const s = all.find((x) => x.name === n);
      if (!s) throw new Error(`unknown scenario ${n}; known: ${all.map((x) => x.name).join(', ')}`);
      return s;
    });
  }
  const bridgeConfig = JSON.parse(values['bridge-config']) as Record<string, unknown>;
  const warmUpSeconds = Number(values['warm-up']);
  if (!Number.isFinite(warmUpSeconds) || warmUpSeconds < 0) throw new Error(`--warm-up wants seconds (0 or more), not ${values['warm-up']}`);
  const media = loadMedia();
  console.log(`bench: ${machine()}; synthetic participants over up to ${DRIVERS} driver process(es)`);
  console.log(`bench: media from ${media.source}: VP8 simulcast ${describeLayers(media)} (${media.layers[0].frames.length} frames each); ${media.audio.length} Opus frames`);
  const results: ScenarioResult[] = [];
  let failed = false;
  for (const s of scenarios) {
    console.log(`${s.name}: ${s.description}`);
    const run = new ScenarioRun(s, media, bridgeConfig, DRIVERS);
    const r = await run.run({
      searchCapacity: !short && !values['no-search'],
      seconds: values.seconds ? Number(values.seconds) : undefined,
      stepSeconds: Number(values['step-seconds']),
      warmUpSeconds,
      log: (line) => console.log(line),
    });
    results.push(r);
    if (r.rssSamples.length > 2) console.log(`  bridge RSS samples (MiB): ${r.rssSamples.map((x) => mb(x).toFixed(0)).join(' ')}`);
    if (r.nominal.loss >= LOSS_LIMIT || r.nominal.errors > 0 || r.nominal.received === 0) failed = true;
    // simulcast broken: cameras to show, and not one packet of any of them arrived
    const layers = r.nominal.layers;
    if (layers.streams > 0 && layers.missing === layers.streams) {
      console.error(`${r.scenario.name}: no receiver got any video`);
      failed = true;
    }
  }
  console.log('');
  console.log(resultTable(results));
  const date = new Date().toISOString().slice(0, 10);
  if (values.json) {
    const saved: SavedRun = { command: command.replace(/ --json \S+/, ''), media: media.source, date, results };
    writeFileSync(values.json, JSON.stringify(saved, null, 2));
  }
  if (values['write-doc']) writeDoc(results, command.replace(/ --json \S+/, ''), media.source, date);
  if (short && failed) {
    console.error(`bench --short: FAILED (loss >= ${LOSS_LIMIT * 100}% or errors at light load)`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
