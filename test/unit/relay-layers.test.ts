// Simulcast over a relay between bridges, piece by piece (the whole path runs in test/e2e/cascade.test.ts):
// the TLAY/TRAT messages (packet/relay-layers.ts); on the sender's bridge, the relay's downtrack forwards only
// the layers the far bridge wants, each as it came under its relay SSRC, and answers the far bridge's NACKs
// from the layer's buffer; on the receiver's bridge, the relay's camera has its layers by their relay SSRCs
// from the start, its speaker is the far participant, a NACK its buffer cannot answer goes to the far bridge
// by the layer's own number, and the wishes sent say which layers the rewriters play or wait for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conference } from '../../src/bridge/conference.ts';
import { Endpoint } from '../../src/bridge/endpoint.ts';
import { RELAY_WANT_TTL_MS, standaloneDowntrackHost } from '../../src/bridge/downtrack.ts';
import type { Source } from '../../src/bridge/source.ts';
import type { MediaTransport } from '../../src/bridge/transport.ts';
import { RtpView } from '../../src/bridge/packet/rtp-view.ts';
import { rtpSeq, rtpSsrc, rtpTimestamp } from '../../src/bridge/packet/rtp.ts';
import { readRelayLayers, readRelayRates, relayAppKind, writeRelayLayers, writeRelayRates } from '../../src/bridge/packet/relay-layers.ts';
import { sendRelayWishes } from '../../src/bridge/relay-feedback.ts';
import type { RtcpWriter } from '../../src/bridge/rtcp-writer.ts';
import { TWCC_EXT_ID, VIDEO_PT } from '../../src/protocol/media-profile.ts';
import { mediaSourceSchema } from '../../src/protocol/bus-messages.ts';

const CAMERA = 1000;
const CAMERA_RTX = 1001;
const RELAY_SSRCS = [7000, 7001, 7002];
const SENT_LAYERS = [2000, 2001, 2002]; // what the browser sends (learned from rids on its own bridge)

function recorder(): { rtp: Buffer[]; transport: MediaTransport } {
  const rtp: Buffer[] = [];
  return {
    rtp,
    transport: {
      kind: 'plain',
      sendRtp(out, len) {
        rtp.push(Buffer.from(out.subarray(0, len)));
      },
      sendRtcp() {},
      close() {},
    },
  };
}

/** A minimal VP8 packet (no extensions): keyframe or not. */
function vp8(ssrc: number, seq: number, ts: number, key: boolean): Buffer {
  const b = Buffer.alloc(12 + 5 + 20);
  b[0] = 0x80;
  b[1] = 0x80 | VIDEO_PT;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts, 4);
  b.writeUInt32BE(ssrc, 8);
  b[12] = 0x90; // X, S
  b[13] = 0x80; // I
  b[14] = 0x80;
  b[15] = seq & 0xff;
  b[16] = key ? 0x00 : 0x01;
  return b;
}

const view = (pkt: Buffer) => {
  const v = new RtpView(VIDEO_PT, TWCC_EXT_ID);
  assert.ok(v.parse(pkt, pkt.length));
  return v;
};

test('TLAY and TRAT: written and read back; anything else is not taken for them', () => {
  const b = Buffer.alloc(1500);
  const n = writeRelayLayers(b, 0, 42, 3, [
    { ssrc: CAMERA, mask: 0b101 },
    { ssrc: 5, mask: 0 },
  ]);
  assert.equal(relayAppKind(b, 0, n), 'wishes');
  const got: number[][] = [];
  assert.ok(readRelayLayers(b, 0, n, (w, s, m) => got.push([w, s, m])));
  assert.deepEqual(got, [
    [3, CAMERA, 0b101],
    [3, 5, 0],
  ]);
  assert.equal(readRelayLayers(b, 0, n - 8, () => assert.fail('cut short')), false);
  const r = writeRelayRates(b, 0, 42, [{ ssrc: CAMERA, layers: [{ kbps: 150, width: 320, height: 180 }, { kbps: 2500.4, width: 1280, height: 720 }] }]);
  assert.equal(relayAppKind(b, 0, r), 'rates');
  const rates: number[][] = [];
  assert.ok(readRelayRates(b, 0, r, (s, l, k, w, h) => rates.push([s, l, k, w, h])));
  assert.deepEqual(rates.slice(0, 2), [
    [CAMERA, 0, 150, 320, 180],
    [CAMERA, 1, 2500, 1280, 720],
  ]);
  assert.deepEqual(rates[3], [CAMERA, 3, 0, 0, 0]);
  b.write('XXXX', 8, 'latin1');
  assert.equal(relayAppKind(b, 0, r), null);
});

