// End to end: a live stream to a real RTMP server on this machine (ffmpeg listening, `-c copy` to an FLV
// file), beside a recording of the same meeting. Two Chromium participants (Ben's fake microphone talks); the
// moderator (Ana) first gives an address that is not RTMP and is told why in the dialog (which keeps what she
// typed), then goes live: both see "Live" once the server takes the stream, and a
// late joiner in Spanish sees "En directo".
// The RTMP server is killed mid-stream: everyone is told the stream is interrupted, the recorder reconnects
// (with a pause that grows) and, once the server listens again, everyone is told it resumed. What the server
// received is checked with ffprobe/ffmpeg: H.264 + AAC, the second part decodes without an error and is heard.
// The stream key never reaches the server's log.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { joinThroughUi, newParticipant, remoteStats, waitUntil } from '../helpers/browser.ts';
import { useServerAndBrowser, useTalkingBrowser } from '../helpers/e2e.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { rtmpServer } from '../helpers/rtmp.ts';

const execFileAsync = promisify(execFile);
async function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(cmd, args, { maxBuffer: 16 << 20 });
  } catch (e) {
    const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
    return { stdout, stderr: stderr || String(e) };
  }
}

/** Video frames in a file being written; 0 while there is none. */
async function videoFrames(file: string): Promise<number> {
  if (!existsSync(file)) return 0;
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]);
  return Number(stdout.trim()) || 0;
}

