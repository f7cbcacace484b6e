// The bridge with real Chromium peers (no focus, no signal): hand-made offers in the ARCHITECTURE.md shape,
// alice sends her fake camera and microphone, bob receives alice's video through the bridge and decodes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sdpTransform from 'sdp-transform';
import { launchBrowser } from '../helpers/browser.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { bridgeAllocateReplySchema, subjects, type BridgeAllocateReply } from '../../src/protocol/bus-messages.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { AUDIO_CODEC, AUDIO_LEVEL_EXT_ID, AUDIO_LEVEL_URI, AUDIO_PT, VIDEO_PT } from '../../src/protocol/media-profile.ts';

const BRIDGE = 'chrome';

interface MLine {
  mid: string;
  kind: 'audio' | 'video';
  direction: 'recvonly' | 'sendonly';
  ssrc?: number;
  msid?: string;
}

function offer(alloc: BridgeAllocateReply, lines: MLine[]): string {
  const out = [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${lines.map((l) => l.mid).join(' ')}`,
    'a=ice-lite',
    'a=msid-semantic: WMS *',
  ];
  for (const l of lines) {
    const pt = l.kind === 'audio' ? 111 : 96;
    out.push(
      `m=${l.kind} 9 UDP/TLS/RTP/SAVPF ${pt}`,
      'c=IN IP4 0.0.0.0',
      'a=rtcp:9 IN IP4 0.0.0.0',
      `a=ice-ufrag:${alloc.ufrag}`,
      `a=ice-pwd:${alloc.pwd}`,
      `a=fingerprint:${alloc.fingerprint.algorithm} ${alloc.fingerprint.value}`,
      'a=setup:actpass',
      `a=mid:${l.mid}`,
    );
    if (l.kind === 'audio') {
      out.push(`a=extmap:${AUDIO_LEVEL_EXT_ID} ${AUDIO_LEVEL_URI}`);
    }
    out.push(`a=${l.direction}`);
    if (l.msid) out.push(`a=msid:${l.msid} ${l.msid}-${l.kind}`);
    out.push('a=rtcp-mux');
    if (l.kind === 'audio') {
      out.push(`a=rtpmap:${AUDIO_PT} opus/48000/2`, `a=fmtp:${AUDIO_PT} ${AUDIO_CODEC.fmtp}`);
    } else {
      out.push(
        `a=rtpmap:${VIDEO_PT} VP8/90000`,
        `a=rtcp-fb:${VIDEO_PT} nack`,
        `a=rtcp-fb:${VIDEO_PT} nack pli`,
        `a=rtcp-fb:${VIDEO_PT} ccm fir`,
        `a=rtcp-fb:${VIDEO_PT} goog-remb`,
      );
    }
    if (l.ssrc !== undefined && l.msid) {
      out.push(`a=ssrc:${l.ssrc} cname:${l.msid}`, `a=ssrc:${l.ssrc} msid:${l.msid} ${l.msid}-${l.kind}`);
    }
    for (const c of alloc.candidates) {
      out.push(`a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${c.ip} ${c.port} typ ${c.type}`);
    }
    out.push('a=end-of-candidates');
  }
  return out.join('\r\n') + '\r\n';
}

function parseAnswer(sdp: string) {
  const s = sdpTransform.parse(sdp);
  const m0 = s.media[0];
  const ufrag = (m0.iceUfrag ?? s.iceUfrag)!;
  const pwd = (m0.icePwd ?? s.icePwd)!;
  const fp = (m0.fingerprint ?? s.fingerprint)!;
  const sources: Array<{ ssrc: number; kind: 'audio' | 'video' }> = [];
  for (const m of s.media) {
    const ids = new Set((m.ssrcs ?? []).map((x) => Number(x.id)));
    // with RTX/FEC groups the first SSRC of a FID group is the media one; the offer has no RTX, so all are media
    for (const id of ids) sources.push({ ssrc: id, kind: m.type as 'audio' | 'video' });
  }
  return { ufrag, pwd, fingerprint: { algorithm: fp.type, value: fp.hash }, sources };
}

test('bridge with Chromium: alice sends, bob receives and decodes her video', async (t) => {
  const bus = new MemoryBus();
  const events: Array<{ endpointId: string; event: string }> = [];
  bus.subscribe(subjects.bridgeEvent, (p) => events.push(p as { endpointId: string; event: string }));
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0 });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: BRIDGE });
  const browser = await launchBrowser();
  // getUserMedia needs a secure context: http://127.0.0.1 is one, about:blank is not
  const server = http.createServer((_req, res) => res.end('<!doctype html><title>bridge test</title>'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    server.close();
    await browser.close();
    await bridge.close();
    await bus.close();
  });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);

  const allocAlice = bridgeAllocateReplySchema.parse(
    await bus.request(subjects.bridgeAllocate(BRIDGE), { conferenceId: 'c', endpointId: 'alice' }),
  );
  const aliceOffer = offer(allocAlice, [
    { mid: '0', kind: 'audio', direction: 'recvonly' },
    { mid: '1', kind: 'video', direction: 'recvonly' },
  ]);
  const aliceAnswer: string = await page.evaluate(async (sdp) => {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    (window as unknown as { alice: RTCPeerConnection }).alice = pc;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
    await pc.setRemoteDescription({ type: 'offer', sdp });
    for (const tr of pc.getTransceivers()) {
      const track = stream.getTracks().find((x) => x.kind === tr.receiver.track.kind)!;
      await tr.sender.replaceTrack(track);
      tr.direction = 'sendonly';
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    return answer.sdp!;
  }, aliceOffer);
  const a = parseAnswer(aliceAnswer);
  assert.equal(a.sources.length, 2, aliceAnswer);
  await bus.request(subjects.bridgeConfigure(BRIDGE), {
    conferenceId: 'c',
    endpointId: 'alice',
    remoteUfrag: a.ufrag,
    remotePwd: a.pwd,
    remoteFingerprint: a.fingerprint,
    sources: a.sources,
  });
  const aliceVideo = a.sources.find((s) => s.kind === 'video')!.ssrc;

  const allocBob = bridgeAllocateReplySchema.parse(
    await bus.request(subjects.bridgeAllocate(BRIDGE), { conferenceId: 'c', endpointId: 'bob' }),
  );
  const bobOffer = offer(allocBob, [{ mid: '0', kind: 'video', direction: 'sendonly', ssrc: aliceVideo, msid: 'alice' }]);
  const bobAnswer: string = await page.evaluate(async (sdp) => {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    (window as unknown as { bob: RTCPeerConnection }).bob = pc;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    return answer.sdp!;
  }, bobOffer);
  const b = parseAnswer(bobAnswer);
  await bus.request(subjects.bridgeConfigure(BRIDGE), {
    conferenceId: 'c',
    endpointId: 'bob',
    remoteUfrag: b.ufrag,
    remotePwd: b.pwd,
    remoteFingerprint: b.fingerprint,
    sources: b.sources,
  });
  await bus.request(subjects.bridgeSubscribe(BRIDGE), { conferenceId: 'c', endpointId: 'bob', ssrcs: [aliceVideo] });

  const deadline = Date.now() + 20_000;
  let stats = { aliceState: '', bobState: '', framesDecoded: 0, bytesReceived: 0 };
  while (Date.now() < deadline) {
    stats = await page.evaluate(async () => {
      const w = window as unknown as { alice: RTCPeerConnection; bob: RTCPeerConnection };
      let framesDecoded = 0;
      let bytesReceived = 0;
      (await w.bob.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') {
          framesDecoded = r.framesDecoded ?? 0;
          bytesReceived = r.bytesReceived ?? 0;
        }
      });
      return { aliceState: w.alice.connectionState, bobState: w.bob.connectionState, framesDecoded, bytesReceived };
    });
    if (stats.framesDecoded > 10) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(
    stats.framesDecoded > 10,
    `bob decodes alice's video: ${JSON.stringify(stats)} counters=${JSON.stringify(bridge.counters.snapshot())}`,
  );
  assert.equal(stats.aliceState, 'connected');
  assert.equal(stats.bobState, 'connected');
  assert.ok(events.some((e) => e.endpointId === 'alice' && e.event === 'connected'));
  assert.ok(events.some((e) => e.endpointId === 'bob' && e.event === 'connected'));
  // (no count of keyframe requests here: when bob subscribes before alice's first frame, her first frame is a
  // keyframe and none is needed; PLI on subscribe is checked by bridge-media.test.ts)
  assert.equal(bridge.counters.dropError, 0);
});
