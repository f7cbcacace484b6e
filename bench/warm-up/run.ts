// `node bench/warm-up/run.ts [--rounds N] [--prejoin-seconds S]`: with media workers on demand
// (`mediaWorkersOnDemand`), how long the first join after an idle spell waits, with the join screen's warm-up
// (POST /media/warm-up starts the workers while the screen shows) and without it (the request blocked in the
// page, as a server before the warm-up behaved), and with the workers always running (the default) for reference. Each run: a fresh server, one headless Chromium that opens a room,
// stays S seconds on the join screen, clicks Join; measured from the click to its peer connection "connected".
// The variants alternate, the order reversing each round.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { launchBrowser, newParticipant } from '../../test/helpers/browser.ts';
import { startServer } from '../../test/helpers/server.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, 'prejoin-seconds': { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const prejoinMs = Number(values['prejoin-seconds']) * 1000;

type Variant = 'with warm-up' | 'without warm-up' | 'always running';
const VARIANTS: Variant[] = ['with warm-up', 'without warm-up', 'always running'];

async function once(variant: Variant): Promise<number> {
  const warm = variant !== 'without warm-up';
  const server = await startServer({ TERTULIA_MEDIA_WORKERS_ON_DEMAND: variant === 'always running' ? 'false' : 'true' });
  const browser = await launchBrowser();
  try {
    const p = await newParticipant(browser, 'First');
    if (!warm) await p.page.route('**/media/warm-up', (r) => r.abort());
    await p.page.goto(`${server.baseUrl}/WarmUpBench#config.resolution=180`);
    await p.page.getByRole('textbox', { name: 'Your name' }).fill('First');
    await new Promise((r) => setTimeout(r, prejoinMs));
    const clicked = performance.now();
    await p.page.getByRole('button', { name: 'Join meeting' }).click();
    await p.page.waitForFunction(() => (window as any).__tertulia?.pc?.connectionState === 'connected', null, { timeout: 60_000, polling: 20 });
    return (performance.now() - clicked) / 1000;
  } finally {
    await browser.close();
    await server.stop();
  }
}

console.log(`warm-up bench: ${rounds} round(s), ${prejoinMs / 1000} s on the join screen`);
for (let round = 1; round <= rounds; round++) {
  for (const variant of round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse()) {
    const load = os.loadavg()[0].toFixed(1);
    const s = await once(variant);
    console.log(`round ${round} ${variant.padEnd(15)}: Join to connected ${s.toFixed(2)} s (load ${load})`);
  }
}
