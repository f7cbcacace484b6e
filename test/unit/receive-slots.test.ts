// Receive slots (src/bridge/slots/): a receiver in slot mode gets a fixed set of streams whatever the room's
// size. Checked here on the real Conference/Endpoint/Downtrack objects with a fake transport that records what
// it is given: which sources take which slot (stable, lowest free slot, screens and recent speakers first),
// continuity of SSRC, sequence number, timestamp and picture id across a slot's source change (video and
// audio), and the receiver's feedback on a slot (NACK, PLI, report blocks) translated to the source playing there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import { standaloneDowntrackHost } from '../../src/bridge/downtrack.ts';
import type { Source } from '../../src/bridge/source.ts';
import type { MediaTransport } from '../../src/bridge/transport.ts';
import { RtpView } from '../../src/bridge/packet/rtp-view.ts';
import { rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp } from '../../src/bridge/packet/rtp.ts';
import { createVp8Info, vp8Descriptor } from '../../src/bridge/packet/vp8.ts';
import { AudioSlotRewriter } from '../../src/bridge/slots/audio-rewriter.ts';
import { ReceiveSlots, chooseSlotSources, type SlotSpec } from '../../src/bridge/slots/receive-slots.ts';
import { AUDIO_PT, RTX_PT, TWCC_EXT_ID, VIDEO_PT } from '../../src/protocol/media-profile.ts';
import { MAX_IDLE_STEP_MS } from '../../src/bridge/simulcast/vp8-rewriter.ts';

const SLOTS: SlotSpec[] = [
  { mid: '3', kind: 'audio', ssrc: 9001 },
  { mid: '4', kind: 'audio', ssrc: 9002 },
  { mid: '5', kind: 'video', ssrc: 9101, rtxSsrc: 9102 },
  { mid: '6', kind: 'video', ssrc: 9103, rtxSsrc: 9104 },
];

interface Sent {
  rtp: Buffer[];
  rtcp: Buffer[];
}

function fakeTransport(sent: Sent): MediaTransport {
  return {
    kind: 'webrtc',
    sendRtp(out, len) {
      sent.rtp.push(Buffer.from(out.subarray(0, len)));
    },
    sendRtcp(buf, len) {
      sent.rtcp.push(Buffer.from(buf.subarray(0, len)));
    },
    close() {},
  };
}

/** A VP8 packet (plain, no simulcast): extension block with a transport-wide number, 15-bit picture id, TL0PICIDX. */
function vp8Packet(ssrc: number, seq: number, ts: number, pic: number, o: { key?: boolean; marker?: boolean } = {}): Buffer {
  const b = Buffer.alloc(12 + 8 + 5 + 20);
  b[0] = 0x90;
  b[1] = (o.marker ?? true ? 0x80 : 0) | VIDEO_PT;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.writeUInt16BE(0xbede, 12);
  b.writeUInt16BE(1, 14);
  b[16] = 0x31;
  b.writeUInt16BE(0xabcd, 17);
  const p = 20;
  b[p] = 0x90; // X, S
  b[p + 1] = 0xc0; // I, L
  b[p + 2] = 0x80 | ((pic >> 8) & 0x7f);
  b[p + 3] = pic & 0xff;
  b[p + 4] = 0;
  b[p + 5] = o.key ? 0x00 : 0x01;
  return b;
}

