// Accounts mode ("secure domain") over real HTTPS + WebSocket: users in SQLite with salted scrypt hashes,
// sign-in, rate limits per user and per address (also against attempts sent all at once), the bounded queue of
// password hashes, sessions that end when the password changes or the user is removed, hosts start rooms and
// guests join them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { UserStore, usersDbPath } from '../../src/signal/auth/users.ts';
import { LOGIN_LIMIT_PER_ADDRESS, LOGIN_LIMIT_PER_USER } from '../../src/signal/admission.ts';
import { DUMMY_HASH, PASSWORD_HASH_LIMITS, passwordHashQueue, verifyPassword } from '../../src/signal/auth/password-hash.ts';
import { QueueFullError } from '../../src/signal/auth/work-queue.ts';
import { startTestSignal, type TestSignal, type WsClient } from '../helpers/signal-client.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-accounts-'));
const PASSWORD = 'correct horse battery staple';

function cli(args: string[], input?: string) {
  return spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'src/cli/main.ts'), 'users', ...args, '--data-dir', dataDir], {
    input: input ?? '',
    encoding: 'utf8',
    env: { ...process.env, TERTULIA_CONFIG: '' },
  });
}

async function login(c: WsClient, username: string, password: string): Promise<any> {
  await c.send({ type: 'login', username, password });
  return await c.next((m) => m.type === 'login-ok' || m.type === 'error');
}

after(() => rmSync(dataDir, { recursive: true, force: true }));

describe('tertulia users', () => {
  test('add, list, passwd, remove; hashes are salted scrypt, never the password', () => {
    assert.equal(cli(['add', 'host'], PASSWORD + '\n').status, 0);
    assert.equal(cli(['add', 'other'], PASSWORD + '\n').status, 0);
    const dup = cli(['add', 'HOST'], PASSWORD + '\n');
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /already exists/);
    const short = cli(['add', 'shorty'], 'abc\n');
    assert.equal(short.status, 1);
    assert.match(short.stderr, /at least 8 characters/);
    assert.match(cli(['list']).stdout, /^host\t.*\nother\t/m);
    const db = new DatabaseSync(usersDbPath(dataDir));
    const rows = db.prepare('SELECT username, password_hash FROM users').all() as { username: string; password_hash: string }[];
    db.close();
    assert.equal(rows.length, 2);
    for (const r of rows) assert.match(r.password_hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.notEqual(rows[0]!.password_hash, rows[1]!.password_hash, 'same password, different salt');
    assert.ok(!readFileSync(usersDbPath(dataDir)).includes(Buffer.from(PASSWORD)));
    assert.equal(statSync(usersDbPath(dataDir)).mode & 0o777, 0o600);
    assert.equal(cli(['add', 'temp'], PASSWORD + '\n').status, 0);
    assert.equal(cli(['passwd', 'temp'], 'another password\n').status, 0);
    assert.equal(cli(['remove', 'temp']).status, 0);
    assert.equal(cli(['remove', 'temp']).status, 1);
    assert.equal(cli(['frob']).status, 2);
  });

  test('the store checks passwords case-insensitively by username', async () => {
    const store = new UserStore(usersDbPath(dataDir));
    try {
      const ok = await store.check('HOST', PASSWORD);
      assert.ok(ok.ok);
      assert.equal(ok.username, 'host');
      assert.equal(ok.stamp, store.stamp('host'));
      assert.deepEqual(await store.check('host', 'wrong password'), { ok: false, busy: false });
      assert.deepEqual(await store.check('nobody', PASSWORD), { ok: false, busy: false });
      assert.deepEqual(await store.check('bad name!', PASSWORD), { ok: false, busy: false });
      await store.add('victim', PASSWORD);
    } finally {
      store.close();
    }
  });
});

