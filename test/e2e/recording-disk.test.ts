// End to end: the recorder's free-space checks on a real small file system. The server runs in its own mount
// namespace (`unshare -rm`, no root needed) with a 48 MiB tmpfs as its data directory and recordingMinFreeMb 24;
// the test fills that tmpfs from outside (through /proc/<pid>/root), so statfs reports real figures. Filled
// before a start: the start is refused and the moderator reads "Not enough disk space on the recorder". Filled
// while recording: the recorder finishes the file (it decodes without an error), recording.json says disk-full,
// and both people see "The recording stopped: the recorder's disk is full".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { joinThroughUi, launchBrowser, newParticipant, waitUntil } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const MOUNT = 'mount -t tmpfs -o size=48m tertulia-test "$0" && exec "$@"';

/** Can this machine mount a tmpfs in a user + mount namespace (unprivileged)? */
function canMountTmpfs(): boolean {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-unshare-'));
  try {
    execFileSync('unshare', ['-rm', 'sh', '-c', MOUNT, dir, 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  }
}

describe('recording with a nearly full disk', { skip: canMountTmpfs() ? false : 'cannot mount a tmpfs in a user namespace here (unshare -rm)' }, () => {
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    server = await startServer(
      { TERTULIA_LOG_LEVEL: 'info', TERTULIA_RECORDING_MIN_FREE_MB: '24', TERTULIA_RECORDING_WIDTH: '640', TERTULIA_RECORDING_HEIGHT: '360' },
      { wrap: (dataDir) => ['unshare', '-rm', 'sh', '-c', MOUNT, dataDir] },
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
  /** The data directory as the server sees it (its tmpfs). */
  const data = () => `/proc/${server.process.pid}/root${server.dataDir}`;
  const filler = () => path.join(data(), 'filler');
  const fill = () => writeFileSync(filler(), Buffer.alloc(30 * 1024 * 1024, 1));

  test('no start below recordingMinFreeMb; a running recording is finished when the disk fills, and everyone is told', { timeout: 180_000 }, async () => {
    const free = () => {
      const [blocks, size] = run('stat', ['-f', '-c', '%a %S', data()]).trim().split(' ').map(Number);
      return (blocks! * size!) / 2 ** 20;
    };
    assert.ok(free() > 40 && free() <= 48, `the server's data directory is the 48 MiB tmpfs: ${free()} MiB free`);
    const ana = await newParticipant(browser, 'Ana');
    const ben = await newParticipant(browser, 'Ben');
    await joinThroughUi(ana, server.baseUrl, 'Full');
    await joinThroughUi(ben, server.baseUrl, 'Full');

    fill();
    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('alert').filter({ hasText: 'Not enough disk space on the recorder' }).waitFor({ timeout: 30_000 });
    assert.equal(await ana.page.getByRole('status', { name: 'Recording', exact: true }).count(), 0);
    rmSync(filler());

    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    const root = path.join(data(), 'recordings');
    const dir = path.join(root, readdirSync(root)[0]!);
    const mkv = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.mkv'))!);
    const frames = () => Number(run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', mkv]).trim()) || 0;
    await waitUntil('a second of video in the file', async () => frames(), (n) => n >= 30, 60_000);

    fill();
    for (const p of [ana, ben]) await p.page.getByRole('status').filter({ hasText: "The recording stopped: the recorder's disk is full" }).waitFor({ timeout: 30_000 });
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ state: 'detached' });
    await waitUntil('recording.json to say why it ended', async () => JSON.parse(readFileSync(path.join(dir, 'recording.json'), 'utf8')), (m) => Boolean(m.endedAt));
    const meta = JSON.parse(readFileSync(path.join(dir, 'recording.json'), 'utf8'));
    assert.match(meta.endReason, /^disk-full: \d+ MiB free, below recordingMinFreeMb \(24\)$/);
    assert.equal(run('ffmpeg', ['-v', 'error', '-i', mkv, '-f', 'null', '-']).trim(), '', 'the finished file decodes without an error');
    const duration = Number(run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', mkv]).trim());
    assert.ok(duration >= 1, `the file has its duration written (finished, not cut): ${duration} s`);
    rmSync(filler());
  });
});
