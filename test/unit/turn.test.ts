// TURN with the real coturn (Debian's turnserver as the child of turn-service.ts): the REST credentials it hands
// out are accepted by coturn itself (turnutils_uclient allocates and relays with them), wrong and expired ones
// are refused; TURN over TLS on signal's HTTPS port reaches coturn while HTTP and the WebSocket are still served
// there; a browser's `joined` carries the ICE servers; a new secret (SIGHUP) is taken by coturn; the secret never
// appears in the logs and its files are 0600; `tertulia status` and /metrics show it; a taken turnPort is said clearly;
// a coturn orphaned by a killed server is stopped by the next start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '../../src/config/config.ts';
import { turnCredentials } from '../../src/turn/credentials.ts';
import { coturnLoopbackPort, findTurnserver, startTurn, parseHostHeader, type TurnService } from '../../src/turn/turn-service.ts';
import { isStunFirstByte } from '../../src/turn/tls-demux.ts';
import { coturnLineLevel, tcpAnswers } from '../../src/turn/coturn-process.ts';
import { settingsChange } from '../../src/config/reload.ts';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { connectControl } from '../../src/cli/control-client.ts';
import { statusText } from '../../src/cli/commands/status.ts';
import { buildRegistry } from '../../src/metrics/prometheus-metrics.ts';
import { serverStatusSchema } from '../../src/protocol/control-messages.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

