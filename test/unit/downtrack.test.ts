// A Downtrack in isolation (src/bridge/downtrack.ts): one receiver's copy of one source, with a fake transport
// that records what it is given. Simulcast: the switch waits for the target layer's keyframe to be whole,
// sequence numbers and timestamps run on across the switch; NACKs are answered as RTX from the buffer of the
// layer the packet came from; keyframe requests name the layer; counters, loss and rtt from receiver reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import { standaloneDowntrackHost, type DowntrackHost } from '../../src/bridge/downtrack.ts';
import type { Source } from '../../src/bridge/source.ts';
import type { MediaTransport } from '../../src/bridge/transport.ts';
import { RtpView } from '../../src/bridge/packet/rtp-view.ts';
import { rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp } from '../../src/bridge/packet/rtp.ts';
import { createVp8Info, vp8Descriptor } from '../../src/bridge/packet/vp8.ts';
import { RTX_PT, TWCC_EXT_ID, VIDEO_PT } from '../../src/protocol/media-profile.ts';

const V = 1000; // the camera as receivers see it
const VR = 1001; // its RTX SSRC towards receivers
const LAYERS = [2000, 2001]; // q, h as the sender sends them

interface Sent {
  rtp: Buffer[];
  twOffsets: Array<number | undefined>;
  rtcp: Buffer[];
}

function fakeTransport(sent: Sent): MediaTransport {
  return {
    kind: 'webrtc',
    sendRtp(out, len, _kind, _cluster, twOffset) {
      sent.rtp.push(Buffer.from(out.subarray(0, len)));
      sent.twOffsets.push(twOffset);
    },
    sendRtcp(buf, len) {
      sent.rtcp.push(Buffer.from(buf.subarray(0, len)));
    },
    close() {},
  };
}

/** A VP8 packet: one-byte extension block with a transport-wide number (id 3), 15-bit picture id and TL0PICIDX. */
function vp8Packet(ssrc: number, seq: number, ts: number, pic: number, tl0: number, o: { key?: boolean; start?: boolean; marker?: boolean }): Buffer {
  const start = o.start ?? true;
  const b = Buffer.alloc(12 + 8 + 5 + 20);
  b[0] = 0x90; // V=2, X
  b[1] = (o.marker ? 0x80 : 0) | VIDEO_PT;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.writeUInt16BE(0xbede, 12);
  b.writeUInt16BE(1, 14);
  b[16] = 0x31; // id 3, 2 bytes
  b.writeUInt16BE(0xabcd, 17);
  const p = 20;
  b[p] = 0x80 | (start ? 0x10 : 0); // X, S, PID 0
  b[p + 1] = 0xc0; // I, L
  b[p + 2] = 0x80 | ((pic >> 8) & 0x7f);
  b[p + 3] = pic & 0xff;
  b[p + 4] = tl0 & 0xff;
  b[p + 5] = o.key ? 0x00 : 0x01; // VP8 payload header: P bit
  return b;
}

function setup(host: DowntrackHost) {
  const c = new Conference('c', host);
  const alice = new Endpoint('alice', c, 0);
  const bob = new Endpoint('bob', c, 0);
  for (const ep of [alice, bob]) {
    c.endpoints.set(ep.id, ep);
    ep.connected = true;
  }
  const sent: Sent = { rtp: [], twOffsets: [], rtcp: [] };
  bob.transport = fakeTransport(sent);
  alice.transport = fakeTransport({ rtp: [], twOffsets: [], rtcp: [] });
  c.setSources(alice, [
    { ssrc: V, kind: 'video', rtxSsrc: VR, rids: ['q', 'h'] },
    { ssrc: 3000, kind: 'video', rtxSsrc: 3001 },
  ]);
  c.setSubscriptions(bob, [V, 3000]);
  const layers = LAYERS.map((ssrc, i) => c.addLayer(c.sources.get(V)!, i, ssrc, false)!);
  return { c, alice, bob, sent, layers, dt: bob.downtracks.get(V)!, plain: bob.downtracks.get(3000)! };
}

