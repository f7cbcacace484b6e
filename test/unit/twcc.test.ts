import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TwccRecorder,
  forEachTwccStatus,
  readTransportSeq,
  writeTransportSeq,
  twccBaseSeq,
  twccStatusCount,
  twccReferenceTime,
  twccFbCount,
  TWCC_RING_START_SIZE,
} from '../../src/bridge/packet/twcc.ts';
import { forEachRtcp } from '../../src/bridge/packet/rtcp.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

interface Status {
  seq: number;
  received: boolean;
  arrivalUs: number;
}
function decode(buf: Buffer, off = 0, len = buf.length): Status[] | null {
  const out: Status[] = [];
  const n = forEachTwccStatus(buf, off, len, (seq, received, arrivalUs) => out.push({ seq, received, arrivalUs }));
  return n < 0 ? null : out;
}

test('transport-wide sequence number header extension (one-byte element, L=1)', () => {
  // V=2 X=1, seq 1, ts 0, ssrc 1; 0xBEDE length 1: id 5 L=1 (0x51) seq 0xABCD, one padding byte
  const p = hex('90600001 00000000 00000001 bede0001 51abcd00 deadbeef');
  assert.equal(readTransportSeq(p, p.length, 5), 0xabcd);
  assert.equal(readTransportSeq(p, p.length, 3), -1);
  assert.ok(writeTransportSeq(p, p.length, 5, 0x1234));
  assert.equal(readTransportSeq(p, p.length, 5), 0x1234);
  assert.equal(p.subarray(16, 20).toString('hex'), '51123400');
  assert.equal(writeTransportSeq(p, p.length, 4, 1), false);
  // a 1-byte element (L=0) is too short for a sequence number
  const q = hex('90600001 00000000 00000001 bede0001 50ab0000');
  assert.equal(readTransportSeq(q, q.length, 5), -1);
  assert.equal(writeTransportSeq(q, q.length, 5, 7), false);
  assert.equal(readTransportSeq(p, 15, 5), -1, 'truncated');
});

// The chunk examples of draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.3 and §3.1.4, decoded by hand:
//   0x00DD = 0|00|0000011011101           -> 221 x "not received"
//   0x9F1C = 1|0|01111100011100           -> 1 not, 5 received, 3 not, 3 received, 2 not (1-bit symbols)
//   0xCD50 = 1|1|00 11 01 01 01 00 00     -> not, received w/o delta (11), 3 x received small, 2 x not
//   0x6018 = 0|11|0000000011000           -> 24 x "received w/o delta" (reserved 11 in -01)
// plus 0x4002 = 0|10|0000000000010       -> 2 x "received, large or negative delta" (16-bit signed deltas)
const EXAMPLE_DELTAS_SMALL = [4, 4, 4, 4, 4, 8, 0, 255, 1, 2, 3];
function exampleFeedback(padBit: boolean): Buffer {
  const body = hex(
    '8fcd000b 11111111 22222222' + // RTPFB FMT=15, length filled below
      'ffdc 010c' + // base seq 65500, status count 268
      '000010 07' + // reference time 16 (x 64 ms = 1.024 s), fb pkt count 7
      '00dd 9f1c cd50 6018 4002' +
      Buffer.from(EXAMPLE_DELTAS_SMALL).toString('hex') +
      'fffc 1000', // -4 ticks (-1 ms), +4096 ticks (+1.024 s)
  );
  // 20 + 10 + 11 + 4 = 45 bytes -> 3 bytes of padding
  const pkt = Buffer.concat([body, padBit ? hex('000003') : hex('000000')]);
  pkt[2] = 0;
  pkt[3] = pkt.length / 4 - 1;
  if (padBit) pkt[0] |= 0x20;
  return pkt;
}

