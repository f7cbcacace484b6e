// `node bench/warm-up/run.ts [--rounds N] [--prejoin-seconds S] [--variants a,b,...] [--cpu-quota P]`: with media
// workers on demand (`mediaWorkersOnDemand`, the default), how long the first join after an idle spell waits.
// Variants (all by default, alternated, the order reversing each round):
//   - `warm-up`: through the join screen, whose POST /media/warm-up starts the workers while it shows;
//   - `no-warm-up`: the same with the request blocked in the page (as a server before the warm-up behaved);
//   - `always`: through the join screen with the workers always running (`mediaWorkersOnDemand: false`);
//   - `skipped`: the join screen skipped (`#config.prejoinPageEnabled=false` and a name, as an embedding does): the
//     room page's warm-up goes out while the socket connects;
//   - `skipped-always`: the same with the workers always running.
// Each run: a fresh server, one headless Chromium; with the join screen it stays S seconds on it and clicks Join,
// measured from the click to its peer connection "connected"; skipped, from opening the page. Also printed: how
// long the workers took to start (the server's "media workers started" line). `--cpu-quota P`: the server runs in
// a CPU cgroup (v1, as root) limited to P % of one core, a busy machine without making it busy for others.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { launchBrowser, newParticipant } from '../../test/helpers/browser.ts';
import { cpuCgroup } from '../../test/helpers/cpu-cgroup.ts';
import { startServer } from '../../test/helpers/server.ts';

const VARIANTS = ['warm-up', 'no-warm-up', 'always', 'skipped', 'skipped-always'] as const;
type Variant = (typeof VARIANTS)[number];

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'prejoin-seconds': { type: 'string', default: '3' },
    variants: { type: 'string', default: VARIANTS.join(',') },
    'cpu-quota': { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const prejoinMs = Number(values['prejoin-seconds']) * 1000;
const variants = values.variants.split(',') as Variant[];
for (const v of variants) if (!VARIANTS.includes(v)) throw new Error(`unknown variant ${v} (known: ${VARIANTS.join(', ')})`);
const cpuQuota = values['cpu-quota'] === undefined ? undefined : Number(values['cpu-quota']);

async function once(variant: Variant): Promise<{ s: number; workersMs: string }> {
  const onDemand = variant !== 'always' && variant !== 'skipped-always';
  const skipped = variant === 'skipped' || variant === 'skipped-always';
  const group = cpuQuota === undefined ? undefined : cpuCgroup('tertulia-warm-up-bench', cpuQuota);
  const server = await startServer({ TERTULIA_LOG_LEVEL: 'info', TERTULIA_MEDIA_WORKERS_ON_DEMAND: String(onDemand) }, group ? { wrap: group.wrap } : {});
  const browser = await launchBrowser();
  try {
    const p = await newParticipant(browser, 'First');
    if (variant === 'no-warm-up') await p.page.route('**/media/warm-up', (r) => r.abort());
    let started: number;
    if (skipped) {
      started = performance.now();
      await p.page.goto(`${server.baseUrl}/WarmUpBench#config.prejoinPageEnabled=false&userInfo.displayName=%22First%22&config.resolution=180`);
    } else {
      await p.page.goto(`${server.baseUrl}/WarmUpBench#config.resolution=180`);
      await p.page.getByRole('textbox', { name: 'Your name' }).fill('First');
      await new Promise((r) => setTimeout(r, prejoinMs));
      started = performance.now();
      await p.page.getByRole('button', { name: 'Join meeting' }).click();
    }
    await p.page.waitForFunction(() => (window as any).__tertulia?.pc?.connectionState === 'connected', null, { timeout: 90_000, polling: 20 });
    const s = (performance.now() - started) / 1000;
    const line = server.output().split('\n').find((l) => l.includes('media workers started')) ?? '';
    return { s, workersMs: /"ms":(\d+)/.exec(line)?.[1] ?? '-' };
  } finally {
    await browser.close();
    await server.stop();
    group?.remove();
  }
}

console.log(`warm-up bench: ${rounds} round(s), ${prejoinMs / 1000} s on the join screen${cpuQuota === undefined ? '' : `, the server limited to ${cpuQuota} % of a core`}`);
for (let round = 1; round <= rounds; round++) {
  for (const variant of round % 2 === 1 ? variants : [...variants].reverse()) {
    const load = os.loadavg()[0].toFixed(1);
    const { s, workersMs } = await once(variant);
    console.log(`round ${round} ${variant.padEnd(14)}: to connected ${s.toFixed(2)} s, workers started in ${workersMs} ms (load ${load})`);
  }
}
