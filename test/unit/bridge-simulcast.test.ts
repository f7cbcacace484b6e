// Simulcast through a real Bridge without browsers: alice's "browser" (dgram socket + werift DTLS + our SRTP)
// sends a VP8 camera as three rid layers, bob receives one continuous stream with the camera's SSRC, switched
// between layers at (whole) keyframes by the bridge's layer allocation, numbered transport-wide, with retransmissions
// as RTX; alice's padding-only RTX probes are dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { Bridge } from '../../src/bridge/bridge.ts';
import { nativeUdp } from '../../src/bridge/native/udp-batch.ts';
import { createBridgeCertificate } from '../../src/bridge/certificate.ts';
import { RTCP_SR, writeNack, writeRr } from '../../src/bridge/packet/rtcp.ts';
import { findHeaderExtension, rtpHeaderLength, rtpPayloadEnd, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp } from '../../src/bridge/packet/rtp.ts';
import { readTransportSeq, writeTransportSeq } from '../../src/bridge/packet/twcc.ts';
import { unwrapRtx } from '../../src/bridge/packet/rtx.ts';
import { createVp8Info, vp8Descriptor } from '../../src/bridge/packet/vp8.ts';
import { sleep, waitFor as waitUntil } from '../helpers/fake-browser.ts';
import { Camera, L, LR2, RIDS, SimulcastBrowser, V, VR, extensions, rtpPacket } from '../helpers/simulcast-sender.ts';

const CONF = 'conf';

/** The shared helper's wait, checking every 5 ms. */
const waitFor = (what: string, cond: () => boolean, ms?: number) => waitUntil(what, cond, ms, 5);

/** What bob should get for alice's packet `p`: the camera's SSRC, the new seq/ts/picture id/TL0PICIDX, mid and rid hidden. */
function expectedAtBob(p: Buffer, seq: number, ts: number, pic: number, tl0: number, tw: number): Buffer {
  const e = Buffer.from(p);
  e.writeUInt32BE(V, 8);
  e.writeUInt16BE(seq, 2);
  e.writeUInt32BE(ts >>> 0, 4);
  const hl = rtpHeaderLength(e, e.length);
  // ids 4..6 renamed to 14
  e[16] = 0xe0 | (e[16] & 0x0f);
  e[18] = 0xe0 | (e[18] & 0x0f);
  assert.ok(writeTransportSeq(e, e.length, 3, tw));
  e[hl + 2] = 0x80 | (pic >> 8);
  e[hl + 3] = pic & 0xff;
  e[hl + 4] = tl0;
  return e;
}

function vp8Of(b: Buffer) {
  const info = createVp8Info();
  assert.ok(vp8Descriptor(b, rtpHeaderLength(b, b.length), rtpPayloadEnd(b, b.length), info));
  return info;
}

