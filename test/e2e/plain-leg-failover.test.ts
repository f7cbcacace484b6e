// The plain-RTP legs of a meeting survive its bridge's death (issue 17): real processes (nats-server, a
// web/signal/focus/recorder process, two bridge processes), a headless Chromium participant whose fake microphone
// talks (a 320 Hz tone) and whose fake camera moves, a composed recording (GStreamer) started from the toolbar, a
// phone call from Debian's baresip (G.711, saying a 1 kHz tone) through the SIP gateway of the web process, and
// `tertulia play` of a sound file. The bridge is
// killed (SIGKILL): focus makes the recorder's, the caller's and the player's plain endpoints again on the other
// bridge and tells their owners; the browser moves there too. Then: the caller hears the meeting's tone again, the
// browser hears the caller and the played file again; the recording goes on in the SAME file (no second part)
// with sound and a moving picture after the kill, and plays to its end. Then a third bridge comes, the second gets
// SIGTERM: it drains (everything moved to the third, its plain endpoints expired) and exits; the same again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { callWithBaresip, toneWav, type Baresip } from '../helpers/baresip.ts';
import { decodingAgain, markConnections, startBridgeCluster, type BridgeCluster } from '../helpers/bridge-failover.ts';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useTalkingBrowser } from '../helpers/e2e.ts';
import { remoteAudio, rosterOf, tonePower } from '../helpers/sip-audio.ts';

const PHONE = 'Phone …1234';
const ROOM = 'Tramo';
const CLIP = 'tono.wav';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** ffmpeg's or ffprobe's output, also when it exits with an error. */
async function run(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, { maxBuffer: 64 << 20 });
    return stdout + stderr;
  } catch (e) {
    const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
    return stdout + stderr;
  }
}