/** What the router does with a received layer packet: keep it, then hand the parsed view to the downtrack. */
function receive(layer: Source, pkt: Buffer, give: (v: RtpView) => void): void {
  const v = new RtpView(VIDEO_PT, TWCC_EXT_ID);
  assert.ok(v.parse(pkt, pkt.length));
  layer.rtx!.store(v.seq, pkt, pkt.length);
  give(v);
}

function picOf(b: Buffer): number {
  const info = createVp8Info();
  assert.ok(vp8Descriptor(b, 20, b.length, info));
  return info.pictureId;
}

test('downtrack: simulcast switch at a whole keyframe, sequence numbers and timestamps continue', () => {
  const requests: Array<{ ssrc: number; fir: boolean }> = [];
  const host = { ...standaloneDowntrackHost(), requestKeyframe: (s: Source, fir: boolean) => requests.push({ ssrc: s.ssrc, fir }) };
  const { c, sent, layers, dt } = setup(host);
  c.onKeyframeNeeded = (source, layer) => host.requestKeyframe(source.layers[layer]!, false);
  const [q, h] = layers;
  const rw = dt.rewriter!;
  assert.equal(dt.layer, -1);

  rw.setTarget(0);
  assert.deepEqual(requests, [{ ssrc: LAYERS[0], fir: false }], 'the rewriter asks for the target layer\'s keyframe');
  // a delta frame of q before any keyframe: nothing plays yet
  receive(q, vp8Packet(LAYERS[0], 100, 9000, 10, 1, { marker: true }), (v) => dt.forwardLayer(q, v));
  assert.equal(sent.rtp.length, 0);
  // q's keyframe (2 packets), then two delta frames
  let qSeq = 101;
  let qTs = 12000;
  receive(q, vp8Packet(LAYERS[0], qSeq++, qTs, 11, 2, { key: true }), (v) => dt.forwardLayer(q, v));
  receive(q, vp8Packet(LAYERS[0], qSeq++, qTs, 11, 2, { start: false, marker: true }), (v) => dt.forwardLayer(q, v));
  for (let f = 1; f <= 2; f++) receive(q, vp8Packet(LAYERS[0], qSeq++, qTs + f * 3000, 11 + f, 2 + f, { marker: true }), (v) => dt.forwardLayer(q, v));
  qTs += 2 * 3000;
  assert.equal(dt.layer, 0);
  assert.equal(sent.rtp.length, 4);
  for (const p of sent.rtp) assert.equal(rtpSsrc(p), V, 'one SSRC towards the receiver');
  assert.deepEqual(sent.rtp.map(rtpSeq), [101, 102, 103, 104], 'the first layer keeps its numbers');
  assert.deepEqual(sent.twOffsets, [17, 17, 17, 17], 'the transport-wide number\'s place comes from the parsed view');
  const lastSeq = 104;
  const lastTs = rtpTimestamp(sent.rtp[3]);
  const lastPic = picOf(sent.rtp[3]);

  // switch up to h: h's delta frames wait, q plays on until h's keyframe is whole
  requests.length = 0;
  rw.setTarget(1);
  assert.deepEqual(requests, [{ ssrc: LAYERS[1], fir: false }]);
  let hSeq = 5000;
  const hTs = 700_000;
  receive(h, vp8Packet(LAYERS[1], hSeq++, hTs, 300, 40, { marker: true }), (v) => dt.forwardLayer(h, v));
  receive(h, vp8Packet(LAYERS[1], hSeq++, hTs + 3000, 301, 41, { key: true }), (v) => dt.forwardLayer(h, v));
  receive(q, vp8Packet(LAYERS[0], qSeq++, qTs + 3000, 14, 5, { marker: true }), (v) => dt.forwardLayer(q, v));
  assert.equal(dt.layer, 0, 'the keyframe is not whole yet: q still plays');
  assert.equal(sent.rtp.length, 5);
  assert.equal(rtpSeq(sent.rtp[4]), lastSeq + 1);
  // the keyframe's last packet: the whole keyframe is sent from h's buffer, then h plays
  receive(h, vp8Packet(LAYERS[1], hSeq++, hTs + 3000, 301, 41, { start: false, marker: true }), (v) => dt.forwardLayer(h, v));
  receive(h, vp8Packet(LAYERS[1], hSeq++, hTs + 6000, 302, 42, { marker: true }), (v) => dt.forwardLayer(h, v));
  receive(q, vp8Packet(LAYERS[0], qSeq++, qTs + 6000, 15, 6, { marker: true }), (v) => dt.forwardLayer(q, v));
  assert.equal(dt.layer, 1);
  const after = sent.rtp.slice(5);
  assert.equal(after.length, 3, 'q is no longer forwarded');
  assert.deepEqual(after.map(rtpSeq), [lastSeq + 2, lastSeq + 3, lastSeq + 4], 'no gap of the bridge\'s making');
  assert.equal(rtpTimestamp(after[0]), (rtpTimestamp(sent.rtp[4]) + 3000) >>> 0, 'one frame after the last one sent');
  assert.equal(rtpTimestamp(after[1]), rtpTimestamp(after[0]));
  assert.equal(rtpTimestamp(after[2]), (rtpTimestamp(after[0]) + 3000) >>> 0);
  assert.equal(picOf(after[0]), (picOf(sent.rtp[4]) + 1) & 0x7fff, 'picture ids run on');
  assert.equal(picOf(sent.rtp[4]), (lastPic + 1) & 0x7fff);
  assert.ok(rtpTimestamp(sent.rtp[4]) > lastTs);
  for (const p of sent.rtp) assert.equal(rtpSsrc(p), V);
  assert.equal(dt.packets, 8);
  assert.equal(dt.bytes, sent.rtp.reduce((n, p) => n + p.length, 0));
});

