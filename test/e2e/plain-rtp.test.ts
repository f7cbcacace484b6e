// End to end: plain RTP in and out of a live meeting, through focus and the local control socket, with real
// ffmpeg and two Chromium participants.
// - `tertulia tap` records Ana's microphone and camera as the bridge forwards them (SDES-keyed SRTP, from the
//   SDP the server gives): ffprobe finds VP8 at Ana's sending size and Opus as long as the recording ran.
// - `tertulia play FILE --room` makes a participant named after the file; both browsers show it and decode its
//   video and audio; when the command stops it leaves the meeting. A bad request on the socket is refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { joinThroughUi, newParticipant, remoteStats, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { outboundLayers, videoFrom } from '../helpers/video-stats.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

/** `tertulia ARGS` against the test server (same data directory, so the same control socket). */
function tertulia(dataDir: string, args: string[]) {
  return spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'src/cli/main.ts'), ...args], {
    cwd: repo,
    env: { ...process.env, TERTULIA_CONFIG: '', TERTULIA_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(child: ReturnType<typeof spawn>): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((r) => child.once('exit', (code) => r({ code, output })));
}

describe('plain RTP in and out of a meeting', () => {
  const suite = useServerAndBrowser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-plain-e2e-'));
  let ana: Participant;
  let ben: Participant;

  test("tertulia tap records a participant's camera (VP8, its size) and microphone (Opus, as long as it ran)", { timeout: 120_000 }, async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Grabación');
    await joinThroughUi(ben, suite.server.baseUrl, 'Grabación');
    await waitUntil('Ben to decode Ana', () => videoFrom(ben.page, 'Ana'), (v) => (v?.framesDecoded ?? 0) > 10);

    const out = path.join(dir, 'ana.mkv');
    const seconds = 6;
    const { code, output } = await finished(tertulia(suite.server.dataDir, ['tap', '--room', 'grabación', '--participant', 'Ana', '--seconds', String(seconds), '--out', out]));
    assert.equal(code, 0, output);
    assert.match(output, /Recording Ana in room "grabación"/);

    // the size Ana sends her best layer at (with no bandwidth estimate, a plain receiver gets the best one)
    const layers = await outboundLayers(ana.page);
    const widest = Math.max(...Object.values(layers).map((l) => l.width));
    const { stdout } = await run('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_name,codec_type,width,height,duration,nb_read_packets', '-of', 'json', out]);
    const streams = (JSON.parse(stdout) as { streams: { codec_name: string; codec_type: string; width?: number; duration?: string; nb_read_packets?: string }[] }).streams;
    const video = streams.find((s) => s.codec_type === 'video');
    const audio = streams.find((s) => s.codec_type === 'audio');
    assert.equal(video?.codec_name, 'vp8');
    // its last frames' size: a layer nobody needed before the tap (Ben's tile is smaller) was paused in Ana's
    // browser, and the tap starts on what she sent until it is back (pauseUnusedLayers)
    const frames = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=width', '-of', 'csv=p=0', out]);
    const lastWidth = Number(frames.stdout.trim().split('\n').at(-1));
    assert.equal(lastWidth, widest, `the recording's width at the end (layers sent: ${JSON.stringify(layers)}; at the start ${video?.width})`);
    assert.ok(Number(video?.nb_read_packets) > 30, `video frames recorded: ${video?.nb_read_packets}`);
    assert.equal(audio?.codec_name, 'opus');
    // Matroska keeps each stream's duration as a tag; the packet count is the check that holds everywhere
    const audioPackets = Number(audio?.nb_read_packets);
    assert.ok(audioPackets >= (seconds - 1.5) * 50 && audioPackets <= (seconds + 1) * 50, `about ${seconds} s of 20 ms Opus packets: ${audioPackets}`);
  });

  test('tertulia play: a participant named after the file, decoded by everyone, gone when it stops', { timeout: 120_000 }, async () => {
    const clip = path.join(dir, 'clip.mp4');
    execFileSync('ffmpeg', [
      '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25:duration=4', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-y', clip,
    ]);
    const player = tertulia(suite.server.dataDir, ['play', clip, '--room', 'Grabación', '--loop']);
    const done = finished(player);
    try {
      for (const p of [ana, ben]) {
        await p.page.getByRole('group', { name: 'clip.mp4', exact: true }).waitFor({ timeout: 20_000 });
        await waitUntil(`${p.name} to decode the file's video`, () => videoFrom(p.page, 'clip.mp4'), (v) => (v?.framesDecoded ?? 0) > 25, 30_000);
        const stats = await waitUntil(`${p.name} to receive its audio`, () => remoteStats(p.page), (s) => (s['clip.mp4']?.audioPackets ?? 0) > 50, 30_000);
        assert.ok(stats['clip.mp4']!.framesDecoded > 25);
        const v = await videoFrom(p.page, 'clip.mp4');
        assert.equal(v?.width, 640, "the file's size");
      }
    } finally {
      player.kill('SIGINT');
    }
    const { code, output } = await done;
    assert.equal(code, 0, output);
    assert.match(output, /Playing .*clip\.mp4 in room "Grabación" as "clip\.mp4"/);
    assert.doesNotMatch(output, /Error writing trailer|Immediate exit|Conversion failed/, "ffmpeg stopped by the command: none of its complaints");
    for (const p of [ana, ben]) await p.page.getByRole('group', { name: 'clip.mp4', exact: true }).waitFor({ state: 'detached', timeout: 15_000 });
  });

  test('the control socket refuses bad requests with a reason and stays up', async () => {
    const ask = (line: string) =>
      new Promise<string>((resolve, reject) => {
        const c = net.connect(path.join(suite.server.dataDir, 'control.sock'));
        let got = '';
        c.on('data', (d) => (got += d.toString()));
        c.on('close', () => resolve((JSON.parse(got) as { ok: boolean; error?: string }).error ?? 'no error'));
        c.on('error', reject);
        c.write(line + '\n');
      });
    assert.match(await ask('not json'), /^the request is not JSON$/);
    assert.match(await ask(JSON.stringify({ op: 'play', room: 'x', name: '', kinds: ['video'] })), /^bad request: name/);
    assert.match(await ask(JSON.stringify({ op: 'tap', room: 'nowhere', participant: 'Ana', address: '127.0.0.1', ports: { audio: 5000 } })), /no meeting is running in room "nowhere"/);
    assert.match(await ask(JSON.stringify({ op: 'tap', room: 'Grabación', participant: 'Nadie', address: '127.0.0.1', ports: { audio: 5000 } })), /nobody called "Nadie"/);
    const { code, output } = await finished(tertulia(suite.server.dataDir, ['play', path.join(dir, 'missing.mp4'), '--room', 'x']));
    assert.equal(code, 2);
    assert.match(output, /no such file/);
    // the meeting goes on
    await waitUntil('Ben to still decode Ana', () => videoFrom(ben.page, 'Ana'), (v) => (v?.framesDecoded ?? 0) > 0);
    await ana.context.close();
    await ben.context.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
