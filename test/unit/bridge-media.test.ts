// DTLS-SRTP and RTP/RTCP forwarding without browsers: two "browsers" made of a dgram socket, werift's
// DtlsClient (with its own self-signed certificate) and the SrtpSession class with the client-side keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { bridgeAllocateReplySchema, subjects } from '../../src/protocol/bus-messages.ts';
import { startBridge } from '../../src/bridge/index.ts';
import {
  FMT_NACK,
  FMT_PLI,
  FMT_REMB,
  RTCP_PSFB,
  RTCP_RTPFB,
  RTCP_SR,
  fbMediaSsrc,
  forEachNack,
  forEachRtcp,
  parseRemb,
  srSsrc,
  writeNack,
  writePli,
  writeRr,
} from '../../src/bridge/packet/rtcp.ts';
import { rtpSeq, rtpSsrc } from '../../src/bridge/packet/rtp.ts';
import { FakeBrowser, sleep, waitFor } from '../helpers/fake-browser.ts';
import { AUDIO_PT, VIDEO_PT } from '../../src/protocol/media-profile.ts';

const BRIDGE = 'media';
/** bridge-workers.test.ts runs this file again with media workers (their counters are up to 100 ms old). */
const MEDIA_WORKERS = Number(process.env.TEST_MEDIA_WORKERS ?? '1');
/** TEST_NATIVE_SEND=0: the bridge sends with Node's dgram even when the native module is built. */
const NATIVE_SEND = process.env.TEST_NATIVE_SEND !== '0';
/** TEST_NATIVE_RECEIVE=0: native sends, but dgram reads the socket (the fallback; by default the module reads in recvmmsg batches). */
const NATIVE_RECEIVE = process.env.TEST_NATIVE_RECEIVE !== '0';
/** Media workers: endpoints of a conference on one worker before it spans (1: they alternate over the workers). */
const WORKER_SPAN = Number(process.env.TEST_WORKER_SPAN ?? '10');
const COUNTERS_LAG_MS = MEDIA_WORKERS > 1 ? 250 : 0;
const CONF = 'conf';

interface RtcpItem {
  pt: number;
  fmt: number;
  mediaSsrc: number;
  senderSsrc: number;
  nacks: number[];
  rembBitrate: number;
  rembSsrcs: number[];
}

/** Keeps RTP encrypted (decrypt on demand: the test decides which packets "got lost") and RTCP decrypted, parsed. */
class MediaBrowser extends FakeBrowser {
  /** Encrypted RTP datagrams received. */
  readonly rtp: Buffer[] = [];
  /** Decrypted RTCP received. */
  readonly rtcp: RtcpItem[] = [];

  protected override onRtp(m: Buffer): void {
    this.rtp.push(m);
  }

  protected override onRtcp(m: Buffer): void {
    if (!this.srtpIn) return;
    const len = this.srtpIn.unprotectRtcp(m, m.length);
    if (len < 0) return;
    forEachRtcp(m, len, (off, length, pt, fmt) => {
      const item: RtcpItem = { pt, fmt, mediaSsrc: 0, senderSsrc: m.readUInt32BE(off + 4), nacks: [], rembBitrate: -1, rembSsrcs: [] };
      if (pt === RTCP_RTPFB || pt === RTCP_PSFB) item.mediaSsrc = fbMediaSsrc(m, off);
      if (pt === RTCP_SR) item.mediaSsrc = srSsrc(m, off);
      if (pt === RTCP_RTPFB && fmt === FMT_NACK) forEachNack(m, off, length, (s) => item.nacks.push(s));
      if (pt === RTCP_PSFB && fmt === FMT_REMB) {
        const r = parseRemb(m, off, length);
        if (r) {
          item.rembBitrate = r.bitrate;
          item.rembSsrcs = r.ssrcs;
        }
      }
      this.rtcp.push(item);
    });
  }

  sendRtp(ssrc: number, pt: number, seq: number, ts: number, payload: Buffer): void {
    const plain = Buffer.alloc(12 + payload.length);
    plain[0] = 0x80;
    plain[1] = pt;
    plain.writeUInt16BE(seq, 2);
    plain.writeUInt32BE(ts, 4);
    plain.writeUInt32BE(ssrc, 8);
    payload.copy(plain, 12);
    this.send(plain);
  }

