// Accounts mode ("secure domain") over real HTTPS + WebSocket: users in SQLite with salted scrypt hashes,
// sign-in, rate limits per user and per address, hosts start rooms and guests join them.
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
      assert.equal(await store.check('HOST', PASSWORD), 'host');
      assert.equal(await store.check('host', 'wrong password'), undefined);
      assert.equal(await store.check('nobody', PASSWORD), undefined);
      assert.equal(await store.check('bad name!', PASSWORD), undefined);
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
    assert.equal(early.code, 'auth-required');
    assert.match(early.message, /has not started/);

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

  test('login in open mode is refused clearly', async () => {
    const open = await startTestSignal();
    try {
      const c = open.client();
      const r = await login(c, 'host', PASSWORD);
      assert.equal(r.code, 'bad-message');
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
