// `npm run bench -- p2p [--rounds 5 --resolution 180|360|720 --json FILE]`: the longest freeze two participants see
// when their room of two moves between the direct connection (peer-to-peer for two) and the bridge. One server
// (`tertulia start`, p2p on) and headless Chromium: Ana and Beto go direct; each round a third joins (everyone back
// on the bridge: the two decode each other and the third through it, their direct connections closed) and leaves
// (the two direct again). The gap is the longest time between two frames their tiles present
// (requestVideoFrameCallback, test/helpers/p2p-stats.ts), over the whole switch, both ways; the median and worst,
// beside the same measure over 2 s with no switch (what the machine's load alone gives).
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { joinThroughUi, launchBrowser, newParticipant, sleep, type Participant } from '../../test/helpers/browser.ts';
import { startServer } from '../../test/helpers/server.ts';
import { longestFrameGap, pageNow, untilBackOnBridge, untilDirect, watchTileFrames } from '../../test/helpers/p2p-stats.ts';
import { fmt, median, table } from '../stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    resolution: { type: 'string', default: '360' },
    json: { type: 'string' },
  },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
const resolution = Number(values.resolution);
if (!(rounds >= 1 && [180, 360, 720].includes(resolution))) {
  console.error('usage: npm run bench -- p2p [--rounds N (>= 1)] [--resolution 180|360|720] [--json FILE]');
  process.exit(2);
}

const ROOM = 'P2P bench';
const hash = `#config.resolution=${resolution}`;
const server = await startServer({ TERTULIA_P2P: 'true' });
const browser = await launchBrowser();
const toBridge: number[] = [];
const toDirect: number[] = [];
/** The same measure over 2 s with no switch (the frame rate the loaded machine holds anyway). */
const steady: number[] = [];

/** Where each round's worst gap began, relative to that page's switch of what it shows. */
const where: string[] = [];

/** Ana's longest gap showing Beto and Beto's showing Ana since `from` (each page's clock), the larger one. */
async function worstGap(pair: readonly [Participant, Participant], from: readonly [number, number]): Promise<number> {
  const a = await longestFrameGap(pair[0].page, pair[1].name, from[0]);
  const b = await longestFrameGap(pair[1].page, pair[0].name, from[1]);
  const worst = a.gapMs >= b.gapMs ? a : b;
  where.push(`${worst.fromSwitchMs >= 0 ? '+' : ''}${worst.fromSwitchMs} ms`);
  return worst.gapMs;
}

try {
  const pair: [Participant, Participant] = [await newParticipant(browser, 'Ana'), await newParticipant(browser, 'Beto')];
  for (const p of pair) await joinThroughUi(p, server.baseUrl, ROOM, { hash });
  for (const p of pair) await untilDirect(p);
  await watchTileFrames(pair[0].page, 'Beto');
  await watchTileFrames(pair[1].page, 'Ana');
  for (let round = 1; round <= rounds; round++) {
    let from = [await pageNow(pair[0].page), await pageNow(pair[1].page)] as const;
    await sleep(2000);
    steady.push(await worstGap(pair, from));
    from = [await pageNow(pair[0].page), await pageNow(pair[1].page)] as const;
    const third = await newParticipant(browser, `Carla${round}`);
    await untilBackOnBridge(pair, third, () => joinThroughUi(third, server.baseUrl, ROOM, { hash }));
    await sleep(1000);
    toBridge.push(await worstGap(pair, from));
    from = [await pageNow(pair[0].page), await pageNow(pair[1].page)] as const;
    await third.context.close();
    for (const p of pair) await untilDirect(p);
    await sleep(2000);
    toDirect.push(await worstGap(pair, from));
    const [, b, d] = where.splice(0);
    console.log(
      `round ${round}: longest gap with no switch ${steady.at(-1)} ms; freeze to the bridge ${toBridge.at(-1)} ms (began ${b} from the tile's switch), back to direct ${toDirect.at(-1)} ms (began ${d} from it)`,
    );
  }
} finally {
  await browser.close();
  await server.stop();
}
const row = (name: string, v: number[]) => [name, String(v.length), fmt(median(v), 0), fmt(Math.max(...v), 0), fmt(Math.min(...v), 0)];
console.log(table(['switch', 'rounds', 'median longest gap (ms)', 'worst (ms)', 'best (ms)'], [row('none (2 s on P2P)', steady), row('direct -> bridge (a third joins)', toBridge), row('bridge -> direct (the third leaves)', toDirect)]));
if (values.json) writeFileSync(values.json, JSON.stringify({ resolution, steady, toBridge, toDirect }, null, 2));