  sendRtcp(plain: Buffer): void {
    this.send(plain, true);
  }

  /** Decrypts a received RTP datagram (once: the replay window remembers it). */
  decrypt(m: Buffer): { ssrc: number; seq: number; payload: Buffer } | null {
    const copy = Buffer.from(m);
    const len = this.srtpIn!.unprotectRtp(copy, copy.length);
    if (len < 0) return null;
    return { ssrc: rtpSsrc(copy), seq: rtpSeq(copy), payload: copy.subarray(12, len) };
  }
}

test('bridge media: DTLS-SRTP, forwarding, PLI on subscribe, NACK from the buffer, mute (audio and camera), SR, REMB', async (t) => {
  const bus = new MemoryBus();
  const events: Array<{ endpointId: string; event: string }> = [];
  bus.subscribe(subjects.bridgeEvent, (p) => events.push(p as { endpointId: string; event: string }));
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: MEDIA_WORKERS, mediaWorkerSpan: WORKER_SPAN, nativeSend: NATIVE_SEND, nativeReceive: NATIVE_RECEIVE });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: BRIDGE });
  const browsers: MediaBrowser[] = [];
  t.after(async () => {
    for (const b of browsers) b.close();
    await bridge.close();
    await bus.close();
  });

  const A_AUDIO = 0xa1a1a1a1;
  const A_VIDEO = 0xa2a2a2a2;
  const B_AUDIO = 0xb1b1b1b1;
  const B_VIDEO = 0xb2b2b2b2;

  async function join(id: string, sources: Array<{ ssrc: number; kind: 'audio' | 'video' }>, fingerprint?: string) {
    const b = await MediaBrowser.create(id, bridge.mediaPort);
    browsers.push(b);
    const alloc = bridgeAllocateReplySchema.parse(
      await bus.request(subjects.bridgeAllocate(BRIDGE), { conferenceId: CONF, endpointId: id }),
    );
    assert.equal(alloc.candidates.at(-1)?.ip, '127.0.0.1');
    const remoteUfrag = `${id}ufrag`;
    await b.iceCheck(alloc.ufrag, alloc.pwd, remoteUfrag);
    await bus.request(subjects.bridgeConfigure(BRIDGE), {
      conferenceId: CONF,
      endpointId: id,
      remoteUfrag,
      remotePwd: 'p'.repeat(24),
      remoteFingerprint: { algorithm: 'sha-256', value: fingerprint ?? b.fingerprint },
      sources,
    });
    return b;
  }

  const a = await join('alice', [
    { ssrc: A_AUDIO, kind: 'audio' },
    { ssrc: A_VIDEO, kind: 'video' },
  ]);
  await a.connectDtls();
  await waitFor('alice connected event', () => events.some((e) => e.endpointId === 'alice' && e.event === 'connected'));

  const b = await join('bob', [
    { ssrc: B_AUDIO, kind: 'audio' },
    { ssrc: B_VIDEO, kind: 'video' },
  ]);
  await b.connectDtls();
  await waitFor('bob connected event', () => events.some((e) => e.endpointId === 'bob' && e.event === 'connected'));

  // nothing is forwarded before a subscription
  a.sendRtp(A_VIDEO, VIDEO_PT, 50, 1000, randomBytes(50));
  await sleep(100);
  assert.equal(b.rtp.length, 0);

  // subscribing bob to alice's video makes the bridge ask alice for a keyframe at once
  await bus.request(subjects.bridgeSubscribe(BRIDGE), { conferenceId: CONF, endpointId: 'bob', ssrcs: [A_AUDIO, A_VIDEO] });
  await waitFor('PLI to alice', () => a.rtcp.some((r) => r.pt === RTCP_PSFB && r.fmt === FMT_PLI && r.mediaSsrc === A_VIDEO));

  // alice's video reaches bob unchanged; bob "loses" 103 and 105
  const sent = new Map<number, Buffer>();
  for (let seq = 100; seq < 110; seq++) {
    const payload = randomBytes(300 + seq);
    sent.set(seq, payload);
    a.sendRtp(A_VIDEO, VIDEO_PT, seq, 90000 + seq * 3000, payload);
  }
  await waitFor('10 video packets at bob', () => b.rtp.length >= 10);
  const received = new Map<number, Buffer>();
  for (const m of b.rtp.splice(0)) {
    const seq = m.readUInt16BE(2);
    if (seq === 103 || seq === 105) continue; // lost on the way to bob
    const d = b.decrypt(m);
    assert.ok(d, `bob decrypts seq ${seq}`);
    assert.equal(d.ssrc, A_VIDEO);
    received.set(d.seq, d.payload);
  }
  assert.deepEqual([...received.keys()].sort((x, y) => x - y), [100, 101, 102, 104, 106, 107, 108, 109]);
  for (const [seq, payload] of received) assert.deepEqual(payload, sent.get(seq), `payload of ${seq}`);

  // bob NACKs 103, 105 (in the buffer) and 40000 (never sent): the first two come from the bridge's buffer,
  // the miss goes upstream to alice
  const nack = Buffer.alloc(100);
  let n = writeRr(nack, 0, B_VIDEO);
  n += writeNack(nack, n, B_VIDEO, A_VIDEO, [103, 105, 40000], 3);
  const retransmitsBefore = bridge.counters.retransmits;
  b.sendRtcp(nack.subarray(0, n));
  await waitFor('2 retransmissions at bob', () => b.rtp.length >= 2);
  const resent = b.rtp.splice(0).map((m) => b.decrypt(m));
  assert.deepEqual(resent.map((d) => d?.seq).sort(), [103, 105]);
  for (const d of resent) assert.deepEqual(d!.payload, sent.get(d!.seq));
  await sleep(COUNTERS_LAG_MS);
  assert.equal(bridge.counters.retransmits - retransmitsBefore, 2);
  await waitFor('NACK for the miss at alice', () =>
    a.rtcp.some((r) => r.pt === RTCP_RTPFB && r.fmt === FMT_NACK && r.mediaSsrc === A_VIDEO && r.nacks.includes(40000)),
  );
  assert.ok(!a.rtcp.some((r) => r.nacks.includes(103)), 'buffered packets are not NACKed upstream');

  // a PLI from bob reaches alice (throttled: several in a row give at most one per 300 ms)
  await sleep(350);
  const plisBefore = a.rtcp.filter((r) => r.pt === RTCP_PSFB && r.fmt === FMT_PLI).length;
  for (let i = 0; i < 5; i++) {
    const pli = Buffer.alloc(20);
    const m = writeRr(pli, 0, B_VIDEO);
    b.sendRtcp(pli.subarray(0, m + writePli(pli, m, B_VIDEO, A_VIDEO)));
  }
  await waitFor('PLI from bob at alice', () => a.rtcp.filter((r) => r.pt === RTCP_PSFB && r.fmt === FMT_PLI).length > plisBefore);
  await sleep(100);
  assert.equal(a.rtcp.filter((r) => r.pt === RTCP_PSFB && r.fmt === FMT_PLI).length, plisBefore + 1);

  // alice's sender report reaches bob
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = RTCP_SR;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(A_VIDEO, 4);
  sr.writeUInt32BE(0xdeadbeef, 8);
  a.sendRtcp(sr);
  await waitFor('SR at bob', () => b.rtcp.some((r) => r.pt === RTCP_SR && r.mediaSsrc === A_VIDEO));

  // audio flows, then is dropped while alice is muted, then flows again
  a.sendRtp(A_AUDIO, AUDIO_PT, 1, 480, Buffer.from('audio-1'));
  await waitFor('audio at bob', () => b.rtp.length >= 1);
  assert.deepEqual(b.decrypt(b.rtp.splice(0)[0])?.payload, Buffer.from('audio-1'));
  await bus.request(subjects.bridgeMute(BRIDGE), { conferenceId: CONF, endpointId: 'alice', kind: 'audio', muted: true });
  const mutedBefore = bridge.counters.dropMuted;
  a.sendRtp(A_AUDIO, AUDIO_PT, 2, 960, Buffer.from('audio-2'));
  a.sendRtp(A_AUDIO, AUDIO_PT, 3, 1440, Buffer.from('audio-3'));
  await waitFor('muted audio dropped', () => bridge.counters.dropMuted >= mutedBefore + 2);
  await sleep(100);
  assert.equal(b.rtp.length, 0, 'muted audio is not forwarded');
  await bus.request(subjects.bridgeMute(BRIDGE), { conferenceId: CONF, endpointId: 'alice', kind: 'audio', muted: false });
  a.sendRtp(A_AUDIO, AUDIO_PT, 4, 1920, Buffer.from('audio-4'));
  await waitFor('audio after unmute', () => b.rtp.length >= 1);
  assert.deepEqual(b.decrypt(b.rtp.splice(0)[0])?.payload, Buffer.from('audio-4'));

  // the same for alice's camera while the server has it off (its own choice, or video moderation); when it comes
  // back the bridge asks her for a keyframe (her first frames came before the unmute and were dropped)
  await bus.request(subjects.bridgeMute(BRIDGE), { conferenceId: CONF, endpointId: 'alice', kind: 'video', muted: true });
  const cameraDroppedBefore = bridge.counters.dropMuted;
  a.sendRtp(A_VIDEO, VIDEO_PT, 110, 9000, randomBytes(60));
  a.sendRtp(A_VIDEO, VIDEO_PT, 111, 9000, randomBytes(60));
  await waitFor('muted camera dropped', () => bridge.counters.dropMuted >= cameraDroppedBefore + 2);
  await sleep(100);
  assert.equal(b.rtp.length, 0, 'a muted camera is not forwarded');
  const plisBeforeUnmute = a.rtcp.filter((r) => r.pt === RTCP_PSFB && r.fmt === FMT_PLI && r.mediaSsrc === A_VIDEO).length;
  await bus.request(subjects.bridgeMute(BRIDGE), { conferenceId: CONF, endpointId: 'alice', kind: 'video', muted: false });
  await waitFor('a keyframe request at alice after the unmute', () =>
    a.rtcp.filter((r) => r.pt === RTCP_PSFB && r.fmt === FMT_PLI && r.mediaSsrc === A_VIDEO).length > plisBeforeUnmute,
  );
  const frame = randomBytes(60);
  a.sendRtp(A_VIDEO, VIDEO_PT, 112, 12000, frame);
  await waitFor('camera after unmute', () => b.rtp.length >= 1);
  const back = b.decrypt(b.rtp.splice(0)[0]);
  assert.equal(back?.seq, 112);
  assert.deepEqual(back?.payload, frame);

  // an SSRC alice does not own is dropped; so is a forged (unauthenticated) packet
  const unknownBefore = bridge.counters.dropUnknownSsrc;
  a.sendRtp(B_VIDEO, VIDEO_PT, 7, 7, randomBytes(20));
  const forged = Buffer.alloc(40);
  forged[0] = 0x80;
  forged[1] = VIDEO_PT;
  forged.writeUInt32BE(A_VIDEO, 8);
  a.sock.send(forged, bridge.mediaPort, '127.0.0.1');
  await waitFor('foreign ssrc dropped', () => bridge.counters.dropUnknownSsrc > unknownBefore);
  await sleep(50);
  assert.equal(b.rtp.length, 0);
  assert.ok(bridge.counters.dropSrtp >= 1);

  // the bridge asks alice (a video sender) for 2.5 Mbit/s
  await waitFor(
    'REMB at alice',
    () => a.rtcp.some((r) => r.pt === RTCP_PSFB && r.fmt === FMT_REMB && r.rembSsrcs.includes(A_VIDEO)),
    3000,
  );
  const remb = a.rtcp.find((r) => r.fmt === FMT_REMB && r.pt === RTCP_PSFB)!;
  assert.ok(Math.abs(remb.rembBitrate - 2_500_000) < 2_500_000 * 0.01);

  // unsubscribing stops the flow
  await bus.request(subjects.bridgeSubscribe(BRIDGE), { conferenceId: CONF, endpointId: 'bob', ssrcs: [] });
  a.sendRtp(A_VIDEO, VIDEO_PT, 110, 1, randomBytes(30));
  await sleep(100);
  assert.equal(b.rtp.length, 0);

  // expire: bob is gone, the event says so
  await bus.request(subjects.bridgeExpire(BRIDGE), { conferenceId: CONF, endpointId: 'bob' });
  await waitFor('bob disconnected event', () => events.some((e) => e.endpointId === 'bob' && e.event === 'disconnected'));
  assert.equal(bridge.counters.dropError, 0);
});

