// The phone side's jitter buffer (src/sip/media/jitter-buffer.ts), driven as the call drives it (tick, then
// pop, once per 20 ms frame) with packets in the orders a network makes: reordered, lost, duplicated, late,
// across the sequence number's wrap, with a new SSRC, a restarted sequence, pauses of the talker (a timestamp
// jump); and on a simulated clock, a network whose jitter comes and goes: the delay grows to what it needs
// (late packets stop), then shrinks again; a burst that left the buffer too deep is trimmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAPACITY, JitterBuffer, MAX_PAYLOAD } from '../../src/sip/media/jitter-buffer.ts';
import { rng } from '../helpers/random.ts';

const SSRC = 0x1234;

function packet(n: number): Uint8Array {
  const p = new Uint8Array(160);
  p[0] = n & 0xff;
  p[1] = (n >> 8) & 0xff;
  return p;
}

/** Pushes packet `seq` with the timestamp of its position `n` (20 ms G.711 packets), arriving on time. */
function push(jb: JitterBuffer, seq: number, n = seq, marker = false, ssrc = SSRC): void {
  jb.push(ssrc, seq & 0xffff, (n * 160) >>> 0, 0, marker, packet(n), n * 20);
}

/** One frame: what the buffer gives ('empty', 'lost', or the packet's number). */
function frame(jb: JitterBuffer): string | number {
  jb.tick();
  const r = jb.pop();
  return r === 'packet' ? jb.payload[0]! | (jb.payload[1]! << 8) : r;
}

test('waits for 60 ms of audio, then gives packets in sequence despite reordering', () => {
  const jb = new JitterBuffer({ frameTicks: 160 });
  push(jb, 1);
  assert.equal(frame(jb), 'empty');
  push(jb, 0); // reordered at the very start: it still comes first
  assert.equal(frame(jb), 'empty');
  push(jb, 3);
  push(jb, 2);
  const out: (string | number)[] = [];
  for (let i = 0; i < 4; i++) out.push(frame(jb));
  assert.deepEqual(out, [0, 1, 2, 3]);
  assert.equal(jb.counters.lost, 0);
});

test('a lost packet is reported in its place; duplicates and late packets are dropped', () => {
  const jb = new JitterBuffer({ frameTicks: 160 });
  for (const seq of [0, 1, 2, 4, 5, 5, 6]) push(jb, seq);
  const out: (string | number)[] = [];
  for (let i = 0; i < 4; i++) out.push(frame(jb));
  push(jb, 3); // arrives after its turn
  push(jb, 1); // long played
  for (let i = 0; i < 3; i++) out.push(frame(jb));
  assert.deepEqual(out, [0, 1, 2, 'lost', 4, 5, 6]);
  assert.equal(jb.counters.duplicates, 1);
  assert.equal(jb.counters.late, 2);
  assert.equal(jb.counters.lost, 1);
});

test('the sequence number wraps from 65535 to 0', () => {
  const jb = new JitterBuffer({ frameTicks: 160 });
  const first = 65533;
  const out: (string | number)[] = [];
  for (let n = 0; n < 8; n++) {
    push(jb, first + n, n);
    out.push(frame(jb));
  }
  // 60 ms buffered before the first is given: 0 comes out at the third frame
  assert.deepEqual(out, ['empty', 'empty', 0, 1, 2, 3, 4, 5]);
  assert.equal(jb.counters.lost + jb.counters.late + jb.counters.restarts, 0);
});

test('a new SSRC, or a sequence number far away, starts over', () => {
  const jb = new JitterBuffer({ frameTicks: 160 });
  for (let n = 0; n < 5; n++) push(jb, n);
  assert.equal(frame(jb), 0);
  for (let n = 0; n < 3; n++) push(jb, 9000 + n, 100 + n, false, 0x9999);
  assert.equal(jb.counters.restarts, 1);
  assert.equal(jb.size, 3);
  assert.equal(frame(jb), 100, 'the new stream, from its first packet');
  push(jb, 9000 + 3 + CAPACITY + 10, 200); // far ahead: more than the buffer holds
  assert.equal(jb.counters.restarts, 2);
  assert.equal(jb.size, 1);
  push(jb, 20, 300); // far behind: a restarted sender
  assert.equal(jb.counters.restarts, 3);
});

test('a pause of the talker (a timestamp jump, the marker) runs the buffer dry: it buffers again, then plays on', () => {
  const jb = new JitterBuffer({ frameTicks: 160 });
  for (let n = 0; n < 3; n++) push(jb, n);
  assert.deepEqual([frame(jb), frame(jb), frame(jb)], [0, 1, 2]);
  assert.equal(frame(jb), 'empty', 'ran dry');
  assert.equal(frame(jb), 'empty');
  assert.equal(jb.counters.underruns, 1, 'counted once');
  // the talker was silent: packet 3 carries a timestamp 2 s later and the marker
  push(jb, 3, 100, true);
  assert.equal(frame(jb), 'empty', 'buffering again');
  push(jb, 4, 101);
  push(jb, 5, 102);
  assert.deepEqual([frame(jb), frame(jb), frame(jb)], [100, 101, 102]);
  assert.equal(jb.counters.lost, 0);
});

