// RTCP (src/bridge/packet/rtcp.ts) and transport-wide congestion control feedback (twcc.ts): compound packets of
// every type the bridge reads (SR, RR, SDES, BYE, APP, NACK, PLI, FIR, REMB, TWCC) and unknown ones, built by the
// test (or by the bridge's own writers), then mutated, and raw bytes. Checked: the compound walk finds each
// packet where it was put; each reader gives back what was written (report blocks, BYE sources, NACKed sequence
// numbers, FIR entries, REMB bitrate and SSRCs, every TWCC status and arrival time); on any bytes every reader
// stays inside its packet and the walk never reads past `len`. A second target feeds the TWCC recorder hostile
// sequence numbers: every feedback it writes must be one valid packet that reports only what was received.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as rtcp from '../../../src/bridge/packet/rtcp.ts';
import { forEachTwccStatus, TwccRecorder, twccStatusCount } from '../../../src/bridge/packet/twcc.ts';
import { bytes, hexBytesMostlyShort, mutate, mutations, u16, withTails, type Mutation } from '../bytes.ts';
import { pureTarget } from '../harness.ts';
import { buildRtcp, rtcpCompoundSpec, twccArrivals, type BuiltRtcp, type RtcpPacketSpec } from '../packets.ts';

export interface RtcpInput {
  packet: { specs: RtcpPacketSpec[] } | { raw: string };
  ops: Mutation[];
  /** A reader called at an arbitrary place: offset as a fraction of the length, and a length. */
  probe: { at: number; length: number };
}

type Visit = [offset: number, length: number, pt: number, fmt: number];

function walk(b: Buffer, len: number): { ok: boolean; visits: Visit[] } {
  const visits: Visit[] = [];
  const ok = rtcp.forEachRtcp(b, len, (o, l, pt, fmt) => visits.push([o, l, pt, fmt]));
  return { ok, visits };
}

function collect<T>(f: (cb: (v: T) => void) => void): T[] {
  const out: T[] = [];
  f((v) => out.push(v));
  return out;
}

function checkPacket(b: Buffer, p: BuiltRtcp, twccSeen: Map<number, [boolean, number]>): void {
  const s = p.spec;
  const { offset: o, length: l } = p;
  const blocksAt = (blocks: { ssrc: number; fractionLost: number; cumulativeLost: number; highestSeq: number }[]) => {
    const got = collect<number>((cb) => rtcp.forEachReportBlock(b, o, l, cb)).map((bo) => ({
      ssrc: b.readUInt32BE(bo),
      fractionLost: b[bo + 4],
      cumulativeLost: b.readUIntBE(bo + 5, 3),
      highestSeq: b.readUInt32BE(bo + 8),
    }));
    assert.deepEqual(got, blocks.map(({ ssrc, fractionLost, cumulativeLost, highestSeq }) => ({ ssrc, fractionLost, cumulativeLost, highestSeq })));
  };
  switch (s.type) {
    case 'sr':
      assert.equal(rtcp.srSsrc(b, o), s.ssrc);
      assert.equal(rtcp.srNtpSec(b, o), s.ntpSec);
      assert.equal(rtcp.srNtpFrac(b, o), s.ntpFrac);
      assert.equal(rtcp.srRtpTimestamp(b, o), s.rtpTimestamp);
      blocksAt(s.blocks);
      return;
    case 'rr':
      assert.equal(rtcp.rtcpSenderSsrc(b, o), s.ssrc);
      blocksAt(s.blocks);
      return;
    case 'bye':
      assert.deepEqual(collect<number>((cb) => rtcp.forEachByeSsrc(b, o, l, cb)), s.ssrcs);
      return;
    case 'nack':
      assert.equal(rtcp.rtcpSenderSsrc(b, o), s.sender);
      assert.equal(rtcp.fbMediaSsrc(b, o), s.media);
      assert.deepEqual(new Set(collect<number>((cb) => rtcp.forEachNack(b, o, l, cb))), new Set(s.seqs.map((x) => x & 0xffff)));
      return;
    case 'pli':
      assert.equal(p.fmt, rtcp.FMT_PLI);
      assert.equal(rtcp.rtcpSenderSsrc(b, o), s.sender);
      assert.equal(rtcp.fbMediaSsrc(b, o), s.media);
      return;
    case 'fir':
      assert.equal(p.fmt, rtcp.FMT_FIR);
      assert.deepEqual(
        collect<[number, number]>((cb) => rtcp.forEachFir(b, o, l, (ssrc, seqNr) => cb([ssrc, seqNr]))),
        s.entries.map((e) => [e.ssrc, e.seqNr]),
      );
      assert.deepEqual(rtcp.firSsrcs(b, o, l), s.entries.map((e) => e.ssrc));
      return;
    case 'remb': {
      const r = rtcp.parseRemb(b, o, l);
      assert.ok(r, 'a REMB does not parse');
      assert.deepEqual(r.ssrcs, s.ssrcs.slice(0, 255));
      const want = Math.floor(s.bitrate);
      // an 18-bit mantissa and a 6-bit exponent: exact below 2^18, else at most 2^-17 low
      assert.ok(r.bitrate <= want && r.bitrate >= want * (1 - 2 ** -17), `REMB ${want} read as ${r.bitrate}`);
      assert.equal(rtcp.rembBitrate(b, o, l), r.bitrate);
      return;
    }
    case 'twcc': {
      assert.equal(p.fmt, rtcp.FMT_TWCC);
      assert.equal(rtcp.fbMediaSsrc(b, o), s.media);
      let calls = 0;
      const n = forEachTwccStatus(b, o, l, (seq, received, arrivalUs) => {
        calls++;
        twccSeen.set(seq, [received, arrivalUs]);
      });
      assert.equal(n, twccStatusCount(b, o));
      assert.equal(calls, n);
      return;
    }
    default:
      return;
  }
}

