// End to end: the Recordings dialog. A moderator (Ana) records a few seconds of a two-person meeting, opens
// "Recordings", sees the entry (date, duration, size), downloads it through the browser (the bytes are the
// recorder's file, and ffprobe reads H.264 + AAC from it); Ben, not a moderator, has no such button; the link
// with its token changed, or without it, is refused (403); Ana deletes the recording (after a confirmation) and
// the folder is gone from the recorder's disk. Before that, an admin (adminAccounts) signs in at /recordings
// and sees it there with its room.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { joinThroughUi, launchBrowser, newParticipant, waitUntil } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { UserStore, usersDbPath } from '../../src/signal/auth/users.ts';

function status(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { rejectUnauthorized: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Video frames in a file being written; 0 when there is none yet. */
function videoFrames(file: string): number {
  try {
    const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    return Number(out.toString().trim()) || 0;
  } catch {
    return 0;
  }
}

describe('the Recordings dialog', () => {
  const suite = {} as { server: RunningServer; browser: Browser };
  before(async () => {
    // info: the test waits for the recorder's "recording stopped" line
    suite.server = await startServer({ TERTULIA_LOG_LEVEL: 'info', TERTULIA_RECORDING_WIDTH: '640', TERTULIA_RECORDING_HEIGHT: '360', TERTULIA_ADMIN_ACCOUNTS: 'head' });
    // as `tertulia users add` does, while the server runs
    const users = new UserStore(usersDbPath(suite.server.dataDir));
    await users.add('head', 'head-password');
    users.close();
    // Chromium cancels downloads over a connection whose certificate it does not trust (the test server's is
    // self-signed), even with the context's ignoreHTTPSErrors: this flag makes it trust it
    suite.browser = await launchBrowser(undefined, ['--ignore-certificate-errors']);
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
  });

  test('a moderator records, sees the recording, downloads it, and deletes it; a participant has no button; a forged link is refused', { timeout: 180_000 }, async () => {
    const root = path.join(suite.server.dataDir, 'recordings');
    const ana = await newParticipant(suite.browser, 'Ana');
    const ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Library');
    await joinThroughUi(ben, suite.server.baseUrl, 'Library');

    await ana.page.getByRole('button', { name: 'Start recording' }).click();
    await ana.page.getByRole('status', { name: 'Recording', exact: true }).waitFor({ timeout: 30_000 });
    const mkv = () => {
      const dirs = existsSync(root) ? readdirSync(root) : [];
      const dir = dirs[0];
      const name = dir ? readdirSync(path.join(root, dir)).find((f) => f.endsWith('.mkv')) : undefined;
      return dir && name ? path.join(root, dir, name) : '';
    };
    await waitUntil('two seconds of video in the file', async () => (mkv() ? videoFrames(mkv()) : 0), (n) => n >= 60, 60_000);
    await ana.page.getByRole('button', { name: 'Stop recording' }).click();
    await waitUntil('the recorder to finish the file', async () => suite.server.output().includes('"msg":"recording stopped"'), (v) => v, 60_000);
    const file = mkv();
    const recordingId = path.basename(path.dirname(file));

    // only the moderator has the button (the server refuses the others: test/unit/signal-recording-library.test.ts)
    assert.equal(await ben.page.getByRole('button', { name: 'Recordings' }).count(), 0);
    await ana.page.getByRole('button', { name: 'Recordings' }).click();
    const dialog = ana.page.getByRole('dialog', { name: 'Recordings of this meeting' });
    const link = dialog.getByRole('link', { name: /^Download the recording of / });
    await link.waitFor();
    // the header row, then the one recording's
    assert.equal(await dialog.getByRole('row').count(), 2);
    const cells = await dialog.getByRole('row').nth(1).getByRole('cell').allInnerTexts();
    assert.match(cells[1]!, /^0:0\d$|^0:1\d$|^\d:\d\d$/, `a duration: ${cells[1]}`);
    assert.match(cells[2]!, /^\d+(\.\d)? MB$/, `a size: ${cells[2]}`);

    // the browser downloads it: the recorder's file, byte for byte, and a playable one
    const [download] = await Promise.all([ana.page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), path.basename(file));
    const keep = mkdtempSync(path.join(os.tmpdir(), 'tertulia-download-'));
    try {
      const saved = path.join(keep, download.suggestedFilename());
      await download.saveAs(saved);
      assert.ok(readFileSync(saved).equals(readFileSync(file)), 'the download is the recorded file');
      const codecs = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', saved]).toString().trim().split('\n');
      assert.deepEqual(codecs.sort(), ['aac', 'h264']);
    } finally {
      rmSync(keep, { recursive: true, force: true });
    }

    // the same link with its token changed, or without it: refused
    const href = (await link.getAttribute('href'))!;
    const url = new URL(href, suite.server.baseUrl);
    const t = url.searchParams.get('t')!;
    url.searchParams.set('t', t.slice(0, -2) + (t.endsWith('AA') ? 'BB' : 'AA'));
    const forged = await status(url.toString());
    assert.equal(forged.status, 403);
    assert.match(forged.body, /not valid/);
    url.search = '';
    assert.equal((await status(url.toString())).status, 403);

    // the admin's page lists every room's recordings
    const admin = await newParticipant(suite.browser, 'Head');
    await admin.page.goto(`${suite.server.baseUrl}/recordings`);
    await admin.page.getByRole('textbox', { name: 'Username' }).fill('head');
    await admin.page.getByLabel('Password').fill('head-password');
    await admin.page.getByRole('button', { name: 'Sign in' }).click();
    await admin.page.getByRole('heading', { name: 'Recordings of every room' }).waitFor();
    const adminLink = admin.page.getByRole('link', { name: /^Download the recording of Library, / });
    await adminLink.waitFor();
    assert.equal(new URL((await adminLink.getAttribute('href'))!, suite.server.baseUrl).pathname, url.pathname);
    await admin.context.close();

    // delete, after a confirmation
    await dialog.getByRole('button', { name: /^Delete the recording of / }).click();
    await dialog.getByRole('group', { name: /^Delete the recording of .* for good\?$/ }).getByRole('button', { name: 'Delete' }).click();
    await dialog.getByText('This meeting has no recordings yet.').waitFor();
    assert.equal(existsSync(path.join(root, recordingId)), false, 'the folder is gone');
  });
});
