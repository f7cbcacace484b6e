// `npm run bench -- failover [--rounds 10 --people 3 --json FILE]`: how long a meeting is without media when its
// bridge dies. Real processes (nats-server, a web/signal/focus process, two bridge processes) and headless
// Chromium participants in one meeting. Each round: everyone decodes everyone; the meeting's bridge is killed
// (SIGKILL); the time until every participant decodes every other's video and audio again on its new peer
// connection is measured (test/helpers/bridge-failover.ts: frames and audio packets growing between two reads
// ~200 ms apart, so a figure is at most that much late); a new bridge process is started as the next spare.
// Reports each round, the median and the worst. Default settings (bridgeHeartbeat 0.5 s, bridgeFailureTimeout 2 s)
// unless --env '{"TERTULIA_BRIDGE_FAILURE_TIMEOUT":"1"}' says otherwise.
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, waitUntil, type Participant } from '../../test/helpers/browser.ts';
import { decodingAgain, markConnections, startBridgeCluster } from '../../test/helpers/bridge-failover.ts';
import { fmt, table } from '../stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    people: { type: 'string', default: '3' },
    env: { type: 'string', default: '{}' },
    json: { type: 'string' },
  },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
const peopleCount = Number(values.people);
if (!(rounds >= 1 && peopleCount >= 2 && peopleCount <= 6)) {
  console.error('usage: npm run bench -- failover [--rounds N (>= 1)] [--people N (2..6)] [--env JSON] [--json FILE]');
  process.exit(2);
}

const cluster = await startBridgeCluster(2, JSON.parse(values.env!) as Record<string, string>);
const browser = await launchBrowser();
const people: Participant[] = [];
const times: number[] = [];
try {
  for (let i = 0; i < peopleCount; i++) {
    const p = await newParticipant(browser, `P${i + 1}`);
    await joinThroughUi(p, cluster.web.baseUrl, 'Failover');
    people.push(p);
  }
  for (const p of people) {
    for (const o of people) {
      if (o !== p) await waitUntil(`${p.name} gets ${o.name}`, () => remoteStats(p.page), (s) => (s[o.name]?.framesDecoded ?? 0) > 10, 60_000);
    }
  }
  for (let round = 1; round <= rounds; round++) {
    const victim = cluster.hosting();
    if (!victim) throw new Error('focus did not say which bridge the meeting is on');
    await markConnections(people);
    const killedAt = Date.now();
    victim.process.kill('SIGKILL');
    const ms = await decodingAgain(people, killedAt, 120_000);
    times.push(ms);
    console.log(`round ${round}: decoding again ${ms} ms after the kill`);
    await cluster.addBridge(); // the next round's spare
    await new Promise((r) => setTimeout(r, 2000)); // the media settles, focus hears the spare
  }
} finally {
  await browser.close();
  await cluster.stop();
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
const worst = sorted.at(-1)!;
console.log(
  table(
    ['rounds', 'participants', 'median (s)', 'worst (s)', 'best (s)'],
    [[String(times.length), String(peopleCount), fmt(median / 1000, 2), fmt(worst / 1000, 2), fmt(sorted[0]! / 1000, 2)]],
  ),
);
if (values.json) writeFileSync(values.json, JSON.stringify({ rounds: times, median, worst }, null, 2));