/** Every sequence number from the first to the last recorded is reported: received at its arrival (250 µs ticks), or lost. */
function checkTwccReports(s: Extract<RtcpPacketSpec, { type: 'twcc' }>, seen: Map<number, [boolean, number]>): void {
  const arrivals = twccArrivals(s);
  const recorded = new Map(arrivals);
  const first = arrivals[0]![0];
  const span = (arrivals[arrivals.length - 1]![0] - first) & 0xffff;
  for (let i = 0; i <= span; i++) {
    const seq = (first + i) & 0xffff;
    const got = seen.get(seq);
    assert.ok(got, `TWCC sequence number ${seq} was never reported`);
    const t = recorded.get(seq);
    if (t === undefined) assert.equal(got[0], false, `TWCC ${seq} reported received, never recorded`);
    else assert.deepEqual(got, [true, Math.round(t / 250) * 250], `TWCC ${seq} arrived at ${t} µs`);
  }
  assert.equal(seen.size, span + 1, 'TWCC reported sequence numbers outside what was recorded');
}

function checkBuilt(specs: RtcpPacketSpec[], b: Buffer, packets: BuiltRtcp[]): void {
  const { ok, visits } = walk(b, b.length);
  assert.equal(ok, true, 'a well-formed compound packet does not walk');
  assert.deepEqual(visits, packets.map((p) => [p.offset, p.length, p.pt, p.fmt]));
  const seen = new Map<RtcpPacketSpec, Map<number, [boolean, number]>>();
  for (const p of packets) {
    if (!seen.has(p.spec)) seen.set(p.spec, new Map());
    checkPacket(b, p, seen.get(p.spec)!);
  }
  for (const s of specs) if (s.type === 'twcc') checkTwccReports(s, seen.get(s)!);
}

function checkAny(b: Buffer, probe: RtcpInput['probe']): void {
  const len = b.length;
  const { ok, visits } = walk(b, len);
  let next = 0;
  for (const [o, l] of visits) {
    assert.equal(o, next, 'the compound walk skipped or overlapped bytes');
    assert.ok(l >= 4 && l % 4 === 0 && o + l <= len, `packet ${o}+${l} of ${len}`);
    next = o + l;
  }
  assert.equal(ok, len >= 4 && next === len);
  for (const t of withTails(b)) assert.deepEqual(walk(t, len), { ok, visits }, 'the compound walk read past len');
  assert.deepEqual(walk(b, len + 8), { ok, visits });
  for (const [o, l] of visits) {
    rtcp.rtcpSenderSsrc(b, o);
    rtcp.fbMediaSsrc(b, o);
    const nacks = collect<number>((cb) => rtcp.forEachNack(b, o, l, cb));
    assert.ok(nacks.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff));
    assert.ok(nacks.length <= 17 * Math.max(0, (l - 12) / 4));
    assert.ok(collect((cb) => rtcp.forEachFir(b, o, l, cb)).length <= Math.max(0, Math.floor((l - 12) / 8)));
    assert.ok(collect((cb) => rtcp.forEachByeSsrc(b, o, l, cb)).length <= Math.min(b[o]! & 0x1f, (l - 4) / 4));
    for (const bo of collect<number>((cb) => rtcp.forEachReportBlock(b, o, l, cb))) assert.ok(bo >= o + 8 && bo + 24 <= o + l);
    const remb = rtcp.parseRemb(b, o, l);
    if (remb) assert.ok(20 + 4 * remb.ssrcs.length <= l && remb.bitrate >= 0);
    assert.ok(rtcp.rembBitrate(b, o, l) >= -1);
    let calls = 0;
    const n = forEachTwccStatus(b, o, l, (seq, received, arrivalUs) => {
      calls++;
      assert.ok(Number.isInteger(seq) && seq >= 0 && seq <= 0xffff);
      assert.ok(received ? Number.isFinite(arrivalUs) || Number.isNaN(arrivalUs) : arrivalUs === 0);
    });
    assert.ok(n === -1 ? calls === 0 : calls === n, `TWCC said ${n}, reported ${calls}`);
    for (const t of withTails(b)) assert.equal(forEachTwccStatus(t, o, l, () => {}), n, 'TWCC read past its packet');
  }
  // readers called anywhere (a caller's mistake must not become an exception)
  const o = Math.floor((probe.at * (len + 4)) / 0x10000);
  const l = probe.length;
  collect((cb) => rtcp.forEachNack(b, o, l, cb));
  collect((cb) => rtcp.forEachFir(b, o, l, cb));
  collect((cb) => rtcp.forEachByeSsrc(b, o, l, cb));
  collect((cb) => rtcp.forEachReportBlock(b, o, l, cb));
  rtcp.parseRemb(b, o, l);
  assert.ok(forEachTwccStatus(b, o, l, () => {}) >= -1);
}

