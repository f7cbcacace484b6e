import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REWRITE_HISTORY, Vp8Rewriter } from '../../src/bridge/simulcast/vp8-rewriter.ts';
import { LayerSelector, MAX_RESUME_HOLD_MS, RESUME_TRIAL_MS, createSourceDemand, idealLayer } from '../../src/bridge/simulcast/layer-selector.ts';
import { RateMeter } from '../../src/bridge/simulcast/rate-meter.ts';
import { createVp8Info, vp8Descriptor, type Vp8Info } from '../../src/bridge/packet/vp8.ts';
import { rtpHeaderLength, rtpPayloadEnd, rtpSeq, rtpSsrc, rtpTimestamp } from '../../src/bridge/packet/rtp.ts';
import { VIDEO_PT } from '../../src/protocol/media-profile.ts';

interface PacketSpec {
  ssrc: number;
  seq: number;
  ts: number;
  pic: number;
  tl0: number;
  tid: number;
  sync: boolean;
  key: boolean;
  start: boolean;
  marker: boolean;
  layer: number;
}

/** RTP (PT 96) + VP8 descriptor with X, I (15-bit), L, T + payload whose bytes are the layer index. */
function vp8Packet(p: PacketSpec): Buffer {
  const b = Buffer.alloc(12 + 6 + 40, p.layer);
  b[0] = 0x80;
  b[1] = VIDEO_PT | (p.marker ? 0x80 : 0);
  b.writeUInt16BE(p.seq & 0xffff, 2);
  b.writeUInt32BE(p.ts >>> 0, 4);
  b.writeUInt32BE(p.ssrc >>> 0, 8);
  b[12] = 0x80 | (p.start ? 0x10 : 0); // X, S, PID 0
  b[13] = 0xe0; // I L T
  b[14] = 0x80 | ((p.pic >> 8) & 0x7f);
  b[15] = p.pic & 0xff;
  b[16] = p.tl0 & 0xff;
  b[17] = (p.tid << 6) | (p.sync ? 0x20 : 0);
  b[18] = p.start ? (p.key ? 0x00 : 0x01) : p.layer; // VP8 payload header: P bit (0 = key frame)
  return b;
}

/** An RTP packet whose payload is padding only (P bit, last byte = padding length). */
function paddingPacket(ssrc: number, seq: number, ts: number): Buffer {
  const b = Buffer.alloc(12 + 100);
  b[0] = 0xa0;
  b[1] = VIDEO_PT;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  b[b.length - 1] = 100;
  return b;
}

const TIDS = [0, 2, 1, 2]; // L1T3
const SYNC = [false, true, true, false];

/** A 3-layer simulcast sender: independent SSRC, seq, timestamp, picture id and TL0PICIDX per layer. */
class SimulcastSender {
  seq = [1000, 30000, 65500];
  ts = [0xfffff000, 123456, 999];
  pic = [32760, 100, 5000];
  tl0 = [250, 10, 77];
  ssrc = [0x1111, 0x2222, 0x3333];
  frame = 0;
  keyPending = [true, true, true];
  padding: number[] = [];

  /** One frame time: packets of all three layers (layer L has L + 1 packets per frame). */
  nextFrame(): Array<{ layer: number; buf: Buffer }> {
    const out: Array<{ layer: number; buf: Buffer }> = [];
    for (let l = 0; l < 3; l++) {
      const key = this.keyPending[l];
      this.keyPending[l] = false;
      const k = this.frame % 4;
      const tid = key ? 0 : TIDS[k];
      if (tid === 0) this.tl0[l] = (this.tl0[l] + 1) & 0xff;
      for (let i = 0; i <= l; i++) {
        const buf = vp8Packet({
          ssrc: this.ssrc[l],
          seq: this.seq[l]++,
          ts: this.ts[l],
          pic: this.pic[l],
          tl0: this.tl0[l],
          tid,
          sync: !key && SYNC[k],
          key,
          start: i === 0,
          marker: i === l,
          layer: l,
        });
        out.push({ layer: l, buf });
      }
      if (this.padding.includes(l)) out.push({ layer: l, buf: paddingPacket(this.ssrc[l], this.seq[l]++, this.ts[l]) });
      this.ts[l] = (this.ts[l] + 3000) >>> 0;
      this.pic[l] = (this.pic[l] + 1) & 0x7fff;
    }
    this.frame++;
    return out;
  }
}

