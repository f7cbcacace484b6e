// The multitrack child (src/recorder/compose/multitrack.py, Debian's python3 and GStreamer) on its own, fed
// SRTP as the bridge sends it: real VP8 and Opus from ffmpeg, encrypted here. Each stream gets its own WebM file
// named after its owner, made when it arrives; a video whose first keyframe is lost asks the bridge for one
// (an SRTCP PLI) and its file still starts decodable; a stream its owner stops sending is finished at once and a
// new stream of the same person gets a new file; bad commands are answered and change nothing; a stop finishes
// every file. And the timeline builder (timeline.ts): joins, leaves, rejoins and track offsets.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exitCode } from '../helpers/node-child.ts';
import { SrtpSession } from '../../src/bridge/packet/srtp.ts';
import { SYSTEM_PYTHON } from '../../src/recorder/compositor-process.ts';
import { TimelineBuilder, timelineSchema } from '../../src/recorder/timeline.ts';

const script = fileURLToPath(new URL('../../src/recorder/compose/multitrack.py', import.meta.url));

async function waitFor(check: () => boolean, what: string | (() => string), timeoutMs = 40_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** ffmpeg sending one stream as plain RTP to a local socket; each packet is encrypted and passed on to `to`. */
async function srtpStream(opts: { kind: 'audio' | 'video'; ssrc: number; key: Buffer; to: () => number; drop?: (n: number) => boolean }) {
  const relay = dgram.createSocket('udp4');
  const out = dgram.createSocket('udp4');
  await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
  const sealer = new SrtpSession('AES_CM_128_HMAC_SHA1_80', opts.key.subarray(0, 16), opts.key.subarray(16));
  let n = 0;
  relay.on('message', (msg) => {
    if (msg.length < 12 || (msg[1]! >= 192 && msg[1]! <= 223)) return; // ffmpeg's RTCP (payload types 200-207)
    if (opts.drop?.(n++)) return;
    const buf = Buffer.alloc(msg.length + 64);
    const len = sealer.protectRtp(msg, msg.length, buf);
    out.send(buf.subarray(0, len), opts.to(), '127.0.0.1');
  });
  const input =
    opts.kind === 'video'
      ? ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=15', '-c:v', 'libvpx', '-g', '30', '-deadline', 'realtime', '-b:v', '200k', '-payload_type', '96']
      : ['-f', 'lavfi', '-i', 'sine=f=440:r=48000', '-c:a', 'libopus', '-payload_type', '111'];
  const ffmpeg = spawn('ffmpeg', ['-v', 'error', '-re', ...input, '-ssrc', String(opts.ssrc), '-f', 'rtp', `rtp://127.0.0.1:${relay.address().port}`], { stdio: 'ignore' });
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      ffmpeg.kill('SIGKILL');
      relay.close();
      out.close();
    },
  };
}

function probe(file: string): { codec: string; duration: number; errors: string } {
  const info = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
  const errors = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { codec: info.streams[0]?.codec_name, duration: Number(info.format.duration), errors };
}

