// The Recordings page's server side: signal over real HTTPS + WebSocket, a real recorder part on the same
// MemoryBus, and a data directory with real small .mkv recordings. Download tokens (forged, expired, for another
// file or recording: refused); a moderator lists the room's recordings (only that room's) with links, a
// participant is refused; a download streams the file's exact bytes (and a Range), without a token or with a
// bad one it is a 403, path tricks a 400/404; a moderator deletes only their own room's recording.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { UserStore, usersDbPath } from '../../src/signal/auth/users.ts';
import { createLogger } from '../../src/log.ts';
import { startRecorder, type RecorderPart } from '../../src/recorder/index.ts';
import { DOWNLOAD_LINK_SECONDS, DownloadTokens } from '../../src/signal/download-tokens.ts';
import { makeRecording } from '../helpers/recording-files.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

describe('download tokens', () => {
  const tokens = new DownloadTokens();
  const t0 = Date.parse('2026-02-01T10:00:00Z');
  const id = 'rec-0123456789abcdef';
  const token = tokens.make(id, 'a.mkv', 'r1', t0);

  test('good for its file and recording until it expires', () => {
    assert.deepEqual(tokens.check(token, id, 'a.mkv', t0 + 1000), { ok: true, recorderId: 'r1' });
    assert.deepEqual(tokens.check(token, id, 'a.mkv', t0 + (DOWNLOAD_LINK_SECONDS - 1) * 1000), { ok: true, recorderId: 'r1' });
    assert.deepEqual(tokens.check(token, id, 'a.mkv', t0 + DOWNLOAD_LINK_SECONDS * 1000), { ok: false, reason: 'expired' });
  });

  test('refused for another file or recording, when forged or malformed, or from another server', () => {
    const [expiry, recorder, mac] = token.split('.');
    const flipped = mac!.slice(0, -1) + (mac!.endsWith('A') ? 'B' : 'A');
    assert.deepEqual(tokens.check(token, id, 'b.mkv', t0), { ok: false, reason: 'forged' });
    assert.deepEqual(tokens.check(token, 'rec-fedcba9876543210', 'a.mkv', t0), { ok: false, reason: 'forged' });
    assert.deepEqual(tokens.check(`${expiry}.${recorder}.${flipped}`, id, 'a.mkv', t0), { ok: false, reason: 'forged' });
    // a later expiry, or another recorder, with the old signature
    assert.deepEqual(tokens.check(`${Number(expiry) + 86_400}.${recorder}.${mac}`, id, 'a.mkv', t0), { ok: false, reason: 'forged' });
    assert.deepEqual(tokens.check(`${expiry}.r2.${mac}`, id, 'a.mkv', t0), { ok: false, reason: 'forged' });
    assert.deepEqual(new DownloadTokens().check(token, id, 'a.mkv', t0), { ok: false, reason: 'forged' }, 'another key (a restarted signal)');
    for (const bad of ['', 'x', 'a.b', '1.r1', '1.r1.x.y', 'soon.r1.abc', '1.r/1.abc']) {
      assert.equal((tokens.check(bad, id, 'a.mkv', t0) as { reason: string }).reason, bad === '' ? 'missing' : 'malformed', bad);
    }
  });
});

function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: urlPath, headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