interface Out {
  seq: number;
  ts: number;
  pic: number;
  tl0: number;
  tid: number;
  start: boolean;
  key: boolean;
  layer: number;
}

function run(
  frames: number,
  rw: Vp8Rewriter,
  sender: SimulcastSender,
  out: Out[],
  filter: (layer: number, buf: Buffer) => boolean = () => true,
): void {
  const info: Vp8Info = createVp8Info();
  for (let f = 0; f < frames; f++) {
    for (const { layer, buf } of sender.nextFrame()) {
      if (!filter(layer, buf)) continue;
      const hl = rtpHeaderLength(buf, buf.length);
      vp8Descriptor(buf, hl, rtpPayloadEnd(buf, buf.length), info);
      if (!rw.rewrite(buf, buf.length, layer, info)) continue;
      assert.equal(rtpSsrc(buf), 0xabcdef01);
      const o = createVp8Info();
      assert.ok(vp8Descriptor(buf, hl, buf.length, o), 'the rewritten descriptor parses');
      out.push({
        seq: rtpSeq(buf),
        ts: rtpTimestamp(buf),
        pic: o.pictureId,
        tl0: o.tl0PicIdx,
        tid: o.tid,
        start: o.start,
        key: o.keyframe,
        layer: buf[buf.length - 1],
      });
    }
  }
}

/** Output invariants: seq +1, timestamps monotonic (new frame: later), picture id +1 per frame, TL0PICIDX +1 per tid 0 frame. */
function checkContinuity(out: Out[]): void {
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1];
    const b = out[i];
    assert.equal(b.seq, (a.seq + 1) & 0xffff, `seq after ${a.seq} (packet ${i})`);
    const dts = (b.ts - a.ts) >>> 0;
    assert.ok(dts < 0x80000000, `timestamp monotonic at ${i}`);
    if (b.pic !== a.pic) {
      assert.equal(b.pic, (a.pic + 1) & 0x7fff, `picture id +1 at ${i}`);
      assert.ok(dts > 0, 'a new frame has a later timestamp');
      assert.equal(b.tl0, b.tid === 0 ? (a.tl0 + 1) & 0xff : a.tl0, `TL0PICIDX at ${i}`);
    } else {
      assert.equal(dts, 0);
      assert.equal(b.tl0, a.tl0);
    }
  }
}

