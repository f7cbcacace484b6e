// How long the bridge's media workers take to start (what the first join after an idle spell waits for with
// `mediaWorkersOnDemand`), from the server's JavaScript build (dist/, scripts/server-dist.mjs) against the
// TypeScript sources (src/), alternated start by start in one process: MediaWorkerPool.start of `--workers`
// workers (each loads the bridge's modules and werift before it reports its socket bound), then close.
// Reports each start's wall time and the process's CPU time over it (all threads: less sensitive to other load).
//   node bench/worker-start/run.ts [--rounds 5] [--workers 2]
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, workers: { type: 'string', default: '2' } } });
const rounds = Number(values.rounds);
const count = Number(values.workers);
const repo = path.resolve(import.meta.dirname, '../..');
if (!existsSync(path.join(repo, 'dist/bridge/workers/pool.js'))) throw new Error('no dist/: run node scripts/server-dist.mjs first');

type PoolModule = typeof import('../../src/bridge/workers/pool.ts');
const forms = ['dist', 'src'] as const;
const load = async (form: 'dist' | 'src') => {
  const ext = form === 'dist' ? '.js' : '.ts';
  const mod = (p: string) => import(pathToFileURL(path.join(repo, form, p + ext)).href);
  const pool = (await mod('bridge/workers/pool')) as PoolModule;
  const { configSchema } = (await mod('config/config')) as typeof import('../../src/config/config.ts');
  const { createLogger } = (await mod('log')) as typeof import('../../src/log.ts');
  const { createBridgeCertificate } = (await mod('bridge/certificate')) as typeof import('../../src/bridge/certificate.ts');
  return { pool, config: configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0 }), log: createLogger('silent'), certificate: await createBridgeCertificate() };
};
const loaded = { dist: await load('dist'), src: await load('src') };
console.log(`workers ${count}, rounds ${rounds}`);
for (let r = 0; r < rounds; r++) {
  for (const form of r % 2 === 0 ? forms : [...forms].reverse()) {
    const l = loaded[form];
    const load1 = loadavg()[0]!.toFixed(1);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const pool = await l.pool.MediaWorkerPool.start({ count, bridgeId: `ws-${form}`, config: l.config, log: l.log, certificate: l.certificate, bindAddress: '127.0.0.1', onEvent() {} });
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await pool.close();
    console.log(`round ${r} ${form.padEnd(4)} start ${wall.toFixed(0).padStart(5)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0).padStart(5)} ms CPU (load ${load1})`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}