describe('recordings through signal', () => {
  let s: TestSignal;
  let recorder: RecorderPart;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-signal-library-'));
  const maths = makeRecording(dataDir, { room: 'Maths', startedAt: new Date('2026-01-10T09:00:00Z'), endedAt: new Date('2026-01-10T09:45:00Z') });
  const history = makeRecording(dataDir, { room: 'History', startedAt: new Date('2026-01-11T09:00:00Z'), endedAt: new Date('2026-01-11T09:20:00Z') });

  before(async () => {
    // an admin account and one that is not (the users database serves admins in open mode too)
    const signalDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-signal-admin-'));
    const users = new UserStore(usersDbPath(signalDir));
    await users.add('Head', 'head-password');
    await users.add('teacher', 'teacher-password');
    users.close();
    s = await startTestSignal({ adminAccounts: 'head' }, signalDir);
    const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { dataDir, logLevel: 'silent' } });
    recorder = startRecorder({ bus: s.bus, config, log: createLogger('silent'), recorderId: 'r1' });
  });
  after(async () => {
    await recorder.close();
    await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let mod: ReturnType<TestSignal['client']>;
  let pupil: ReturnType<TestSignal['client']>;

  test('a moderator lists the room\'s recordings and downloads one; the bytes are the file', async () => {
    mod = s.client();
    await mod.join('Maths', 'Teacher');
    pupil = s.client();
    await pupil.join('Maths', 'Pupil');
    assert.equal((await pupil.expectError({ type: 'list-recordings' })).code, 'not-moderator');

    await mod.send({ type: 'list-recordings' });
    const { recordings } = await mod.nextOfType('recordings');
    assert.equal(recordings.length, 1, 'only this room\'s recording');
    const entry = recordings[0];
    const name = path.basename(maths.file);
    const bytes = readFileSync(maths.file);
    assert.equal(entry.recordingId, maths.recordingId);
    assert.equal(entry.room, 'Maths');
    assert.equal(entry.size, bytes.length);
    assert.equal(entry.running, false);
    assert.equal(entry.endedAt, '2026-01-10T09:45:00.000Z');
    assert.match(entry.files[0].url, new RegExp(`^/recordings/${maths.recordingId}/${name.replace(/\./g, '\\.')}\\?t=\\d+\\.r1\\.[A-Za-z0-9_-]+$`));

    const res = await get(s.server.httpsPort, entry.files[0].url);
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['content-type'], 'video/x-matroska');
    assert.equal(res.headers['content-length'], String(bytes.length));
    assert.equal(res.headers['content-disposition'], `attachment; filename="${name}"`);
    assert.ok(res.body.equals(bytes), 'the download is the file, byte for byte');

    const part = await get(s.server.httpsPort, entry.files[0].url, { Range: 'bytes=300000-300099' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 300000-300099/${bytes.length}`);
    assert.ok(part.body.equals(bytes.subarray(300000, 300100)));
    const tail = await get(s.server.httpsPort, entry.files[0].url, { Range: 'bytes=-10' });
    assert.ok(tail.body.equals(bytes.subarray(bytes.length - 10)));
    assert.equal((await get(s.server.httpsPort, entry.files[0].url, { Range: `bytes=${bytes.length}-` })).status, 416);
  });

  test('no token, a forged or another file\'s token: 403; path tricks: 400 or 404', async () => {
    const port = s.server.httpsPort;
    const name = path.basename(maths.file);
    const base = `/recordings/${maths.recordingId}/${name}`;
    const noToken = await get(port, base);
    assert.equal(noToken.status, 403);
    assert.match(noToken.body.toString(), /no token/);
    // a token made with another key: as good as forged
    const forged = await get(port, `${base}?t=${new DownloadTokens().make(maths.recordingId, name, 'r1')}`);
    assert.equal(forged.status, 403);
    assert.match(forged.body.toString(), /not valid for this file/);

    // a good link of one recording does not open another one or another file
    const other = s.client();
    await other.join('History', 'Teacher');
    await other.send({ type: 'list-recordings' });
    const [entry] = (await other.nextOfType('recordings')).recordings;
    assert.equal(entry.recordingId, history.recordingId);
    const t = new URL(entry.files[0].url, 'https://x').searchParams.get('t');
    assert.equal((await get(port, `${base}?t=${t}`)).status, 403);
    assert.equal((await get(port, `/recordings/${history.recordingId}/recording.json?t=${t}`)).status, 403);

    for (const trick of [
      `/recordings/${history.recordingId}/..%2F${maths.recordingId}%2F${name}?t=${t}`,
      `/recordings/${history.recordingId}/../../users.sqlite?t=${t}`,
      `/recordings/..%2F..%2Fetc/passwd?t=${t}`,
      `/recordings/${history.recordingId}/%2e%2e?t=${t}`,
      `/recordings/${history.recordingId}/a%00.mkv?t=${t}`,
      `/recordings/REC-X/${name}?t=${t}`,
      `/recordings/${history.recordingId}/${name}/more?t=${t}`,
    ]) {
      const r = await get(port, trick);
      assert.ok(r.status === 400 || r.status === 404, `${trick}: ${r.status} ${r.body.toString()}`);
    }
  });

  test('admins (adminAccounts) list every room\'s recordings; nobody else may', async () => {
    const c = s.client();
    assert.equal((await c.expectError({ type: 'admin-list-recordings', session: 'made-up' })).code, 'not-admin');
    // open mode: only an admin account signs in at all; another account is refused as a wrong password is (the
    // answer does not tell who is an admin)
    assert.equal((await c.expectError({ type: 'login', username: 'teacher', password: 'teacher-password' })).code, 'login-failed');
    assert.equal((await c.expectError({ type: 'login', username: 'head', password: 'wrong-password' })).code, 'login-failed');
    await c.send({ type: 'login', username: 'head', password: 'head-password' });
    const { session } = await c.nextOfType('login-ok');
    // a moderator's own requests are not an admin's
    assert.equal((await c.expectError({ type: 'list-recordings' })).code, 'not-joined');
    const other = s.client();
    await other.send({ type: 'admin-list-recordings', session });
    const { recordings } = await other.nextOfType('recordings');
    assert.deepEqual(recordings.map((r: any) => r.room).sort(), ['History', 'Maths']);
    const res = await get(s.server.httpsPort, recordings.find((r: any) => r.room === 'History').files[0].url);
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(readFileSync(history.file)));
    await other.send({ type: 'admin-delete-recording', session, recordingId: history.recordingId });
    await other.nextOfType('recording-deleted');
    assert.equal(existsSync(history.dir), false);
  });

  test('a moderator deletes their room\'s recording, not another room\'s', async () => {
    const other = makeRecording(dataDir, { room: 'Other', startedAt: new Date('2026-01-12T09:00:00Z'), endedAt: new Date('2026-01-12T09:20:00Z') });
    assert.equal((await mod.expectError({ type: 'delete-recording', recordingId: other.recordingId })).code, 'recording-not-found');
    assert.ok(existsSync(other.dir));
    assert.equal((await mod.expectError({ type: 'delete-recording', recordingId: '../x' })).code, 'bad-message');
    assert.equal((await pupil.expectError({ type: 'delete-recording', recordingId: maths.recordingId })).code, 'not-moderator');

    await mod.send({ type: 'delete-recording', recordingId: maths.recordingId });
    assert.deepEqual(await mod.nextOfType('recording-deleted'), { type: 'recording-deleted', recordingId: maths.recordingId });
    assert.equal(existsSync(maths.dir), false);
    await mod.send({ type: 'list-recordings' });
    assert.deepEqual((await mod.nextOfType('recordings')).recordings, []);
  });
});