test('VP8 rewriter: switches up and down only at keyframes, one continuous stream', () => {
  const requests: number[] = [];
  const rw = new Vp8Rewriter(0xabcdef01, (l) => requests.push(l));
  const sender = new SimulcastSender();
  sender.keyPending = [false, false, false];
  const out: Out[] = [];
  rw.setTarget(0);
  assert.deepEqual(requests, [0]);
  assert.ok(rw.needsKeyframe);
  run(5, rw, sender, out);
  assert.equal(out.length, 0, 'nothing before a keyframe of the target');
  sender.keyPending[0] = true; // the sender answers the request
  run(10, rw, sender, out);
  assert.ok(out.length > 0 && out[0].key && out.every((o) => o.layer === 0));
  assert.equal(rw.needsKeyframe, false);

  rw.setTarget(2);
  assert.deepEqual(requests, [0, 2]);
  run(3, rw, sender, out); // no keyframe yet: layer 0 goes on
  assert.ok(out.every((o) => o.layer === 0));
  sender.keyPending[2] = true;
  run(10, rw, sender, out);
  const firstHigh = out.findIndex((o) => o.layer === 2);
  assert.ok(firstHigh > 0 && out[firstHigh].key && out[firstHigh].start, 'switch at the keyframe');
  assert.ok(out.slice(firstHigh).every((o) => o.layer === 2));
  assert.equal(
    (out[firstHigh].ts - out[firstHigh - 1].ts) >>> 0,
    3000,
    'timestamp continues one frame interval after the last sent',
  );

  rw.setTarget(1);
  sender.keyPending[0] = true; // a keyframe of another layer does not trigger the switch
  run(4, rw, sender, out);
  assert.equal(out[out.length - 1].layer, 2);
  sender.keyPending[1] = true;
  run(8, rw, sender, out);
  const layers = out.map((o) => o.layer).filter((l, i, a) => i === 0 || a[i - 1] !== l);
  assert.deepEqual(layers, [0, 2, 1]);
  assert.deepEqual(requests, [0, 2, 1]);
  checkContinuity(out);
  // the three input streams wrap differently (seq 65500.., picture id 32760.., ts 0xfffff000..)
  assert.ok(out.some((o) => o.pic < 10), "picture ids wrapped through 2^15");
});

test('VP8 rewriter: dropping temporal layers keeps sequence numbers and picture ids gap-free', () => {
  const rw = new Vp8Rewriter(0xabcdef01, () => {});
  const sender = new SimulcastSender();
  const out: Out[] = [];
  rw.setTarget(1, 0); // base temporal layer only (7.5 fps)
  run(20, rw, sender, out);
  assert.ok(out.length > 0);
  assert.ok(out.every((o) => o.tid === 0 && o.layer === 1));
  checkContinuity(out);
  const frames0 = new Set(out.map((o) => o.pic)).size;
  assert.equal(frames0, 5, 'one frame in four');

  // up to all temporal layers: resumes at a frame with the sync bit
  rw.setTarget(1, 2);
  const before = out.length;
  run(12, rw, sender, out);
  const tids = out.slice(before).map((o) => o.tid);
  assert.ok(tids.includes(1) && tids.includes(2));
  checkContinuity(out);
  // and down to tid <= 1
  rw.setTarget(1, 1);
  const mark = out.length;
  run(12, rw, sender, out);
  assert.ok(out.slice(mark + 2).every((o) => o.tid <= 1));
  checkContinuity(out);
});

test('VP8 rewriter: padding-only packets are dropped without holes; input losses stay visible', () => {
  const rw = new Vp8Rewriter(0xabcdef01, () => {});
  const sender = new SimulcastSender();
  sender.padding = [0, 1, 2];
  const out: Out[] = [];
  rw.setTarget(2);
  run(12, rw, sender, out);
  assert.ok(out.length > 20);
  checkContinuity(out);
  // lose one packet of layer 2 in the input: the output shows exactly that gap
  const lostSeq = sender.seq[2] + 1; // the second packet of the next frame of layer 2
  const mark = out.length;
  run(3, rw, sender, out, (l, buf) => !(l === 2 && rtpSeq(buf) === (lostSeq & 0xffff)));
  let gaps = 0;
  for (let i = mark; i < out.length; i++) {
    const d = (out[i].seq - out[i - 1].seq) & 0xffff;
    assert.ok(d === 1 || d === 2);
    if (d === 2) gaps++;
  }
  assert.equal(gaps, 1);
});

test('VP8 rewriter: off and back on continues the output stream', () => {
  const requests: number[] = [];
  const rw = new Vp8Rewriter(0xabcdef01, (l) => requests.push(l));
  const sender = new SimulcastSender();
  const out: Out[] = [];
  rw.setTarget(0);
  run(6, rw, sender, out);
  rw.setTarget(-1);
  const n = out.length;
  run(6, rw, sender, out);
  assert.equal(out.length, n, 'nothing forwarded while off');
  rw.setTarget(0);
  assert.deepEqual(requests, [0, 0]);
  run(3, rw, sender, out);
  assert.equal(out.length, n, 'waits for a keyframe');
  sender.keyPending[0] = true;
  run(4, rw, sender, out);
  assert.ok(out.length > n);
  checkContinuity(out);
});

