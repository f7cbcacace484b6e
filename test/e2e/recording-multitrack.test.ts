// End to end: a multitrack recording of a live meeting (recordingMode multitrack), headless Chromium. Ana (the
// moderator) and Ben are in; Ana starts recording from the toolbar; Cy joins late; Ben leaves; Ana stops. In the
// recording's folder: one WebM file per stream as it was sent (VP8 or Opus, never decoded), each finished and
// decoding without an error from ffmpeg (frame by frame at its own timestamp: cameras run at a variable rate),
// with no two frames at one timestamp, named after its owner; recording.json lists them; timeline.json says who
// was in when (Cy joined after the others, Ben left before the end) and where each file starts and ends, in an
// order that matches the meeting, and Ana's microphone turned off. A multitrack recording shows the moderator no
// layout switch.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { timelineSchema, type Timeline } from '../../src/recorder/timeline.ts';
import { recordingMetaSchema } from '../../src/recorder/recording-store.ts';

const execFileAsync = promisify(execFile);

async function check(file: string): Promise<{ codec: string; duration: number; decodeErrors: string; repeatedTimestamps: number }> {
  const packets = await execFileAsync('ffprobe', ['-v', 'error', '-select_streams', '0', '-show_entries', 'packet=pts', '-of', 'csv=p=0', file], { maxBuffer: 16 << 20 });
  const pts = packets.stdout.split('\n').filter((l) => l.trim() !== '');
  const repeatedTimestamps = pts.length - new Set(pts).size;
  const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', file]);
  const info = JSON.parse(stdout) as { streams: { codec_name: string }[]; format: { duration?: string } };
  let decodeErrors: string;
  try {
    // each frame at its own time (-enc_time_base -1: the file's millisecond clock). A browser's camera runs at a
    // variable rate; by default ffmpeg guesses one frame rate from the closest two frames and complains that
    // frames closer than that share a tick ("non monotonically increasing dts"), though no two share a timestamp
    const r = await execFileAsync('ffmpeg', ['-v', 'error', '-i', file, '-enc_time_base', '-1', '-f', 'null', '-']);
    decodeErrors = (r.stdout + r.stderr).trim();
  } catch (e) {
    decodeErrors = String((e as { stderr?: string }).stderr ?? e);
  }
  return { codec: info.streams[0]?.codec_name ?? '', duration: Number(info.format.duration), decodeErrors, repeatedTimestamps };
}