test('bus schema: relaySsrcs need one SSRC per rid', () => {
  assert.ok(mediaSourceSchema.safeParse({ ssrc: 1, kind: 'video', rids: ['q', 'h'], relaySsrcs: [5, 6] }).success);
  assert.equal(mediaSourceSchema.safeParse({ ssrc: 1, kind: 'video', rids: ['q', 'h'], relaySsrcs: [5] }).success, false);
  assert.equal(mediaSourceSchema.safeParse({ ssrc: 1, kind: 'video', relaySsrcs: [5] }).success, false);
});

/** The sender's bridge: Sol's browser sends the camera; relay~B receives it. */
function senderSide() {
  const c = new Conference('c');
  const sol = new Endpoint('sol', c, 0);
  const relay = new Endpoint('relay~B', c, 0);
  relay.relay = true;
  for (const ep of [sol, relay]) {
    c.endpoints.set(ep.id, ep);
    ep.connected = true;
  }
  const toRelay = recorder();
  relay.transport = toRelay.transport;
  sol.transport = recorder().transport;
  c.setSources(sol, [{ ssrc: CAMERA, kind: 'video', rtxSsrc: CAMERA_RTX, rids: ['q', 'h', 'f'], relaySsrcs: RELAY_SSRCS }]);
  const layers = SENT_LAYERS.map((ssrc, i) => c.addLayer(c.sources.get(CAMERA)!, i, ssrc, false)!);
  c.setSubscriptions(relay, [CAMERA]);
  return { c, relay, sent: toRelay.rtp, layers, dt: relay.downtracks.get(CAMERA)! };
}

test('sender side: only the layers the far bridge wants cross, as they came, under their relay SSRCs', () => {
  const { c, sent, layers, dt } = senderSide();
  assert.equal(dt.rewriter, null, 'no rewriting towards a relay');
  assert.equal(c.relayLayers.get(RELAY_SSRCS[2]), c.sources.get(CAMERA), 'a relay SSRC names its camera');
  const feed = (layer: Source, seq: number) => {
    const pkt = vp8(layer.ssrc, seq, 90 * seq, false);
    layer.rtx!.store(seq, pkt, pkt.length);
    dt.forwardLayer(layer, view(pkt));
  };
  feed(layers[0], 10);
  assert.equal(sent.length, 0, 'nothing wanted yet: nothing crosses');
  const now = Date.now();
  // worker 0 of the far bridge wants q, worker 1 wants f: both cross
  assert.equal(dt.relayWant(0, 0b001, now), 0b001);
  assert.equal(dt.relayWant(1, 0b100, now), 0b100);
  feed(layers[0], 11);
  feed(layers[1], 500);
  feed(layers[2], 900);
  assert.deepEqual(sent.map((p) => [rtpSsrc(p), rtpSeq(p), rtpTimestamp(p)]), [
    [RELAY_SSRCS[0], 11, 990],
    [RELAY_SSRCS[2], 900, 81000],
  ]);
  // the far bridge lost one: it NACKs it by the layer's own number
  dt.beginNack();
  assert.ok(dt.resendToRelay(2, 900));
  assert.deepEqual([rtpSsrc(sent[2]!), rtpSeq(sent[2]!)], [RELAY_SSRCS[2], 900]);
  assert.equal(dt.resendToRelay(2, 901), false, 'not in the buffer: asked of the sender');
  // worker 1 stops saying it: its wish lapses
  dt.relayWant(0, 0b001, now + RELAY_WANT_TTL_MS + 1);
  assert.equal(dt.relayMask, 0b001);
});

