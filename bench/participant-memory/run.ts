// What one participant costs the bridge in memory, measured as a slope rather than from idle: the bridge process
// (bench/bridge-process.ts, media workers started with it) takes `--batch` synthetic participants at a time in
// meetings of 5 (everyone sends simulcast video and audio and receives the others, like meetings-6x5), the load
// runs `--seconds` at real time so that retransmission buffers, rings and estimator histories fill, then every
// thread collects garbage and the figures are read. Batch after batch, the difference between two readings over
// the participants added is the cost of one more participant: the fixed costs (the workers' isolates, the heap the
// first endpoints grow into, modules compiled on first use) stay out of it, which (RSS at end − idle RSS) / N
// of `bench/run.ts` does not do.
// Printed per reading: process RSS, the JavaScript heaps (main thread and media workers, after a GC) and what
// the threads hold off the heap (`external`, array buffers included); then the slopes between readings.
// Run: .tools/node22/node_modules/node/bin/node bench/participant-memory/run.ts [--batches 2] [--batch 30] [--seconds 8]
//      [--bridge-config '{"mediaWorkers":1}'] [--heap-snapshots /tmp/dir]  (snapshots: the main thread's heap at
//      each reading; with mediaWorkers 1 that is where the endpoints live)
import { parseArgs } from 'node:util';
import { BridgeProcess } from '../bridge-control.ts';
import { DriverPool } from '../driver-pool.ts';
import { ssrcBase } from '../../src/loadtest/participant.ts';
import type { DirectParticipantPlan } from '../../src/loadtest/plan.ts';

const PER_ROOM = 5;
const TILE = { width: 1280, height: 720 };
const MiB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '2' },
    batch: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '8' },
    'bridge-config': { type: 'string', default: '{}' },
    'heap-snapshots': { type: 'string' },
  },
});
const batches = Math.max(1, Number(values.batches));
const batchSize = Math.max(PER_ROOM, Math.floor(Number(values.batch) / PER_ROOM) * PER_ROOM);
const seconds = Math.max(1, Number(values.seconds));

interface Reading {
  participants: number;
  rss: number;
  rssAnon: number;
  rssFile: number;
  heap: number;
  heapCommitted: number;
  offHeap: number;
  arrayBuffers: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function read(bridge: BridgeProcess, participants: number, workers: number): Promise<Reading> {
  // every media worker must answer (a busy one may miss the 1 s the control thread waits for their sums)
  let c = (await bridge.request('memory')) as Record<string, number>;
  for (let tries = 0; workers > 1 && (c['mediaWorkers.threads'] ?? 0) < workers && tries < 10; tries++) c = (await bridge.request('memory')) as Record<string, number>;
  if (workers > 1 && (c['mediaWorkers.threads'] ?? 0) < workers) console.log(`participant-memory: only ${c['mediaWorkers.threads'] ?? 0} of ${workers} media workers answered`);
  const n = (k: string) => c[k] ?? 0;
  if (values['heap-snapshots']) await bridge.request('heap-snapshot', { file: `${values['heap-snapshots']}/bridge-${participants}.heapsnapshot` });
  return {
    participants,
    rss: n('process.rss'),
    rssAnon: n('process.RssAnon'),
    rssFile: n('process.RssFile') + n('process.RssShmem'),
    heap: n('main.heapUsed') + n('mediaWorkers.heapUsed'),
    heapCommitted: n('main.heapTotal') + n('mediaWorkers.heapTotal'),
    offHeap: n('main.external') + n('mediaWorkers.external'),
    arrayBuffers: n('main.arrayBuffers') + n('mediaWorkers.arrayBuffers'),
  };
}

async function main(): Promise<void> {
  const bridge = await BridgeProcess.start(JSON.parse(values['bridge-config']!) as Record<string, unknown>);
  const pools: DriverPool[] = [];
  const readings: Reading[] = [];
  try {
    const workers = (await bridge.stats()).mediaWorkers;
    readings.push(await read(bridge, 0, workers));
    for (let b = 0; b < batches; b++) {
      const plans: DirectParticipantPlan[] = [];
      for (let k = 0; k < batchSize; k++) {
        const index = b * batchSize + k;
        plans.push({ conferenceId: `mem-room${Math.floor(index / PER_ROOM)}`, endpointId: `p${index % PER_ROOM}`, index, publishesAudio: true, publishesVideo: true });
      }
      const { pool } = await DriverPool.connect(bridge, plans, plans.map(() => 1), 1, true);
      pools.push(pool);
      for (const p of plans) {
        const others = plans.filter((o) => o.conferenceId === p.conferenceId && o !== p);
        await bridge.request('subscribe', { conferenceId: p.conferenceId, endpointId: p.endpointId, ssrcs: others.flatMap((o) => [ssrcBase(o.index), ssrcBase(o.index) + 1]) });
        await bridge.request('constraints', { conferenceId: p.conferenceId, endpointId: p.endpointId, constraints: others.map((o) => ({ ssrc: ssrcBase(o.index) + 1, ...TILE })) });
      }
      // every participant so far sends, so that the older ones' buffers are as full as the new ones'
      for (const p of pools) await p.all({ op: 'load', factor: 1 });
      const before = await bridge.stats();
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const after = await bridge.stats();
      const fwdPps = ((after.counters.rtpOut ?? 0) - (before.counters.rtpOut ?? 0)) / ((performance.now() - t0) / 1000);
      for (const p of pools) await p.all({ op: 'stop-load' });
      await sleep(500);
      const r = await read(bridge, (b + 1) * batchSize, workers);
      readings.push(r);
      const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
      // at full rate each participant is sent 4 cameras (~1.85 Mbit/s each) and 4 microphones
      // (a busy worker's counters can miss the control thread's 1 s wait: then the rate is unknown)
      const rate = fwdPps >= 0 ? `${Math.round(fwdPps)} RTP packets/s` : 'an unknown rate (a media worker answered late)';
      console.log(`participant-memory: ${r.participants} participants, bridge sent ${rate}, load average ${load}`);
    }
  } finally {
    for (const p of pools) await p.close();
    await bridge.close();
  }
  const mib = (x: number) => (x / MiB).toFixed(1);
  console.log('| participants | RSS MiB | anonymous MiB | file-backed + shared MiB | JS heaps in use MiB | JS heaps committed MiB | off-heap (external) MiB | of which array buffers MiB |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of readings) {
    console.log(`| ${r.participants} | ${mib(r.rss)} | ${mib(r.rssAnon)} | ${mib(r.rssFile)} | ${mib(r.heap)} | ${mib(r.heapCommitted)} | ${mib(r.offHeap)} | ${mib(r.arrayBuffers)} |`);
  }
  console.log('');
  console.log('| between | RSS MiB/participant | anonymous | file-backed + shared | heap in use | off-heap |');
  console.log('|---|---|---|---|---|---|');
  for (let i = 1; i < readings.length; i++) {
    const a = readings[i - 1]!;
    const b = readings[i]!;
    const d = b.participants - a.participants;
    const per = (x: number, y: number) => ((y - x) / d / MiB).toFixed(2);
    console.log(`| ${a.participants}→${b.participants} | ${per(a.rss, b.rss)} | ${per(a.rssAnon, b.rssAnon)} | ${per(a.rssFile, b.rssFile)} | ${per(a.heap, b.heap)} | ${per(a.offHeap, b.offHeap)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
