// The native data plane's VP8 rewrite (native/vp8-rewrite.c) against the TypeScript one (vp8-rewriter.ts): the
// same layout, and on random simulcast streams (three layers; 7- and 15-bit picture ids, with and without
// TL0PICIDX and temporal ids; padding; losses, reordering and wrap-arounds; target changes, restarts, new streams
// and long pauses between packets) the same decisions, the same bytes out and the same state after every packet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeUdp } from '../../src/bridge/native/udp-batch.ts';
import { RW, REWRITE_HISTORY, REWRITER_HISTORY, REWRITER_LAST_MS_OFFSET, REWRITER_STATE_BYTES, Vp8Rewriter } from '../../src/bridge/simulcast/vp8-rewriter.ts';
import { RtpView } from '../../src/bridge/packet/rtp-view.ts';
import { TWCC_EXT_ID, VIDEO_PT } from '../../src/protocol/media-profile.ts';
import { rng } from '../helpers/random.ts';

const mod = nativeUdp();
const skip = mod === null || typeof mod.vp8Rewrite !== 'function' ? 'native module not built' : false;


interface LayerStream {
  ssrc: number;
  seq: number;
  ts: number;
  pic: number;
  tl0: number;
  frame: number;
  /** A picture id, 15-bit (else 7-bit); TL0PICIDX and a temporal id present. */
  withPic: boolean;
  longPic: boolean;
  withTl0: boolean;
  withTid: boolean;
}

/** One VP8 packet of layer `li`: CSRCs and a header extension now and then, the descriptor as the stream has it. */
function packet(rnd: () => number, s: LayerStream, li: number, start: boolean, key: boolean, marker: boolean, tid: number, sync: boolean): Buffer {
  const csrcs = rnd() < 0.1 ? 1 + Math.floor(rnd() * 3) : 0;
  const ext = rnd() < 0.5 ? 1 + Math.floor(rnd() * 3) : 0; // words of a one-byte extension block
  const head = 12 + 4 * csrcs + (ext > 0 ? 4 + 4 * ext : 0);
  const desc: number[] = [];
  const x = (s.withPic ? 0x80 : 0) | (s.withTl0 ? 0x40 : 0) | (s.withTid ? 0x20 : 0);
  desc.push(0x80 | (start ? 0x10 : 0), x);
  if (s.withPic && s.longPic) desc.push(0x80 | ((s.pic >> 8) & 0x7f), s.pic & 0xff);
  else if (s.withPic) desc.push(s.pic & 0x7f);
  if (s.withTl0) desc.push(s.tl0 & 0xff);
  if (s.withTid) desc.push((tid << 6) | (sync ? 0x20 : 0));
  const payload = 20 + Math.floor(rnd() * 60);
  const padding = rnd() < 0.1 ? 1 + Math.floor(rnd() * 20) : 0;
  const b = Buffer.alloc(head + desc.length + 1 + payload + padding, 0x5a);
  b[0] = 0x80 | (padding > 0 ? 0x20 : 0) | (ext > 0 ? 0x10 : 0) | csrcs;
  b[1] = VIDEO_PT | (marker ? 0x80 : 0);
  b.writeUInt16BE(s.seq & 0xffff, 2);
  b.writeUInt32BE(s.ts >>> 0, 4);
  b.writeUInt32BE(s.ssrc, 8);
  if (ext > 0) {
    const at = 12 + 4 * csrcs;
    b.writeUInt16BE(0xbede, at);
    b.writeUInt16BE(ext, at + 2);
    b.fill(0, at + 4, at + 4 + 4 * ext);
    b[at + 4] = (TWCC_EXT_ID << 4) | 1; // a transport-wide number, as browsers send
  }
  Buffer.from(desc).copy(b, head);
  b[head + desc.length] = start ? (key ? 0x00 : 0x01) : li;
  if (padding > 0) b[b.length - 1] = padding;
  return b;
}