test('VP8 rewriter: garbage never throws', () => {
  const rw = new Vp8Rewriter(1, () => {});
  rw.setTarget(0);
  const info = createVp8Info();
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.alloc((Math.random() * 60) | 0);
    for (let j = 0; j < b.length; j++) b[j] = (Math.random() * 256) | 0;
    if (b.length > 0 && i % 2 === 0) b[0] = 0x80 | (b[0] & 0x3f);
    const hl = rtpHeaderLength(b, b.length);
    vp8Descriptor(b, hl, b.length, info);
    rw.rewrite(b, (Math.random() * (b.length + 4)) | 0, (Math.random() * 3) | 0, info);
  }
});

const LAYERS = (): Array<{ width: number; height: number; bitrateBps: number }> => [
  { width: 320, height: 180, bitrateBps: 150_000 },
  { width: 640, height: 360, bitrateBps: 500_000 },
  { width: 1280, height: 720, bitrateBps: 1_500_000 },
];

test('layer selector: the highest layer both the estimate and the tile justify', () => {
  const sel = new LayerSelector();
  const d = createSourceDemand(LAYERS());
  const pick = (est: number, w: number, h: number): number => {
    d.target = -1;
    d.lastDowngradeMs = -Infinity;
    d.tileWidth = w;
    d.tileHeight = h;
    sel.allocate(est, [d], 0);
    return d.target;
  };
  assert.equal(pick(3e6, 1280, 720), 2);
  assert.equal(pick(1e6, 1280, 720), 1);
  assert.equal(pick(200_000, 1280, 720), 0);
  assert.equal(pick(100_000, 1280, 720), 0, 'not even the lowest layer fits: the first source still gets it');
  const second = createSourceDemand(LAYERS());
  second.tileWidth = 1280;
  second.tileHeight = 720;
  d.tileWidth = 1280;
  d.tileHeight = 720;
  sel.allocate(100_000, [d, second], 0);
  assert.deepEqual([d.target, second.target], [0, -1], 'the others are suspended');
  assert.equal(pick(3e6, 320, 180), 0, 'a thumbnail needs no more');
  assert.equal(pick(3e6, 600, 340), 1);
  assert.equal(pick(3e6, 0, 0), -1, 'off-screen');
  assert.equal(pick(3e6, 1920, 1080), 2, 'larger than any layer: the highest');
  d.layers[2].bitrateBps = 0; // the sender stopped its top layer
  assert.equal(idealLayer({ ...d, tileWidth: 1280, tileHeight: 720 }), 1);
  assert.equal(pick(3e6, 1280, 720), 1);
});

test('layer selector: hysteresis (upgrade margin, hold after a downgrade)', () => {
  const sel = new LayerSelector(1.2, 4000);
  const d = createSourceDemand(LAYERS());
  d.tileWidth = 1280;
  d.tileHeight = 720;
  sel.allocate(1e6, [d], 0);
  assert.equal(d.target, 1);
  assert.equal(sel.allocate(1.6e6, [d], 1000), false, 'fits, but not with the 20 % margin');
  assert.equal(d.target, 1);
  assert.equal(sel.allocate(1.9e6, [d], 2000), true);
  assert.equal(d.target, 2);
  assert.equal(sel.allocate(1.6e6, [d], 3000), false, 'staying needs no margin');
  assert.equal(d.target, 2);
  assert.equal(sel.allocate(1.4e6, [d], 3500), false, 'staying tolerates 10 % over budget (keyframes swing a rate)');
  sel.allocate(1.3e6, [d], 4000);
  assert.equal(d.target, 1, 'down at once beyond that');
  sel.allocate(2.5e6, [d], 6000);
  assert.equal(d.target, 1, 'no upgrade within 4 s of a downgrade');
  sel.allocate(2.5e6, [d], 8000);
  assert.equal(d.target, 2);
  // an estimate oscillating around a threshold does not flap
  let changes = 0;
  for (let t = 9000; t < 40_000; t += 500) if (sel.allocate(t % 1000 ? 1.35e6 : 1.55e6, [d], t)) changes++;
  assert.ok(changes <= 2, `${changes} changes`);
});

