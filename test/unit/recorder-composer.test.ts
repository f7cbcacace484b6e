// The recorder's GStreamer child (src/recorder/compose/compose.py, Debian's python3 and GStreamer) on its own:
// bad commands are answered with an error event and never stop it, a name with markup is drawn as text, and
// a stop finishes a playable H.264 + AAC file; a video that arrives but never decodes (its keyframe lost)
// makes it ask the bridge for a keyframe, as SRTCP the bridge's SRTP code opens; a second key (its endpoint moved
// to another bridge) replaces the first for the same stream, and the keyframe requests go to the new bridge. And the recorder part's refusals over the bus: no free place
// (maxRecordingsPerRecorder), a malformed request.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exitCode } from '../helpers/node-child.ts';
import { BusCallError } from '../../src/bus/bus.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { callBus } from '../../src/bus/typed-calls.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { busCalls } from '../../src/protocol/bus-calls.ts';
import { recorderSubjects } from '../../src/protocol/recorder-messages.ts';
import { SYSTEM_PYTHON } from '../../src/recorder/compositor-process.ts';
import { SrtpSession } from '../../src/bridge/packet/srtp.ts';
import { startRecorder } from '../../src/recorder/index.ts';

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const script = fileURLToPath(new URL('../../src/recorder/compose/compose.py', import.meta.url));
const log = createLogger('silent');