describe('live stream', () => {
  const suite = useServerAndBrowser({ TERTULIA_LOG_LEVEL: 'info' });
  const talking = useTalkingBrowser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-live-e2e-'));
  const servers: ChildProcess[] = [];
  after(() => {
    for (const s of servers) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
    if (!process.env.TERTULIA_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  test('a moderator streams the meeting to an RTMP server beside a recording; the server restarts mid-way and the stream resumes', { timeout: 240_000 }, async () => {
    const port = await freeTcpPort();
    const key = `e2e-key-${Math.random().toString(16).slice(2, 10)}`;
    const url = `rtmp://127.0.0.1:${port}/live`;
    const part1 = path.join(dir, 'part1.flv');
    const part2 = path.join(dir, 'part2.flv');
    let server = rtmpServer(`${url}/${key}`, part1);
    servers.push(server.process);

    const ana = await newParticipant(suite.browser, 'Ana');
    const ben = await newParticipant(talking.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Streamed');
    await joinThroughUi(ben, suite.server.baseUrl, 'Streamed');
    await waitUntil('Ana to decode Ben', () => remoteStats(ana.page), (s) => (s.Ben?.framesDecoded ?? 0) > 10);
    assert.equal(await ben.page.getByRole('button', { name: 'Start live stream' }).count(), 0, 'only a moderator has the button');

    const goLive = async (address: string) => {
      await ana.page.getByRole('button', { name: 'Start live stream' }).click();
      const dialog = ana.page.getByRole('dialog', { name: 'Live stream' });
      await dialog.getByLabel('Server address (rtmp:// or rtmps://)').fill(address);
      await dialog.getByLabel('Stream key').fill(key);
      await dialog.getByRole('button', { name: 'Go live' }).click();
    };
    // not an RTMP address: a clear error in the dialog, which keeps what was typed; nothing starts
    await goLive('https://example.com/live2');
    const dialog = ana.page.getByRole('dialog', { name: 'Live stream' });
    await dialog.getByRole('alert').filter({ hasText: 'The live stream address is not valid: it must start with rtmp:// or rtmps://' }).waitFor();
    assert.equal(await dialog.getByLabel('Server address (rtmp:// or rtmps://)').inputValue(), 'https://example.com/live2');
    assert.equal(await dialog.getByLabel('Stream key').inputValue(), key);
    await dialog.getByRole('button', { name: 'Close' }).click();

    // the recording and the live stream at once (two independent jobs)
    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    await goLive(url);
    await ana.page.getByRole('status', { name: 'Live', exact: true }).waitFor({ timeout: 30_000 });
    await ben.page.getByRole('status', { name: 'Live', exact: true }).waitFor();
    await ben.page.getByRole('status').filter({ hasText: 'Ana started the live stream' }).waitFor();
    // a late joiner, in Spanish, is told the meeting is live
    const cy = await newParticipant(suite.browser, 'Cy', 'es-ES');
    await cy.page.goto(`${suite.server.baseUrl}/Streamed#config.resolution=180`);
    await cy.page.getByRole('textbox', { name: 'Tu nombre' }).fill('Cy');
    await cy.page.getByRole('button', { name: 'Unirse a la reunión' }).click();
    await cy.page.getByRole('status', { name: 'En directo', exact: true }).waitFor({ timeout: 30_000 });
    await waitUntil('3 s of video at the RTMP server', () => videoFrames(part1), (n) => n >= 90, 90_000);

    // the server goes away mid-stream, and comes back on the same address
    server.process.kill('SIGKILL');
    await server.exited;
    await ben.page.getByRole('status').filter({ hasText: 'Live stream interrupted; reconnecting' }).waitFor({ timeout: 30_000 });
    await ana.page.getByRole('status', { name: 'Live stream interrupted', exact: true }).waitFor();
    await cy.page.getByRole('status').filter({ hasText: 'Emisión en directo interrumpida; reconectando' }).waitFor();
    await cy.context.close();
    server = rtmpServer(`${url}/${key}`, part2);
    servers.push(server.process);
    await ana.page.getByRole('status').filter({ hasText: 'Live stream resumed' }).waitFor({ timeout: 60_000 });
    await ben.page.getByRole('status', { name: 'Live', exact: true }).waitFor();
    await waitUntil('3 s of video at the restarted server', () => videoFrames(part2), (n) => n >= 90, 90_000);

    await ana.page.getByRole('button', { name: 'Stop live stream' }).click();
    await ben.page.getByRole('status').filter({ hasText: 'Ana stopped the live stream' }).waitFor();
    await ben.page.getByRole('status', { name: 'Live', exact: true }).waitFor({ state: 'detached' });
    // the recording ran on untouched
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor();
    await ana.page.getByRole('button', { name: 'Stop recording' }).click();
    // the publisher closed the connection: the server finishes its file and exits
    await Promise.race([server.exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (server.process.exitCode === null) {
      server.process.kill('SIGINT');
      await server.exited;
    }

    const first = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', part1]);
    assert.deepEqual(first.stdout.trim().split('\n').sort(), ['aac', 'h264'], 'the first connection carried H.264 and AAC');
    const second = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', part2]);
    const streams = (JSON.parse(second.stdout) as { streams: { codec_name: string; width?: number; height?: number }[] }).streams;
    assert.deepEqual(streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(streams.find((s) => s.codec_name === 'h264')?.width, 1280);
    const decode = await run('ffmpeg', ['-v', 'error', '-i', part2, '-f', 'null', '-']);
    assert.equal((decode.stdout + decode.stderr).trim(), '', 'what the restarted server received decodes without an error');
    const volume = await run('ffmpeg', ['-hide_banner', '-i', part2, '-vn', '-af', 'volumedetect', '-f', 'null', '-']);
    const mean = Number(/mean_volume: (-?[\d.]+) dB/.exec(volume.stderr)?.[1] ?? -Infinity);
    assert.ok(mean > -60, `the stream is heard: mean volume ${mean} dB (silence is -91 dB)`);

    const recordingsRoot = path.join(suite.server.dataDir, 'recordings');
    await waitUntil('the recording to finish', async () => suite.server.output().includes('"msg":"recording stopped"'), Boolean, 30_000);
    const files = readdirSync(recordingsRoot).flatMap((d) => readdirSync(path.join(recordingsRoot, d)).filter((f) => f.endsWith('.mkv')).map((f) => path.join(recordingsRoot, d, f)));
    assert.equal(files.length, 1, `one recording file, no folder for the stream: ${files.join(', ')}`);
    assert.ok((await videoFrames(files[0]!)) > 90, 'the recording holds the meeting');
    assert.ok(!suite.server.output().includes(key), 'the stream key is not in the server log');
  });
});
