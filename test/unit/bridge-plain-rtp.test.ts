// Plain RTP transports with real ffmpeg, no browser: ffmpeg publishes a test picture and tone (VP8 + Opus)
// into the bridge over plain RTP (comedia: the bridge learns where it sends from), a second plain endpoint
// subscribes to both, and another ffmpeg records what the bridge sends it from the SDP focus would give it.
// ffprobe must find VP8 at the sender's size and Opus of about the right length. Once without SRTP and
// rtcp-mux, once with SDES-keyed SRTP and separate RTCP ports, with one thread and with media workers.
// Garbage, a stranger's stream and a wrong SSRC are dropped and counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { bridgeAllocatePlainReplySchema, subjects } from '../../src/protocol/bus-messages.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { buildPlainSdp } from '../../src/focus/plain-sdp.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { sleep } from '../helpers/fake-browser.ts';
import { AUDIO_PT, VIDEO_PT } from '../../src/protocol/media-profile.ts';

/** Polls an asynchronous condition (the bridge's counters) until it holds. */
async function until(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const run = promisify(execFile);
const BRIDGE = 'plain';
const CONF = 'room';
/** ffmpeg's rtp muxer takes a signed 32-bit SSRC: these stay below 2^31. */
const AUDIO_SSRC = 0x1a2b3c4d;
const VIDEO_SSRC = 0x2b3c4d5e;

interface Case {
  name: string;
  srtp: boolean;
  rtcpMux: boolean;
  workers: number;
}

const cases: Case[] = [
  { name: 'plain RTP, rtcp-mux, one thread', srtp: false, rtcpMux: true, workers: 1 },
  { name: 'SRTP (SDES), RTCP on its own ports, two media workers', srtp: true, rtcpMux: false, workers: 2 },
];

for (const c of cases) {
  test(`bridge plain transports: ffmpeg in, ffmpeg out (${c.name})`, { timeout: 90_000 }, async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-plain-'));
    const bus = new MemoryBus();
    const config = configSchema.parse({
      listenAddress: '127.0.0.1',
      mediaPort: 0,
      tcpMediaPort: 0,
      mediaWorkers: c.workers,
      plainRtpPortMin: 42000,
      plainRtpPortMax: 42999,
    });
    const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: BRIDGE });
    const children: Array<ReturnType<typeof spawn>> = [];
    t.after(async () => {
      for (const ch of children) ch.kill('SIGKILL');
      await bridge.close();
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    });

    // the recorder: ffmpeg listens on two ports of its own; the bridge sends there
    const recAudio = await freeUdpPort();
    const recVideo = await freeUdpPort();
    const rec = bridgeAllocatePlainReplySchema.parse(
      await bus.request(subjects.bridgeAllocatePlain(BRIDGE), {
        conferenceId: CONF,
        endpointId: 'recorder',
        legs: [
          { kind: 'audio', address: '127.0.0.1', port: recAudio },
          { kind: 'video', address: '127.0.0.1', port: recVideo },
        ],
        rtcpMux: c.rtcpMux,
        comedia: false,
        srtp: c.srtp,
        sources: [],
      }),
    );
    assert.equal(rec.legs.length, 2);
    assert.equal(rec.srtp !== null, c.srtp);
    for (const l of rec.legs) {
      assert.ok(l.port >= 42000 && l.port <= 42999, `port ${l.port} in the configured range`);
      assert.equal(l.rtcpPort, c.rtcpMux ? l.port : l.port + 1);
    }
    const sdp = buildPlainSdp({
      name: 'room',
      address: '127.0.0.1',
      legs: [
        { kind: 'audio', port: recAudio },
        { kind: 'video', port: recVideo },
      ],
      rtcpMux: c.rtcpMux,
      srtpKey: rec.srtp?.localKey,
    });
    const sdpFile = path.join(dir, 'recorder.sdp');
    writeFileSync(sdpFile, sdp);
    const outFile = path.join(dir, 'recording.mkv');
    const recorder = spawn(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file,udp,rtp,srtp,crypto', '-i', sdpFile, '-c', 'copy', '-y', outFile],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    children.push(recorder);
    let recorderErr = '';
    recorder.stderr!.on('data', (d: Buffer) => (recorderErr += d.toString()));

    // the publisher: its streams are known by SSRC; where it sends from is learned (comedia)
    const pub = bridgeAllocatePlainReplySchema.parse(
      await bus.request(subjects.bridgeAllocatePlain(BRIDGE), {
        conferenceId: CONF,
        endpointId: 'player',
        legs: [{ kind: 'audio' }, { kind: 'video' }],
        rtcpMux: c.rtcpMux,
        comedia: true,
        srtp: c.srtp,
        sources: [
          { ssrc: AUDIO_SSRC, kind: 'audio' },
          { ssrc: VIDEO_SSRC, kind: 'video' },
        ],
      }),
    );
    await bus.request(subjects.bridgeSubscribe(BRIDGE), { conferenceId: CONF, endpointId: 'recorder', ssrcs: [AUDIO_SSRC, VIDEO_SSRC] });

    // a stranger first: garbage and someone else's stream at the publisher's ports teach the bridge nothing
    const before = await bridge.readCounters();
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', () => r()));
    t.after(() => {
      try {
        stranger.close();
      } catch {
        // closed below
      }
    });
    const junk = Buffer.alloc(200, 0xab);
    const foreign = Buffer.alloc(100);
    foreign[0] = 0x80;
    foreign[1] = 96;
    foreign.writeUInt32BE(0x7777, 8);
    for (const l of pub.legs) {
      stranger.send(junk, l.port, '127.0.0.1');
      stranger.send(foreign, l.port, '127.0.0.1');
      stranger.send(Buffer.alloc(3), l.port, '127.0.0.1');
    }
    await until('the junk to be dropped', async () => {
      const now = await bridge.readCounters();
      return now.dropMalformed - before.dropMalformed >= 2 && now.dropUnknownSsrc - before.dropUnknownSsrc >= 4;
    }, 3000);

    const [audioLeg, videoLeg] = [pub.legs.find((l) => l.kind === 'audio')!, pub.legs.find((l) => l.kind === 'video')!];
    const scheme = c.srtp ? 'srtp' : 'rtp';
    const srtpOut = c.srtp ? ['-srtp_out_suite', 'AES_CM_128_HMAC_SHA1_80', '-srtp_out_params', pub.srtp!.remoteKey] : [];
    const url = (leg: { port: number; rtcpPort: number }) => `${scheme}://127.0.0.1:${leg.port}?rtcpport=${leg.rtcpPort}`;
    const publisher = spawn(
      'ffmpeg',
      [
        '-hide_banner', '-loglevel', 'error', '-re',
        '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30:duration=4',
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=4',
        '-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-g', '15', '-b:v', '600k',
        '-ssrc', String(VIDEO_SSRC), '-payload_type', String(VIDEO_PT), ...srtpOut, '-f', 'rtp', url(videoLeg),
        '-map', '1:a', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k',
        '-ssrc', String(AUDIO_SSRC), '-payload_type', String(AUDIO_PT), ...srtpOut, '-f', 'rtp', url(audioLeg),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(publisher);
    let publisherErr = '';
    publisher.stderr!.on('data', (d: Buffer) => (publisherErr += d.toString()));
    const code = await new Promise<number | null>((r) => publisher.on('exit', r));
    assert.equal(code, 0, `the publishing ffmpeg failed: ${publisherErr}`);

    // after the stream a stranger's packets still change nothing (the address is learned and kept)
    const afterPublish = await bridge.readCounters();
    for (const l of pub.legs) stranger.send(foreign, l.port, '127.0.0.1');
    await until("the stranger's packets to be dropped", async () => (await bridge.readCounters()).dropUnknownAddress > afterPublish.dropUnknownAddress, 3000);

    await sleep(500);
    recorder.stdin!.write('q');
    const recCode = await new Promise<number | null>((r) => recorder.on('exit', r));
    assert.equal(recCode, 0, `the recording ffmpeg failed: ${recorderErr}`);
    assert.ok(statSync(outFile).size > 50_000, 'a recording of some size');

    const { stdout } = await run('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_name,codec_type,width,height,nb_read_packets', '-of', 'json', outFile]);
    const streams = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; codec_type: string; width?: number; height?: number; nb_read_packets?: string }> }).streams;
    const video = streams.find((s) => s.codec_type === 'video');
    const audio = streams.find((s) => s.codec_type === 'audio');
    assert.equal(video?.codec_name, 'vp8');
    assert.equal(video?.width, 640);
    assert.equal(video?.height, 360);
    assert.equal(audio?.codec_name, 'opus');
    // 4 s of 20 ms Opus packets is 200: what reached the recorder after it started, give or take its start
    const audioPackets = Number(audio?.nb_read_packets ?? 0);
    assert.ok(audioPackets >= 150 && audioPackets <= 215, `about 4 s of audio (${audioPackets} packets of 20 ms)`);
    const videoFrames = Number(video?.nb_read_packets ?? 0);
    assert.ok(videoFrames >= 90, `most of 4 s of 30 fps video (${videoFrames} frames)`);

    const counters = await bridge.readCounters();
    assert.equal(counters.dropSrtp, 0, 'every SRTP packet of the publisher authenticated');
    assert.equal(counters.protectErrors, 0);
  });
}

