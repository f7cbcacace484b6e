import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HISTORY_START_SIZE, SendSideBwe } from '../../src/bridge/bwe/send-side-bwe.ts';
import { TwccRecorder } from '../../src/bridge/packet/twcc.ts';
import { AimdRateControl } from '../../src/bridge/bwe/aimd.ts';
import { BW_NORMAL, BW_OVERUSING, BW_UNDERUSING, InterArrival, TrendlineDetector } from '../../src/bridge/bwe/trendline.ts';
import { rng } from '../helpers/random.ts';


interface SimOptions {
  durationS: number;
  /** Bottleneck capacity (bps) at time t (µs). */
  capacity: (tUs: number) => number;
  lossRate?: number;
  propagationUs?: number;
  queueLimitUs?: number;
  startBps?: number;
  seed?: number;
  /** Origin of the receiver's clock (µs). */
  receiverClockUs?: number;
}
interface Sample {
  t: number;
  est: number;
}

/**
 * Sender -> FIFO bottleneck (capacity, drop-tail queue, random loss) -> receiver with a real TwccRecorder
 * writing feedback every 50 ms -> back to the sender's SendSideBwe through the real TWCC reader.
 * The sender paces media at the current estimate (an encoder that follows it) and sends probes on request.
 */
function simulate(o: SimOptions): { samples: Sample[]; bwe: SendSideBwe; probes: number } {
  const random = rng(o.seed ?? 1);
  const prop = o.propagationUs ?? 20_000;
  const queueLimit = o.queueLimitUs ?? 300_000;
  const bwe = new SendSideBwe({ startBps: o.startBps ?? 300_000 });
  const rec = new TwccRecorder(4096);
  const out = Buffer.alloc(1500);
  const receiverClock = o.receiverClockUs ?? 987_654_250; // the receiver's clock has another origin
  const inflight: Array<{ seq: number; arrival: number }> = [];
  const feedback: Array<{ at: number; buf: Buffer }> = [];
  const samples: Sample[] = [];
  let seq = 0;
  let linkFree = 0;
  let budget = 0;
  let probeBudget = 0;
  let probe: { id: number; rate: number; end: number; min: number; sent: number } | null = null;
  let probes = 0;
  const send = (t: number, size: number, cluster: number): void => {
    seq = (seq + 1) & 0xffff;
    bwe.onPacketSent(seq, size, t, cluster);
    if (o.lossRate && random() < o.lossRate) return;
    const departure = Math.max(t, linkFree) + (size * 8e6) / o.capacity(t);
    if (departure - t > queueLimit) return; // drop-tail
    linkFree = departure;
    inflight.push({ seq, arrival: departure + prop });
  };
  const end = o.durationS * 1e6;
  for (let t = 0; t <= end; t += 1000) {
    budget += (bwe.estimateBps() * 1000) / 1e6;
    if (budget > 3 * 9600) budget = 3 * 9600;
    while (budget >= 9600) {
      send(t, 1200, -1);
      budget -= 9600;
    }
    if (probe === null) {
      const r = bwe.probeRequest(t);
      if (r !== null) {
        probe = { id: r.clusterId, rate: r.rateBps, end: t + r.durationMs * 1000, min: r.minPackets, sent: 0 };
        probeBudget = 9600;
        probes++;
      }
    }
    if (probe !== null) {
      probeBudget += (probe.rate * 1000) / 1e6;
      while (probeBudget >= 9600) {
        send(t, 1200, probe.id);
        probe.sent++;
        probeBudget -= 9600;
      }
      if (t >= probe.end && probe.sent >= probe.min) probe = null;
    }
    while (inflight.length > 0 && inflight[0].arrival <= t) {
      const p = inflight.shift()!;
      rec.record(p.seq, p.arrival + receiverClock);
    }
    if (t % 50_000 === 0) {
      for (let n; (n = rec.writeFeedback(out, 0, 1, 2)) > 0; ) {
        feedback.push({ at: t + prop, buf: Buffer.from(out.subarray(0, n)) });
      }
    }
    while (feedback.length > 0 && feedback[0].at <= t) {
      const f = feedback.shift()!;
      assert.ok(bwe.onFeedback(f.buf, 0, f.buf.length, t));
    }
    if (t % 100_000 === 0) samples.push({ t, est: bwe.estimateBps() });
  }
  return { samples, bwe, probes };
}

const between = (s: Sample[], fromS: number, toS: number): number[] =>
  s.filter((x) => x.t >= fromS * 1e6 && x.t < toS * 1e6).map((x) => x.est);
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const kbps = (v: number): string => (v / 1000).toFixed(0);

