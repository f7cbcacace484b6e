// The `tertulia` command's configuration handling, run as a child process the way an admin runs it:
// `tertulia config` prints the effective settings; bad settings and bad usage exit 2 with a message.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const main = path.join(repo, 'src/cli/main.ts');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TERTULIA_')) env[k] = v;
  return { ...env, TERTULIA_CONFIG: '', ...extra };
}

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', main, ...args], {
    cwd: tmp,
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('tertulia config: defaults < file < environment < options', () => {
  const file = path.join(tmp, 'site.json');
  writeFileSync(file, JSON.stringify({ httpsPort: 9001, httpPort: 9002, mediaPort: 9003, publicAddress: '203.0.113.7' }));
  const r = run(['config', '--config', file, '--http-port', '9202', '--data-dir', 'state'], { TERTULIA_HTTPS_PORT: '9101', TERTULIA_HTTP_PORT: '9102' });
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.equal(c.httpsPort, 9101);
  assert.equal(c.httpPort, 9202);
  assert.equal(c.mediaPort, 9003);
  assert.equal(c.publicAddress, '203.0.113.7');
  assert.equal(c.dataDir, path.join(tmp, 'state'));
  assert.equal(c.listenAddress, '0.0.0.0');
});

test('tertulia config reads ./tertulia.json when present', () => {
  const dir = mkdtempSync(path.join(tmp, 'cwd-'));
  writeFileSync(path.join(dir, 'tertulia.json'), JSON.stringify({ mediaPort: 12345 }));
  const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', main, 'config'], {
    cwd: dir,
    env: (() => {
      const e = cleanEnv();
      delete e.TERTULIA_CONFIG;
      return e;
    })(),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).mediaPort, 12345);
});

test('a bad setting exits 2 and names it', () => {
  const r = run(['config', '--https-port', '70000']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /httpsPort/);
  const e = run(['start', '--media-port', 'lots']);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /mediaPort/);
  const f = run(['config'], { TERTULIA_LOG_LEVEL: 'chatty' });
  assert.equal(f.code, 2);
  assert.match(f.stderr, /logLevel/);
});

test('--help, --version, unknown commands and options', () => {
  const help = run(['--help']);
  assert.equal(help.code, 0);
  for (const word of ['start', 'config', '--https-port', '--http-port', '--media-port', '--public-address', '--data-dir', '--tls-cert', '--tls-key', '--domain', '--acme-email', '--acme-directory-url', '--metrics-address', '--metrics-token', '--log-level', '--listen-address', '--config']) {
    assert.ok(help.stdout.includes(word), `help mentions ${word}`);
  }
  const version = run(['--version']);
  assert.equal(version.code, 0);
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  assert.equal(version.stdout.trim(), `tertulia ${pkg.version}`);

  const unknown = run(['launch']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "launch"/);
  assert.match(unknown.stderr, /Usage: tertulia/);

  const badOption = run(['start', '--colour']);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /--colour/);
  assert.match(badOption.stderr, /Usage: tertulia/);

  const none = run([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: tertulia/);
});