describe('the composer child', () => {
  test('bad commands get error events, the recording goes on, and stop leaves a playable file', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-composer-'));
    const output = path.join(dir, 'out.mkv');
    const settings = { output, width: 640, height: 360, fps: 15, videoBitrate: 500, bindAddress: '127.0.0.1', srtp: false };
    const child = spawn(SYSTEM_PYTHON, [script, JSON.stringify(settings)], { stdio: ['pipe', 'pipe', 'ignore'] });
    const events: any[] = [];
    const waiters: { pred: (e: any) => boolean; resolve: (e: any) => void }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line);
      events.push(e);
      for (const w of waiters.splice(0)) (w.pred(e) ? w.resolve(e) : waiters.push(w));
    });
    const next = (pred: (e: any) => boolean) =>
      events.find(pred) ?? new Promise<any>((resolve) => waiters.push({ pred, resolve }));
    const send = (line: string) => child.stdin.write(line + '\n');
    try {
      const ready = await next((e) => e.event === 'ready');
      assert.ok(ready.videoPort > 0 && ready.audioPort > 0);
      const bad = [
        'not json',
        '[1, 2]',
        '{"cmd": 7}',
        '{"cmd": "launch-missiles"}',
        '{"cmd": "crypto", "key": "short"}',
        '{"cmd": "participants", "participants": "everyone"}',
        '{"cmd": "participants", "participants": [{"id": "a", "sources": [{"ssrc": -1}]}]}',
        '{"cmd": "layout", "layout": "spiral"}',
        '{"cmd": "stream", "url": "rtmp://127.0.0.1/live/key"}',
      ];
      for (const line of bad) send(line);
      const errors = () => events.filter((e) => e.event === 'error').length;
      await waitFor(() => errors() >= bad.length);
      assert.ok(events.filter((e) => e.event === 'error').every((e) => /^bad command: /.test(e.message)));
      // a name with Pango markup is escaped: drawn as typed, no error
      send(JSON.stringify({ cmd: 'participants', participants: [{ id: 'a', name: '<span size="99999">Ana</span> & <b>', sources: [] }] }));
      assert.deepEqual(await next((e) => e.event === 'layout' && e.tiles === 1), { event: 'layout', layout: 'grid', tiles: 1, videos: [] });
      // the speaker layout, live: the speaker on the stage, the others in a strip
      send('{"cmd": "layout", "layout": "speaker"}');
      send(JSON.stringify({ cmd: 'participants', participants: [{ id: 'a', name: 'Ana', sources: [] }, { id: 'b', name: 'Ben', sources: [] }], speaker: 'b' }));
      await waitFor(() => events.some((e) => e.event === 'layout' && e.tiles === 2 && e.layout === 'speaker'));
      await new Promise((r) => setTimeout(r, 1500));
      send('{"cmd": "stop"}');
      assert.deepEqual(await next((e) => e.event === 'stopped'), { event: 'stopped', file: output });
      const code = await exitCode(child);
      assert.equal(code, 0);
      assert.equal(errors(), bad.length, JSON.stringify(events.filter((e) => e.event === 'error')));
      const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', output], { encoding: 'utf8' }));
      assert.deepEqual(
        probe.streams.map((s: any) => s.codec_name),
        ['h264', 'aac'],
      );
      assert.equal(probe.streams[0].width, 640);
      assert.equal(execFileSync('ffmpeg', ['-v', 'error', '-i', output, '-f', 'null', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), '');
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('keyframe requests', () => {
  test('a video whose packets arrive but never decode makes the composer send the bridge an SRTCP PLI for it', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-composer-'));
    const bridge = dgram.createSocket('udp4');
    const sender = dgram.createSocket('udp4');
    await new Promise<void>((r) => bridge.bind(0, '127.0.0.1', () => r()));
    const keyIn = randomBytes(30); // the bridge encrypts media with it
    const keyOut = randomBytes(30); // the composer encrypts its RTCP with it
    const settings = { output: path.join(dir, 'out.mkv'), width: 320, height: 180, fps: 10, videoBitrate: 200, bindAddress: '127.0.0.1', srtp: true };
    const child = spawn(SYSTEM_PYTHON, [script, JSON.stringify(settings)], { stdio: ['pipe', 'pipe', 'ignore'] });
    const events: any[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => events.push(JSON.parse(line)));
    const plis: number[] = [];
    const opener = new SrtpSession('AES_CM_128_HMAC_SHA1_80', keyOut.subarray(0, 16), keyOut.subarray(16));
    bridge.on('message', (msg) => {
      const len = opener.unprotectRtcp(msg, msg.length);
      // an empty receiver report, then the PLI (PT 206, FMT 1) with the media SSRC at byte 16
      if (len >= 20 && msg[1] === 201 && msg[9] === 206 && (msg[8]! & 0x1f) === 1) plis.push(msg.readUInt32BE(16));
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await waitFor(() => events.some((e) => e.event === 'ready'));
      const { videoPort } = events.find((e) => e.event === 'ready');
      child.stdin.write(
        JSON.stringify({ cmd: 'crypto', key: keyIn.toString('base64'), sendKey: keyOut.toString('base64'), bridge: { address: '127.0.0.1', videoRtcpPort: bridge.address().port } }) + '\n',
      );
      await waitFor(() => events.some((e) => e.event === 'keyed'));
      // VP8 inter frames only (the keyframe "lost"): nothing decodes
      const sealer = new SrtpSession('AES_CM_128_HMAC_SHA1_80', keyIn.subarray(0, 16), keyIn.subarray(16));
      let seq = 0;
      timer = setInterval(() => {
        const rtp = Buffer.alloc(12 + 1 + 10);
        rtp[0] = 0x80;
        rtp[1] = 0x80 | 96;
        rtp.writeUInt16BE(seq & 0xffff, 2);
        rtp.writeUInt32BE(seq * 9000, 4);
        rtp.writeUInt32BE(0x1234abcd, 8);
        rtp[12] = 0x10; // VP8 descriptor: start of a partition
        rtp[13] = 0x01; // VP8 frame tag: an inter frame
        seq++;
        const out = Buffer.alloc(rtp.length + 64);
        const n = sealer.protectRtp(rtp, rtp.length, out);
        sender.send(out.subarray(0, n), videoPort, '127.0.0.1');
      }, 100);
      await waitFor(() => plis.length > 0);
      assert.equal(plis[0], 0x1234abcd);
    } finally {
      clearInterval(timer);
      child.kill('SIGKILL');
      bridge.close();
      sender.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a new key while it runs (the endpoint moved to another bridge)', () => {
  test('a second crypto command: the same stream decrypts with the new key and its keyframe requests go to the new bridge with the new one', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-composer-'));
    const bridges = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
    const sender = dgram.createSocket('udp4');
    for (const b of bridges) await new Promise<void>((r) => b.bind(0, '127.0.0.1', () => r()));
    const keys = [0, 1].map(() => ({ media: randomBytes(30), rtcp: randomBytes(30) }));
    const settings = { output: path.join(dir, 'out.mkv'), width: 320, height: 180, fps: 10, videoBitrate: 200, bindAddress: '127.0.0.1', srtp: true };
    const child = spawn(SYSTEM_PYTHON, [script, JSON.stringify(settings)], { stdio: ['pipe', 'pipe', 'ignore'] });
    const events: any[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => events.push(JSON.parse(line)));
    /** PLIs each bridge got that open with the key it expects. */
    const plis = [0, 1].map(() => [] as number[]);
    bridges.forEach((b, i) => {
      const opener = new SrtpSession('AES_CM_128_HMAC_SHA1_80', keys[i]!.rtcp.subarray(0, 16), keys[i]!.rtcp.subarray(16));
      b.on('message', (msg) => {
        const len = opener.unprotectRtcp(msg, msg.length);
        if (len >= 20 && msg[1] === 201 && msg[9] === 206 && (msg[8]! & 0x1f) === 1) plis[i]!.push(msg.readUInt32BE(16));
      });
    });
    const crypto = (i: number) =>
      child.stdin.write(
        JSON.stringify({ cmd: 'crypto', key: keys[i]!.media.toString('base64'), sendKey: keys[i]!.rtcp.toString('base64'), bridge: { address: '127.0.0.1', videoRtcpPort: bridges[i]!.address().port } }) + '\n',
      );
    // the bridge that sends now: its key, and its own sequence numbers (a new bridge starts elsewhere)
    let sealer: SrtpSession;
    let seq = 0;
    let paused = false;
    const from = (i: number, firstSeq: number) => {
      sealer = new SrtpSession('AES_CM_128_HMAC_SHA1_80', keys[i]!.media.subarray(0, 16), keys[i]!.media.subarray(16));
      seq = firstSeq;
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      await waitFor(() => events.some((e) => e.event === 'ready'));
      const { videoPort } = events.find((e) => e.event === 'ready');
      crypto(0);
      await waitFor(() => events.filter((e) => e.event === 'keyed').length === 1);
      from(0, 30_000);
      timer = setInterval(() => {
        if (paused) return;
        // VP8 inter frames only: nothing decodes, so the composer asks for a keyframe while packets arrive
        const rtp = Buffer.alloc(12 + 1 + 10);
        rtp[0] = 0x80;
        rtp[1] = 0x80 | 96;
        rtp.writeUInt16BE(seq & 0xffff, 2);
        rtp.writeUInt32BE((seq * 9000) >>> 0, 4);
        rtp.writeUInt32BE(0x1234abcd, 8);
        rtp[12] = 0x10;
        rtp[13] = 0x01;
        seq++;
        const out = Buffer.alloc(rtp.length + 64);
        const n = sealer.protectRtp(rtp, rtp.length, out);
        sender.send(out.subarray(0, n), videoPort, '127.0.0.1');
      }, 100);
      await waitFor(() => plis[0]!.length > 0);
      // the move: the old bridge falls silent (long enough that no request is due for its packets), the new key,
      // then the new bridge sends (the same SSRC, lower sequence numbers)
      paused = true;
      crypto(1);
      await waitFor(() => events.filter((e) => e.event === 'keyed').length === 2);
      await new Promise((r) => setTimeout(r, 2000));
      const before = plis[1]!.length;
      from(1, 100);
      paused = false;
      await waitFor(() => plis[1]!.length > before);
      assert.equal(plis[1]!.at(-1), 0x1234abcd, 'the stream decrypts with the new key: its keyframe request reaches the new bridge, sealed with the new key');
      assert.deepEqual(events.filter((e) => e.event === 'error'), [], 'no error');
    } finally {
      clearInterval(timer);
      child.kill('SIGKILL');
      for (const b of bridges) b.close();
      sender.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the live-stream child', () => {
  test('a bad address is refused; a refused connection is retried after 1 then 2 s, its message without the key; stop ends it', { timeout: 60_000 }, async () => {
    // a TCP port nothing listens on: the RTMP connection is refused
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const settings = { output: null, stream: true, width: 320, height: 180, fps: 15, videoBitrate: 300, bindAddress: '127.0.0.1', srtp: false };
    const child = spawn(SYSTEM_PYTHON, [script, JSON.stringify(settings)], { stdio: ['pipe', 'pipe', 'ignore'] });
    const events: any[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => events.push(JSON.parse(line)));
    const send = (o: unknown) => child.stdin.write(JSON.stringify(o) + '\n');
    try {
      await waitFor(() => events.some((e) => e.event === 'ready'));
      for (const url of ['http://example.com/live/key', 'rtmp:///live', 'rtmp://host/ live', 42]) send({ cmd: 'stream', url });
      await waitFor(() => events.filter((e) => e.event === 'error').length === 4);
      const key = 'secret-stream-key-42';
      send({ cmd: 'stream', url: `rtmp://127.0.0.1:${closed}/live/${key}` });
      await waitFor(() => events.filter((e) => e.event === 'stream').length >= 2, 30_000);
      const [first, second] = events.filter((e) => e.event === 'stream');
      assert.equal(first.state, 'interrupted');
      assert.deepEqual([first.retryIn, second.retryIn], [1, 2], 'the pause grows');
      assert.ok(!JSON.stringify(events).includes(key), `the key is never printed: ${JSON.stringify(events)}`);
      send({ cmd: 'stop' });
      await waitFor(() => events.some((e) => e.event === 'stopped'));
      assert.equal(await exitCode(child), 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('the recorder part', () => {
  test('announces its free places; refuses a start beyond them and a malformed one', async () => {
    const bus = new MemoryBus();
    const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { logLevel: 'silent', maxRecordingsPerRecorder: 0, dataDir: os.tmpdir() } });
    const announced: any[] = [];
    bus.subscribe(recorderSubjects.announce, (a) => announced.push(a));
    const recorder = startRecorder({ bus, config, log, recorderId: 'r1' });
    try {
      await waitFor(() => announced.length === 1);
      assert.deepEqual({ ...announced[0], instance: undefined }, { recorderId: 'r1', free: 0, max: 0, instance: undefined });
      bus.publish(recorderSubjects.discover, {});
      await waitFor(() => announced.length === 2);
      const start = { recordingId: 'rec-0123456789abcdef', conferenceId: 'room', room: 'Room', participants: [] };
      await assert.rejects(callBus(bus, busCalls.recorderStart, 'r1', start), (e: unknown) => e instanceof BusCallError && e.code === 'no-capacity');
      await assert.rejects(bus.request(recorderSubjects.start('r1'), { ...start, recordingId: '../../etc' }), /recording id/);
      await assert.rejects(callBus(bus, busCalls.recorderStop, 'r1', { recordingId: start.recordingId }), (e: unknown) => e instanceof BusCallError && e.code === 'not-found');
    } finally {
      await recorder.close();
    }
  });
});