test('bridge media: a DTLS certificate that does not match the fingerprint never connects', async (t) => {
  const bus = new MemoryBus();
  const events: Array<{ endpointId: string; event: string }> = [];
  bus.subscribe(subjects.bridgeEvent, (p) => events.push(p as { endpointId: string; event: string }));
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: MEDIA_WORKERS, mediaWorkerSpan: WORKER_SPAN, nativeSend: NATIVE_SEND, nativeReceive: NATIVE_RECEIVE });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: BRIDGE, consentTimeoutMs: 1500 });
  const browsers: MediaBrowser[] = [];
  t.after(async () => {
    for (const b of browsers) b.close();
    await bridge.close();
    await bus.close();
  });

  // mallory presents a certificate other than the one in her answer
  const m = await MediaBrowser.create('mallory', bridge.mediaPort);
  browsers.push(m);
  const alloc = bridgeAllocateReplySchema.parse(
    await bus.request(subjects.bridgeAllocate(BRIDGE), { conferenceId: CONF, endpointId: 'mallory' }),
  );
  await m.iceCheck(alloc.ufrag, alloc.pwd, 'mufrag');
  await bus.request(subjects.bridgeConfigure(BRIDGE), {
    conferenceId: CONF,
    endpointId: 'mallory',
    remoteUfrag: 'mufrag',
    remotePwd: 'p'.repeat(24),
    remoteFingerprint: { algorithm: 'sha-256', value: '01:'.repeat(31) + '01' },
    sources: [{ ssrc: 1, kind: 'audio' }],
  });
  await m.connectDtls(); // the client side finishes; the bridge then checks the fingerprint
  await sleep(200);
  assert.equal(events.length, 0, 'no connected event');
  const before = bridge.counters.rtpIn;
  m.sendRtp(1, AUDIO_PT, 1, 1, Buffer.from('x'));
  await sleep(100 + COUNTERS_LAG_MS);
  assert.equal(bridge.counters.rtpIn, before, 'media from an unverified endpoint is dropped');

  // carol does DTLS before focus configured her (the browser can be faster than the bus): she connects
  // when configure brings the fingerprint
  const c = await MediaBrowser.create('carol', bridge.mediaPort);
  browsers.push(c);
  const ca = bridgeAllocateReplySchema.parse(
    await bus.request(subjects.bridgeAllocate(BRIDGE), { conferenceId: CONF, endpointId: 'carol' }),
  );
  await c.iceCheck(ca.ufrag, ca.pwd, 'cufrag');
  await c.connectDtls();
  await sleep(100);
  assert.equal(events.length, 0);
  await bus.request(subjects.bridgeConfigure(BRIDGE), {
    conferenceId: CONF,
    endpointId: 'carol',
    remoteUfrag: 'cufrag',
    remotePwd: 'p'.repeat(24),
    remoteFingerprint: { algorithm: 'sha-256', value: c.fingerprint.toLowerCase() },
    sources: [],
  });
  await waitFor('carol connected', () => events.some((e) => e.endpointId === 'carol' && e.event === 'connected'));

  // consent: carol goes silent, the bridge declares her disconnected
  await waitFor('carol disconnected (consent)', () => events.some((e) => e.endpointId === 'carol' && e.event === 'disconnected'), 5000);
});