// both ways a steady layer can go: forwarded by the native routes (native/routes.c, when the module is built), or in
// JavaScript; the same bytes either way
for (const nativeForward of [true, false]) {
test(`bridge simulcast: rid layers in, one continuous stream out, layer switch at keyframes, RTX both ways (nativeForward: ${nativeForward})`, { timeout: 60_000 }, async (t) => {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1, nativeForward });
  const bridge = new Bridge({
    bus,
    config,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    bridgeId: 'simulcast',
    certificate: await createBridgeCertificate(),
  });
  const port = await bridge.udp.bind('127.0.0.1', 0);
  const browsers: SimulcastBrowser[] = [];
  t.after(async () => {
    for (const b of browsers) b.close();
    await bridge.close();
    await bus.close();
  });

  async function join(id: string, sources: Parameters<Bridge['configure']>[0]['sources']): Promise<SimulcastBrowser> {
    const b = await SimulcastBrowser.create(id, port, [1]);
    browsers.push(b);
    const alloc = bridge.allocate(CONF, id);
    await b.iceCheck(alloc.ufrag, alloc.pwd, `${id}u`);
    bridge.configure({ conferenceId: CONF, endpointId: id, remoteUfrag: `${id}u`, remotePwd: 'p'.repeat(24), remoteFingerprint: { algorithm: 'sha-256', value: b.fingerprint }, sources });
    await b.connectDtls();
    await waitFor(`${id} connected`, () => bridge.conferences.get(CONF)?.endpoints.get(id)?.connected === true);
    return b;
  }

  const alice = await join('alice', [{ ssrc: V, kind: 'video', rtxSsrc: VR, rids: RIDS }]);
  const bob = await join('bob', []);
  const conference = bridge.conferences.get(CONF)!;
  const bobEp = conference.endpoints.get('bob')!;
  bridge.subscribe(CONF, 'bob', [V]);
  const stream = bobEp.downtracks.get(V)!;
  const rw = stream.rewriter!;
  assert.ok(rw !== null);

  // alice's first packets: the bridge learns the layers' SSRCs from the rid extension
  const cam = new Camera(alice);
  cam.frame();
  const v = conference.sources.get(V)!;
  await waitFor('3 layers learned', () => v.layers.every((l) => l !== null));
  assert.deepEqual(v.layers.map((l) => l!.ssrc), L);
  assert.deepEqual(v.layers.map((l) => l!.parent), [v, v, v]);
  for (let f = 0; f < 3; f++) cam.frame();
  await waitFor('packets counted', () => bridge.counters.rtpIn >= 4 * 4);

  // the allocation picks the top layer for the default 1280x720 tile and asks alice for its keyframe
  bridge.allocateLayers();
  assert.equal(rw.targetLayer, 2);
  await waitFor('PLI for the top layer', () => alice.plis.includes(L[2]));
  assert.ok(!alice.plis.includes(V), 'never for the simulcast source itself');
  cam.frame();
  await sleep(50);
  assert.deepEqual(bob.rtp.filter((p) => rtpSsrc(p) === V), [], 'nothing before a keyframe of the top layer');

  // the keyframe: from here bob gets the top layer, rewritten
  const keySeq = cam.seq[2];
  const keyTs = cam.ts[2];
  const keyPic = cam.pic[2];
  const keyTl0 = (cam.tl0[2] + 1) & 0xff;
  cam.frame([2]);
  for (let f = 0; f < 4; f++) cam.frame();
  const media = () => bob.rtp.filter((p) => rtpSsrc(p) === V);
  await waitFor('10 packets of the top layer at bob', () => media().length >= 10);
  await sleep(30);
  let got = media();
  assert.equal(got.length, 10);
  assert.equal(rw.currentLayer, 2);
  for (let i = 0; i < 10; i++) {
    const p = got[i];
    const frame = i >> 1;
    const inSeq = (keySeq + i) & 0xffff;
    const sent = cam.sent.get(`2:${inSeq}`)!;
    // the first switch keeps the top layer's own numbers: only the SSRC and the hidden extensions change
    const want = expectedAtBob(sent, inSeq, keyTs + frame * 3000, (keyPic + frame) & 0x7fff, (keyTl0 + frame) & 0xff, readTransportSeq(p, p.length, 3));
    assert.deepEqual(p, want, `packet ${i}`);
    assert.equal(findHeaderExtension(p, p.length, 5), -1, 'rid hidden');
    assert.equal(findHeaderExtension(p, p.length, 14), 17);
  }
  assert.ok(vp8Of(got[0]).keyframe);
  for (let i = 1; i < got.length; i++) {
    assert.equal(rtpSeq(got[i]), (rtpSeq(got[i - 1]) + 1) & 0xffff, 'consecutive sequence numbers');
    assert.ok(readTransportSeq(got[i], got[i].length, 3) > readTransportSeq(got[i - 1], got[i - 1].length, 3));
  }

  // bob's tile shrinks to a thumbnail: the lowest layer, from its keyframe on, continuing bob's stream
  bridge.setVideoConstraints(CONF, 'bob', [{ ssrc: V, width: 320, height: 180 }]);
  cam.frame();
  bridge.allocateLayers();
  assert.equal(rw.targetLayer, 0);
  await waitFor('PLI for the lowest layer', () => alice.plis.includes(L[0]));
  const last = got[got.length - 1];
  cam.frame(); // still the top layer until the keyframe
  await waitFor('2 more packets of the top layer', () => media().length >= 14);
  got = media();
  const lastTop = got[got.length - 1];
  assert.equal(rtpSeq(lastTop), (rtpSeq(last) + 4) & 0xffff);
  const lowKeySeq = cam.seq[0];
  cam.frame([0]);
  for (let f = 0; f < 3; f++) cam.frame();
  await waitFor('4 packets of the lowest layer', () => media().length >= 18);
  await sleep(30);
  got = media();
  assert.equal(got.length, 18);
  assert.equal(rw.currentLayer, 0);
  const low = got.slice(14);
  const topInfo = vp8Of(lastTop);
  for (let i = 0; i < 4; i++) {
    const p = low[i];
    const sent = cam.sent.get(`0:${(lowKeySeq + i) & 0xffff}`)!;
    const want = expectedAtBob(
      sent,
      (rtpSeq(lastTop) + 1 + i) & 0xffff,
      (rtpTimestamp(lastTop) + 3000 * (i + 1)) >>> 0,
      (topInfo.pictureId + 1 + i) & 0x7fff,
      (topInfo.tl0PicIdx + 1 + i) & 0xff,
      readTransportSeq(p, p.length, 3),
    );
    assert.deepEqual(p, want, `lowest layer packet ${i}: seq, timestamp, picture id and TL0PICIDX continue`);
  }
  assert.ok(vp8Of(low[0]).keyframe);
  for (let i = 1; i < got.length; i++) assert.equal(rtpSeq(got[i]), (rtpSeq(got[i - 1]) + 1) & 0xffff, `seq at ${i}`);

  // bob lost one packet of each layer: the NACK names his numbers, the answer is RTX on VR
  const lostTop = got[3];
  const lostLow = got[15];
  const nack = Buffer.alloc(100);
  let n = writeRr(nack, 0, 0x0d0d0d0d);
  n += writeNack(nack, n, 0x0d0d0d0d, V, [rtpSeq(lostTop), rtpSeq(lostLow)], 2);
  const rtxAtBob = () => bob.rtp.filter((p) => rtpSsrc(p) === VR && rtpPayloadEnd(p, p.length) > rtpHeaderLength(p, p.length));
  bob.send(nack.subarray(0, n), true);
  await waitFor('2 retransmissions at bob', () => rtxAtBob().length >= 2);
  const resent = rtxAtBob();
  assert.equal(resent.length, 2);
  assert.equal(rtpSeq(resent[1]), (rtpSeq(resent[0]) + 1) & 0xffff);
  for (const [r, orig] of [
    [resent[0], lostTop],
    [resent[1], lostLow],
  ]) {
    assert.equal(rtpPayloadType(r), 97);
    const copy = Buffer.from(r);
    const len = unwrapRtx(copy, copy.length, V, 96);
    assert.equal(len, orig.length);
    const unwrapped = copy.subarray(0, len);
    assert.ok(readTransportSeq(unwrapped, len, 3) > readTransportSeq(orig, orig.length, 3), 'a retransmission is numbered anew');
    writeTransportSeq(unwrapped, len, 3, readTransportSeq(orig, orig.length, 3));
    assert.deepEqual(unwrapped, orig, `the retransmission of ${rtpSeq(orig)} is the packet bob lost`);
  }

  // every packet to bob (media, RTX, probes) has a transport-wide number: 0, 1, 2, ... without gaps
  await sleep(50);
  const tws = bob.rtp.map((p) => readTransportSeq(p, p.length, 3));
  assert.ok(tws.every((x) => x >= 0));
  assert.deepEqual([...tws].sort((a, b) => a - b), tws.map((_, i) => i));
  // probes are padding-only RTX on VR, numbered in the same RTX sequence as the retransmissions
  const probes = bob.rtp.filter((p) => rtpSsrc(p) === VR && rtpPayloadEnd(p, p.length) === rtpHeaderLength(p, p.length));
  for (const p of probes) assert.equal(rtpPayloadType(p), 97);
  const rtxSeqs = bob.rtp.filter((p) => rtpSsrc(p) === VR).map(rtpSeq);
  for (let i = 1; i < rtxSeqs.length; i++) assert.equal(rtxSeqs[i], (rtxSeqs[i - 1] + 1) & 0xffff);
  assert.ok(bob.rtp.every((p) => rtpSsrc(p) === V || rtpSsrc(p) === VR));

  // alice's padding-only RTX (her bandwidth probes): on VR, and on a layer's RTX stream (learned from the
  // repaired rid): dropped, never forwarded
  const before = { padding: bridge.counters.dropPadding, bob: bob.rtp.length };
  alice.send(rtpPacket(97, 1, 0, VR, false, extensions('f', true, cam.tw++), Buffer.alloc(0), 200));
  alice.send(rtpPacket(97, 2, 0, LR2, false, extensions('f', true, cam.tw++), Buffer.alloc(0), 200));
  await waitFor('2 padding packets dropped', () => bridge.counters.dropPadding >= before.padding + 2);
  assert.equal(conference.sources.get(LR2)!.primarySsrc, L[2]);
  // an RTX copy of a packet the bridge already has (Chrome probes with those too) is not forwarded either
  const dupBefore = bridge.counters.dropDuplicate;
  const dupOf = cam.sent.get(`2:${keySeq}`)!;
  const dupPayload = Buffer.concat([dupOf.subarray(2, 4), dupOf.subarray(rtpHeaderLength(dupOf, dupOf.length))]);
  alice.send(rtpPacket(97, 3, rtpTimestamp(dupOf), LR2, false, extensions('f', true, cam.tw++), dupPayload));
  await waitFor('the duplicate dropped', () => bridge.counters.dropDuplicate === dupBefore + 1);
  await sleep(50);
  assert.equal(bob.rtp.length, before.bob, 'nothing reached bob');

  // sender reports: the one of the layer bob gets now reaches him as his stream's (SSRC V, his timestamps)
  const lowIn = cam.sent.get(`0:${lowKeySeq}`)!;
  const tsOffset = (rtpTimestamp(lowIn) - rtpTimestamp(low[0])) >>> 0;
  const sr = (ssrc: number, ts: number) => {
    const b = Buffer.alloc(28);
    b[0] = 0x80;
    b[1] = RTCP_SR;
    b.writeUInt16BE(6, 2);
    b.writeUInt32BE(ssrc, 4);
    b.writeUInt32BE(0xe1234567, 8); // NTP seconds
    b.writeUInt32BE(0x89abcdef, 12);
    b.writeUInt32BE(ts, 16);
    b.writeUInt32BE(100, 20);
    b.writeUInt32BE(100_000, 24);
    return b;
  };
  alice.send(sr(L[2], 1_000_000), true);
  alice.send(sr(L[0], 2_000_000), true);
  await waitFor('a sender report at bob', () => bob.srs.length >= 1);
  await sleep(50);
  assert.equal(bob.srs.length, 1, 'only the layer he receives');
  const got0 = bob.srs[0]!;
  assert.equal(got0.readUInt32BE(4), V);
  assert.equal(got0.readUInt32BE(16), (2_000_000 - tsOffset) >>> 0);
  assert.deepEqual(got0.subarray(8, 16), sr(L[0], 0).subarray(8, 16), 'the NTP time as sent');

  // back to the top layer: the lowest keeps playing while the top layer's keyframe arrives, and the switch
  // happens when it is whole (its two packets then go out together, right after the last low frame)
  bridge.setVideoConstraints(CONF, 'bob', [{ ssrc: V, width: 1280, height: 720 }]);
  stream.demand!.lastDowngradeMs = -Infinity; // no waiting out the hold after the last switch down
  cam.frame();
  const plisBefore = alice.plis.filter((s) => s === L[2]).length;
  bridge.allocateLayers();
  assert.equal(rw.targetLayer, 2);
  await waitFor('another PLI for the top layer', () => alice.plis.filter((s) => s === L[2]).length > plisBefore);
  const bobBefore = media().length;
  const topKey = cam.layerFrame(2, true);
  alice.send(topKey[0]);
  const lowWhile = cam.layerFrame(0, false);
  alice.send(lowWhile[0]);
  await waitFor('the low frame sent during the keyframe', () => media().length === bobBefore + 1);
  await sleep(30);
  assert.equal(media().length, bobBefore + 1, "the keyframe's first packet is held");
  assert.equal(rw.currentLayer, 0);
  alice.send(topKey[1]);
  await waitFor('the whole keyframe at bob', () => media().length === bobBefore + 3);
  got = media();
  assert.equal(rw.currentLayer, 2);
  const lastLow = got[bobBefore];
  const lowInfo = vp8Of(lastLow);
  for (let i = 0; i < 2; i++) {
    const p = got[bobBefore + 1 + i];
    const want = expectedAtBob(
      topKey[i],
      (rtpSeq(lastLow) + 1 + i) & 0xffff,
      (rtpTimestamp(lastLow) + 3000) >>> 0,
      (lowInfo.pictureId + 1) & 0x7fff,
      (lowInfo.tl0PicIdx + 1) & 0xff,
      readTransportSeq(p, p.length, 3),
    );
    assert.deepEqual(p, want, `top keyframe packet ${i}: right after the last low frame`);
  }
  assert.ok(vp8Of(got[bobBefore + 1]).keyframe);
  assert.equal(bridge.counters.dropError, 0);
  // the steady packets went the way asked (natively only with the module built)
  const natively = bridge.countersNow().nativeForwarded;
  if (!nativeForward || bridge.udp.nativeRoutes === null) assert.equal(natively, 0);
  else assert.ok(natively > 10, `${natively} packets forwarded natively`);
  if (nativeForward && typeof nativeUdp()?.createRoutes === 'function') assert.notEqual(bridge.udp.nativeRoutes, null, 'the native routes are there when the module is built');
});
}