describe('multitrack recording', () => {
  const level = ['debug', 'trace'].includes(process.env.TERTULIA_TEST_LOG_LEVEL ?? '') ? process.env.TERTULIA_TEST_LOG_LEVEL! : 'info';
  const suite = useServerAndBrowser({ TERTULIA_LOG_LEVEL: level, TERTULIA_RECORDING_MODE: 'multitrack' });
  const root = () => path.join(suite.server.dataDir, 'recordings');
  const folder = () => {
    const dirs = existsSync(root()) ? readdirSync(root()) : [];
    return dirs.length === 1 ? path.join(root(), dirs[0]!) : null;
  };
  const timeline = (): Timeline | null => {
    const dir = folder();
    if (!dir || !existsSync(path.join(dir, 'timeline.json'))) return null;
    return timelineSchema.parse(JSON.parse(readFileSync(path.join(dir, 'timeline.json'), 'utf8')));
  };
  const tracksOf = (t: Timeline | null, name: string) => {
    const p = t?.participants.find((x) => x.name === name);
    return p ? t!.tracks.filter((x) => x.participantId === p.participantId) : [];
  };

  test('two people, a third joins late, one leaves: one finished WebM per stream and a timeline that matches', { timeout: 240_000 }, async () => {
    const ana = await newParticipant(suite.browser, 'Ana');
    const ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Tracks');
    await joinThroughUi(ben, suite.server.baseUrl, 'Tracks');
    await waitUntil('Ana to decode Ben', () => remoteStats(ana.page), (s) => (s.Ben?.framesDecoded ?? 0) > 10);

    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    await ben.page.getByRole('status').filter({ hasText: 'Ana started recording' }).waitFor();
    assert.equal(await ana.page.getByRole('group', { name: 'Recording layout' }).count(), 0, 'a multitrack recording has no layout to switch');
    await waitUntil('Ana and Ben audio and video files', async () => [...tracksOf(timeline(), 'Ana'), ...tracksOf(timeline(), 'Ben')].length, (n) => n === 4, 60_000);
    await sleep(2000);

    const cy = await newParticipant(suite.browser, 'Cy');
    await joinThroughUi(cy, suite.server.baseUrl, 'Tracks');
    await waitUntil("Cy's audio and video files", async () => tracksOf(timeline(), 'Cy').length, (n) => n === 2, 60_000);
    await ana.page.getByRole('button', { name: 'Mute microphone' }).click();
    const anaMedia = () => timeline()?.participants.find((p) => p.name === 'Ana')?.media ?? [];
    await waitUntil("Ana's microphone off in the timeline", async () => anaMedia(), (m) => m.some((c) => c.audioMuted === true), 30_000);
    await sleep(3000);
    await ben.page.getByRole('button', { name: 'Leave meeting' }).click();
    await waitUntil("Ben's files finished", async () => tracksOf(timeline(), 'Ben').filter((t) => t.endedAt !== undefined).length, (n) => n === 2, 60_000);
    await sleep(2000);
    await ana.page.getByRole('button', { name: 'Stop recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ state: 'detached' });
    const stopped = () => suite.server.output().split('\n').filter((l) => l.includes('"part":"recorder"') && l.includes('"msg":"recording stopped"')).length;
    await waitUntil('the recorder to finish the files', async () => stopped(), (n) => n >= 1, 60_000);

    const dir = folder()!;
    const meta = recordingMetaSchema.parse(JSON.parse(readFileSync(path.join(dir, 'recording.json'), 'utf8')));
    const t = timeline()!;
    assert.equal(meta.kind, 'multitrack');
    assert.ok(meta.endedAt && meta.endReason === 'stopped', 'recording.json says it ended, by a stop');
    assert.ok(t.endedAt, 'the timeline is closed');
    const people = ['Ana', 'Ben', 'Cy'];
    assert.deepEqual(t.participants.map((p) => p.name), people, 'everyone, in the order they came');
    const stay = (name: string) => t.participants.find((p) => p.name === name)!.presence;
    for (const name of people) assert.equal(stay(name).length, 1, `${name} was in once`);
    assert.ok(stay('Cy')[0]!.joinOffsetMs > stay('Ana')[0]!.joinOffsetMs && stay('Cy')[0]!.joinOffsetMs > stay('Ben')[0]!.joinOffsetMs, 'Cy joined late');
    assert.ok(stay('Ben')[0]!.leftOffsetMs! > stay('Cy')[0]!.joinOffsetMs, 'Ben left after Cy came');
    assert.ok(stay('Ben')[0]!.leftOffsetMs! < stay('Ana')[0]!.leftOffsetMs!, 'Ben left before the end');
    const anaMuted = t.participants.find((p) => p.name === 'Ana')!.media;
    assert.deepEqual(anaMuted.map(({ audioMuted, videoMuted }) => ({ audioMuted, videoMuted })), [
      { audioMuted: false, videoMuted: false },
      { audioMuted: true, videoMuted: undefined },
    ]);
    assert.ok(anaMuted[1]!.offsetMs > stay('Cy')[0]!.joinOffsetMs, 'Ana turned her microphone off after Cy came');

    // the files: two per person, named after them, listed in recording.json with whose they are
    const media = readdirSync(dir).filter((f) => f.endsWith('.webm')).sort();
    assert.deepEqual(media, ['Ana-audio-1.webm', 'Ana-video-1.webm', 'Ben-audio-1.webm', 'Ben-video-1.webm', 'Cy-audio-1.webm', 'Cy-video-1.webm']);
    assert.deepEqual(t.tracks.map((x) => x.file).sort(), media);
    assert.deepEqual(meta.files.map((f) => f.name).sort(), ['timeline.json', ...media].sort());
    for (const f of meta.files) assert.ok(f.endedAt, `${f.name} has an end`);
    for (const x of t.tracks) {
      const owner = t.participants.find((p) => p.participantId === x.participantId)!;
      assert.ok(x.file.startsWith(`${owner.name}-${x.kind}-`), `${x.file} is ${owner.name}'s ${x.kind}`);
      assert.equal(meta.files.find((f) => f.name === x.file)?.participantId, owner.participantId);
      assert.ok(x.endOffsetMs !== undefined && x.endOffsetMs > x.startOffsetMs, `${x.file} ends after it starts`);
    }
    for (const x of tracksOf(t, 'Cy')) assert.ok(x.startOffsetMs > Math.max(...[...tracksOf(t, 'Ana'), ...tracksOf(t, 'Ben')].map((y) => y.startOffsetMs)), "Cy's files start after the others'");
    for (const x of tracksOf(t, 'Ben')) assert.ok(x.endOffsetMs! < t.tracks.find((y) => y.file === 'Ana-video-1.webm')!.endOffsetMs!, "Ben's files end before Ana's");

    for (const file of media) {
      const p = await check(path.join(dir, file));
      assert.equal(p.codec, file.includes('-audio-') ? 'opus' : 'vp8', file);
      assert.ok(p.duration > 0, `${file} is finished (it has a duration): ${p.duration}`);
      assert.equal(p.decodeErrors, '', `${file} decodes without an error`);
      assert.equal(p.repeatedTimestamps, 0, `${file}: no two frames at one timestamp`);
    }
    await cy.context.close();
    await ben.context.close();
    await ana.context.close();
  });
});