/** The receiver's bridge: relay~A brings Sol's camera; Rafa receives it. */
function receiverSide() {
  const upstream: Array<[number, number]> = [];
  const c = new Conference('c', { ...standaloneDowntrackHost(), nackUpstream: (layer: Source, seq: number) => upstream.push([layer.ssrc, seq]) });
  const relay = new Endpoint('relay~A', c, 0);
  relay.relay = true;
  const rafa = new Endpoint('rafa', c, 0);
  for (const ep of [relay, rafa]) {
    c.endpoints.set(ep.id, ep);
    ep.connected = true;
  }
  relay.transport = recorder().transport;
  const toRafa = recorder();
  rafa.transport = toRafa.transport;
  c.setSources(relay, [
    { ssrc: CAMERA, kind: 'video', rtxSsrc: CAMERA_RTX, rids: ['q', 'h', 'f'], relaySsrcs: RELAY_SSRCS, participantId: 'sol' },
    { ssrc: 3000, kind: 'audio', participantId: 'sol' },
    { ssrc: 4000, kind: 'audio', participantId: 'ana' },
  ]);
  c.setSubscriptions(rafa, [CAMERA, 3000, 4000]);
  return { c, relay, rafa, upstream, sent: toRafa.rtp, dt: rafa.downtracks.get(CAMERA)! };
}

test('receiver side: the layers are known by their relay SSRCs, speakers are the far participants, lost packets are asked upstream', () => {
  const { c, upstream, sent, dt } = receiverSide();
  const camera = c.sources.get(CAMERA)!;
  assert.deepEqual(
    camera.layers.map((l) => l?.ssrc),
    RELAY_SSRCS,
  );
  assert.equal(c.sources.get(RELAY_SSRCS[1])!.parent, camera);
  assert.deepEqual(c.speakerIds(), ['sol', 'ana', 'rafa']);
  assert.ok(c.hasSpeaker('sol') && !c.hasSpeaker('relay~A'));

  // Rafa plays the top layer: packets 100 and 102 arrive, 101 was lost on the relay
  dt.rewriter!.setTarget(2);
  const top = camera.layers[2]!;
  for (const [seq, key] of [
    [100, true],
    [102, false],
  ] as const) {
    const pkt = vp8(top.ssrc, seq, 90 * seq, key);
    top.rtx!.store(seq, pkt, pkt.length);
    dt.forwardLayer(top, view(pkt));
  }
  assert.equal(sent.length, 2);
  const lost = (rtpSeq(sent[0]!) + 1) & 0xffff;
  dt.beginNack();
  dt.nack(lost);
  assert.deepEqual(upstream, [[RELAY_SSRCS[2], 101]], 'asked of the far bridge by the layer’s own number');

  // and when the relay's sources go, so do their speakers
  c.setSources(c.endpoints.get('relay~A')!, [{ ssrc: 4000, kind: 'audio', participantId: 'ana' }]);
  assert.deepEqual(c.speakerIds(), ['ana', 'rafa']);
  assert.equal(c.sources.get(RELAY_SSRCS[0]), undefined, 'its layers are forgotten with it');
});

test('receiver side: the wishes name the layers the rewriters play or wait for, said again only when changed or due', () => {
  const { c, dt } = receiverSide();
  const said: Array<{ worker: number; wishes: { ssrc: number; mask: number }[] }> = [];
  const rtcp = { relayWishes: (_to: Endpoint, worker: number, wishes: { ssrc: number; mask: number }[]) => said.push({ worker, wishes: [...wishes] }) } as unknown as RtcpWriter;
  sendRelayWishes(c, 0, 2, rtcp);
  assert.equal(said.length, 0, 'nothing wanted, nothing said');
  dt.rewriter!.setTarget(1);
  sendRelayWishes(c, 10, 2, rtcp);
  assert.deepEqual(said, [{ worker: 2, wishes: [{ ssrc: CAMERA, mask: 0b010 }] }]);
  sendRelayWishes(c, 20, 2, rtcp);
  assert.equal(said.length, 1, 'unchanged and not due');
  sendRelayWishes(c, 1100, 2, rtcp);
  assert.equal(said.length, 2, 'said again every second');
  dt.rewriter!.setTarget(-1);
  sendRelayWishes(c, 1200, 2, rtcp);
  assert.deepEqual(said[2]!.wishes, [{ ssrc: CAMERA, mask: 0 }], 'no longer wanted: said once');
  sendRelayWishes(c, 2500, 2, rtcp);
  assert.equal(said.length, 3);
});