describe('accounts mode', () => {
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal({ authMode: 'accounts' }, dataDir);
  });
  after(() => s.stop());

  test('a room needs a signed-in host first; then guests join without an account', async () => {
    const guest = s.client();
    const early = await guest.tryJoin('team', 'Guest');
    assert.deepEqual(early, { type: 'host-wait', room: 'team', signIn: true }, 'a guest before the host waits (the host may sign in there)');

    const host = s.client();
    const ok = await login(host, 'Host', PASSWORD);
    assert.equal(ok.type, 'login-ok');
    assert.equal(ok.username, 'host');
    assert.ok(ok.session.length >= 20);
    const j = await host.join('team', 'The Host', { session: ok.session });
    assert.equal(j.role, 'moderator');

    const g = await guest.join('team', 'Guest');
    assert.equal(g.role, 'participant');
    // the session also works on a new connection (rejoin without typing the password again)
    const again = s.client();
    assert.equal((await again.join('team', 'Host again', { session: ok.session })).role, 'moderator');
    assert.doesNotMatch(s.logs(), new RegExp(PASSWORD), 'passwords never reach the logs');
    assert.ok(!s.logs().includes(ok.session), 'sessions never reach the logs');
  });

  test('wrong password and unknown user both get login-failed; a made-up session gets auth-required', async () => {
    const c = s.client();
    assert.equal((await login(c, 'other', 'wrong password')).code, 'login-failed');
    assert.equal((await login(c, 'ghost', 'wrong password')).code, 'login-failed');
    assert.equal((await c.tryJoin('x-room', 'X', { session: 'made-up-session-token' })).code, 'auth-required');
    assert.equal((await c.expectError({ type: 'login', username: 'a' })).code, 'bad-message');
  });

  test('sign-in is rate-limited per user: after too many failures even the right password waits', async () => {
    const c = s.client();
    for (let i = 0; i < LOGIN_LIMIT_PER_USER.maxFailures; i++) assert.equal((await login(c, 'victim', `wrong ${i}`)).code, 'login-failed');
    const limited = await login(c, 'VICTIM', PASSWORD);
    assert.equal(limited.code, 'rate-limited');
    assert.match(limited.message, /try again in \d+ s/);
  });

  test('and per address: many usernames from one address', async () => {
    const c = s.client();
    // failures so far from this address (earlier tests) count too; go past the limit with fresh usernames
    let last: any;
    for (let i = 0; i < LOGIN_LIMIT_PER_ADDRESS.maxFailures + 1; i++) {
      last = await login(c, `user${i}`, 'wrong password');
      if (last.code === 'rate-limited') break;
    }
    assert.equal(last.code, 'rate-limited');
    assert.equal((await login(c, 'host', PASSWORD)).code, 'rate-limited', 'the right password of another user waits too');
  });

  test('login in open mode without admin accounts is refused clearly (no-accounts, which the page says in its language)', async () => {
    const open = await startTestSignal();
    try {
      const c = open.client();
      const r = await login(c, 'host', PASSWORD);
      assert.equal(r.code, 'no-accounts');
      assert.match(r.message, /no accounts/);
    } finally {
      await open.stop();
    }
  });
});

describe('accounts mode without guests', () => {
  test('a guest is refused even in a started room', async () => {
    const s = await startTestSignal({ authMode: 'accounts', allowGuests: false }, dataDir);
    try {
      // a fresh server: the rate limits of the other server do not apply
      const host = s.client();
      const ok = await login(host, 'host', PASSWORD);
      await host.join('closed', 'Host', { session: ok.session });
      const g = await s.client().tryJoin('closed', 'Guest');
      assert.equal(g.code, 'auth-required');
      assert.match(g.message, /requires signing in/);
    } finally {
      await s.stop();
    }
  });
});