test('comedia without rtcp-mux: RTCP from a port other than RTP + 1 (a NAT picked it) is learned, not dropped', { timeout: 20_000 }, async (t) => {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1, plainRtpPortMin: 43000, plainRtpPortMax: 43999 });
  const bridge = await startBridge({ bus, config, log: createLogger('silent'), bridgeId: BRIDGE });
  const rtpSock = dgram.createSocket('udp4');
  const rtcpSock = dgram.createSocket('udp4');
  t.after(async () => {
    rtpSock.close();
    rtcpSock.close();
    await bridge.close();
    await bus.close();
  });
  await new Promise<void>((r) => rtpSock.bind(0, '127.0.0.1', () => r()));
  // a port that is not RTP's + 1
  await new Promise<void>((r) => rtcpSock.bind(0, '127.0.0.1', () => r()));
  assert.notEqual(rtcpSock.address().port, rtpSock.address().port + 1);
  const pub = bridgeAllocatePlainReplySchema.parse(
    await bus.request(subjects.bridgeAllocatePlain(BRIDGE), {
      conferenceId: CONF,
      endpointId: 'behind-nat',
      legs: [{ kind: 'audio' }],
      rtcpMux: false,
      comedia: true,
      srtp: false,
      sources: [{ ssrc: AUDIO_SSRC, kind: 'audio' }],
    }),
  );
  const leg = pub.legs[0]!;
  const rtp = Buffer.alloc(40);
  rtp[0] = 0x80;
  rtp[1] = AUDIO_PT;
  rtp.writeUInt32BE(AUDIO_SSRC, 8);
  rtpSock.send(rtp, leg.port, '127.0.0.1');
  await until('its RTP to be taken', async () => (await bridge.readCounters()).rtpIn >= 1, 3000);
  const before = await bridge.readCounters();
  // an empty receiver report from the other port
  rtcpSock.send(Buffer.from([0x80, 201, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d]), leg.rtcpPort, '127.0.0.1');
  await until('its RTCP to be taken', async () => (await bridge.readCounters()).rtcpIn > before.rtcpIn, 3000);
  assert.equal((await bridge.readCounters()).dropUnknownAddress, before.dropUnknownAddress);
  // and from then on a stranger's RTCP on that port is not
  const stranger = dgram.createSocket('udp4');
  t.after(() => stranger.close());
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', () => r()));
  stranger.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]), leg.rtcpPort, '127.0.0.1');
  await until("the stranger's RTCP to be dropped", async () => (await bridge.readCounters()).dropUnknownAddress > before.dropUnknownAddress, 3000);
});