export const rtcpTarget = pureTarget<RtcpInput>({
  name: 'rtcp',
  about: 'RTCP compound walk and every type the bridge reads (SR/RR/SDES/BYE/NACK/PLI/FIR/REMB/TWCC): round trips, bounds',
  input: fc.record({
    packet: fc.oneof({ arbitrary: fc.record({ specs: rtcpCompoundSpec }), weight: 4 }, { arbitrary: fc.record({ raw: hexBytesMostlyShort(300) }), weight: 1 }),
    ops: mutations,
    probe: fc.record({ at: fc.nat({ max: 0xffff }), length: fc.nat({ max: 80 }) }),
  }),
  ciRuns: 1000,
  check({ packet, ops, probe }) {
    let b: Buffer;
    if ('specs' in packet) {
      const built = buildRtcp(packet.specs);
      checkBuilt(packet.specs, built.buf, built.packets);
      b = built.buf;
    } else b = bytes(packet.raw);
    checkAny(b, probe);
    if (ops.length > 0) checkAny(mutate(b, ops), probe);
  },
});

// ---- the receive side of TWCC under hostile sequence numbers ----

export type TwccRecorderStep = { record: { seq: number; dtUs: number } } | { feedback: { budget: number } };

export const twccRecorderTarget = pureTarget<TwccRecorderStep[]>({
  name: 'twcc-recorder',
  about: 'TWCC recorder fed any transport-wide sequence numbers: each feedback is one valid packet reporting only what arrived',
  input: fc.array(
    fc.oneof(
      { arbitrary: fc.record({ record: fc.record({ seq: u16, dtUs: fc.oneof(fc.nat({ max: 50_000 }), fc.nat({ max: 20_000_000 })) }) }), weight: 6 },
      { arbitrary: fc.record({ feedback: fc.record({ budget: fc.oneof(fc.constant(1200), fc.integer({ min: 0, max: 1200 })) }) }), weight: 1 },
    ),
    { maxLength: 200 },
  ),
  ciRuns: 500,
  check(steps) {
    const rec = new TwccRecorder();
    const arrivals = new Map<number, Set<number>>();
    const out = Buffer.alloc(1500);
    let t = 1_000_000;
    const feedback = (budget: number): number => {
      const n = rec.writeFeedback(out, 0, 1, 2, budget);
      if (n === 0) return 0;
      assert.ok(n <= budget && n % 4 === 0, `a feedback of ${n} bytes for a budget of ${budget}`);
      const { ok, visits } = walk(out, n);
      assert.ok(ok && visits.length === 1 && visits[0]![1] === n, 'the feedback is not one RTCP packet');
      let calls = 0;
      const count = forEachTwccStatus(out, 0, n, (seq, received, arrivalUs) => {
        calls++;
        if (!received) return;
        const times = arrivals.get(seq);
        assert.ok(times, `TWCC reports ${seq} received, never recorded`);
        assert.ok([...times].some((at) => Math.round(at / 250) * 250 === arrivalUs), `TWCC ${seq} at ${arrivalUs} µs, recorded at ${[...times]}`);
      });
      assert.equal(count, twccStatusCount(out, 0), 'the feedback does not parse');
      assert.equal(calls, count);
      return n;
    };
    for (const step of steps) {
      if ('record' in step) {
        t += step.record.dtUs;
        rec.record(step.record.seq, t);
        if (!arrivals.has(step.record.seq)) arrivals.set(step.record.seq, new Set());
        arrivals.get(step.record.seq)!.add(t);
      } else feedback(step.feedback.budget);
    }
    // with room for a whole packet each time, everything pending is reported in a bounded number of feedbacks
    for (let i = 0; rec.hasPending(); i++) {
      assert.ok(i < 4096, 'the recorder never drains');
      feedback(1200);
    }
  },
});