test('decodes the draft chunk examples (run length, 1-bit and 2-bit vectors, large deltas, seq wrap)', () => {
  // Expected statuses, derived by hand from the chunk list above.
  const expected: Status[] = [];
  let seq = 65500;
  let t = 16 * 64000;
  const small = [...EXAMPLE_DELTAS_SMALL];
  const push = (kind: 'lost' | 'small' | 'nodelta' | 'large', large = 0): void => {
    if (kind === 'small') t += small.shift()! * 250;
    if (kind === 'large') t += large * 250;
    expected.push({
      seq,
      received: kind !== 'lost',
      arrivalUs: kind === 'lost' ? 0 : kind === 'nodelta' ? NaN : t,
    });
    seq = (seq + 1) & 0xffff;
  };
  for (let i = 0; i < 221; i++) push('lost');
  for (const b of '01111100011100') push(b === '1' ? 'small' : 'lost');
  push('lost');
  push('nodelta');
  push('small');
  push('small');
  push('small');
  push('lost');
  push('lost');
  for (let i = 0; i < 24; i++) push('nodelta');
  push('large', -4);
  push('large', 4096);
  assert.equal(expected.length, 268);

  for (const padBit of [false, true]) {
    const pkt = exampleFeedback(padBit);
    assert.equal(pkt.length, 48);
    assert.ok(forEachRtcp(pkt, pkt.length, () => {}), 'a well-formed RTCP packet');
    assert.equal(twccBaseSeq(pkt, 0), 65500);
    assert.equal(twccStatusCount(pkt, 0), 268);
    assert.equal(twccReferenceTime(pkt, 0), 16);
    assert.equal(twccFbCount(pkt, 0), 7);
    const got = decode(pkt);
    assert.ok(got);
    assert.deepEqual(got, expected);
    // spot checks of the hand derivation
    assert.equal(got[220].seq, (65500 + 220) & 0xffff);
    assert.equal(got[222].arrivalUs, 1024000 + 1000);
    assert.equal(got[232].arrivalUs, 1024000 + 5000 + 2000 + 0 + 63750);
    assert.equal(got[266].arrivalUs, got[239].arrivalUs - 1000);
    assert.equal(got[267].arrivalUs, got[266].arrivalUs + 1024000);
  }
});

test('reader: negative reference time, malformed packets report nothing', () => {
  const pkt = exampleFeedback(false);
  pkt[16] = 0xff;
  pkt[17] = 0xff;
  pkt[18] = 0xfe; // -2 -> -128 ms
  const got = decode(pkt)!;
  assert.equal(got[222].arrivalUs, -128000 + 1000);
  const calls: number[] = [];
  for (let cut = 0; cut < 44; cut++) {
    const t = Buffer.from(pkt.subarray(0, cut));
    assert.equal(forEachTwccStatus(t, 0, t.length, (s) => calls.push(s)), -1, `truncated at ${cut}`);
  }
  assert.equal(calls.length, 0);
  const wrongFmt = Buffer.from(pkt);
  wrongFmt[0] = 0x81;
  assert.equal(forEachTwccStatus(wrongFmt, 0, wrongFmt.length, () => {}), -1);
  assert.equal(forEachTwccStatus(pkt, 0, pkt.length + 4, () => {}), -1, 'len beyond the buffer');
  const badPad = Buffer.from(pkt);
  badPad[0] |= 0x20; // P set, last byte 0
  assert.equal(forEachTwccStatus(badPad, 0, badPad.length, () => {}), -1);
  // random garbage never throws
  for (let i = 0; i < 2000; i++) {
    const g = Buffer.from(pkt);
    for (let j = 0; j < 4; j++) g[(Math.random() * g.length) | 0] = (Math.random() * 256) | 0;
    forEachTwccStatus(g, 0, (Math.random() * g.length) | 0, () => {});
    forEachTwccStatus(g, (Math.random() * 8) | 0, g.length, () => {});
  }
});

/** Drives a recorder with (seq, arrivalUs | null = lost) events, writing feedback every `everyUs`. */
function roundTrip(
  events: Array<[number, number | null]>,
  everyUs: number,
  rec = new TwccRecorder(1024),
): { feedbacks: Buffer[]; reports: Map<number, Status[]> } {
  const feedbacks: Buffer[] = [];
  const out = Buffer.alloc(1500);
  let nextFb = -1;
  const flush = (): void => {
    for (;;) {
      const n = rec.writeFeedback(out, 0, 0xb1, 0xa1);
      if (n === 0) break;
      assert.equal(n % 4, 0);
      feedbacks.push(Buffer.from(out.subarray(0, n)));
    }
  };
  for (const [seq, at] of events) {
    if (at === null) continue;
    if (nextFb < 0) nextFb = at + everyUs;
    while (at >= nextFb) {
      flush();
      nextFb += everyUs;
    }
    rec.record(seq, at);
  }
  flush();
  assert.equal(rec.hasPending(), false);
  const reports = new Map<number, Status[]>();
  for (const fb of feedbacks) {
    const st = decode(fb);
    assert.ok(st, 'every feedback decodes');
    for (const s of st) {
      if (!reports.has(s.seq)) reports.set(s.seq, []);
      reports.get(s.seq)!.push(s);
    }
  }
  return { feedbacks, reports };
}