/** Padding only (what senders probe with): no payload at all. */
function paddingOnly(s: LayerStream): Buffer {
  const b = Buffer.alloc(12 + 50);
  b[0] = 0xa0;
  b[1] = VIDEO_PT;
  b.writeUInt16BE(s.seq & 0xffff, 2);
  b.writeUInt32BE(s.ts >>> 0, 4);
  b.writeUInt32BE(s.ssrc, 8);
  b[b.length - 1] = 50;
  return b;
}

/** The packets of frames of three layers, interleaved, with losses, reordering and padding. */
function* streams(rnd: () => number, frames: number): Generator<{ layer: number; buf: Buffer; gapMs: number }> {
  const layers: LayerStream[] = [0, 1, 2].map((li) => ({
    ssrc: 0x1000 + li,
    seq: Math.floor(rnd() * 65536),
    ts: Math.floor(rnd() * 2 ** 32),
    pic: Math.floor(rnd() * (li === 1 ? 128 : 32768)),
    tl0: Math.floor(rnd() * 256),
    frame: 0,
    withPic: li !== 2 || rnd() < 0.5,
    longPic: li !== 1,
    withTl0: li !== 2 || rnd() < 0.5,
    withTid: li !== 2,
  }));
  const TIDS = [0, 2, 1, 2];
  const SYNC = [false, true, true, false];
  for (let f = 0; f < frames; f++) {
    for (let li = 0; li < 3; li++) {
      const s = layers[li];
      const key = s.frame % 40 === 0 || rnd() < 0.03;
      const k = s.frame % 4;
      const tid = key ? 0 : TIDS[k];
      if (tid === 0) s.tl0 = (s.tl0 + 1) & 0xff;
      const count = 1 + Math.floor(rnd() * (key ? 6 : 3));
      const held: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        const b = packet(rnd, s, li, i === 0, key, i === count - 1, tid, SYNC[k] && !key);
        s.seq = (s.seq + 1) & 0xffff;
        if (rnd() < 0.03) continue; // lost before the bridge
        held.push(b);
      }
      if (held.length > 1 && rnd() < 0.1) held.reverse(); // reordered
      for (const b of held) yield { layer: li, buf: b, gapMs: rnd() * 5 };
      if (rnd() < 0.05) {
        yield { layer: li, buf: paddingOnly(s), gapMs: 1 };
        s.seq = (s.seq + 1) & 0xffff;
      }
      s.pic = s.longPic ? (s.pic + 1) & 0x7fff : (s.pic + 1) & 0x7f;
      s.ts = (s.ts + 3000) >>> 0;
      s.frame++;
    }
  }
}

test('the native rewriter has the layout of vp8-rewriter.ts', { skip }, () => {
  assert.deepEqual(mod!.VP8_REWRITER_LAYOUT, [
    Object.keys(RW).length,
    REWRITER_STATE_BYTES,
    REWRITER_LAST_MS_OFFSET,
    REWRITE_HISTORY,
    REWRITER_HISTORY.out,
    REWRITER_HISTORY.ts,
    REWRITER_HISTORY.in,
    REWRITER_HISTORY.pic,
    REWRITER_HISTORY.layer,
    REWRITER_HISTORY.tl0,
    REWRITER_HISTORY.bytes,
  ]);
});