test('trendline detector: steady delay is normal, a growing queue is overuse, a draining one underuse', () => {
  const d = new TrendlineDetector();
  // groups every 10 ms, arrival spacing equal to send spacing
  for (let i = 1; i <= 100; i++) assert.equal(d.update(10, 10, i * 10_000), BW_NORMAL);
  // the queue grows by 2 ms per group
  let state = BW_NORMAL;
  let i = 101;
  for (; i <= 140 && state !== BW_OVERUSING; i++) state = d.update(12, 10, i * 10_000);
  assert.equal(state, BW_OVERUSING);
  assert.ok(d.trend > 0);
  // and drains
  for (let j = 0; j < 40 && state !== BW_UNDERUSING; j++, i++) state = d.update(6, 10, i * 10_000);
  assert.equal(state, BW_UNDERUSING);
});

test('inter-arrival: groups by 5 ms send bursts', () => {
  const ia = new InterArrival();
  // three packets in a burst (sent 0, 1, 2 ms), next group at 20 ms
  assert.equal(ia.add(0, 50_000), false);
  assert.equal(ia.add(1000, 51_000), false);
  assert.equal(ia.add(2000, 52_000), false);
  assert.equal(ia.add(20_000, 75_000), false, 'the first completed group has no predecessor');
  assert.equal(ia.add(40_000, 95_000), true);
  assert.equal(ia.sendDeltaMs, 18);
  assert.equal(ia.arrivalDeltaMs, 23);
  assert.equal(ia.add(10_000, 99_000), false, 'reordered into an old group: ignored');
});

test('AIMD: overuse -> 0.85 x acknowledged rate; normal -> multiplicative increase capped by 1.5 x acked', () => {
  const a = new AimdRateControl(1_000_000, 30_000, 10_000_000);
  a.update(BW_OVERUSING, 800_000, 0);
  assert.equal(a.estimateBps, 680_000);
  a.update(BW_NORMAL, 680_000, 100_000); // hold -> increase
  let t = 100_000;
  for (let i = 0; i < 10; i++) a.update(BW_NORMAL, 680_000, (t += 100_000));
  assert.ok(a.estimateBps > 680_000, 'increases');
  // near the known capacity the increase is additive (about one 7.5 kbit packet per 200 ms response time
  // at 30 fps: ~38 kbps per second) instead of 8 %/s (54 kbps per second)
  assert.ok(a.estimateBps > 680_000 + 30_000 && a.estimateBps < 680_000 + 45_000, `${a.estimateBps}`);
  const b = new AimdRateControl(300_000, 30_000, 10_000_000);
  b.update(BW_NORMAL, -1, 0);
  for (let i = 1; i <= 10; i++) b.update(BW_NORMAL, -1, i * 100_000);
  assert.ok(Math.abs(b.estimateBps - 300_000 * 1.08) < 1000, `8 %/s far from convergence: ${b.estimateBps}`);
  b.update(BW_NORMAL, 100_000, 1_100_000 + 1_000_000);
  assert.ok(b.estimateBps <= 300_000 * 1.08 + 1, 'no increase above 1.5 x acked + 10 kbps');
  b.update(BW_UNDERUSING, 100_000, 3_000_000);
  const held = b.estimateBps;
  b.update(BW_UNDERUSING, 1_000_000, 4_000_000);
  assert.equal(b.estimateBps, held, 'underuse holds');
});

test('constant capacity: converges near but below the capacity', () => {
  const C = 2_000_000;
  const { samples, bwe } = simulate({ durationS: 60, capacity: () => C });
  const tail = between(samples, 30, 60);
  assert.ok(mean(tail) > 0.75 * C && mean(tail) < C, `mean ${kbps(mean(tail))} kbps`);
  assert.ok(Math.max(...tail) < 1.1 * C, `max ${kbps(Math.max(...tail))}`);
  assert.ok(Math.min(...tail) > 0.6 * C, `min ${kbps(Math.min(...tail))}`);
  assert.ok(between(samples, 5, 6)[0] > 0.6 * C, 'ramps up within seconds (probing)');
  assert.ok(bwe.ackedBps() > 0.6 * C);
});

test('the 24-bit reference time wraps (2^23 x 64 ms) without disturbing the estimate', () => {
  const normal = simulate({ durationS: 15, capacity: () => 2e6 });
  // the receiver clock crosses the signed 24-bit boundary of the reference time 5 s into the call
  const wrapped = simulate({ durationS: 15, capacity: () => 2e6, receiverClockUs: 2 ** 23 * 64000 - 5e6 });
  assert.deepEqual(wrapped.samples, normal.samples);
});

test('capacity drop: the estimate falls within a few seconds', () => {
  const { samples } = simulate({ durationS: 50, capacity: (t) => (t < 25e6 ? 3e6 : 1e6) });
  assert.ok(mean(between(samples, 15, 25)) > 2.1e6);
  const after = between(samples, 27, 50);
  assert.ok(Math.max(...after) < 1.1e6, `within 2 s: max ${kbps(Math.max(...after))}`);
  assert.ok(mean(between(samples, 30, 50)) > 0.7e6, 'and stays useful');
});

