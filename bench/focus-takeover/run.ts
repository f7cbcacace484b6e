// `npm run bench -- focus-takeover [--rounds 5 --conferences 20 --people 3 --json FILE]`: how long conferences are
// without a focus when the leading one dies (issue 17). Real processes: a nats-server with JetStream, one bridge
// process and two focus processes (`--parts focus`); this process plays signal on the bus (focus.join, answers built
// like a browser's, test/helpers/sdp-answer.ts), so the figure is focus's control plane alone (the media on the
// bridge does not stop: test/e2e/focus-takeover.test.ts shows that with Chromium). Each round: the leading focus
// is killed (SIGKILL); the time is taken until the other focus says it took the conferences over, and until every
// participant got its fresh offer from it; then the offers are answered and a new focus process starts as the
// next round's standby. Reports each round, the median and the worst.
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { createLogger } from '../../src/log.ts';
import { subjects, type SignalOffer } from '../../src/protocol/bus-messages.ts';
import { startNatsServer } from '../../test/helpers/nats.ts';
import { answerFor } from '../../test/helpers/sdp-answer.ts';
import { startServer, type RunningServer } from '../../test/helpers/server.ts';
import { fmt, median, table } from '../stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    conferences: { type: 'string', default: '20' },
    people: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
const conferenceCount = Number(values.conferences);
const peopleCount = Number(values.people);
if (!(rounds >= 1 && conferenceCount >= 1 && conferenceCount <= 500 && peopleCount >= 1 && peopleCount <= 20)) {
  console.error('usage: npm run bench -- focus-takeover [--rounds N (>= 1)] [--conferences N (1..500)] [--people N (1..20)] [--json FILE]');
  process.exit(2);
}

const log = createLogger('silent');
const nats = await startNatsServer({ jetstream: true });
const common = { TERTULIA_NATS_URL: nats.url, TERTULIA_LOG_LEVEL: 'info', TERTULIA_MAX_ENDPOINTS_PER_BRIDGE: '100000' };
const processes: RunningServer[] = [];
const start = async (env: Record<string, string>) => {
  const p = await startServer({ ...common, ...env });
  processes.push(p);
  return p;
};
const driver = await NatsBus.connect({ url: nats.url, log, reconnectWaitMs: 200 });
const latest = new Map<string, SignalOffer>();
const key = (conferenceId: string, participantId: string) => `${conferenceId}\n${participantId}`;
driver.subscribe(subjects.signalOffer, (o) => {
  const offer = o as SignalOffer;
  latest.set(key(offer.conferenceId, offer.participantId), offer);
});
const ssrcs = new Map<string, { audio: number; video: number }>();
let nextSsrc = 10_000;
const answer = async (conferenceId: string, participantId: string) => {
  const o = latest.get(key(conferenceId, participantId))!;
  let own = ssrcs.get(key(conferenceId, participantId));
  if (!own) ssrcs.set(key(conferenceId, participantId), (own = { audio: nextSsrc++, video: nextSsrc++ }));
  await driver.request(subjects.focusAnswer, { conferenceId, participantId, sdp: answerFor(o.sdp, own, `u${participantId}`), version: o.version });
};
const until = async (what: string, cond: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const leads = (p: RunningServer) => p.alive() && p.output().includes('"msg":"this focus leads');

const taken: number[] = [];
const offered: number[] = [];
try {
  await start({ TERTULIA_PARTS: 'bridge', TERTULIA_BRIDGE_ID: 'bridge-1' });
  let focuses = [await start({ TERTULIA_PARTS: 'focus' }), await start({ TERTULIA_PARTS: 'focus' })];
  await until('a focus to lead', () => focuses.some(leads), 20_000);
  const everyone: [string, string][] = [];
  for (let c = 0; c < conferenceCount; c++) for (let p = 0; p < peopleCount; p++) everyone.push([`bench-${c}`, `p${c}-${p}`]);
  for (const [conferenceId, participantId] of everyone) await driver.request(subjects.focusJoin, { conferenceId, participantId }, 10_000);
  // answer until no offer is left unanswered (each answer makes the others' next offers)
  const answered = new Map<string, number>();
  const settle = async () => {
    for (let pass = 0; pass < 2 * peopleCount + 4; pass++) {
      await new Promise((r) => setTimeout(r, 300));
      let any = false;
      for (const [c, p] of everyone) {
        const o = latest.get(key(c, p));
        if (!o || answered.get(key(c, p)) === o.version) continue;
        answered.set(key(c, p), o.version);
        await answer(c, p);
        any = true;
      }
      if (!any) return;
    }
  };
  await settle();
  for (let round = 1; round <= rounds; round++) {
    const leader = focuses.find(leads)!;
    const standby = focuses.find((f) => f !== leader)!;
    const before = new Map(everyone.map(([c, p]) => [key(c, p), latest.get(key(c, p))?.version ?? 0]));
    const killedAt = Date.now();
    leader.process.kill('SIGKILL');
    await until('the standby to take over', () => standby.output().includes('"msg":"conferences taken over from the store"'), 30_000);
    const tookOver = Date.now() - killedAt;
    await until('every participant offered afresh', () => everyone.every(([c, p]) => (latest.get(key(c, p))?.version ?? 0) > before.get(key(c, p))!), 30_000);
    const allOffered = Date.now() - killedAt;
    taken.push(tookOver);
    offered.push(allOffered);
    console.log(`round ${round}: conferences taken over ${tookOver} ms after the kill, every participant offered afresh after ${allOffered} ms`);
    await settle();
    focuses = [standby, await start({ TERTULIA_PARTS: 'focus' })];
  }
} finally {
  await driver.close();
  for (const p of processes) await p.stop();
  await nats.stop();
}
const stats = (xs: number[]) => ({ median: median(xs), worst: Math.max(...xs) });
const t = stats(taken);
const o = stats(offered);
console.log(
  table(
    ['rounds', 'conferences', 'participants', 'taken over: median (s)', 'worst (s)', 'all offered: median (s)', 'worst (s)'],
    [[String(taken.length), String(conferenceCount), String(conferenceCount * peopleCount), fmt(t.median / 1000, 2), fmt(t.worst / 1000, 2), fmt(o.median / 1000, 2), fmt(o.worst / 1000, 2)]],
  ),
);
if (values.json) writeFileSync(values.json, JSON.stringify({ takenOver: taken, allOffered: offered, medianTakenOver: t.median, medianAllOffered: o.median }, null, 2));