function checkReports(events: Array<[number, number | null]>, reports: Map<number, Status[]>): void {
  for (const [seq, at] of events) {
    const r = reports.get(seq & 0xffff) ?? [];
    const received = r.filter((s) => s.received);
    if (at === null) {
      assert.ok(r.length >= 1, `lost ${seq} is reported`);
      assert.equal(received.length, 0, `lost ${seq} never reported received`);
    } else {
      assert.equal(received.length, 1, `received ${seq} reported received exactly once`);
      assert.ok(Math.abs(received[0].arrivalUs - at) <= 125, `arrival of ${seq}: ${received[0].arrivalUs} vs ${at}`);
    }
  }
}

test('round trip: steady stream with losses, reordering and sequence wrap', () => {
  const events: Array<[number, number | null]> = [];
  let t = 5_000_000;
  for (let i = 0; i < 3000; i++) {
    const seq = (65000 + i) & 0xffff;
    t += 1000 + ((i * 7919) % 9000); // 1..10 ms apart
    events.push([seq, i % 17 === 5 || (i > 1000 && i < 1040) ? null : t]);
  }
  // reorder: here and there seq i+1 arrives before seq i (negative receive deltas)
  let swapped = 0;
  for (let i = 10; i < events.length - 1; i += 37) {
    if (events[i][1] === null || events[i + 1][1] === null) continue;
    const s = events[i][0];
    events[i][0] = events[i + 1][0];
    events[i + 1][0] = s;
    swapped++;
  }
  assert.ok(swapped > 50);
  const { feedbacks, reports } = roundTrip(events, 50_000);
  checkReports(events, reports);
  assert.ok(feedbacks.length > 100);
  // feedback packet counts increase by one
  for (let i = 0; i < feedbacks.length; i++) assert.equal(twccFbCount(feedbacks[i], 0), i & 0xff);
});

test('round trip: a late packet after its feedback moves the window back', () => {
  const events: Array<[number, number | null]> = [];
  for (let i = 0; i < 40; i++) events.push([100 + i, i === 7 ? null : 1_000_000 + i * 5000]);
  events.push([107, 1_000_000 + 40 * 5000 + 3000]); // 107 arrives 160 ms late
  for (let i = 40; i < 60; i++) events.push([100 + i, 1_000_000 + i * 5000 + 4000]);
  const { reports } = roundTrip(events, 20_000);
  const r107 = reports.get(107)!;
  assert.ok(r107.some((s) => !s.received), 'first reported missing');
  assert.equal(r107.filter((s) => s.received).length, 1, 'then reported received');
  assert.ok(Math.abs(r107.find((s) => s.received)!.arrivalUs - (1_000_000 + 203_000)) <= 125);
  // the packets between are never reported received twice
  for (let s = 108; s < 160; s++) assert.equal(reports.get(s)!.filter((x) => x.received).length, 1);
});