test('capacity rise: recovers with probing', () => {
  const { samples, probes } = simulate({ durationS: 50, capacity: (t) => (t < 25e6 ? 1e6 : 3e6) });
  assert.ok(Math.max(...between(samples, 10, 25)) < 1.1e6);
  const t2 = samples.find((s) => s.t > 25e6 && s.est > 2e6);
  assert.ok(t2 && t2.t < 35e6, `above 2 Mbps at ${t2 && t2.t / 1e6} s`);
  assert.ok(mean(between(samples, 38, 50)) > 2.1e6);
  assert.ok(Math.max(...between(samples, 38, 50)) < 3.3e6);
  assert.ok(probes >= 3);
});

test('random loss 20 %: the estimate decreases; 1 %: it does not', () => {
  const high = simulate({ durationS: 30, capacity: () => 5e6, lossRate: 0.2, startBps: 1e6 });
  const early = between(high.samples, 2, 3)[0];
  const late = between(high.samples, 25, 30);
  assert.ok(Math.max(...late) < 0.3 * early, `${kbps(early)} -> ${kbps(Math.max(...late))} kbps`);
  assert.ok(high.bwe.lossRatio > 0.1);
  const low = simulate({ durationS: 30, capacity: () => 5e6, lossRate: 0.01, startBps: 1e6 });
  assert.ok(mean(between(low.samples, 10, 30)) > 3.5e6, `${kbps(mean(between(low.samples, 10, 30)))} kbps`);
  assert.ok(low.bwe.lossBasedBps >= low.bwe.estimateBps(), 'the loss-based bound does not limit');
});

test('feedback garbage and unknown sequence numbers are harmless', () => {
  const bwe = new SendSideBwe();
  const before = bwe.estimateBps();
  assert.equal(bwe.onFeedback(Buffer.alloc(8), 0, 8, 0), false);
  const rec = new TwccRecorder(64);
  for (let i = 0; i < 30; i++) rec.record(1000 + i, i * 5000);
  const out = Buffer.alloc(300);
  const n = rec.writeFeedback(out, 0, 1, 2);
  assert.ok(bwe.onFeedback(out, 0, n, 1_000_000), 'valid feedback for packets never sent');
  for (let i = 0; i < 500; i++) {
    const g = Buffer.from(out.subarray(0, n));
    g[(Math.random() * n) | 0] = (Math.random() * 256) | 0;
    bwe.onFeedback(g, 0, n, 1_000_000 + i);
  }
  assert.equal(bwe.estimateBps(), before);
});


test('send history: allocated at the first packet, starts small, grows when packets awaiting feedback would be overwritten, never for a silent receiver', () => {
  const bwe = new SendSideBwe();
  assert.equal(bwe.historySlots, 0, 'nothing before the first packet (a media worker that never sends to this receiver)');
  const rec = new TwccRecorder(4096);
  const out = Buffer.alloc(1500);
  const feed = (nowUs: number): void => {
    for (let n = rec.writeFeedback(out, 0, 1, 2); n > 0; n = rec.writeFeedback(out, 0, 1, 2)) assert.ok(bwe.onFeedback(out, 0, n, nowUs));
  };
  bwe.onPacketSent(65535, 1200, 999_000);
  assert.equal(bwe.historySlots, HISTORY_START_SIZE);
  // a first feedback, then 3000 packets of 1200 bytes in 300 ms before the next one (feedback held up)
  let t = 1_000_000;
  for (let seq = 0; seq < 10; seq++, t += 100) {
    bwe.onPacketSent(seq, 1200, t);
    rec.record(seq, t + 20_000);
  }
  feed(t + 20_000);
  for (let seq = 10; seq < 3010; seq++, t += 100) {
    bwe.onPacketSent(seq, 1200, t);
    rec.record(seq, t + 20_000);
  }
  assert.equal(bwe.historySlots, 4096, 'grew to keep every packet awaiting feedback');
  feed(t + 20_000);
  // every one was matched: the acknowledged rate is the whole 300 ms at 96 Mbit/s (not the last 512 packets')
  const acked = bwe.ackedBps();
  assert.ok(Math.abs(acked - 96e6) < 1e6, `acked ${acked}`);
  assert.equal(bwe.lossRatio, 0);

  // no feedback ever: the history stays at its first size however much is sent
  const silent = new SendSideBwe();
  for (let seq = 0; seq < 20_000; seq++) silent.onPacketSent(seq, 1200, seq * 100);
  assert.equal(silent.historySlots, HISTORY_START_SIZE);
});