test('bridge media: AEAD_AES_128_GCM, and DTLS garbage from a checked address does not hurt', async (t) => {
  const bus = new MemoryBus();
  const events: Array<{ endpointId: string; event: string }> = [];
  bus.subscribe(subjects.bridgeEvent, (p) => events.push(p as { endpointId: string; event: string }));
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: MEDIA_WORKERS, mediaWorkerSpan: WORKER_SPAN, nativeSend: NATIVE_SEND, nativeReceive: NATIVE_RECEIVE });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: BRIDGE });
  const browsers: MediaBrowser[] = [];
  const rejections: unknown[] = [];
  const onRejection = (e: unknown) => rejections.push(e);
  process.on('unhandledRejection', onRejection);
  t.after(async () => {
    process.off('unhandledRejection', onRejection);
    for (const b of browsers) b.close();
    await bridge.close();
    await bus.close();
  });

  async function join(id: string, profiles: Array<1 | 7>, sources: Array<{ ssrc: number; kind: 'audio' | 'video' }>) {
    const b = await MediaBrowser.create(id, bridge.mediaPort, profiles);
    browsers.push(b);
    const alloc = bridgeAllocateReplySchema.parse(
      await bus.request(subjects.bridgeAllocate(BRIDGE), { conferenceId: CONF, endpointId: id }),
    );
    await b.iceCheck(alloc.ufrag, alloc.pwd, `${id}u`);
    await bus.request(subjects.bridgeConfigure(BRIDGE), {
      conferenceId: CONF,
      endpointId: id,
      remoteUfrag: `${id}u`,
      remotePwd: 'p'.repeat(24),
      remoteFingerprint: { algorithm: 'sha-256', value: b.fingerprint },
      sources,
    });
    return b;
  }

  const g = await join('gcm', [7], [{ ssrc: 77, kind: 'video' }]);
  // before the real handshake: junk in the DTLS range, a truncated and a corrupted record
  const junk: Buffer[] = [Buffer.from([0x16]), Buffer.from([0x16, 0xfe, 0xfd, 0, 0])];
  for (let i = 0; i < 100; i++) {
    const j = randomBytes(1 + ((i * 37) % 300));
    j[0] = 20 + (j[0] % 44);
    if (i % 2 === 0) {
      j[1] = 0xfe;
      j[2] = 0xfd;
    }
    junk.push(j);
  }
  for (const j of junk) g.sock.send(j, bridge.mediaPort, '127.0.0.1');
  await sleep(200);
  await g.connectDtls('AEAD_AES_128_GCM');
  await waitFor('gcm connected', () => events.some((e) => e.endpointId === 'gcm' && e.event === 'connected'));

  const h = await join('cm', [1], []);
  await h.connectDtls('AES_CM_128_HMAC_SHA1_80');
  await waitFor('cm connected', () => events.some((e) => e.endpointId === 'cm' && e.event === 'connected'));
  await bus.request(subjects.bridgeSubscribe(BRIDGE), { conferenceId: CONF, endpointId: 'cm', ssrcs: [77] });

  // GCM in, AES-CM out
  const payload = randomBytes(900);
  g.sendRtp(77, VIDEO_PT, 65535, 1, payload);
  g.sendRtp(77, VIDEO_PT, 0, 2, payload); // sequence number wraps
  await waitFor('2 packets at cm', () => h.rtp.length >= 2);
  const got = h.rtp.splice(0).map((m) => h.decrypt(m));
  assert.deepEqual(got.map((d) => d?.seq), [65535, 0]);
  for (const d of got) assert.deepEqual(d!.payload, payload);

  // junk after connecting: DTLS-range garbage and random SRTP-range garbage
  for (let i = 0; i < 100; i++) {
    const j = randomBytes(1 + ((i * 53) % 400));
    j[0] = i % 2 === 0 ? 20 + (j[0] % 44) : 128 + (j[0] % 64);
    g.sock.send(j, bridge.mediaPort, '127.0.0.1');
  }
  await sleep(200);
  g.sendRtp(77, VIDEO_PT, 1, 3, payload);
  await waitFor('media still flows', () => h.rtp.length >= 1);
  assert.equal(h.decrypt(h.rtp.splice(0)[0])?.seq, 1);
  assert.equal(bridge.counters.dropError, 0);
  assert.deepEqual(rejections, []);
});