test('layer selector: several sources in priority order', () => {
  const sel = new LayerSelector();
  const a = createSourceDemand(LAYERS());
  const b = createSourceDemand(LAYERS());
  const c = createSourceDemand(LAYERS());
  for (const d of [a, b, c]) {
    d.tileWidth = 1280;
    d.tileHeight = 720;
  }
  c.tileWidth = 0; // off-screen
  c.tileHeight = 0;
  sel.allocate(1.3e6, [a, b, c], 0);
  assert.deepEqual([a.target, b.target, c.target], [1, 1, -1]);
  for (const d of [a, b]) d.target = -1;
  sel.allocate(2.0e6, [a, b, c], 0);
  assert.deepEqual([a.target, b.target, c.target], [2, 0, -1], 'the first source gets the most');
  for (const d of [a, b]) d.target = -1;
  sel.allocate(200_000, [a, b, c], 0);
  assert.deepEqual([a.target, b.target, c.target], [0, -1, -1], 'the last ones are suspended first');
  assert.ok(sel.remainingBps >= 0);
});

test('layer selector: a suspended source that comes back and is suspended again waits twice as long, then as before', () => {
  const sel = new LayerSelector();
  const a = createSourceDemand(LAYERS());
  const b = createSourceDemand(LAYERS());
  for (const d of [a, b]) {
    d.tileWidth = 320;
    d.tileHeight = 180;
  }
  const lowest = LAYERS()[0]!.bitrateBps;
  const roomForBoth = 2 * lowest * 1.3;
  const roomForOne = lowest * 1.5;
  let t = 0;
  const at = (ms: number, budget: number) => {
    t = ms;
    sel.allocate(budget, [a, b], t);
    return b.target;
  };
  assert.equal(at(0, roomForBoth), 0);
  assert.equal(at(1000, roomForOne), -1, 'suspended');
  // back after the usual hold
  assert.equal(at(1000 + sel.upgradeHoldMs - 1, roomForBoth), -1);
  assert.equal(at(1000 + sel.upgradeHoldMs, roomForBoth), 0, 'back after upgradeHoldMs');
  // suspended again within RESUME_TRIAL_MS: the next return waits twice as long, then four times
  let down = t + 500;
  assert.equal(at(down, roomForOne), -1);
  assert.equal(at(down + 2 * sel.upgradeHoldMs - 1, roomForBoth), -1, 'not after the usual hold');
  assert.equal(at(down + 2 * sel.upgradeHoldMs, roomForBoth), 0, 'after twice the hold');
  down = t + 500;
  assert.equal(at(down, roomForOne), -1);
  assert.equal(at(down + 4 * sel.upgradeHoldMs - 1, roomForBoth), -1);
  assert.equal(at(down + 4 * sel.upgradeHoldMs, roomForBoth), 0);
  // a return that lasted: the next suspension holds the usual time again
  down = t + RESUME_TRIAL_MS;
  assert.equal(at(down, roomForOne), -1);
  assert.equal(at(down + sel.upgradeHoldMs, roomForBoth), 0);
  // going off-screen is no suspension: it does not lengthen the hold
  b.tileWidth = b.tileHeight = 0;
  assert.equal(at(t + 100, roomForBoth), -1);
  b.tileWidth = 320;
  b.tileHeight = 180;
  assert.equal(at(t + sel.upgradeHoldMs, roomForBoth), 0);
  for (let i = 0; i < 20; i++) at(t + 500, i % 2 ? roomForBoth : roomForOne);
  assert.ok(b.resumeHoldMs <= MAX_RESUME_HOLD_MS, 'the hold has a ceiling');
});

