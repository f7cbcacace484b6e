// The per-receiver pacer (src/bridge/pacer.ts): a burst of video spreads at the pace (checked in simulated time,
// so a loaded machine cannot break it), queues are capped (tail drop, counted), audio is never queued but counts
// against the pace, and the shared timer stops once queues are empty. Then through a real WebRtcTransport, real
// SRTP and a real UDP socket: audio sent after a paced keyframe burst arrives before the burst's end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { BufferRing } from '../../src/bridge/buffer-ring.ts';
import { BridgeCounters } from '../../src/bridge/counters.ts';
import { BURST_MS, MAX_QUEUED_PACKETS, MAX_QUEUE_MS, Pacing, type PacedSink } from '../../src/bridge/pacer.ts';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import { SrtpSession } from '../../src/bridge/packet/srtp.ts';
import { UdpTransport } from '../../src/bridge/udp-transport.ts';
import { WebRtcTransport, type WebRtcContext } from '../../src/bridge/webrtc-transport.ts';
import { createDownlinkEstimator } from '../../src/bridge/downlink.ts';

interface Sent {
  seq: number;
  len: number;
  atMs: number;
}

function recordingSink(rateBps: number): PacedSink & { sent: Sent[]; rateBps: number } {
  const sink = {
    sent: [] as Sent[],
    rateBps,
    paceRateBps: () => sink.rateBps,
    sendPaced(buf: Buffer, len: number, _tw: number | undefined, nowUs: number) {
      sink.sent.push({ seq: buf.readUInt16BE(2), len, atMs: nowUs / 1000 });
    },
  };
  return sink;
}

function packet(seq: number, len = 1200): Buffer {
  const b = Buffer.alloc(len);
  b[0] = 0x80;
  b.writeUInt16BE(seq, 2);
  return b;
}

function pacing(counters = new BridgeCounters(), maxSlots?: number): Pacing {
  const ring = new BufferRing(64, 1600);
  return new Pacing(counters, () => ring.next(), { maxSlots });
}

test('a burst of 40 packets leaves at the pace: what has left by each time is what the pace allows, in order', () => {
  const p = pacing();
  const rate = 1_000_000; // 125 bytes per ms
  const sink = recordingSink(rate);
  const pacer = p.createPacer(sink);
  let immediate = 0;
  for (let i = 0; i < 40; i++) if (pacer.admit(packet(i), 1200, 20, 1000, rate)) immediate++;
  // the first packets leave at once, up to BURST_MS of the pace
  const burstBytes = (rate * BURST_MS) / 8000;
  assert.equal(immediate, Math.floor(burstBytes / 1200) + 1);
  assert.equal(pacer.queued, 40 - immediate);
  assert.equal(p.activeReceivers, 1);
  // 48 000 bytes at 125 bytes/ms: about 384 ms; drive the drain every 5 ms of simulated time
  let t = 1000;
  while (pacer.queued > 0 && t < 3000) {
    t += 5;
    pacer.drain(t);
    const sentBytes = (immediate + sink.sent.length) * 1200;
    // never ahead of the pace (plus the burst and one packet), never far behind it
    const allowed = (t - 1000) * (rate / 8000) + burstBytes + 1200;
    assert.ok(sentBytes <= allowed, `at ${t - 1000} ms: ${sentBytes} bytes sent, the pace allows ${allowed}`);
    assert.ok(pacer.queued === 0 || sentBytes >= allowed - 2 * 1200 - burstBytes, `at ${t - 1000} ms: only ${sentBytes} bytes sent`);
  }
  const spanMs = t - 1000;
  assert.ok(spanMs >= 300 && spanMs <= 400, `the burst took ${spanMs} ms of simulated time`);
  assert.deepEqual(
    sink.sent.map((s) => s.seq),
    Array.from({ length: 40 - immediate }, (_, i) => i + immediate),
  );
  assert.equal(pacer.queuedBytes, 0);
});

test('a queue that would wait longer than MAX_QUEUE_MS raises the pace', () => {
  const p = pacing();
  const rate = 100_000; // 12.5 bytes per ms: 100 packets would take almost 10 s
  const sink = recordingSink(rate);
  const pacer = p.createPacer(sink);
  for (let i = 0; i < 100; i++) pacer.admit(packet(i), 1200, 20, 0, rate);
  let t = 0;
  while (pacer.queued > 0 && t < 20_000) pacer.drain((t += 5));
  assert.ok(t <= MAX_QUEUE_MS * 2, `drained in ${t} ms`);
});

test('caps: a receiver queues at most MAX_QUEUED_PACKETS, the pool at most its slots; the rest is dropped and counted', () => {
  const counters = new BridgeCounters();
  const p = pacing(counters);
  const sink = recordingSink(1_000_000);
  const pacer = p.createPacer(sink);
  let immediate = 0;
  for (let i = 0; i < MAX_QUEUED_PACKETS + 100; i++) if (pacer.admit(packet(i & 0xffff), 1200, 20, 0, 1_000_000)) immediate++;
  const total = MAX_QUEUED_PACKETS + 100;
  assert.equal(pacer.queued, MAX_QUEUED_PACKETS, 'full');
  assert.ok(counters.dropPacerFull > 0);
  // every packet left at once, left through the queue, waits, or was dropped
  assert.equal(immediate + sink.sent.length + pacer.queued + counters.dropPacerFull, total);

  const small = new BridgeCounters();
  const q = pacing(small, 256);
  const a = q.createPacer(recordingSink(1_000_000));
  const b = q.createPacer(recordingSink(1_000_000));
  for (let i = 0; i < 200; i++) {
    a.admit(packet(i), 1200, 20, 0, 1_000_000);
    b.admit(packet(i), 1200, 20, 0, 1_000_000);
  }
  assert.equal(q.poolSlots, 256);
  assert.equal(a.queued + b.queued, 256);
  assert.ok(small.dropPacerFull > 0);
  // a receiver that leaves gives its slots back
  a.clear();
  assert.equal(a.queued, 0);
  for (let i = 0; i < 50; i++) b.admit(packet(i), 1200, 20, 0, 1_000_000);
  assert.equal(q.poolSlots, 256, 'no more memory: the freed slots are reused');
  p.close();
  q.close();
});