test('round trip: gaps over 8191.75 ms start a new feedback; a big seq jump', () => {
  const events: Array<[number, number | null]> = [];
  let t = 1_000_000;
  for (let i = 0; i < 20; i++) events.push([i, (t += 2000)]);
  events.push([20, (t += 9_000_000)]); // 9 s: more than a 16-bit delta
  events.push([21, (t += 1000)]);
  events.push([22, (t -= 8_500_000)]); // arrives 8.5 s "before" 21: a negative delta too large
  events.push([23, (t += 100)]);
  for (let i = 0; i < 10; i++) events.push([24 + i, (t += 70_000)]); // 70 ms apart: large positive deltas
  const rec = new TwccRecorder(256);
  for (const [s, a] of events) rec.record(s, a!);
  const out = Buffer.alloc(1500);
  const fbs: Buffer[] = [];
  for (let n; (n = rec.writeFeedback(out, 0, 1, 2)) > 0; ) fbs.push(Buffer.from(out.subarray(0, n)));
  assert.equal(fbs.length, 3, 'split at the 9 s gap and at the -8.5 s delta');
  const reports = new Map<number, Status[]>();
  for (const fb of fbs) for (const s of decode(fb)!) reports.set(s.seq, [...(reports.get(s.seq) ?? []), s]);
  checkReports(events, reports);
  assert.equal(twccBaseSeq(fbs[1], 0), 20);
  assert.equal(twccBaseSeq(fbs[2], 0), 22);

  // a jump far beyond the ring: the recorder restarts its window there
  const rec2 = new TwccRecorder(64);
  rec2.record(10, 1000);
  rec2.record(30000, 2000);
  const n = rec2.writeFeedback(out, 0, 1, 2);
  const st = decode(out, 0, n)!;
  assert.equal(st[0].seq, 30000);
  assert.equal(st.length, 1);
});

test('writer respects the byte budget and continues in the next feedback', () => {
  const rec = new TwccRecorder(4096);
  const events: Array<[number, number | null]> = [];
  let t = 0;
  // alternating large deltas and losses: worst case for the encoding
  for (let i = 0; i < 2000; i++) events.push([i, i % 2 ? null : (t += 70_000)]);
  for (const [s, a] of events) if (a !== null) rec.record(s, a);
  const out = Buffer.alloc(200);
  const reports = new Map<number, Status[]>();
  let count = 0;
  for (let n; (n = rec.writeFeedback(out, 0, 1, 2)) > 0; count++) {
    assert.ok(n <= 200);
    for (const s of decode(out, 0, n)!) reports.set(s.seq, [...(reports.get(s.seq) ?? []), s]);
  }
  assert.ok(count > 10);
  checkReports(events.slice(0, 1999), reports); // the final lost one is after the highest received
  assert.equal(rec.writeFeedback(Buffer.alloc(10), 0, 1, 2), 0);
});

test('duplicates and garbage input to the recorder', () => {
  const rec = new TwccRecorder(64);
  rec.record(5, 1000);
  rec.record(5, 9000); // duplicate: keeps the first arrival
  rec.record(6, NaN); // ignored
  const out = Buffer.alloc(100);
  const n = rec.writeFeedback(out, 0, 1, 2);
  const st = decode(out, 0, n)!;
  assert.deepEqual(st, [{ seq: 5, received: true, arrivalUs: 1000 }]);
  assert.equal(rec.writeFeedback(out, 0, 1, 2), 0);
  assert.equal(rec.writeFeedback(out, -1, 1, 2), 0);
});

test('recorder ring: starts small and grows while the packets not yet reported need it; a jump past the most still resets', () => {
  const rec = new TwccRecorder(4096);
  assert.equal(rec.slots, TWCC_RING_START_SIZE);
  // 3000 packets (a lost one every 100th) between two feedbacks: none of them may be forgotten
  const events: Array<[number, number | null]> = [];
  for (let i = 0; i < 3000; i++) events.push([(65000 + i) & 0xffff, i % 100 === 42 ? null : 2_000_000 + i * 100]);
  const { reports } = roundTrip(events, 1_000_000, rec);
  checkReports(events, reports);
  assert.equal(rec.slots, 4096, 'grew to hold them');
  // an everyday stream reported every 50 ms stays at the first size
  const small = new TwccRecorder(4096);
  const everyday: Array<[number, number | null]> = [];
  for (let i = 0; i < 2000; i++) everyday.push([i, 1_000_000 + i * 4000]);
  checkReports(everyday, roundTrip(everyday, 50_000, small).reports);
  assert.equal(small.slots, TWCC_RING_START_SIZE);
  // a jump of more than the most the ring holds: what lies between is not reported (as before it grew)
  const jumpy = new TwccRecorder(1024);
  jumpy.record(10, 1000);
  jumpy.record(10 + 2000, 2000);
  assert.equal(jumpy.slots, TWCC_RING_START_SIZE);
  const out = Buffer.alloc(1500);
  const st = decode(out.subarray(0, jumpy.writeFeedback(out, 0, 1, 2)))!;
  assert.deepEqual(st.map((s) => [s.seq, s.received]), [[2010, true]]);
});