test('rate meter: bitrate over a sliding window', () => {
  const m = new RateMeter(1000, 10);
  for (let t = 0; t < 2000; t += 10) m.add(1250, t); // 1250 bytes every 10 ms = 1 Mbps
  assert.ok(Math.abs(m.rateBps(2000) - 1e6) < 0.11e6, `${m.rateBps(2000)}`);
  assert.ok(m.rateBps(2500) < 0.6e6);
  assert.equal(m.rateBps(5000), 0);
});

interface Forwarded {
  layer: number;
  inSeq: number;
  /** The input packet as it arrived (what a layer's retransmission buffer keeps). */
  original: Buffer;
  /** What rewrite() made of it. */
  out: Buffer;
}

/** Like run(), keeping each forwarded packet before and after rewrite(). */
function runRecording(frames: number, rw: Vp8Rewriter, sender: SimulcastSender, log: Forwarded[]): void {
  const info: Vp8Info = createVp8Info();
  for (let f = 0; f < frames; f++) {
    for (const { layer, buf } of sender.nextFrame()) {
      const original = Buffer.from(buf);
      const hl = rtpHeaderLength(buf, buf.length);
      vp8Descriptor(buf, hl, rtpPayloadEnd(buf, buf.length), info);
      if (!rw.rewrite(buf, buf.length, layer, info)) continue;
      log.push({ layer, inSeq: rtpSeq(original), original, out: Buffer.from(buf) });
    }
  }
}

/** rewriteAgain() on a copy of the input packet of the last lookup(); null when it refuses. */
function rewriteCopy(rw: Vp8Rewriter, original: Buffer): Buffer | null {
  const copy = Buffer.from(original);
  const info = createVp8Info();
  const hl = rtpHeaderLength(copy, copy.length);
  assert.ok(vp8Descriptor(copy, hl, rtpPayloadEnd(copy, copy.length), info));
  return rw.rewriteAgain(copy, copy.length, info) ? copy : null;
}