describe('sign-in attacks', () => {
  test('40 sign-ins sent at once: only the per-user limit is checked, the right password last is refused', async () => {
    const s = await startTestSignal({ authMode: 'accounts' }, dataDir);
    try {
      const store = new UserStore(usersDbPath(dataDir));
      await store.add('raced', PASSWORD);
      store.close();
      const clients = Array.from({ length: 40 }, () => s.client());
      await Promise.all(clients.map((c) => c.open()));
      // all in one go, before any answer: the first hash takes far longer than sending these
      for (const [i, c] of clients.entries()) void c.send({ type: 'login', username: 'raced', password: i === 39 ? PASSWORD : `guess ${i}` });
      const outcomes = await Promise.all(clients.map((c) => c.next((m) => m.type === 'login-ok' || m.type === 'error', 20_000)));
      const codes = outcomes.map((m) => (m.type === 'login-ok' ? 'login-ok' : m.code));
      assert.equal(codes.filter((c) => c === 'login-failed').length, LOGIN_LIMIT_PER_USER.maxFailures, codes.join(' '));
      assert.equal(codes.filter((c) => c === 'rate-limited').length, 40 - LOGIN_LIMIT_PER_USER.maxFailures, codes.join(' '));
      assert.equal(codes[39], 'rate-limited', 'the right password, sent 40th, must not get in');
      assert.ok(!codes.includes('login-ok'));
    } finally {
      await s.stop();
    }
  });

  test('password hashes run two at a time; beyond the waiting room a check is refused, not queued', async () => {
    const { concurrency, maxWaiting } = PASSWORD_HASH_LIMITS;
    const checks = Array.from({ length: concurrency + maxWaiting + 10 }, () =>
      verifyPassword('a guess', DUMMY_HASH).then(
        () => 'checked',
        (e: unknown) => (e instanceof QueueFullError ? 'refused' : 'error'),
      ),
    );
    assert.equal(passwordHashQueue.running, concurrency);
    assert.equal(passwordHashQueue.queued, maxWaiting);
    const results = await Promise.all(checks);
    assert.equal(results.filter((r) => r === 'checked').length, concurrency + maxWaiting);
    assert.equal(results.filter((r) => r === 'refused').length, 10);
    assert.equal(passwordHashQueue.running, 0);
    assert.equal(passwordHashQueue.queued, 0);
  });

  test('a sign-in refused because too many hashes wait gets rate-limited and does not count as a failure', async () => {
    const s = await startTestSignal({ authMode: 'accounts' }, dataDir);
    const { concurrency, maxWaiting } = PASSWORD_HASH_LIMITS;
    try {
      // fill the queue from inside this process with tasks held until the sign-in over the network was answered
      // (real hashes could finish first on a fast or a busy machine)
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const filler = Array.from({ length: concurrency + maxWaiting }, () => passwordHashQueue.run(() => held));
      const c = s.client();
      const r = await login(c, 'host', PASSWORD);
      release();
      await Promise.all(filler);
      assert.equal(r.code, 'rate-limited');
      assert.match(r.message, /busy/);
      // nothing was counted: five wrong passwords still get checked, then the limit applies
      for (let i = 0; i < LOGIN_LIMIT_PER_USER.maxFailures; i++) assert.equal((await login(c, 'host', `wrong ${i}`)).code, 'login-failed');
      assert.equal((await login(c, 'host', PASSWORD)).code, 'rate-limited');
    } finally {
      await s.stop();
    }
  });

  test('a password change or removal by `tertulia users` ends the sign-in sessions made before it', async () => {
    const s = await startTestSignal({ authMode: 'accounts' }, dataDir);
    try {
      assert.equal(cli(['add', 'changer'], PASSWORD + '\n').status, 0);
      assert.equal(cli(['add', 'leaver'], PASSWORD + '\n').status, 0);
      const changer = await login(s.client(), 'changer', PASSWORD);
      const leaver = await login(s.client(), 'leaver', PASSWORD);
      assert.equal((await s.client().join('before-change', 'C', { session: changer.session })).role, 'moderator');

      // another process changes the password and removes the other user while the server runs
      assert.equal(cli(['passwd', 'changer'], 'a brand new password\n').status, 0);
      assert.equal(cli(['remove', 'leaver']).status, 0);

      const old = await s.client().tryJoin('after-change', 'C', { session: changer.session });
      assert.equal(old.code, 'auth-required');
      assert.match(old.message, /password was changed or the account removed/);
      assert.equal((await s.client().tryJoin('after-remove', 'L', { session: leaver.session })).code, 'auth-required');
      // the session stays void (no second chance), and a fresh sign-in with the new password works
      assert.equal((await s.client().tryJoin('after-change', 'C', { session: changer.session })).code, 'auth-required');
      assert.equal((await login(s.client(), 'changer', PASSWORD)).code, 'login-failed');
      const fresh = await login(s.client(), 'changer', 'a brand new password');
      assert.equal((await s.client().join('after-change', 'C', { session: fresh.session })).role, 'moderator');
      // a removed and re-added user (same password) does not revive the old session
      assert.equal(cli(['add', 'leaver'], PASSWORD + '\n').status, 0);
      assert.equal((await s.client().tryJoin('after-readd', 'L', { session: leaver.session })).code, 'auth-required');
    } finally {
      await s.stop();
    }
  });

  test('a resume re-checks the account: removed since the socket dropped, it comes back as a guest, not as its moderator self', async () => {
    const s = await startTestSignal({ authMode: 'accounts' }, dataDir);
    try {
      assert.equal(cli(['add', 'resumer'], PASSWORD + '\n').status, 0);
      assert.equal(cli(['add', 'stayer'], PASSWORD + '\n').status, 0);
      const gone = await login(s.client(), 'resumer', PASSWORD);
      const stays = await login(s.client(), 'stayer', PASSWORD);
      const a = s.client();
      const ja = await a.join('resume-check', 'R', { session: gone.session });
      const b = s.client();
      const jb = await b.join('resume-check', 'S', { session: stays.session });
      // both drop; one account is removed meanwhile
      a.ws.terminate();
      b.ws.terminate();
      assert.equal(cli(['remove', 'resumer']).status, 0);
      // (no sign-in session on the new connection, as after a failover to another instance: the record decides)
      const back = await s.client().join('resume-check', 'S', { resume: jb.resumeToken });
      assert.equal(back.selfId, jb.selfId, 'a valid account resumes as itself');
      // a removed account's resume is a new join: here a guest's (the meeting has a host), no moderator any more
      const guest = await s.client().tryJoin('resume-check', 'R', { resume: ja.resumeToken });
      assert.equal(guest.type, 'joined');
      assert.notEqual(guest.selfId, ja.selfId);
      assert.equal(guest.role, 'participant');
      assert.match(s.logs(), /resume refused: its credentials no longer hold/);
    } finally {
      await s.stop();
    }
  });
});
