// The bridge under test, in its own process so that its CPU time and memory are its own. It runs
// startBridge on a MemoryBus and relays the driver's control requests (allocate, configure, subscribe...)
// from the IPC channel to that bus, like a one-bridge focus would.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { MemoryBus } from '../src/bus/memory-bus.ts';
import type { Json } from '../src/bus/bus.ts';
import { configSchema } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { startBridge } from '../src/bridge/index.ts';
import type { BridgeReply, BridgeRequest, BridgeStats } from './bridge-control.ts';

const BRIDGE_ID = 'bench';

/** RSS by kind (/proc/self/status, bytes): anonymous (heaps, malloc), file-backed (the node binary's and libraries' pages in use), shared memory. */
function rssParts(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    for (const k of ['RssAnon', 'RssFile', 'RssShmem']) {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status);
      if (m) out[`process.${k}`] = Number(m[1]) * 1024;
    }
  } catch {
    // no /proc: the parts stay out
  }
  return out;
}

async function main(): Promise<void> {
  const bus = new MemoryBus();
  const config = configSchema.parse({
    listenAddress: '127.0.0.1',
    mediaPort: 0,
    tcpMediaPort: 0, // ICE-TCP is not benchmarked (and 4443 may be taken)
    // the forwarding path is measured, not the workers' start (and its figures stay comparable with earlier ones):
    // workers from the start unless --bridge-config says otherwise
    mediaWorkersOnDemand: false,
    ...(process.env.BENCH_BRIDGE_CONFIG ? JSON.parse(process.env.BENCH_BRIDGE_CONFIG) : {}),
  });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.BENCH_LOG_LEVEL ?? 'warn'), bridgeId: BRIDGE_ID });
  const events = { connected: 0, disconnected: 0 };
  bus.subscribe('bridge.event', (p) => {
    const e = (p as { event: 'connected' | 'disconnected' }).event;
    events[e]++;
  });

  const stats = async (): Promise<BridgeStats> => {
    const counters = await bridge.readCounters();
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    return {
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external + mem.arrayBuffers,
      counters,
      mediaWorkers: bridge.mediaWorkers,
      connected: events.connected,
      disconnected: events.disconnected,
    };
  };

  process.on('message', (raw) => {
    const m = raw as BridgeRequest;
    const reply = (r: Omit<BridgeReply, 'id'>) => process.send!({ id: m.id, ...r });
    if (m.op === 'stats') {
      void stats().then((s) => reply({ ok: true, result: s as unknown as Json }));
      return;
    }
    if (m.op === 'gc') {
      // the media workers collect too (most endpoint state lives there), then this thread
      void bridge.resourceCounts(true).then(() => {
        (globalThis as { gc?: () => void }).gc?.();
        reply({ ok: true, result: null });
      });
      return;
    }
    if (m.op === 'memory') {
      // every thread collects garbage first (the media workers too), then the process's and the threads' figures
      void bridge.resourceCounts(true).then((counts) => {
        (globalThis as { gc?: () => void }).gc?.();
        const mem = process.memoryUsage();
        reply({ ok: true, result: { ...counts, ...rssParts(), 'process.rss': mem.rss, 'main.heapUsed': mem.heapUsed, 'main.heapTotal': mem.heapTotal, 'main.external': mem.external, 'main.arrayBuffers': mem.arrayBuffers } });
      });
      return;
    }
    if (m.op === 'heap-snapshot') {
      // the main thread's heap (where the endpoints live with mediaWorkers 1), for bench/participant-memory
      const file = (m.payload as { file?: unknown } | null)?.file;
      if (typeof file !== 'string') return reply({ ok: false, error: 'heap-snapshot wants { file }' });
      return reply({ ok: true, result: v8.writeHeapSnapshot(file) });
    }
    if (m.op === 'close') {
      void bridge.close().then(() => {
        reply({ ok: true, result: null });
        // let the reply go out, then end (werift may keep timers alive)
        setTimeout(() => process.exit(0), 50);
      });
      return;
    }
    bus.request(`bridge.${BRIDGE_ID}.${m.op}`, m.payload).then(
      (result) => reply({ ok: true, result: result as Json }),
      (e: Error) => reply({ ok: false, error: e.message }),
    );
  });
  process.send!({ id: 0, ok: true, result: { port: bridge.mediaPort, fingerprint: bridge.fingerprint } });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