/**
 * Runs `seconds` of a talker sending a packet each 20 ms through a network that delays each by `delay(n)` ms,
 * and a listener ticking each 20 ms (7 ms out of phase); returns the packets lost or late in that time.
 */
function simulate(jb: JitterBuffer, from: number, seconds: number, delay: (n: number) => number): { late: number; lost: number } {
  // (packets still in flight when the run ends are never delivered)
  const before = { late: jb.counters.late, lost: jb.counters.lost };
  const inFlight: { at: number; n: number }[] = [];
  const end = from + seconds * 50;
  for (let n = from; n < end; n++) inFlight.push({ at: n * 20 + delay(n), n });
  inFlight.sort((a, b) => a.at - b.at);
  let next = 0;
  for (let t = from; t < end; t++) {
    const now = t * 20 + 7;
    for (; next < inFlight.length && inFlight[next]!.at <= now; next++) {
      const { at, n } = inFlight[next]!;
      jb.push(SSRC, n & 0xffff, n * 160, 0, false, packet(n), at);
    }
    frame(jb);
  }
  return { late: jb.counters.late - before.late, lost: jb.counters.lost - before.lost };
}

test('the delay follows the network: it grows to hold 0-80 ms of jitter, then shrinks when the jitter is gone', () => {
  const jb = new JitterBuffer({ frameTicks: 160 });
  const random = rng(7);
  const calm = simulate(jb, 0, 5, () => 2);
  assert.deepEqual(calm, { late: 0, lost: 0 });
  assert.equal(jb.neededMs, 40, 'no jitter: the shortest delay');
  // jitter: the buffer grows to hold it (a talker's packets still in flight when a run ends count as lost)
  const jittery = simulate(jb, 250, 15, () => random() * 80);
  assert.ok(jb.neededMs > 75 && jb.neededMs <= 100, `needed ${jb.neededMs} ms`);
  assert.ok(jb.playingMs > 70, `playing at ${jb.playingMs} ms`);
  assert.ok(jittery.late + jittery.lost <= 10, `${jittery.late} late and ${jittery.lost} lost of 750 packets`);
  // the jitter is gone: the delay comes back down, a frame a second
  simulate(jb, 1000, 10, () => 2);
  assert.equal(jb.neededMs, 40);
  assert.ok(jb.counters.trimmed >= 2, `trimmed ${jb.counters.trimmed}`);
  assert.ok(jb.playingMs <= 60, `playing at ${jb.playingMs} ms`);
});

test('a buffer left too deep by a burst is trimmed back, a packet a second, without loss', () => {
  const jb = new JitterBuffer({ frameTicks: 160 });
  let seq = 0;
  // the talker's first 8 packets arrive at once, then one per frame: 8 frames deep
  for (; seq < 8; seq++) jb.push(SSRC, seq, seq * 160, 0, false, packet(seq), 0);
  for (let i = 0; i < 400; i++, seq++) {
    jb.push(SSRC, seq, seq * 160, 0, false, packet(seq), (seq - 7) * 20);
    assert.notEqual(frame(jb), 'empty');
  }
  assert.ok(jb.counters.trimmed >= 4, `trimmed ${jb.counters.trimmed}`);
  assert.ok(jb.depthFrames <= 4, `depth ${jb.depthFrames}`);
  assert.equal(jb.counters.lost, 0, 'trimming is not loss');
});

test('10 ms packets: their length is learnt, two per frame', () => {
  const jb = new JitterBuffer({ frameTicks: 160 });
  for (let seq = 0; seq < 6; seq++) jb.push(SSRC, seq, seq * 80, 0, false, packet(seq), seq * 10);
  assert.equal(jb.packetTicks, 80);
  jb.tick();
  assert.equal(jb.pop(), 'packet');
  assert.equal(jb.pop(), 'packet');
});

test('bounded: an oversized payload is dropped, the slots never grow', () => {
  const jb = new JitterBuffer({ frameTicks: 160 });
  jb.push(SSRC, 1, 160, 0, false, new Uint8Array(MAX_PAYLOAD + 1), 0);
  assert.equal(jb.counters.tooLarge, 1);
  assert.equal(jb.size, 0);
  for (let seq = 0; seq < CAPACITY * 3; seq++) push(jb, seq);
  assert.ok(jb.size <= CAPACITY);
});