test('native and TypeScript rewrites agree packet by packet on random simulcast streams', { skip }, () => {
  let compared = 0;
  let sent = 0;
  let switches = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const rnd = rng(seed);
    const keyframesTs: number[] = [];
    const ts = new Vp8Rewriter(0xabcdef01, (l) => keyframesTs.push(l));
    const nat = new Vp8Rewriter(0xabcdef01, () => {});
    ts.allocateHistory();
    const history = nat.allocateHistory();
    const view = new RtpView(VIDEO_PT, TWCC_EXT_ID);
    let now = 1000 + rnd() * 1e6;
    let lastLayer = -2;
    const first = Math.floor(rnd() * 3);
    ts.setTarget(first);
    nat.setTarget(first);
    for (const { layer, buf, gapMs } of streams(rnd, 600)) {
      // the control plane between packets, on both
      const r = rnd();
      if (r < 0.005) {
        const target = rnd() < 0.1 ? -1 : Math.floor(rnd() * 3);
        const temporal = [0, 1, 2, 7][Math.floor(rnd() * 4)];
        ts.setTarget(target, temporal);
        nat.setTarget(target, temporal);
      } else if (r < 0.006) {
        ts.restartAtKeyframe();
        nat.restartAtKeyframe();
      } else if (r < 0.0065) {
        ts.startNewStream();
        nat.startNewStream();
      } else if (r < 0.008) {
        ts.frameTicks = nat.frameTicks = rnd() < 0.5 ? 3000 : 1500;
      }
      now += rnd() < 0.005 ? 70_000 * rnd() : gapMs; // now and then a pause, longer than MAX_IDLE_STEP_MS too
      const a = Buffer.from(buf);
      const b = Buffer.from(buf);
      assert.ok(view.parse(a, a.length));
      let want = 0;
      if (view.payloadEnd === view.headerLength || view.vp8Valid) {
        want = ts.rewriteParsed(a, view.headerLength, view.payloadEnd, view.seq, view.timestamp, layer, view.vp8, now) ? 1 : 0;
      } else {
        want = -1;
      }
      const got = mod!.vp8Rewrite!(nat.state, history, b, b.length, layer, now, VIDEO_PT);
      const where = `seed ${seed}, packet ${compared}`;
      assert.equal(got, want, `${where}: the decision`);
      assert.deepEqual(b, a, `${where}: the bytes`);
      assert.deepEqual(new Uint8Array(nat.state), new Uint8Array(ts.state), `${where}: the state`);
      assert.deepEqual(new Uint8Array(history), new Uint8Array(ts.history!), `${where}: the history`);
      if (got === 1) sent++;
      if (ts.currentLayer !== lastLayer) switches++;
      lastLayer = ts.currentLayer;
      compared++;
    }
  }
  // the streams did exercise the paths: one layer of three forwarded most of the time, layers switched many times
  assert.ok(compared > 10_000, `${compared} packets compared`);
  assert.ok(sent > compared / 6, `${sent} of ${compared} sent`);
  assert.ok(switches > 50, `${switches} layer changes`);
});

test('vp8Rewrite refuses what is not a rewriter or a packet, and leaves a malformed packet alone', { skip }, () => {
  const rw = new Vp8Rewriter(1, () => {});
  const h = rw.allocateHistory();
  const pkt = new Uint8Array(40);
  assert.throws(() => mod!.vp8Rewrite!(new ArrayBuffer(8), h, pkt, 40, 0, 0, VIDEO_PT), TypeError);
  assert.throws(() => mod!.vp8Rewrite!(rw.state, new ArrayBuffer(100), pkt, 40, 0, 0, VIDEO_PT), TypeError);
  assert.throws(() => mod!.vp8Rewrite!(rw.state, h, pkt, 41, 0, 0, VIDEO_PT), TypeError);
  assert.throws(() => (mod!.vp8Rewrite as any)(rw.state, h), TypeError);
  const before = new Uint8Array(rw.state).slice();
  // not version 2; another payload type; a VP8 descriptor cut short
  assert.equal(mod!.vp8Rewrite!(rw.state, h, pkt, 40, 0, 0, VIDEO_PT), -1);
  pkt[0] = 0x80;
  pkt[1] = VIDEO_PT + 1;
  assert.equal(mod!.vp8Rewrite!(rw.state, h, pkt, 40, 0, 0, VIDEO_PT), -1);
  pkt[1] = VIDEO_PT;
  pkt[12] = 0x90; // X, S
  pkt[13] = 0x80; // I
  pkt[14] = 0x80; // a 15-bit picture id whose second byte is missing
  assert.equal(mod!.vp8Rewrite!(rw.state, h, pkt, 15, 0, 0, VIDEO_PT), -1);
  assert.deepEqual(new Uint8Array(rw.state), before);
});