function opusPacket(ssrc: number, seq: number, ts: number): Buffer {
  const b = Buffer.alloc(12 + 20);
  b[0] = 0x80;
  b[1] = AUDIO_PT;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

const picOf = (b: Buffer) => {
  const info = createVp8Info();
  assert.ok(vp8Descriptor(b, 20, b.length, info));
  return info.pictureId;
};

/** A conference: `rx` receives on slots; senders s1..sN each send audio (N*10+1) and a plain camera (N*10+2, RTX N*10+3). */
function room(senders: number, keyframes: Source[] = []) {
  const host = { ...standaloneDowntrackHost(), requestKeyframe: (s: Source) => keyframes.push(s) };
  const c = new Conference('c', host);
  const rx = new Endpoint('rx', c, 0);
  const sent: Sent = { rtp: [], rtcp: [] };
  rx.transport = fakeTransport(sent);
  rx.connected = true;
  c.endpoints.set(rx.id, rx);
  const eps: Endpoint[] = [];
  for (let i = 1; i <= senders; i++) {
    const ep = new Endpoint(`s${i}`, c, 0);
    ep.transport = fakeTransport({ rtp: [], rtcp: [] });
    ep.connected = true;
    c.endpoints.set(ep.id, ep);
    c.setSources(ep, [
      { ssrc: i * 10 + 1, kind: 'audio' },
      { ssrc: i * 10 + 2, kind: 'video', rtxSsrc: i * 10 + 3 },
    ]);
    eps.push(ep);
  }
  const changes: string[] = [];
  c.onSlotsChanged = (ep) => changes.push(ep.id);
  rx.slots = new ReceiveSlots(SLOTS);
  const all = eps.flatMap((_, i) => [(i + 1) * 10 + 1, (i + 1) * 10 + 2]);
  c.setSubscriptions(rx, all);
  return { c, rx, eps, sent, changes };
}

const onSlot = (rx: Endpoint) => rx.slots!.entries().map((e) => `${e.mid}:${e.participantId}:${e.kind}`);

/**
 * What the router does with a received packet: keep it (video), parse it once, stamp it with the time it is
 * handled (`atMs`, the router's clock), hand it to the source's downtracks here.
 */
function receive(source: Source, pkt: Buffer, atMs = 0): void {
  const v = new RtpView(VIDEO_PT, TWCC_EXT_ID);
  assert.ok(v.parse(pkt, pkt.length));
  v.atMs = atMs;
  source.rtx?.store(v.seq, pkt, pkt.length);
  for (const dt of source.localDowntracks) dt.forward(v);
}

test('receive slots: join order until someone speaks, then the recent speakers; a kept source keeps its slot', () => {
  const { c, rx, changes } = room(4);
  // nobody heard yet: join order; two audio and two video slots for four senders
  assert.deepEqual(onSlot(rx), ['3:s1:audio', '4:s2:audio', '5:s1:video', '6:s2:video']);
  assert.deepEqual(changes, ['rx']);
  assert.equal(rx.slots!.version, 1);
  // only what plays on a slot is forwarded to it
  assert.deepEqual(
    [...rx.downtracks.keys()].sort((a, b) => a - b),
    [11, 12, 21, 22],
  );
  // s4 speaks, then s3: they take the slots of those left out (s1, s2 leave; s3/s4 take the lowest free)
  c.applySpeakerOrder(['s4', 's3', 's1', 's2', 'rx']);
  assert.deepEqual(onSlot(rx), ['3:s4:audio', '4:s3:audio', '5:s4:video', '6:s3:video']);
  // s1 speaks: it displaces the least recent (s3), s4 stays where it was
  c.applySpeakerOrder(['s1', 's4', 's3', 's2', 'rx']);
  assert.deepEqual(onSlot(rx), ['3:s4:audio', '4:s1:audio', '5:s4:video', '6:s1:video']);
  assert.equal(rx.slots!.version, 3);
  assert.deepEqual(
    [...rx.downtracks.keys()].sort((a, b) => a - b),
    [11, 12, 41, 42],
  );
  // the same order again: nothing moves, nobody is told
  const before = changes.length;
  c.refreshSubscribers();
  assert.equal(changes.length, before);
  // a sender leaves: its slots go to the next in order
  c.removeEndpoint(c.endpoints.get('s4')!);
  assert.deepEqual(onSlot(rx), ['3:s3:audio', '4:s1:audio', '5:s3:video', '6:s1:video']);
});

test('receive slots: screens first, then the stage, then recent speakers, cameras the server has off last; audio only gets no video', () => {
  const { c, rx, eps } = room(3);
  c.setSources(eps[2], [
    { ssrc: 31, kind: 'audio' },
    { ssrc: 32, kind: 'video', rtxSsrc: 33 },
    { ssrc: 34, kind: 'video', rtxSsrc: 35, role: 'screen' },
  ]);
  c.setSubscriptions(rx, [11, 12, 21, 22, 31, 32, 34]);
  assert.deepEqual(onSlot(rx).filter((e) => e.endsWith('video')).sort(), ['5:s1:video', '6:s3:video']);
  assert.equal(rx.slots!.sourceOf(rx.slots!.slots[3].ssrc)?.ssrc, 34, 'the screen took a slot');
  // chooseSlotSources alone: stage before recent speakers, a camera the server has off last
  const sources = [...c.sources.values()].filter((s) => !s.isRtx && s.owner !== rx);
  eps[1].videoMuted = true;
  const order = chooseSlotSources({ maxReceiveHeight: -1, stageSsrc: 12 }, sources, (id) => ({ s2: 0, s3: 1, s1: 2 })[id] ?? 9);
  assert.deepEqual(
    order.map((s) => s.ssrc),
    [34, 12, 32, 22, 21, 31, 11],
  );
  assert.deepEqual(
    chooseSlotSources({ maxReceiveHeight: 0, stageSsrc: 0 }, sources, () => 0).map((s) => s.kind),
    ['audio', 'audio', 'audio'],
  );
});

test('receive slots: a video slot is one stream across its sources (SSRC, sequence, timestamp, picture id)', () => {
  const keyframes: Source[] = [];
  const { c, rx, sent } = room(3, keyframes);
  const cam = (i: number) => c.sources.get(i * 10 + 2)!;
  const slotV0 = rx.slots!.slots[2];
  assert.equal(slotV0.source, cam(1));
  assert.ok(keyframes.includes(cam(1)), 'a source new on a slot is asked for a keyframe');
  // s1's camera: a delta frame first (dropped: the slot starts at a keyframe), then a keyframe and two frames
  receive(cam(1), vp8Packet(12, 500, 90_000, 700));
  assert.equal(sent.rtp.length, 0);
  receive(cam(1), vp8Packet(12, 501, 93_000, 701, { key: true }));
  receive(cam(1), vp8Packet(12, 502, 96_000, 702));
  receive(cam(1), vp8Packet(12, 503, 99_000, 703));
  assert.equal(sent.rtp.length, 3);
  const last = sent.rtp[2];
  assert.equal(rtpSsrc(last), slotV0.ssrc);
  // s3 speaks: it takes s1's slot (s2 keeps the other)
  c.applySpeakerOrder(['s3', 's2', 's1', 'rx']);
  assert.equal(slotV0.source, cam(3));
  assert.ok(keyframes.includes(cam(3)));
  // s1's packets no longer reach the slot; s3's delta frames wait for its keyframe
  receive(cam(1), vp8Packet(12, 504, 102_000, 704));
  receive(cam(3), vp8Packet(32, 40_000, 5_000_000, 20_000));
  assert.equal(sent.rtp.length, 3);
  receive(cam(3), vp8Packet(32, 40_001, 5_003_000, 20_001, { key: true }));
  receive(cam(3), vp8Packet(32, 40_002, 5_006_000, 20_002));
  assert.equal(sent.rtp.length, 5);
  const [k, d] = sent.rtp.slice(3);
  assert.equal(rtpSsrc(k), slotV0.ssrc, 'same SSRC');
  assert.equal(rtpSeq(k), (rtpSeq(last) + 1) & 0xffff, 'the next sequence number');
  assert.equal(rtpSeq(d), (rtpSeq(last) + 2) & 0xffff);
  assert.equal(rtpTimestamp(k), (rtpTimestamp(last) + 3000) >>> 0, 'one frame later');
  assert.equal(rtpTimestamp(d) - rtpTimestamp(k), 3000, 'the new source keeps its own spacing');
  assert.equal(picOf(k), (picOf(last) + 1) & 0x7fff, 'the next picture id');
});

test('receive slots: last-N holds on slots: cameras beyond it take none, the stage still does', () => {
  const { c, rx } = room(3);
  c.lastN = 1;
  c.applySpeakerOrder(['s2', 's3', 's1', 'rx']);
  const videoOn = () => rx.slots!.entries().filter((e) => e.kind === 'video').map((e) => e.participantId).sort();
  assert.deepEqual(videoOn(), ['s2'], 'one camera: the most recent speaker, though a second video slot is free');
  assert.equal(rx.slots!.entries().filter((e) => e.kind === 'audio').length, 2, 'audio is not limited by last-N');
  rx.stageSsrc = 12; // s1's camera on its stage
  c.applySpeakerOrder(['s3', 's2', 's1', 'rx']);
  assert.deepEqual(videoOn(), ['s1', 's3']);
});

test('receive slots: a video slot that stood idle goes on with a timestamp step of the idle time (90 kHz), at least one frame', () => {
  const { c, rx, sent } = room(3);
  const cam = (i: number) => c.sources.get(i * 10 + 2)!;
  const slotV0 = rx.slots!.slots[2];
  assert.equal(slotV0.source, cam(1));
  // s1's camera plays at 30 fps from t = 10 s
  receive(cam(1), vp8Packet(12, 500, 90_000, 700, { key: true }), 10_000);
  receive(cam(1), vp8Packet(12, 501, 93_000, 701), 10_033);
  const last = sent.rtp.at(-1)!;
  // s3 speaks and takes the slot; its keyframe comes 2 s after s1's last packet went out
  c.applySpeakerOrder(['s3', 's2', 's1', 'rx']);
  assert.equal(slotV0.source, cam(3));
  receive(cam(3), vp8Packet(32, 40_001, 5_000_000, 20_001, { key: true }), 12_033);
  receive(cam(3), vp8Packet(32, 40_002, 5_003_000, 20_002), 12_066);
  const [k, d] = sent.rtp.slice(-2);
  assert.equal(rtpSsrc(k), slotV0.ssrc);
  assert.equal(rtpSeq(k), (rtpSeq(last) + 1) & 0xffff);
  assert.equal((rtpTimestamp(k) - rtpTimestamp(last)) >>> 0, 2000 * 90, 'two seconds of 90 kHz ticks after the last frame sent');
  assert.equal((rtpTimestamp(d) - rtpTimestamp(k)) >>> 0, 3000, 'then the new source keeps its own spacing');
  // s1 back at once (within one frame's time): one frame interval, never less
  c.applySpeakerOrder(['s1', 's2', 's3', 'rx']);
  assert.equal(slotV0.source, cam(1));
  receive(cam(1), vp8Packet(12, 600, 390_000, 800, { key: true }), 12_070);
  assert.equal((rtpTimestamp(sent.rtp.at(-1)!) - rtpTimestamp(d)) >>> 0, 3000, 'a gap shorter than a frame still steps one frame');
  // a pause of hours steps MAX_IDLE_STEP_MS at most (2^31 ticks or more would read as a jump back)
  const held = sent.rtp.at(-1)!;
  c.applySpeakerOrder(['s3', 's2', 's1', 'rx']);
  receive(cam(3), vp8Packet(32, 40_100, 6_000_000, 20_100, { key: true }), 12_070 + 10 * 3_600_000);
  assert.equal((rtpTimestamp(sent.rtp.at(-1)!) - rtpTimestamp(held)) >>> 0, MAX_IDLE_STEP_MS * 90);
});

test('receive slots: an audio slot is one stream across its sources', () => {
  const { c, rx, sent } = room(3);
  const mic = (i: number) => c.sources.get(i * 10 + 1)!;
  const slotA0 = rx.slots!.slots[0];
  const give = (s: Source, pkt: Buffer, atMs = 0) => {
    const v = new RtpView(VIDEO_PT, TWCC_EXT_ID);
    assert.ok(v.parse(pkt, pkt.length));
    v.atMs = atMs;
    for (const dt of s.localDowntracks) dt.forward(v);
  };
  for (let i = 0; i < 3; i++) give(mic(1), opusPacket(11, 1000 + i, 48_000 + i * 960), 5_000 + i * 20);
  const last = sent.rtp[2];
  assert.equal(rtpSsrc(last), slotA0.ssrc);
  assert.equal(rtpPayloadType(last), AUDIO_PT);
  c.applySpeakerOrder(['s3', 's2', 's1', 'rx']);
  assert.equal(slotA0.source, mic(3));
  // s3's first packet is handled 1.5 s after s1's last one went out
  give(mic(3), opusPacket(31, 7, 123), 6_540);
  give(mic(3), opusPacket(31, 8, 123 + 960), 6_560);
  const [a, b] = sent.rtp.slice(3);
  assert.equal(rtpSsrc(a), slotA0.ssrc);
  assert.equal(rtpSeq(a), rtpSeq(last) + 1);
  assert.equal(rtpSeq(b), rtpSeq(last) + 2);
  const gap = (rtpTimestamp(a) - rtpTimestamp(last)) >>> 0;
  assert.equal(gap, 1500 * 48, 'a talk spurt 1.5 s (of 48 kHz ticks) after the last packet, by the packets\' own times');
  assert.equal(rtpTimestamp(b) - rtpTimestamp(a), 960);
  // a report of a source that takes the slot before its first packet is not passed on (the old mapping would lie)
  c.applySpeakerOrder(['s1', 's2', 's3', 'rx']);
  assert.equal(slotA0.source?.ssrc, 11, 's1 comes back onto the slot s3 leaves');
  const reports = sent.rtcp.length;
  const sr = Buffer.alloc(28);
  sr.writeUInt32BE(11, 4);
  rx.downtracks.get(11)!.forwardSr(mic(1), sr, 0);
  assert.equal(sent.rtcp.length, reports, 'no report before the first packet');
  give(mic(1), opusPacket(11, 50, 5000));
  rx.downtracks.get(11)!.forwardSr(mic(1), sr, 10_000);
  assert.equal(sent.rtcp.length, reports + 1);
  assert.equal(sent.rtcp.at(-1)!.readUInt32BE(4), slotA0.ssrc);
});

test('audio slot rewriter: wraps, and goes on from the last packet after a source change', () => {
  const rw = new AudioSlotRewriter(77);
  const b = opusPacket(1, 0xfffe, 0xffff_ff00);
  rw.rewrite(b, 0xfffe, 0xffff_ff00, 0);
  assert.equal(rtpSeq(b), 0xfffe);
  rw.rewrite(b, 0xffff, 0xffff_ff00 + 960 - 2 ** 32 + 2 ** 32, 20);
  rw.startSource();
  const c = opusPacket(2, 5, 10);
  rw.rewrite(c, 5, 10, 1020);
  assert.equal(rtpSeq(c), 0, 'sequence wraps to 0 after 0xffff');
  assert.equal(rtpSsrc(c), 77);
  assert.equal(rtpTimestamp(c), (0xffff_ff00 + 960 + 1000 * 48) >>> 0, 'a second of silence later');
  // a sender report of the new source maps only once its first packet set the offsets
  rw.startSource();
  assert.equal(rw.mapped, false);
  rw.rewrite(opusPacket(3, 9, 500), 9, 500, 1040);
  assert.equal(rw.mapped, true);
});

test('receive slots: feedback on a slot goes to the source playing there (NACK as RTX on the slot, PLI, reports)', () => {
  const keyframes: Source[] = [];
  const { c, rx, sent } = room(3, keyframes);
  const cam1 = c.sources.get(12)!;
  const slotV0 = rx.slots!.slots[2];
  // the slot's SSRC and its RTX SSRC both name the source playing there
  assert.equal(rx.slots!.sourceOf(slotV0.ssrc), cam1);
  assert.equal(rx.slots!.sourceOf(slotV0.rtxSsrc), cam1);
  assert.equal(rx.slots!.sourceOf(12), null, 'a source SSRC is not a slot');
  receive(cam1, vp8Packet(12, 100, 9000, 50, { key: true }));
  receive(cam1, vp8Packet(12, 101, 12_000, 51));
  const out = sent.rtp[1];
  const dt = rx.downtracks.get(12)!;
  assert.equal(dt.slot, slotV0);
  // a NACK of the slot's number: the source's packet, rewritten as first sent, as RTX on the slot's RTX SSRC
  dt.beginNack();
  assert.equal(dt.nack(rtpSeq(out)), true);
  const rtx = sent.rtp[2];
  assert.equal(rtpPayloadType(rtx), RTX_PT);
  assert.equal(rtpSsrc(rtx), slotV0.rtxSsrc);
  assert.equal(rtx.readUInt16BE(rtx.length - (out.length - 20) - 2), rtpSeq(out), 'RTX carries the slot sequence number');
  // a number never sent: a miss, answered here (never asked of the sender under the slot's number)
  assert.equal(dt.nack((rtpSeq(out) + 500) & 0xffff), true);
  assert.equal(dt.nackMisses, 1);
  // a PLI on the slot asks the source playing there
  keyframes.length = 0;
  dt.requestKeyframe(false);
  assert.deepEqual(keyframes, [cam1]);
  // a sender report of the source reaches the receiver as the slot's
  const sr = Buffer.alloc(28);
  sr.writeUInt32BE(12, 4);
  sr.writeUInt32BE(9000, 16);
  dt.forwardSr(cam1, sr, 0);
  const fwd = sent.rtcp.at(-1)!;
  assert.equal(fwd.readUInt32BE(4), slotV0.ssrc);
  assert.equal(fwd.readUInt32BE(16), rtpTimestamp(sent.rtp[0]));
  assert.equal(sr.readUInt32BE(4), 12, 'the shared report is left as it came for the next receiver');
  // after the slot changes hands, a NACK of an earlier number is a miss (never a packet of the new source)
  c.applySpeakerOrder(['s3', 's2', 's1', 'rx']);
  assert.equal(slotV0.source, c.sources.get(32));
  const dt3 = rx.downtracks.get(32)!;
  assert.equal(dt3.slot, slotV0);
  assert.equal(rx.downtracks.get(12), undefined);
  receive(c.sources.get(32)!, vp8Packet(32, rtpSeq(out) - 101 + 100, 9000, 50, { key: true })); // same input numbers as cam1's
  const sentBefore = sent.rtp.length;
  dt3.beginNack();
  assert.equal(dt3.nack(rtpSeq(out)), true);
  assert.equal(dt3.nackMisses, 1);
  assert.equal(sent.rtp.length, sentBefore, 'nothing resent for a number of the earlier source');
  // the slot's RTX stream goes on from where it was: the next retransmission is numbered after the first
  const out3 = sent.rtp.at(-1)!;
  assert.equal(dt3.nack(rtpSeq(out3)), true);
  const rtx3 = sent.rtp.at(-1)!;
  assert.equal(rtpSsrc(rtx3), slotV0.rtxSsrc);
  assert.equal(rtpSeq(rtx3), (rtpSeq(rtx) + 1) & 0xffff, 'one RTX sequence across the sources on a slot');
});