test('several machines: --parts, --nats-url and credentials', () => {
  const help = run(['--help']);
  for (const word of ['--parts', '--nats-url', '--nats-user', '--nats-password', '--nats-token', '--bridge-id', '--parts bridge --nats-url']) {
    assert.ok(help.stdout.includes(word), `help mentions ${word}`);
  }

  const split = run(['config', '--parts', 'web, focus'], { TERTULIA_NATS_URL: 'nats://ana:pa55@10.0.0.5:4222', TERTULIA_NATS_PASSWORD: 'hunter2-secret', TERTULIA_NATS_TOKEN: 't0k3n-secret', TERTULIA_METRICS_TOKEN: 'm3trics-secret', TERTULIA_SIP_TRUNK_PASSWORD: 'tr0nk-secret' });
  assert.equal(split.code, 0, split.stderr);
  const config = JSON.parse(split.stdout);
  assert.deepEqual(config.parts, ['signal', 'focus']);
  assert.equal(config.natsUrl, 'nats://[secret]@10.0.0.5:4222');
  assert.equal(config.natsPassword, '[secret]');
  assert.equal(config.natsToken, '[secret]');
  assert.equal(config.metricsToken, '[secret]');
  assert.equal(config.sipTrunkPassword, '[secret]');
  for (const secret of ['pa55', 'hunter2-secret', 't0k3n-secret', 'm3trics-secret', 'tr0nk-secret']) assert.ok(!split.stdout.includes(secret));
  // what only looks like a secret by its name is shown: an admin checks it here
  const shown = JSON.parse(run(['config'], { TERTULIA_JWT_AUDIENCE: 'meet-app', TERTULIA_JWT_APP_ID: 'my-app', TERTULIA_JWT_SECRET: 'jwt-s3cret-value-long', TERTULIA_AUTH_MODE: 'token', TERTULIA_ADMIN_API_JWT: 'true' }).stdout);
  assert.deepEqual(shown.jwtAudience, ['meet-app']);
  assert.equal(shown.jwtAppId, 'my-app');
  assert.equal(shown.adminApiJwt, true);
  assert.equal(shown.jwtSecret, '[secret]');
  // a URL without scheme, or a password with "/" or "@": the password is never printed either
  for (const url of ['ana:pa55@10.0.0.5:4222', 'nats://ana:pa/55@10.0.0.5:4222', 'nats://ana:p@55@10.0.0.5:4222']) {
    const out = run(['config', '--nats-url', url]);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(!/pa55|pa\/55|p@55/.test(out.stdout), out.stdout);
    assert.match(JSON.parse(out.stdout).natsUrl, /^(nats:\/\/)?\[secret\]@10\.0\.0\.5:4222$/);
  }
  assert.deepEqual(JSON.parse(run(['config']).stdout).parts, ['signal', 'focus', 'bridge', 'recorder', 'sip'], 'all parts by default');
  assert.deepEqual(JSON.parse(run(['config', '--parts', 'all']).stdout).parts, ['signal', 'focus', 'bridge', 'recorder', 'sip']);

  // a split process with no NATS to reach the other parts: refused before anything starts
  const lonely = run(['start', '--parts', 'bridge']);
  assert.equal(lonely.code, 2);
  assert.match(lonely.stderr, /--parts bridge needs --nats-url/);
  assert.doesNotMatch(lonely.stdout, /Tertulia is ready/);

  const badPart = run(['config', '--parts', 'bridge,jibri']);
  assert.equal(badPart.code, 2);
  assert.match(badPart.stderr, /parts.*web \(or signal\), focus, bridge, recorder, sip, or all/);
  const badId = run(['config', '--bridge-id', 'b.1']);
  assert.equal(badId.code, 2);
  assert.match(badId.stderr, /bridgeId: a bridge id is letters, digits/);
});

test('bridge id: the setting, else <short hostname>-<media port>, always one subject token', async () => {
  const { effectiveBridgeId } = await import('../../src/cli/commands/start.ts');
  const { loadConfig } = await import('../../src/config/config.ts');
  const base = loadConfig({ env: { TERTULIA_CONFIG: '' } });
  assert.equal(effectiveBridgeId({ ...base, bridgeId: 'video-1' }, 'meet-b'), 'video-1');
  assert.equal(effectiveBridgeId(base, 'meet-b.example.org'), 'meet-b-10000');
  assert.equal(effectiveBridgeId({ ...base, mediaPort: 10001 }, 'meet b'), 'meet-b-10001');
  assert.match(effectiveBridgeId({ ...base, mediaPort: 0 }, ''), /^bridge-[0-9a-f]{6}$/);
});

test('a negative value: after "=" it reaches the setting\'s own check; after a space the parser\'s ambiguity is explained', () => {
  const spaced = run(['config', '--last-n', '-3']);
  assert.equal(spaced.code, 2);
  assert.match(spaced.stderr, /--last-n -3: a value that starts with "-" is written --last-n=-3/);
  const joined = run(['config', '--last-n=-3']);
  assert.equal(joined.code, 2);
  assert.match(joined.stderr, /lastN: Too small: expected number to be >=0/);
});

test('a command\'s --help (and help COMMAND) prints that command\'s own line', () => {
  for (const args of [['users', '--help'], ['help', 'users']]) {
    const r = run(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tertulia users: accounts .*users add NAME \| remove NAME \| passwd NAME \| list/);
    assert.ok(!r.stdout.includes('--https-port'), 'not the whole help');
  }
  assert.match(run(['start', '--help']).stdout, /--https-port/);
  // the several-machines example runs the NATS server with a user and password
  assert.match(run(['--help']).stdout, /nats-server -a 10\.0\.0\.5 -p 4222 --user "\$TERTULIA_NATS_USER" --pass "\$TERTULIA_NATS_PASSWORD"/);
});