const skip = findTurnserver() ? false : 'coturn (turnserver) is not installed';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-turn-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs turnutils_uclient (coturn's test client): allocates, relays `n` messages client to client; its output and exit code. */
function uclient(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('turnutils_uclient', ['-y', '-n', '5', ...args, '127.0.0.1'], { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

/** True when the relayed messages came back (the allocation and the relay worked). */
function relayed(out: string): boolean {
  const m = /tot_recv_msgs=(\d+)/g;
  let last = 0;
  for (const hit of out.matchAll(m)) last = Number(hit[1]);
  return last > 0;
}

async function waitUp(turn: TurnService): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (turn.up() !== 1) {
    if (Date.now() > deadline) throw new Error(`coturn not up: ${JSON.stringify(turn.status())}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('coturn\'s errors are warnings, a client closing its TCP or TLS connection is not', () => {
  // lines as Debian's coturn 4.6 prints them
  assert.equal(coturnLineLevel('94: : ERROR: session 001000000000000004: TCP socket error: Connection reset by peer [::1]:40124'), 'debug');
  assert.equal(coturnLineLevel('12: : ERROR: session 000000000000000002: TLS socket error: Broken pipe 10.0.0.5:51000'), 'debug');
  assert.equal(coturnLineLevel('0: : ERROR: Cannot bind listener socket to device'), 'warn');
  assert.equal(coturnLineLevel('0: : cannot open log file'), 'warn');
  assert.equal(coturnLineLevel('3: : session 000000000000000001: closed (2nd stage), user <1796592170:x>'), 'debug');
});

test('the first byte tells STUN from HTTP', () => {
  for (const b of [0x00, 0x01, 0x3f]) assert.equal(isStunFirstByte(b), true);
  for (const c of 'GPDHOCT') assert.equal(isStunFirstByte(c.charCodeAt(0)), false);
});

test('credentials: <expiry>:<id> and the HMAC-SHA1 of it, expiring after the TTL', () => {
  const c = turnCredentials('0123456789abcdef0123', 600, 'abc', 1_000_000_000_000);
  assert.equal(c.username, '1000000600:abc');
  assert.equal(c.credential, 'A0yRv+lCNkVNmVlCOYFLdaHvukY=');
  assert.deepEqual(parseHostHeader('Meet.Example.org:443'), { host: 'meet.example.org', port: 443 });
  assert.equal(parseHostHeader('evil.org/x'), undefined);
});

test('the TURN secret is a live setting', () => {
  const base = loadConfig({ env: { TERTULIA_CONFIG: '' } });
  const change = settingsChange(base, { ...base, turnSecret: 'a-new-secret-of-16+', turnPort: 3479 });
  assert.deepEqual(change.live, ['turnSecret']);
  assert.deepEqual(change.restart, ['turnPort']);
});

test('coturn on a port of its own (turnPort 0) never takes one this process binds later, such as the HTTPS port', async () => {
  const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { turnPort: 0, httpsPort: 52001, httpPort: 52002, mediaPort: 52003 } });
  // the system offers what is free now: the HTTPS port, the HTTP port and the media port are, until they are bound
  const offers = [52001, 52002, 52003, 52004];
  assert.equal(await coturnLoopbackPort(config, async () => offers.shift()!), 52004);
  assert.deepEqual(offers, []);
  assert.equal(await coturnLoopbackPort(config, async () => 52500), 52500);
});

describe('coturn with the credentials tertulia hands out', { skip }, () => {
  let signal: TestSignal;
  let turn: TurnService;
  let turnPort: number;
  before(async () => {
    turnPort = await freeTcpPort();
    signal = await startTestSignal({ turn: 'on', turnPort, turnRelayPortMin: 45200, turnRelayPortMax: 45999, dataDir: path.join(tmp, 'data') }, undefined, async (config, log) => {
      turn = await startTurn(config, log);
      return turn;
    });
    await waitUp(turn);
  });
  after(async () => {
    await signal?.stop();
  });

  test('coturn relays with them over UDP and TCP on turnPort', async () => {
    const { username, credential } = turn.iceServers('127.0.0.1')[0]!;
    const udp = await uclient(['-u', username, '-w', credential, '-p', String(turnPort)]);
    assert.ok(relayed(udp.out), udp.out.slice(-1500));
    const tcp = await uclient(['-t', '-u', username, '-w', credential, '-p', String(turnPort)]);
    assert.ok(relayed(tcp.out), tcp.out.slice(-1500));
  });

  test('a wrong or expired credential is refused', async () => {
    const { username } = turn.iceServers('127.0.0.1')[0]!;
    const wrong = await uclient(['-u', username, '-w', 'bm90IHRoZSByaWdodCBvbmU=', '-p', String(turnPort)]);
    assert.ok(!relayed(wrong.out));
    assert.match(wrong.out, /Cannot complete Allocation/);
    const secret = readFileSync(path.join(tmp, 'data', 'turn', 'secret'), 'utf8').trim();
    const expired = turnCredentials(secret, 60, 'late', Date.now() - 3600_000);
    const old = await uclient(['-u', expired.username, '-w', expired.credential, '-p', String(turnPort)]);
    assert.ok(!relayed(old.out));
    assert.match(old.out, /Cannot complete Allocation/);
  });

  test('TURN over TLS on the HTTPS port reaches coturn, and HTTP is still served there', async () => {
    const { username, credential, urls } = turn.iceServers(`127.0.0.1:${signal.server.httpsPort}`)[0]!;
    assert.deepEqual(urls, [`turns:127.0.0.1:${signal.server.httpsPort}?transport=tcp`, `turn:127.0.0.1:${turnPort}?transport=udp`, `turn:127.0.0.1:${turnPort}?transport=tcp`]);
    const overTls = await uclient(['-t', '-S', '-u', username, '-w', credential, '-p', String(signal.server.httpsPort)]);
    assert.ok(relayed(overTls.out), overTls.out.slice(-1500));
    const page = await new Promise<number>((resolve, reject) =>
      https.get({ host: '127.0.0.1', port: signal.server.httpsPort, path: '/', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on('error', reject),
    );
    assert.equal(page, 200);
    assert.ok(turn.status().tlsConnections! >= 1);
  });

  test('a STUN binding request over TLS gets coturn\'s answer', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: signal.server.httpsPort, rejectUnauthorized: false });
    await new Promise((r) => socket.once('secureConnect', r));
    const req = Buffer.alloc(20);
    req.writeUInt16BE(0x0001, 0);
    req.writeUInt32BE(0x2112a442, 4);
    for (let i = 8; i < 20; i++) req[i] = i;
    socket.write(req);
    const answer = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.destroy();
    assert.equal(answer.readUInt16BE(0), 0x0101);
    assert.deepEqual(answer.subarray(8, 20), req.subarray(8, 20));
  });

  test('joined carries the TURN servers for the host the browser used', async () => {
    const c = signal.client();
    const joined = await c.join('Sala-Turn', 'Ana');
    assert.equal(joined.iceServers.length, 1);
    assert.deepEqual(joined.iceServers[0].urls[0], `turns:127.0.0.1:${signal.server.httpsPort}?transport=tcp`);
    assert.match(joined.iceServers[0].username, /^\d+:[0-9a-f]+$/);
    c.close();
  });

  test('a new secret (SIGHUP) is taken by coturn: old credentials stop working, new ones work', async () => {
    const before = turn.iceServers('127.0.0.1')[0]!;
    await turn.setSecret('another-turn-secret-0123456789');
    await waitUp(turn);
    const after = turn.iceServers('127.0.0.1')[0]!;
    assert.notEqual(after.credential, before.credential);
    const old = await uclient(['-u', before.username, '-w', before.credential, '-p', String(turnPort)]);
    assert.ok(!relayed(old.out));
    const fresh = await uclient(['-u', after.username, '-w', after.credential, '-p', String(turnPort)]);
    assert.ok(relayed(fresh.out), fresh.out.slice(-1500));
  });

  test('tertulia status and /metrics say coturn is up', async () => {
    const control = await connectControl(signal.config.dataDir);
    const reply = serverStatusSchema.parse(await control.ask({ op: 'status' }));
    control.close();
    assert.equal(reply.turn?.mode, 'coturn');
    assert.equal(reply.turn?.state, 'up');
    assert.match(statusText(reply), new RegExp(`TURN: coturn up, port ${turnPort} \\(UDP, TCP\\) and TLS on the HTTPS port`));
    const text = await buildRegistry({ parts: ['signal'], bus: new MemoryBus(), turn, maxRecordings: 0 }).metrics();
    assert.match(text, /^tertulia_turn_up 1$/m);
    assert.match(text, /^tertulia_turn_tls_connections \d+$/m);
  });

  test('the secret is in no log line, and its files are readable by the owner only', () => {
    const secret = readFileSync(path.join(tmp, 'data', 'turn', 'secret'), 'utf8').trim();
    assert.ok(!signal.logs().includes(secret));
    assert.ok(!signal.logs().includes('another-turn-secret-0123456789'));
    assert.ok(/coturn/.test(signal.logs()), 'coturn output is in the log');
    for (const f of ['secret', 'turnserver.conf']) assert.equal(statSync(path.join(tmp, 'data', 'turn', f)).mode & 0o777, 0o600, f);
  });
});

describe('a taken TURN port', { skip }, () => {
  test('is said clearly, and coturn is down (not crashing anything)', async () => {
    const port = await freeTcpPort();
    const blocker = net.createServer().listen(port, '0.0.0.0');
    await new Promise((r) => blocker.once('listening', r));
    const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { turn: 'on', turnPort: port, dataDir: path.join(tmp, 'data2'), listenAddress: '127.0.0.1' } });
    const { createLogger } = await import('../../src/log.ts');
    const turn = await startTurn(config, createLogger('silent'));
    try {
      const deadline = Date.now() + 10_000;
      while (!turn.status().reason && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(turn.up(), 0);
      assert.match(turn.status().reason ?? '', /TURN port \d+ is taken .*coturn service/);
    } finally {
      await turn.close();
      blocker.close();
    }
  });
});

describe('a coturn left running by a killed server', { skip }, () => {
  test('is stopped by the next start of the same data directory, which then runs its own', async () => {
    const port = await freeTcpPort();
    const dataDir = path.join(tmp, 'data3');
    const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { turn: 'on', turnPort: port, turnRelayPortMin: 47000, turnRelayPortMax: 47099, dataDir, listenAddress: '127.0.0.1' } });
    const { createLogger } = await import('../../src/log.ts');
    const first = await startTurn(config, createLogger('silent'));
    await waitUp(first);
    await first.close();
    // what a SIGKILLed server leaves behind: its coturn, still running on its config file
    const configFile = path.join(dataDir, 'turn', 'turnserver.conf');
    const { spawn } = await import('node:child_process');
    const orphan = spawn(findTurnserver()!, ['-c', configFile], { stdio: 'ignore', detached: true });
    const orphanGone = new Promise((r) => orphan.once('exit', r));
    const deadline = Date.now() + 10_000;
    while (!(await tcpAnswers(port))) {
      assert.ok(Date.now() < deadline, 'the orphan coturn did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const second = await startTurn(config, createLogger('silent'));
    try {
      await orphanGone;
      await waitUp(second);
      const { username, credential } = second.iceServers('127.0.0.1')[0]!;
      assert.ok(relayed((await uclient(['-u', username, '-w', credential, '-p', String(port)])).out));
    } finally {
      await second.close();
      if (orphan.exitCode === null) orphan.kill('SIGKILL');
    }
  });
});

describe('a server killed with SIGKILL', { skip }, () => {
  test('takes its coturn with it (the child has a parent-death signal)', async () => {
    const port = await freeTcpPort();
    const dataDir = path.join(tmp, 'data4');
    // a process that runs coturn as the server does, then waits to be killed
    const script = path.join(tmp, 'turn-owner.ts');
    writeFileSync(
      script,
      `import { loadConfig } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/config/config.ts'))};
import { startTurn } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/turn/turn-service.ts'))};
import { createLogger } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/log.ts'))};
const config = loadConfig({ env: { TERTULIA_CONFIG: '' }, overrides: { turn: 'on', turnPort: ${port}, turnRelayPortMin: 47100, turnRelayPortMax: 47199, dataDir: ${JSON.stringify(dataDir)}, listenAddress: '127.0.0.1' } });
await startTurn(config, createLogger('silent'));
setInterval(() => {}, 1000);
`,
    );
    const { spawn } = await import('node:child_process');
    const owner = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', script], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 15_000;
      while (!(await tcpAnswers(port))) {
        assert.ok(Date.now() < deadline, 'coturn did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
      const pid = Number(readFileSync(path.join(dataDir, 'turn', 'turnserver.pid'), 'utf8').trim());
      assert.ok(pid > 1, 'coturn wrote its pid');
      const alive = () => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      assert.ok(alive());
      owner.kill('SIGKILL');
      const gone = Date.now() + 10_000;
      while (alive() && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      assert.ok(!alive(), `coturn (pid ${pid}) outlived its killed server`);
      assert.equal(await tcpAnswers(port), false, 'nothing answers on its port');
    } finally {
      if (owner.exitCode === null) owner.kill('SIGKILL');
    }
  });
});
