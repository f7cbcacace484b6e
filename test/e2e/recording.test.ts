// End to end: a composed recording of a live meeting, with no browser per recording. Three Chromium
// participants (Ben's fake microphone talks); the moderator (Ana) starts recording from the toolbar, everyone
// sees "Recording" and a notice, Ana shares her screen and Cy leaves meanwhile, Ana stops. The file the recorder part wrote (GStreamer,
// one child process) is checked with ffmpeg: H.264 1280x720 and AAC, as long as the recording ran on the
// wall clock (within 2 s), audio not silent, video not frozen, and it decodes from start to end without an
// error. Then a recording whose GStreamer child is killed (SIGKILL) mid-way: the recorder starts it again on
// the same ports into a second file of the same folder (…-part2.mkv, listed in recording.json), everyone is
// told, the first part plays up to the kill and the second from then to the stop.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser, useTalkingBrowser } from '../helpers/e2e.ts';

const execFileAsync = promisify(execFile);
/** Runs a command; its output even when it exits with an error (a damaged file makes ffmpeg do that). */
async function run(cmd: string, args: string[], opts: { maxBuffer?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(cmd, args, opts);
  } catch (e) {
    const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
    return { stdout, stderr: stderr || String(e) };
  }
}

/** Video frames in a file (also one being written); 0 when there is none yet. */
async function videoFrames(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]);
  return Number(stdout.trim()) || 0;
}

/** Every ffmpeg/ffprobe figure the checks need. */
async function probe(file: string) {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type,width,height:format=duration', '-of', 'json', file]);
  // (a file without a stream gives no `streams`, and no `format` when ffprobe cannot read it at all)
  const info = JSON.parse(stdout) as { streams?: { codec_name: string; codec_type: string; width?: number; height?: number }[]; format?: { duration?: string } };
  const decode = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
  const volume = await run('ffmpeg', ['-hide_banner', '-i', file, '-vn', '-af', 'volumedetect', '-f', 'null', '-']);
  const mean = /mean_volume: (-?[\d.]+) dB/.exec(volume.stderr);
  // two frames a second, each one's checksum: a frozen picture repeats its checksum
  const frames = await run('ffmpeg', ['-v', 'error', '-i', file, '-an', '-vf', 'fps=2', '-f', 'framemd5', '-'], { maxBuffer: 64 << 20 });
  const sums = frames.stdout.split('\n').filter((l) => /^\d/.test(l)).map((l) => l.split(',').at(-1)!.trim());
  // the longest run of equal pictures in the second half (the first seconds may wait for the cameras' keyframes)
  let longestFreeze = 1;
  for (let i = Math.floor(sums.length / 2), run = 1; i < sums.length; i++) {
    run = i > Math.floor(sums.length / 2) && sums[i] === sums[i - 1] ? run + 1 : 1;
    longestFreeze = Math.max(longestFreeze, run);
  }
  return {
    video: info.streams?.find((s) => s.codec_type === 'video'),
    audio: info.streams?.find((s) => s.codec_type === 'audio'),
    duration: Number(info.format?.duration),
    decodeErrors: (decode.stdout + decode.stderr).trim(),
    meanVolume: mean ? Number(mean[1]) : -Infinity,
    frames: sums.length,
    distinctFrames: new Set(sums).size,
    longestFreeze,
  };
}

