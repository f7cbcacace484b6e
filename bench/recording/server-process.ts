// The server under test for the recording benchmark, in its own process so that its CPU time and memory are its
// own: focus, a bridge and a recorder on a MemoryBus (what `tertulia start` runs, without signal: the benchmark
// asks focus and the recorder over the bus what signal and the `play` command would ask). Bus calls arrive from
// the driver over the IPC channel and go to the bus as they are; the recorder's `recorder.ended` events go back.
// Settings: BENCH_SERVER_CONFIG (JSON, merged into the configuration).
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import type { Json } from '../../src/bus/bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { startFocus } from '../../src/focus/index.ts';
import { startRecorder } from '../../src/recorder/index.ts';
import { recorderSubjects } from '../../src/protocol/recorder-messages.ts';
import { BENCH_RECORDER_ID, type ServerReply, type ServerRequest, type ServerStats } from './server-control.ts';

async function main(): Promise<void> {
  const bus = new MemoryBus();
  const config = configSchema.parse({
    listenAddress: '127.0.0.1',
    mediaPort: 0,
    tcpMediaPort: 0,
    recorderId: BENCH_RECORDER_ID,
    ...(process.env.BENCH_SERVER_CONFIG ? JSON.parse(process.env.BENCH_SERVER_CONFIG) : {}),
  });
  const log = createLogger(process.env.BENCH_LOG_LEVEL ?? 'warn');
  // focus first: it must hear the bridge's first announcement (as `tertulia start` does)
  const focus = startFocus({ bus, config, log });
  const recorder = startRecorder({ bus, config, log, recorderId: BENCH_RECORDER_ID });
  const bridge = await startBridge({ bus, config, log, bridgeId: 'bench' });
  bus.subscribe(recorderSubjects.ended, (p) => process.send!({ id: -1, ok: true, result: p as Json }));

  const stats = (): ServerStats => {
    const cpu = process.cpuUsage();
    return { cpuUserUs: cpu.user, cpuSystemUs: cpu.system, rss: process.memoryUsage().rss, recordings: recorder.recordings.size };
  };

  process.on('message', (raw) => {
    const m = raw as ServerRequest;
    const reply = (r: Omit<ServerReply, 'id'>) => process.send!({ id: m.id, ...r });
    if (m.op === 'stats') return reply({ ok: true, result: stats() as unknown as Json });
    if (m.op === 'close') {
      void (async () => {
        for (const part of [recorder, bridge, focus]) await part.close().catch(() => {});
        reply({ ok: true, result: null });
        setTimeout(() => process.exit(0), 50);
      })();
      return;
    }
    bus.request(m.subject ?? '', m.payload ?? null, m.timeoutMs).then(
      (result) => reply({ ok: true, result: result as Json }),
      (e: Error) => reply({ ok: false, error: e.message }),
    );
  });
  process.send!({ id: 0, ok: true, result: { dataDir: config.dataDir } });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