describe('a recording and a phone call on a bridge that dies', () => {
  const talking = useTalkingBrowser();
  let cluster: BridgeCluster;
  let phone: Baresip | undefined;
  let ana: Participant;
  let player: ChildProcess | undefined;
  let playerOutput = '';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-legs-e2e-'));

  before(async () => {
    cluster = await startBridgeCluster(2, {}, { TERTULIA_PARTS: 'web,signal,focus,recorder,sip' }); // a third comes later
  });

  after(async () => {
    player?.kill('SIGTERM');
    await phone?.quit();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The phone hears the browser's 320 Hz in a second of what it heard after sample `from` (8 kHz). */
  const callerHearsMeeting = (from: number) => {
    const heard = phone!.heard();
    for (let at = from; at + 8000 <= heard.length; at += 4000) if (tonePower(heard.subarray(at, at + 8000), 320, 8000) > 1e-4) return true;
    return false;
  };
  /** Packets Ana's browser got from the caller so far (its current peer connection). */
  const fromCaller = async () => (await remoteAudio(ana.page))[PHONE] ?? { packets: 0, energy: 0 };
  /** Audio packets Ana's browser got from the played file (its current peer connection). */
  const fromPlayer = async () => (await remoteStats(ana.page))[CLIP]?.audioPackets ?? 0;

  test('the bridge is killed: the call, the played file and the recording go on on the other bridge, the recording in the same file', { timeout: 300_000 }, async () => {
    ana = await newParticipant(talking.browser, 'Ana');
    await joinThroughUi(ana, cluster.web.baseUrl, ROOM);
    await ana.page.evaluate(() => ((window as any).__failoverNoReload = true));
    assert.ok(cluster.web.sipPort, `the startup message names the SIP port:\n${cluster.web.output()}`);
    const wav = path.join(dir, 'caller.wav');
    toneWav(wav, 1000, 300);
    phone = callWithBaresip(path.join(dir, 'phone'), `sip:${ROOM}@127.0.0.1:${cluster.web.sipPort}`, wav);
    await waitUntil('Ana to list the caller', () => rosterOf(ana.page), (r) => r.some((x) => x.displayName === PHONE && x.phone === true), 30_000);
    await waitUntil('Ana to hear the caller', fromCaller, (a) => a.packets > 50, 45_000);
    await waitUntil('the caller to hear Ana', async () => callerHearsMeeting(0), (ok) => ok, 45_000);
    // a sound file played into the meeting by the command (the same data directory: the server's control socket)
    const clip = path.join(dir, CLIP);
    execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=600:sample_rate=48000:duration=10', '-y', clip]);
    player = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'src/cli/main.ts'), 'play', clip, '--room', ROOM, '--loop'], {
      cwd: repo,
      env: { ...process.env, TERTULIA_CONFIG: '', TERTULIA_DATA_DIR: cluster.web.dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const out of [player.stdout!, player.stderr!]) out.on('data', (d: Buffer) => (playerOutput += d.toString()));
    await waitUntil('Ana to hear the played file', fromPlayer, (n) => n > 50, 45_000);

    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    const recordingStartedAt = Date.now();
    await sleep(5000);

    const first = cluster.hosting();
    assert.ok(first, 'focus says which bridge the meeting is on');
    await markConnections([ana]);
    const killedAt = Date.now();
    // what the phone hears from a second after the kill on can only come from the other bridge
    const heardAtKill = phone!.heard().length + 8000;
    first.process.kill('SIGKILL');
    await decodingAgain([ana], killedAt, 90_000);
    const second = cluster.hosting();
    assert.ok(second && second !== first, 'the meeting is on the other bridge now');
    assert.match(cluster.web.output(), /"msg":"plain-RTP endpoint moved to another bridge"/);

    // the phone call stays up: the caller hears the meeting again, the browser hears the caller on its new connection
    await waitUntil('the caller to hear Ana again', async () => callerHearsMeeting(heardAtKill), (ok) => ok, 60_000);
    const after = (await fromCaller()).packets;
    await waitUntil('Ana to hear the caller again', fromCaller, (a) => a.packets > after + 50, 60_000);
    assert.doesNotMatch(phone!.output(), /terminated/i, `the call is still up:\n${phone!.output().slice(-1500)}`);
    // the played file goes on: the command was told where, and Ana hears it on her new connection
    await waitUntil('the player to be told the move', async () => playerOutput, (o) => /The meeting moved to another bridge: playing on from/.test(o), 30_000);
    const played = await fromPlayer();
    await waitUntil('Ana to hear the played file again', fromPlayer, (n) => n > played + 50, 60_000);
    assert.equal(player!.exitCode, null, `the player runs on: ${playerOutput}`);

    await stopAndCheckRecording(recordingStartedAt, killedAt);
  });

  test('SIGTERM to the bridge the meeting moved to: it drains; the call, the played file and a new recording go on on a third bridge', { timeout: 300_000 }, async () => {
    await cluster.addBridge();
    await sleep(2000); // focus hears the new bridge
    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    const recordingStartedAt = Date.now();
    await sleep(5000);

    const draining = cluster.hosting();
    assert.ok(draining);
    await markConnections([ana]);
    const exited = new Promise<number | null>((r) => draining.process.once('exit', (code) => r(code)));
    const termAt = Date.now();
    const heardAtTerm = phone!.heard().length;
    draining.process.kill('SIGTERM');
    await decodingAgain([ana], termAt, 90_000);
    assert.equal(await exited, 0, 'the drained bridge exits by itself once its endpoints (plain ones too) are gone');
    const last = cluster.hosting();
    assert.ok(last && last !== draining && last.alive(), 'the meeting is on the third bridge');

    // a drained bridge goes on sending until its endpoints are expired: the phone's mix keeps up the room until the
    // move, so this asks for the room heard after the last bridge took over (the browser decodes there already)
    const heardAtMove = Math.max(heardAtTerm, phone!.heard().length);
    await waitUntil('the caller to hear Ana again', async () => callerHearsMeeting(heardAtMove), (ok) => ok, 60_000);
    const after = (await fromCaller()).packets;
    await waitUntil('Ana to hear the caller again', fromCaller, (a) => a.packets > after + 50, 60_000);
    assert.doesNotMatch(phone!.output(), /terminated/i, `the call is still up:\n${phone!.output().slice(-1500)}`);
    await waitUntil('the player to be told the second move', async () => playerOutput, (o) => o.split('The meeting moved to another bridge').length === 3, 30_000);
    const played = await fromPlayer();
    await waitUntil('Ana to hear the played file again', fromPlayer, (n) => n > played + 50, 60_000);
    assert.equal(player!.exitCode, null, `the player runs on: ${playerOutput}`);
    await stopAndCheckRecording(recordingStartedAt, termAt);
    await ana.context.close();
  });

  /** Recordings checked so far (their folders). */
  const checked = new Set<string>();

  /**
   * Some seconds more, then the recording is stopped from the toolbar; its folder holds ONE file (no new part after
   * the move at `movedAt`), which lasts past the move, decodes whole, and whose last seconds have sound and a
   * moving picture (Ana's voice and camera, the caller, the played file: all from the new bridge).
   */
  async function stopAndCheckRecording(recordingStartedAt: number, movedAt: number): Promise<void> {
    await sleep(8000);
    await ana.page.getByRole('button', { name: 'Stop recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ state: 'detached', timeout: 30_000 });
    const root = path.join(cluster.web.dataDir, 'recordings');
    const folder = readdirSync(root).find((f) => !checked.has(f));
    assert.ok(folder, 'a new recording folder');
    checked.add(folder);
    // finished once recording.json has its end (signal and the recorder both log "recording stopped": no count)
    type Meta = { files: { name: string }[]; endedAt?: string; endReason?: string };
    const readMeta = () => JSON.parse(readFileSync(path.join(root, folder, 'recording.json'), 'utf8')) as Meta;
    await waitUntil('the recorder to finish the file', async () => readMeta().endedAt, (ended) => ended !== undefined, 30_000);
    const meta = readMeta();
    assert.equal(meta.files.length, 1, `one file, the same one before and after the move: ${meta.files.map((f) => f.name).join(', ')}`);
    assert.equal(meta.endReason, 'stopped', 'it ended by the stop');
    const file = path.join(root, folder, meta.files[0]!.name);
    const duration = Number((await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file])).trim());
    const moveOffset = (movedAt - recordingStartedAt) / 1000;
    assert.ok(duration > moveOffset + 6, `the file goes on past the move (at ${moveOffset.toFixed(1)} s): it lasts ${duration} s`);
    assert.equal((await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'])).trim(), '', 'it decodes from start to end without an error');
    const tail = ['-ss', String(Math.max(moveOffset + 2, duration - 5))];
    const volume = /mean_volume: (-?[\d.]+) dB/.exec(await run('ffmpeg', ['-hide_banner', ...tail, '-i', file, '-vn', '-af', 'volumedetect', '-f', 'null', '-']));
    assert.ok(volume && Number(volume[1]) > -60, `sound after the move: mean volume ${volume?.[1]} dB (silence is -91 dB)`);
    const sums = (await run('ffmpeg', ['-v', 'error', ...tail, '-i', file, '-an', '-vf', 'fps=2', '-f', 'framemd5', '-']))
      .split('\n')
      .filter((l) => /^\d/.test(l))
      .map((l) => l.split(',').at(-1)!.trim());
    assert.ok(sums.length >= 4 && new Set(sums).size >= sums.length / 2, `a moving picture after the move: ${new Set(sums).size} different of ${sums.length} sampled frames`);
  }
});