describe('composed recording', () => {
  // info at least: the test reads the recorder's "recording started" (the child's pid) and "recording stopped"
  const level = ['debug', 'trace'].includes(process.env.TERTULIA_TEST_LOG_LEVEL ?? '') ? process.env.TERTULIA_TEST_LOG_LEVEL! : 'info';
  // a child whose file stops growing for 20 s is taken as stuck (60 s in production)
  const suite = useServerAndBrowser({ TERTULIA_LOG_LEVEL: level, TERTULIA_TEST_RECORDING_STALL_SECONDS: '20' });
  const talking = useTalkingBrowser();
  // the files, copied before the server's data directory goes (TERTULIA_TEST_KEEP=1 keeps them to look at)
  const keep = mkdtempSync(path.join(os.tmpdir(), 'tertulia-recording-e2e-'));
  after(() => {
    if (!process.env.TERTULIA_TEST_KEEP) rmSync(keep, { recursive: true, force: true });
  });
  let ana: Participant;
  let ben: Participant;
  const recordingsRoot = () => path.join(suite.server.dataDir, 'recordings');
  /** Every media file, as <recordingId>/<name> (one folder per recording). */
  const recordings = () =>
    readdirSync(recordingsRoot()).flatMap((d) => readdirSync(path.join(recordingsRoot(), d)).filter((f) => f.endsWith('.mkv')).map((f) => `${d}/${f}`));
  const kept = () => readdirSync(keep);
  const stoppedLines = () => suite.server.output().split('\n').filter((l) => l.includes('"part":"recorder"') && l.includes('"msg":"recording stopped"')).length;
  /** The recorder's warnings and errors (a child that died says why here), for a failing assertion's message. */
  const recorderTrouble = () =>
    suite.server
      .output()
      .split('\n')
      .filter((l) => l.includes('"part":"recorder"') && /"level":(40|50|60)/.test(l))
      .slice(-20)
      .join('\n');

  test('a moderator records three people; one shares a screen and one leaves meanwhile; the file is H.264 720p + AAC, as long as the meeting ran, heard and moving', { timeout: 180_000 }, async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(talking.browser, 'Ben');
    const cy = await newParticipant(suite.browser, 'Cy');
    await joinThroughUi(ana, suite.server.baseUrl, 'Recorded');
    await joinThroughUi(ben, suite.server.baseUrl, 'Recorded');
    await joinThroughUi(cy, suite.server.baseUrl, 'Recorded');
    await waitUntil('Ana to decode Ben and Cy', () => remoteStats(ana.page), (s) => (s.Ben?.framesDecoded ?? 0) > 10 && (s.Cy?.framesDecoded ?? 0) > 10);

    // only a moderator has the button (the server refuses the others too: test/unit/signal-recording.test.ts)
    assert.equal(await cy.page.getByRole('button', { name: 'Start recording' }).count(), 0);
    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    const startedAt = Date.now();
    await ben.page.getByRole('status', { name: 'Recording', exact: true }).waitFor();
    await ben.page.getByRole('status').filter({ hasText: 'Ana started recording' }).waitFor();
    await cy.page.getByRole('status', { name: 'Recording', exact: true }).waitFor();

    await sleep(3000);
    // a shared screen takes the large place (layout.py), live
    await ana.page.getByRole('button', { name: 'Share screen' }).click();
    await ben.page.getByRole('status').filter({ hasText: 'Ana started sharing their screen' }).waitFor({ timeout: 15_000 });
    await sleep(3000);
    await cy.page.getByRole('button', { name: 'Leave meeting' }).click();
    await sleep(4000);
    await ana.page.getByRole('button', { name: 'Stop recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ state: 'detached' });
    const wallSeconds = (Date.now() - startedAt) / 1000;
    await ben.page.getByRole('status').filter({ hasText: 'Ana stopped recording' }).waitFor();
    await ben.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ state: 'detached' });
    await waitUntil('the recorder to finish the file', async () => stoppedLines(), (n) => n >= 1);

    const files = recordings();
    assert.equal(files.length, 1, `${files.join(', ')}\n${recorderTrouble()}`);
    assert.match(files[0]!, /^rec-[0-9a-f]{16}\/Recorded-\d{8}T\d{6}Z\.mkv$/);
    const meta = JSON.parse(readFileSync(path.join(recordingsRoot(), path.dirname(files[0]!), 'recording.json'), 'utf8'));
    assert.equal(meta.room, 'Recorded');
    assert.equal(meta.kind, 'composed');
    assert.ok(meta.endedAt && meta.endReason === 'stopped', 'recording.json says it ended, by a stop');
    assert.deepEqual(meta.files.map((f: { name: string }) => f.name), [path.basename(files[0]!)]);
    const file = path.join(keep, path.basename(files[0]!));
    copyFileSync(path.join(recordingsRoot(), files[0]!), file);
    const p = await probe(file);
    assert.equal(p.video?.codec_name, 'h264');
    assert.equal(p.video?.width, 1280);
    assert.equal(p.video?.height, 720);
    assert.equal(p.audio?.codec_name, 'aac');
    assert.ok(Math.abs(p.duration - wallSeconds) <= 2, `the file lasts ${p.duration} s, the recording ran ${wallSeconds} s\n${recorderTrouble()}`);
    assert.equal(p.decodeErrors, '', 'the file decodes from start to end without an error');
    assert.ok(p.meanVolume > -60, `audio heard: mean volume ${p.meanVolume} dB (silence is -91 dB)`);
    assert.ok(p.frames >= 2 * Math.floor(wallSeconds) - 2, `frames sampled: ${p.frames}`);
    assert.ok(p.distinctFrames >= p.frames / 2, `the picture moves: ${p.distinctFrames} different of ${p.frames} sampled frames`);
    assert.ok(p.longestFreeze <= 3, `no frozen picture in the second half: at most 1.5 s the same, saw ${p.longestFreeze / 2} s`);
    await cy.context.close();
  });

  test('the GStreamer child killed, then stuck, mid-recording: each time it is started again into a new part; the parts play', { timeout: 360_000 }, async (t) => {
    // this recording's folder: the one that was not there before (an earlier test's may hold more parts)
    const folders = () => readdirSync(recordingsRoot());
    const earlier = new Set(folders());
    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    const folder = await waitUntil('the recording folder', async () => folders().find((d) => !earlier.has(d)), (d) => d !== undefined, 30_000);
    const fresh = () => recordings().filter((f) => path.dirname(f) === folder);
    // killed once the file holds a second of video (what a loaded machine has encoded by then varies)
    const first = () => path.join(recordingsRoot(), fresh()[0] ?? 'none');
    await waitUntil('a second of video in the file', () => videoFrames(first()), (n) => n >= 30, 60_000);
    // the pid of this recording's newest child, and how many it had (a restart of its own counts too)
    const started = () => suite.server.output().split('\n').filter((l) => l.includes('"msg":"recording started"') && l.includes('"pid"') && l.includes(`"recording":"${folder}"`));
    const pidOf = () => Number(JSON.parse(started().at(-1) ?? '{}').pid);
    const pid = pidOf();
    const children = started().length;
    assert.ok(pid > 0, 'the recorder logged its child pid');
    process.kill(pid, 'SIGKILL');
    await waitUntil('a new media process', async () => started().length, (n) => n > children, 60_000);
    assert.notEqual(pidOf(), pid, 'a new media process runs');
    assert.ok(suite.server.output().includes('composer ended by itself: its last lines'), 'a child that died leaves its last lines in the log');
    await ben.page.getByRole('status').filter({ hasText: 'The recording was interrupted and continues in a new part' }).first().waitFor({ timeout: 60_000 });
    // still recording, in a second file of the same folder
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor();
    // part N's name ends in -partN; the first has none
    const segmentOf = (f: string) => Number(/-part(\d+)\.mkv$/.exec(f)?.[1] ?? 1);
    const parts = () => fresh().sort((a, b) => segmentOf(a) - segmentOf(b));
    const [part1, part2] = parts();
    assert.ok(part2, `a second part: ${fresh().join(', ')}`);
    assert.equal(path.dirname(part1!), path.dirname(part2!), 'both parts in one recording folder');
    assert.match(path.basename(part2!), /^Recorded-\d{8}T\d{6}Z-part\d+\.mkv$/);
    // part2 unless the restarted child itself stalled before writing a byte on a loaded machine (a part that holds
    // nothing is deleted, and the next restart writes part3)
    assert.ok(segmentOf(part2!) >= 2, part2);
    if (segmentOf(part2!) > 2) t.diagnostic(`the first restart wrote nothing: ${parts().join(', ')}`);
    // (a restarted child that stalled by itself would have been started again too: the newest part must grow)
    const newest = () => path.join(recordingsRoot(), parts().at(-1)!);
    await waitUntil('the new part to grow', () => videoFrames(newest()), (n) => n >= 60, 150_000);

    // a stuck child (stopped, not dead): its file stops growing, the recorder kills it and starts a new part
    const stuck = pidOf();
    const before = parts().length;
    process.kill(stuck, 'SIGSTOP');
    await waitUntil('a new media process after the stall', async () => pidOf(), (p) => p !== stuck, 90_000);
    assert.ok(suite.server.output().includes('the media process stalled'), 'the recorder says why');
    assert.ok(parts().length > before, `a new part after the stall: ${parts().join(', ')}`);
    await waitUntil('the part after the stall to grow', () => videoFrames(newest()), (n) => n >= 60, 150_000);
    await ana.page.getByRole('button', { name: 'Stop recording' }).click();
    await ben.page.getByRole('status').filter({ hasText: 'Ana stopped recording' }).waitFor();
    await waitUntil('the recorder to finish the file', async () => stoppedLines(), (n) => n >= 2);
    const all = parts();
    if (all.length > 3) t.diagnostic(`a restarted child stalled by itself and was started again: ${all.map((f) => path.basename(f)).join(', ')}`);

    const meta = JSON.parse(readFileSync(path.join(recordingsRoot(), path.dirname(part1!), 'recording.json'), 'utf8'));
    assert.deepEqual(meta.files.map((f: { name: string }) => f.name), all.map((f) => path.basename(f)));
    assert.ok(meta.files.every((f: { endedAt?: string }) => f.endedAt) && meta.endedAt && meta.endReason === 'stopped', 'recording.json: the parts, ended by a stop');
    for (const part of [part1!, all.at(-1)!]) {
      const file = path.join(keep, path.basename(part));
      copyFileSync(path.join(recordingsRoot(), part), file);
      const p = await probe(file);
      assert.equal(p.video?.codec_name, 'h264', `${part} (parts: ${all.join(', ')})\n${recorderTrouble()}`);
      assert.equal(p.audio?.codec_name, 'aac', part);
      assert.ok(p.frames >= 2, `frames sampled (2 a second) from ${part}: ${p.frames}`);
      assert.ok(p.meanVolume > -60, `audio heard in ${part}: mean volume ${p.meanVolume} dB`);
    }
    // the part after the restart was finished by the stop: it decodes from start to end
    assert.equal((await probe(path.join(keep, path.basename(all.at(-1)!)))).decodeErrors, '', 'the last part decodes without an error');
  });
});