test('VP8 rewriter: a retransmission rewritten again equals the first rewrite, across layer switches', () => {
  const requests: number[] = [];
  const rw = new Vp8Rewriter(0xabcdef01, (l) => requests.push(l));
  const sender = new SimulcastSender();
  const log: Forwarded[] = [];
  rw.setTarget(0);
  runRecording(6, rw, sender, log);
  // base temporal layer only for a while (the picture id offset grows), then all again
  rw.setTarget(0, 0);
  runRecording(8, rw, sender, log);
  rw.setTarget(0);
  runRecording(4, rw, sender, log);
  // padding-only packets shift the sequence number offset
  sender.padding = [0, 1, 2];
  runRecording(4, rw, sender, log);
  sender.padding = [];
  rw.setTarget(2);
  runRecording(2, rw, sender, log);
  sender.keyPending[2] = true;
  runRecording(6, rw, sender, log);
  rw.setTarget(1);
  sender.keyPending[1] = true;
  runRecording(6, rw, sender, log);
  assert.deepEqual(requests, [0, 2, 1]);
  assert.deepEqual(
    log.map((f) => f.layer).filter((l, i, a) => i === 0 || a[i - 1] !== l),
    [0, 2, 1],
    'forwarded from three layers in turn',
  );
  assert.ok(log.length > 40 && log.length < 1024, `${log.length} packets, all still remembered`);
  // the output is one gap-free stream and the offsets are not trivial
  for (let i = 1; i < log.length; i++) assert.equal(rtpSeq(log[i].out), (rtpSeq(log[i - 1].out) + 1) & 0xffff);
  assert.ok(log.some((f) => rtpSeq(f.out) !== f.inSeq && f.layer === 0), 'layer 0 after dropped packets');
  assert.ok(log.some((f) => f.layer === 2) && log.filter((f) => f.layer === 2).every((f) => rtpSeq(f.out) !== f.inSeq));
  const vp8Of = (b: Buffer): Vp8Info => {
    const info = createVp8Info();
    vp8Descriptor(b, 12, b.length, info);
    return info;
  };
  assert.ok(log.some((f) => vp8Of(f.out).pictureId !== vp8Of(f.original).pictureId), 'picture ids rewritten');
  assert.ok(log.some((f) => vp8Of(f.out).tl0PicIdx !== vp8Of(f.original).tl0PicIdx), 'TL0PICIDX rewritten');
  assert.ok(log.some((f) => rtpTimestamp(f.out) !== rtpTimestamp(f.original)), 'timestamps rewritten');

  // every forwarded packet, newest first: lookup names its layer and input packet; rewriteAgain repeats
  // the first rewrite byte for byte (SSRC, seq, timestamp, picture id, TL0PICIDX, payload)
  for (const f of [...log].reverse()) {
    const outSeq = rtpSeq(f.out);
    assert.equal(rw.lookup(outSeq), true, `lookup ${outSeq}`);
    assert.equal(rw.foundLayer, f.layer);
    assert.equal(rw.foundInSeq, f.inSeq);
    const again = rewriteCopy(rw, f.original);
    assert.ok(again !== null, `rewriteAgain ${outSeq}`);
    assert.deepEqual(again, f.out, `retransmission of out seq ${outSeq} (layer ${f.layer}, in seq ${f.inSeq})`);
    assert.equal(rtpSsrc(again), 0xabcdef01);
  }
  // in any order, and independent of what is being forwarded now
  runRecording(3, rw, sender, log);
  for (const i of [0, 40, 5, log.length - 1, 17, 33]) {
    const f = log[i];
    assert.ok(rw.lookup(rtpSeq(f.out)));
    assert.deepEqual(rewriteCopy(rw, f.original), f.out);
  }

  // rewriteAgain refuses a packet other than the one looked up, and leaves it untouched
  const a = log[10];
  const b = log[11];
  assert.ok(rw.lookup(rtpSeq(a.out)));
  assert.equal(rewriteCopy(rw, b.original), null);
  const info = createVp8Info();
  vp8Descriptor(b.original, 12, b.original.length, info);
  const untouched = Buffer.from(b.original);
  assert.equal(rw.rewriteAgain(untouched, untouched.length, info), false);
  assert.deepEqual(untouched, b.original);
  // a failed lookup
  const last = rtpSeq(log[log.length - 1].out);
  assert.equal(rw.lookup((last + 1) & 0xffff), false, 'not forwarded yet');
  assert.equal(rw.lookup((last + 100) & 0xffff), false);
  assert.equal(rw.lookup((rtpSeq(log[0].out) - 1) & 0xffff), false, 'before the first forwarded packet');
  assert.equal(rw.lookup((rtpSeq(log[20].out) + 1024) & 0xffff), false, 'same history slot, another number');
  assert.equal(rw.lookup((rtpSeq(log[20].out) + 32768) & 0xffff), false);
});

test('VP8 rewriter: lookup before anything was forwarded, and after the history moved on', () => {
  const rw = new Vp8Rewriter(0x0badcafe, () => {});
  for (const s of [0, 1, 1023, 1024, 65535]) assert.equal(rw.lookup(s), false);
  const sender = new SimulcastSender();
  const first = sender.nextFrame().find((p) => p.layer === 0)!;
  const info = createVp8Info();
  vp8Descriptor(first.buf, 12, first.buf.length, info);
  assert.equal(rw.rewriteAgain(Buffer.from(first.buf), first.buf.length, info), false, 'no lookup yet');

  rw.setTarget(2);
  sender.keyPending = [true, true, true];
  const log: Forwarded[] = [];
  runRecording(400, rw, sender, log); // 3 packets a frame: more than the REWRITE_HISTORY remembered
  assert.equal(log.length, 1200);
  assert.ok(REWRITE_HISTORY < 1200);
  const oldest = log[0];
  assert.equal(rw.lookup(rtpSeq(oldest.out)), false, 'overwritten by a newer packet');
  assert.equal(rw.lookup(rtpSeq(log[1199 - REWRITE_HISTORY].out)), false);
  for (const f of [log[1200 - REWRITE_HISTORY], log[1000], log[1199]]) {
    assert.equal(rw.lookup(rtpSeq(f.out)), true);
    assert.equal(rw.foundInSeq, f.inSeq);
    assert.deepEqual(rewriteCopy(rw, f.original), f.out);
  }
});