test('downtrack: NACKs answered as RTX from the buffer of the layer the packet came from', () => {
  const host = standaloneDowntrackHost();
  const { sent, layers, dt } = setup(host);
  const [q, h] = layers;
  const rw = dt.rewriter!;
  rw.setTarget(0);
  receive(q, vp8Packet(LAYERS[0], 10, 1000, 1, 1, { key: true, marker: true }), (v) => dt.forwardLayer(q, v));
  receive(q, vp8Packet(LAYERS[0], 11, 4000, 2, 2, { marker: true }), (v) => dt.forwardLayer(q, v));
  rw.setTarget(1);
  // a one-packet keyframe is whole at once: the switch is made at it
  receive(h, vp8Packet(LAYERS[1], 900, 50_000, 70, 9, { key: true, marker: true }), (v) => dt.forwardLayer(h, v));
  receive(h, vp8Packet(LAYERS[1], 901, 53_000, 71, 10, { marker: true }), (v) => dt.forwardLayer(h, v));
  assert.equal(dt.layer, 1);
  const forwarded = sent.rtp.slice();
  const fromQ = forwarded[1];
  const fromH = forwarded.at(-1)!;
  sent.rtp.length = 0;

  dt.beginNack();
  assert.equal(dt.nack(rtpSeq(fromQ)), true);
  assert.equal(dt.nack(rtpSeq(fromH)), true);
  assert.equal(dt.nack((rtpSeq(fromH) + 50) & 0xffff), true, 'a number never sent: a miss, nothing to ask the sender');
  assert.equal(sent.rtp.length, 2);
  for (const [rtx, original] of [[sent.rtp[0], fromQ], [sent.rtp[1], fromH]] as const) {
    assert.equal(rtpPayloadType(rtx), RTX_PT);
    assert.equal(rtpSsrc(rtx), VR);
    // RTX payload: the original sequence number, then the original payload as the receiver got it
    assert.equal(rtx.readUInt16BE(20), rtpSeq(original), 'OSN = the number the receiver NACKed');
    assert.deepEqual(rtx.subarray(22), original.subarray(20), 'the payload rewritten exactly as first sent');
    assert.equal(rtpTimestamp(rtx), rtpTimestamp(original));
  }
  assert.equal(rtpSeq(sent.rtp[1]), (rtpSeq(sent.rtp[0]) + 1) & 0xffff, 'RTX numbers of its own');
  assert.equal(dt.retransmits, 2);
  assert.equal(dt.nackMisses, 1);
  assert.equal(host.counters.retransmits, 2);
});