describe('the multitrack child', () => {
  test('one WebM file per stream, named after its owner; a lost first keyframe is asked for; a stream gone is finished; stop finishes the rest', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-multitrack-'));
    const bridge = dgram.createSocket('udp4');
    await new Promise<void>((r) => bridge.bind(0, '127.0.0.1', () => r()));
    const keyIn = randomBytes(30);
    const keyOut = randomBytes(30);
    const plis: number[] = [];
    const opener = new SrtpSession('AES_CM_128_HMAC_SHA1_80', keyOut.subarray(0, 16), keyOut.subarray(16));
    bridge.on('message', (msg) => {
      const len = opener.unprotectRtcp(msg, msg.length);
      if (len >= 20 && msg[1] === 201 && msg[9] === 206 && (msg[8]! & 0x1f) === 1) plis.push(msg.readUInt32BE(16));
    });
    const child: ChildProcess = spawn(SYSTEM_PYTHON, [script, JSON.stringify({ dir, bindAddress: '127.0.0.1', srtp: true })], { stdio: ['pipe', 'pipe', 'ignore'] });
    const events: any[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => events.push(JSON.parse(line)));
    const send = (cmd: unknown) => child.stdin!.write((typeof cmd === 'string' ? cmd : JSON.stringify(cmd)) + '\n');
    const streams: { stop(): void }[] = [];
    try {
      await waitFor(() => events.some((e) => e.event === 'ready'), 'ready');
      const { videoPort, audioPort } = events.find((e) => e.event === 'ready');
      const bad = ['nope', '{"cmd": "crypto", "key": "x"}', '{"cmd": "participants", "participants": 3}', '{"cmd": "layout", "layout": "grid"}'];
      for (const line of bad) send(line);
      await waitFor(() => events.filter((e) => e.event === 'error').length === bad.length, 'the errors');
      send({ cmd: 'crypto', key: keyIn.toString('base64'), sendKey: keyOut.toString('base64'), bridge: { address: '127.0.0.1', videoRtcpPort: bridge.address().port } });
      await waitFor(() => events.some((e) => e.event === 'keyed'), 'keyed');
      const people = (benVideo: number | null) => ({
        cmd: 'participants',
        participants: [
          { id: 'p-ana', name: 'Ána <b>', sources: [{ ssrc: 1111, kind: 'video', role: 'video' }, { ssrc: 2222, kind: 'audio' }] },
          { id: 'p-ben', name: 'Ben', sources: benVideo === null ? [] : [{ ssrc: benVideo, kind: 'video', role: 'video' }] },
        ],
      });
      send(people(3333));
      // Ana's first two seconds of video are lost (her first keyframe with them): the next comes 2 s later
      streams.push(await srtpStream({ kind: 'video', ssrc: 1111, key: keyIn, to: () => videoPort, drop: (n) => n < 20 }));
      streams.push(await srtpStream({ kind: 'audio', ssrc: 2222, key: keyIn, to: () => audioPort }));
      const ben1 = await srtpStream({ kind: 'video', ssrc: 3333, key: keyIn, to: () => videoPort });
      streams.push(ben1);
      const tracks = () => events.filter((e) => e.event === 'track');
      await waitFor(() => tracks().length === 3, () => `three tracks: ${JSON.stringify(events)}`);
      await waitFor(() => plis.includes(1111), 'a keyframe request for the video that lost its keyframe');
      assert.deepEqual(tracks().map((t) => t.file).sort(), ['Ana_b-audio-1.webm', 'Ana_b-video-1.webm', 'Ben-video-1.webm']);
      const anaVideo = tracks().find((t) => t.ssrc === 1111);
      assert.deepEqual({ ...anaVideo, offsetMs: 0 }, { event: 'track', ssrc: 1111, file: 'Ana_b-video-1.webm', kind: 'video', role: 'camera', participantId: 'p-ana', offsetMs: 0 });
      assert.equal(tracks().find((t) => t.ssrc === 2222).role, null);

      // Ben stops sending his camera: its file is finished now, while the others go on
      await new Promise((r) => setTimeout(r, 1500));
      send(people(null));
      await waitFor(() => events.some((e) => e.event === 'track-ended' && e.file === 'Ben-video-1.webm'), "Ben's file finished");
      const benFirst = probe(path.join(dir, 'Ben-video-1.webm'));
      assert.equal(benFirst.codec, 'vp8');
      assert.ok(benFirst.duration > 0.5, `Ben's first file has a duration: ${benFirst.duration}`);
      // packets still on their way after that make no new file
      await new Promise((r) => setTimeout(r, 500));
      ben1.stop();
      // Ben comes back with a new camera stream: a new file
      send(people(4444));
      streams.push(await srtpStream({ kind: 'video', ssrc: 4444, key: keyIn, to: () => videoPort }));
      await waitFor(() => tracks().some((t) => t.file === 'Ben-video-2.webm'), "Ben's second file");
      // offsets from the recording's start: Ben's second file starts after every other one
      const offsets: Record<string, number> = Object.fromEntries(tracks().map((t) => [t.file, t.offsetMs]));
      assert.ok(Object.entries(offsets).every(([f, o]) => f === 'Ben-video-2.webm' || o < offsets['Ben-video-2.webm']!), JSON.stringify(offsets));
      await new Promise((r) => setTimeout(r, 1500));

      send({ cmd: 'stop' });
      await waitFor(() => events.some((e) => e.event === 'stopped'), 'stopped');
      const code = await exitCode(child);
      assert.equal(code, 0);
      const ended = events.filter((e) => e.event === 'track-ended').map((e) => e.file).sort();
      assert.deepEqual(ended, ['Ana_b-audio-1.webm', 'Ana_b-video-1.webm', 'Ben-video-1.webm', 'Ben-video-2.webm']);
      assert.deepEqual(readdirSync(dir).sort(), ended);
      assert.equal(events.filter((e) => e.event === 'error').length, bad.length, JSON.stringify(events.filter((e) => e.event === 'error')));
      for (const file of ended) {
        const p = probe(path.join(dir, file));
        assert.equal(p.codec, file.includes('audio') ? 'opus' : 'vp8', file);
        assert.ok(p.duration > 0.5, `${file} has a duration: ${p.duration}`);
        assert.equal(p.errors, '', `${file} decodes without an error`);
      }
    } finally {
      for (const s of streams) s.stop();
      child.kill('SIGKILL');
      bridge.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the timeline', () => {
  test('joins, leaves and rejoins by the names signal sends; tracks at their offsets; the end closes everything', () => {
    const start = Date.parse('2026-01-01T10:00:00.000Z');
    const b = new TimelineBuilder('rec-0123456789abcdef', 'Room', start);
    b.setPresent([{ participantId: 'a', name: 'Ana', audioMuted: false, videoMuted: false }], start);
    b.setPresent([{ participantId: 'a', name: 'Ana', audioMuted: true, videoMuted: false }, { participantId: 'b', name: 'Ben' }], start + 2000);
    b.trackStarted({ file: 'Ben-video-1.webm', participantId: 'b', kind: 'video', role: 'camera', ssrc: 7, offsetMs: 2300 });
    b.setPresent([{ participantId: 'a', name: 'Ana M.' }], start + 5000);
    b.trackEnded('Ben-video-1.webm', 5100);
    b.setPresent([{ participantId: 'a', name: 'Ana M.' }, { participantId: 'b', name: 'Ben' }], start + 8000);
    b.finish(start + 10_000);
    const t = timelineSchema.parse(b.timeline);
    assert.equal(t.startedAt, '2026-01-01T10:00:00.000Z');
    assert.equal(t.endedAt, '2026-01-01T10:00:10.000Z');
    assert.deepEqual(t.participants, [
      {
        participantId: 'a',
        name: 'Ana M.',
        presence: [{ joinedAt: '2026-01-01T10:00:00.000Z', joinOffsetMs: 0, leftAt: '2026-01-01T10:00:10.000Z', leftOffsetMs: 10_000 }],
        // the state first known, then only changes (a rename is none)
        media: [
          { at: '2026-01-01T10:00:00.000Z', offsetMs: 0, audioMuted: false, videoMuted: false },
          { at: '2026-01-01T10:00:02.000Z', offsetMs: 2000, audioMuted: true },
        ],
      },
      {
        participantId: 'b',
        name: 'Ben',
        media: [],
        presence: [
          { joinedAt: '2026-01-01T10:00:02.000Z', joinOffsetMs: 2000, leftAt: '2026-01-01T10:00:05.000Z', leftOffsetMs: 5000 },
          { joinedAt: '2026-01-01T10:00:08.000Z', joinOffsetMs: 8000, leftAt: '2026-01-01T10:00:10.000Z', leftOffsetMs: 10_000 },
        ],
      },
    ]);
    assert.deepEqual(t.tracks, [
      { file: 'Ben-video-1.webm', participantId: 'b', kind: 'video', role: 'camera', ssrc: 7, startedAt: '2026-01-01T10:00:02.300Z', startOffsetMs: 2300, endedAt: '2026-01-01T10:00:05.100Z', endOffsetMs: 5100 },
    ]);
  });
});