test('VP8 rewriter: late packets of the new layer from before the switch keyframe are dropped', () => {
  const rw = new Vp8Rewriter(0xabcdef, () => {});
  rw.setTarget(2);
  const info = createVp8Info();
  const pkt = (seq: number, ts: number, keyframe: boolean) => {
    const b = Buffer.alloc(20);
    b[0] = 0x80;
    b[1] = VIDEO_PT;
    b.writeUInt16BE(seq, 2);
    b.writeUInt32BE(ts, 4);
    b.writeUInt32BE(1, 8);
    b[12] = 0x10; // S=1, no extensions
    b[13] = keyframe ? 0x00 : 0x01;
    info.start = true;
    info.partitionId = 0;
    info.keyframe = keyframe;
    info.pictureId = -1;
    info.tl0PicIdx = -1;
    info.tid = -1;
    return b;
  };
  const sent: number[] = [];
  const send = (seq: number, ts: number, layer: number, key: boolean) => {
    const b = pkt(seq, ts, key);
    if (rw.rewrite(b, b.length, layer, info)) sent.push(b.readUInt16BE(2));
  };
  send(500, 6000, 2, true);
  send(501, 9000, 2, false);
  send(502, 12000, 2, false);
  rw.setTarget(0);
  send(100, 15000, 0, true);
  send(101, 18000, 0, false);
  send(99, 12000, 0, false); // late, from before the switch
  send(98, 9000, 0, false);
  send(102, 21000, 0, false);
  assert.deepEqual(sent, [500, 501, 502, 503, 504, 505]);
  assert.ok(rw.lookup(502) && rw.foundLayer === 2, 'the history of 502 is still the layer-2 packet');
});

test('VP8 rewriter: a stream that replaces another under the same SSRC continues its numbering', () => {
  // the same camera first came over a relay, then from its participant moved onto this bridge (a new sender:
  // other sequence numbers, timestamps and picture ids); the receiver's decoder must see one continuous stream
  const before = new Vp8Rewriter(0xabcdef01, () => {});
  const out: Out[] = [];
  before.setTarget(0);
  run(12, before, new SimulcastSender(), out);
  const after = new Vp8Rewriter(0xabcdef01, () => {});
  after.continueFrom(before);
  after.setTarget(0);
  const moved = new SimulcastSender();
  moved.seq = [40000, 2, 3];
  moved.ts = [77, 88, 99];
  moved.pic = [9, 10, 11];
  moved.tl0 = [3, 4, 5];
  const joined = out.length;
  run(12, after, moved, out);
  assert.ok(out.length > joined && out[joined].key, 'the new stream starts at its keyframe');
  checkContinuity(out);
  assert.equal((out[joined].ts - out[joined - 1].ts) >>> 0, 3000, 'one frame interval after the last packet of the old stream');

  // a fresh rewriter (nothing to continue) keeps the sender's own numbering
  const fresh = new Vp8Rewriter(0xabcdef01, () => {});
  fresh.continueFrom(new Vp8Rewriter(0xabcdef01, () => {}));
  fresh.setTarget(0);
  const alone: Out[] = [];
  run(1, fresh, new SimulcastSender(), alone);
  assert.equal(alone[0]!.seq, 1000);
});