test('downtrack: a plain source answers from its buffer, a miss goes to the sender; keyframes, SR and reports', () => {
  const requests: Array<{ ssrc: number; fir: boolean }> = [];
  const host = { ...standaloneDowntrackHost(), requestKeyframe: (s: Source, fir: boolean) => requests.push({ ssrc: s.ssrc, fir }) };
  const { c, sent, plain, dt, layers } = setup(host);
  const source = c.sources.get(3000)!;
  const pkt = vp8Packet(3000, 77, 1234, 5, 5, { key: true, marker: true });
  const v = new RtpView(VIDEO_PT, TWCC_EXT_ID);
  assert.ok(v.parse(pkt, pkt.length));
  source.rtx!.store(v.seq, pkt, pkt.length);
  plain.forward(v);
  assert.deepEqual(sent.rtp[0], pkt, 'forwarded as it came');
  assert.equal(plain.packets, 1);
  assert.equal(plain.bytes, pkt.length);
  plain.beginNack();
  assert.equal(plain.nack(77), true);
  assert.equal(rtpSsrc(sent.rtp[1]), 3001, 'as RTX on the source\'s RTX SSRC');
  assert.equal(plain.nack(78), false, 'not in the buffer: the caller asks the sender');
  assert.equal(plain.nackMisses, 1);

  // keyframe requests: a plain source's own SSRC; a simulcast one's layer it gets or waits for
  plain.requestKeyframe(true);
  dt.rewriter!.setTarget(1);
  requests.length = 0;
  dt.requestKeyframe(false);
  assert.deepEqual(requests, [{ ssrc: LAYERS[1], fir: false }]);
  assert.equal(dt.keyframeRequests, 1);
  assert.equal(plain.keyframeRequests, 1);

  // a sender report of the layer bob gets: rewritten to bob's SSRC and timeline; then his report block on it
  const [q] = layers;
  dt.rewriter!.setTarget(0);
  receive(q, vp8Packet(LAYERS[0], 10, 90_000, 1, 1, { key: true, marker: true }), (view) => dt.forwardLayer(q, view));
  const sr = Buffer.alloc(28);
  sr.writeUInt32BE(LAYERS[0], 4);
  sr.writeUInt32BE(0x11223344, 8); // NTP seconds
  sr.writeUInt32BE(0x55667788, 12); // NTP fraction
  sr.writeUInt32BE(90_000, 16);
  dt.forwardSr(layers[1], sr, 1000);
  assert.equal(sent.rtcp.length, 0, 'not the layer bob gets');
  dt.forwardSr(q, sr, 1000);
  assert.equal(sent.rtcp.length, 1);
  assert.equal(sent.rtcp[0].readUInt32BE(4), V);
  assert.equal(sent.rtcp[0].readUInt32BE(16), 90_000);
  assert.equal(sr.readUInt32BE(16), 90_000, 'the scratch SR keeps the layer\'s timestamp for the next receiver');
  const block = Buffer.alloc(24);
  block.writeUInt32BE(V, 0);
  block[4] = 64; // a quarter lost
  block.writeUIntBE(12, 5, 3);
  block.writeUInt32BE(0x33445566, 16); // LSR: the middle of the NTP time
  block.writeUInt32BE(65536 / 10, 20); // held 100 ms
  dt.onReportBlock(block, 0, 1180);
  assert.equal(dt.fractionLost, 0.25);
  assert.equal(dt.packetsLost, 12);
  assert.ok(Math.abs(dt.rttMs - 80) < 0.01, `rtt ${dt.rttMs}`);
});
