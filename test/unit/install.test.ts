// `tertulia install` / `uninstall` into a staged root (a directory standing for /, as for a system image): the
// real useradd/userdel (--prefix), the unit checked by systemd-analyze, and the server started the way the unit
// starts it: as the new user, with only the unit's capability, reading the 0640 configuration through its group.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../helpers/server.ts';
import { temporaryLocation } from '../../src/cli/commands/install.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;

function tertulia(...args: string[]) {
  const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'src/cli/main.ts'), ...args], { encoding: 'utf8', env: { ...process.env, TERTULIA_CONFIG: '' } });
  return { code: r.status, out: r.stdout + r.stderr };
}

function passwdEntry(root: string, user: string): string[] | undefined {
  return readFileSync(path.join(root, 'etc/passwd'), 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[0] === user);
}

/** Everyone may enter each directory on the way to `p`. */
function reachable(p: string): boolean {
  for (let d = path.dirname(p); d !== path.dirname(d); d = path.dirname(d)) if ((statSync(d).mode & 0o001) === 0) return false;
  return true;
}

describe('tertulia install and uninstall (as root, into a staged root)', { skip: isRoot ? false : 'needs root (useradd)' }, () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tertulia-install-'));
  chmodSync(root, 0o755);
  mkdirSync(path.join(root, 'etc'));
  for (const f of ['passwd', 'group', 'shadow', 'gshadow', 'login.defs']) if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, path.join(root, 'etc', f));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('install: user, data directory, configuration with the settings given, a unit systemd accepts; again: kept', async (t) => {
    const first = tertulia('install', '--root', root, '--domain', 'meet.example.org', '--https-port', '443', '--no-start');
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /user tertulia: created/);
    const user = passwdEntry(root, 'tertulia');
    assert.ok(user, 'the user is in the staged /etc/passwd');
    assert.equal(user[5], '/var/lib/tertulia');
    assert.equal(user[6], '/usr/sbin/nologin');
    const [uid, gid] = [Number(user[2]), Number(user[3])];
    assert.ok(uid > 0 && uid < 1000, `a system uid: ${uid}`);

    const data = statSync(path.join(root, 'var/lib/tertulia'));
    assert.equal(data.mode & 0o777, 0o700);
    assert.equal(data.uid, uid);
    assert.equal(statSync(path.join(root, 'var/lib')).mode & 0o777, 0o755, 'parents stay enterable');

    const configFile = path.join(root, 'etc/tertulia/tertulia.json');
    const config = statSync(configFile);
    assert.equal(config.mode & 0o777, 0o640);
    assert.deepEqual([config.uid, config.gid], [0, gid], 'root:tertulia');
    assert.deepEqual(JSON.parse(readFileSync(configFile, 'utf8')), { dataDir: '/var/lib/tertulia', domain: 'meet.example.org', httpsPort: 443 });

    const unitFile = path.join(root, 'etc/systemd/system/tertulia.service');
    const unit = readFileSync(unitFile, 'utf8');
    assert.match(unit, /^User=tertulia$/m);
    assert.match(unit, /^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    assert.match(unit, /^ReadWritePaths=\/var\/lib\/tertulia$/m);
    assert.ok(unit.includes(`ExecStart=${process.execPath} --disable-warning=ExperimentalWarning ${path.join(repo, 'scripts/launch.mjs')} start`));
    const verify = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', 'systemd-analyze verify has nothing to say about the unit');

    // again with another setting: the file keeps the first ones, the user and directory are reused
    const again = tertulia('install', '--root', root, '--log-level', 'debug', '--no-start');
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /user tertulia: exists/);
    assert.match(again.out, /updated/);
    assert.deepEqual(JSON.parse(readFileSync(configFile, 'utf8')), { dataDir: '/var/lib/tertulia', domain: 'meet.example.org', httpsPort: 443, logLevel: 'debug' });
    const unchanged = tertulia('install', '--root', root, '--no-start');
    assert.match(unchanged.out, /\(kept;/);

    // the server starts as the unit starts it: the new user, the unit's one capability, the configuration read
    // through the group (ports and data directory moved by the environment, which comes before the file)
    if (!reachable(path.join(repo, 'scripts/launch.mjs')) || !reachable(path.join(repo, 'src/cli/main.ts')) || !reachable(process.execPath)) {
      t.diagnostic('the repository is not readable by other users here: the run as the service user is skipped');
      return;
    }
    const server = await startServer(
      { TERTULIA_CONFIG: configFile, TERTULIA_LOG_LEVEL: 'info', HOME: '/nonexistent' },
      {
        wrap: (dataDir) => {
          chownSync(dataDir, uid, gid);
          return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service', '--'];
        },
      },
    );
    try {
      const status = await new Promise<number | undefined>((resolve, reject) =>
        https.get(`https://127.0.0.1:${server.httpsPort}/SomeRoom`, { rejectUnauthorized: false }, (res) => resolve(res.resume().statusCode)).on('error', reject),
      );
      assert.equal(status, 200, 'it serves the meeting page');
      assert.match(server.output(), /meet\.example\.org/, 'the domain from the 0640 configuration file was read');
      assert.equal(statSync(path.join(server.dataDir, 'control.sock')).uid, uid, 'it runs as the service user');
    } finally {
      await server.stop();
    }
  });

  test('uninstall keeps the configuration, data and user; --purge removes them', () => {
    const keep = tertulia('uninstall', '--root', root);
    assert.equal(keep.code, 0, keep.out);
    assert.ok(!existsSync(path.join(root, 'etc/systemd/system/tertulia.service')));
    assert.ok(existsSync(path.join(root, 'etc/tertulia/tertulia.json')));
    assert.ok(existsSync(path.join(root, 'var/lib/tertulia')));
    assert.ok(passwdEntry(root, 'tertulia'));
    const purge = tertulia('uninstall', '--root', root, '--purge');
    assert.equal(purge.code, 0, purge.out);
    assert.ok(!existsSync(path.join(root, 'etc/tertulia')));
    assert.ok(!existsSync(path.join(root, 'var/lib/tertulia')));
    assert.equal(passwdEntry(root, 'tertulia'), undefined, 'the user is gone');
  });

  test('bad input: a --data-dir elsewhere is refused, nothing written', () => {
    const r = tertulia('install', '--root', root, '--data-dir', '/srv/x');
    assert.equal(r.code, 2);
    assert.match(r.out, /keeps its data in \/var\/lib\/tertulia/);
  });
});

test('a checkout or a Node under /tmp or /var/tmp is found (the service, with its private /tmp, could not start from there)', () => {
  assert.equal(temporaryLocation('/tmp/fresh', '/usr/bin/node'), '/tmp/fresh');
  assert.equal(temporaryLocation('/opt/tertulia', '/var/tmp/node22/bin/node'), '/var/tmp/node22/bin/node');
  assert.equal(temporaryLocation('/tmp'), '/tmp');
  assert.equal(temporaryLocation('/opt/tertulia', '/usr/bin/node'), undefined);
  assert.equal(temporaryLocation('/opt/tmpfiles/tertulia', '/home/a/tmp/node'), undefined);
});