test('audio is never queued, but its bytes count against the pace', () => {
  const p = pacing();
  const rate = 1_000_000;
  const sink = recordingSink(rate);
  const pacer = p.createPacer(sink);
  // alone, a video packet leaves at once
  assert.equal(pacer.admit(packet(1), 1200, 20, 0, rate), true);
  // after 20 ms the debt is gone; audio (the caller sends it, the pacer only counts it) fills the burst allowance
  pacer.account(1300, 20, rate);
  assert.equal(pacer.admit(packet(2), 1200, 20, 20, rate), false, 'video waits behind the audio bytes');
  assert.equal(pacer.queued, 1);
  pacer.drain(40);
  assert.equal(pacer.queued, 0);
  assert.equal(sink.sent.length, 1);
  p.close();
});

test('the shared timer drains every receiver and stops when the queues are empty', async () => {
  const p = pacing();
  const sinks = [recordingSink(4_000_000), recordingSink(4_000_000), recordingSink(4_000_000)];
  const pacers = sinks.map((s) => p.createPacer(s));
  const start = performance.now();
  for (const pacer of pacers) for (let i = 0; i < 30; i++) pacer.admit(packet(i), 1200, 20, start, 4_000_000);
  assert.equal(p.activeReceivers, 3);
  const deadline = Date.now() + 20_000;
  while (p.activeReceivers > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(p.activeReceivers, 0);
  for (const [i, s] of sinks.entries()) {
    assert.equal(pacers[i].queued, 0);
    // the 4 MB/s pace lets the first 5 leave at once (BURST_MS): the other 25 went through the timer
    assert.equal(s.sent.length, 25);
    // in order, and over more than one tick (a burst spread out, not sent at once)
    const seqs = s.sent.map((x) => x.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.ok(new Set(s.sent.map((x) => x.atMs)).size > 1, 'sent over several ticks');
  }
  p.close();
});

test('through a WebRtcTransport (real SRTP, a real UDP socket): audio after a paced keyframe burst arrives before the burst ends', async () => {
  const counters = new BridgeCounters();
  const ring = new BufferRing(256, 1600);
  const udp = new UdpTransport({ onMedia() {}, onStun() {}, onDtls() {} }, counters, () => {});
  await udp.bind('127.0.0.1', 0);
  const rx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const key = Buffer.alloc(16, 7);
  const salt = Buffer.alloc(14, 9);
  const opener = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt);
  const arrivals: Array<{ ssrc: number; seq: number }> = [];
  rx.on('message', (msg) => {
    const len = opener.unprotectRtp(msg, msg.length);
    if (len > 0) arrivals.push({ ssrc: msg.readUInt32BE(8), seq: msg.readUInt16BE(2) });
  });
  const ctx = {
    counters,
    udp,
    nowUs: performance.now() * 1000,
    nextSlot: () => ring.next(),
    rtcpElsewhere() {},
    rtcpIndex: () => 1,
    pacing: null as Pacing | null,
    receiveRtp() {},
    receiveRtcp() {},
  } as unknown as WebRtcContext & { nowUs: number; pacing: Pacing | null };
  ctx.pacing = new Pacing(counters, () => ring.next());
  const ep = new Endpoint('r', new Conference('c'), 0);
  ep.connected = true;
  ep.bwe = createDownlinkEstimator(); // starts at 1 Mbit/s: a pace of 2.5 Mbit/s
  const t = new WebRtcTransport(ep, 'u', 'p', ctx);
  ep.transport = t;
  t.srtpOut = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt);
  t.select('127.0.0.1', rx.address().port, null);
  const rtp = (ssrc: number, seq: number, len: number) => {
    const b = Buffer.alloc(len + 16);
    b[0] = 0x80;
    b[1] = 96;
    b.writeUInt16BE(seq, 2);
    b.writeUInt32BE(ssrc, 8);
    return b;
  };
  // a keyframe of 60 packets (72 kB: about 230 ms at the pace), then one audio packet in the same turn
  for (let i = 0; i < 60; i++) t.sendRtp(rtp(0x1111, i, 1200), 1200, 'video', -1, -1);
  t.sendRtp(rtp(0x2222, 1, 100), 100, 'audio', -1, -1);
  assert.ok(t.pacer !== null && t.pacer.queued > 40, `queued: ${t.pacer?.queued}`);
  const deadline = Date.now() + 20_000;
  while (arrivals.length < 61 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(arrivals.length, 61);
  const audioAt = arrivals.findIndex((a) => a.ssrc === 0x2222);
  assert.ok(audioAt >= 0 && audioAt < 20, `the audio packet arrived as number ${audioAt}`);
  assert.deepEqual(
    arrivals.filter((a) => a.ssrc === 0x1111).map((a) => a.seq),
    Array.from({ length: 60 }, (_, i) => i),
    'video in order',
  );
  assert.ok(counters.pacedPackets > 40, `paced: ${counters.pacedPackets}`);
  assert.equal(t.pacer!.queued, 0);
  ctx.pacing.close();
  rx.close();
  await udp.close();
});
