// `tertulia start` stops on SIGTERM whatever became of its console: its stdout/stderr is a pipe whose reader
// stopped reading (the pipe is full, every write would wait) or is gone (every write fails with EPIPE), as with
// `tertulia start 2>&1 | tee log` when tee stops. The real server runs as a child process whose stdout and
// stderr are one named pipe the test controls; readiness is asked over HTTP(S) (/healthz), not read from stdout.
// Every part: the whole server in one process, and each part alone on NATS (a bridge drains on SIGTERM first);
// after the exit its ports are free.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.ts';
import { WsClient } from '../helpers/signal-client.ts';
import { startNatsServer } from '../helpers/nats.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-stop-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A named pipe with a reader (read end, never read) and a writer (for the server); `full`: filled up first. */
function consolePipe(name: string, full: boolean): { readFd: number; writeFd: number } {
  const fifo = path.join(tmp, name);
  execFileSync('mkfifo', [fifo]);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  if (full) {
    const block = Buffer.alloc(4096, 'x');
    for (;;) {
      try {
        writeSync(writeFd, block);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw e;
      }
    }
  }
  return { readFd, writeFd };
}

function healthy(port: number, plain = false): Promise<boolean> {
  return new Promise((resolve) => {
    const req = (plain ? http : https).get({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** The server with `writeFd` as its console; ready when /healthz answers (HTTPS, or with `metricsPort` the metrics listener). */
async function startWithConsole(
  writeFd: number,
  name: string,
  extraEnv: Record<string, string> = {},
  metricsPort?: number,
): Promise<{ child: ChildProcess; httpsPort: number; mediaPort: number; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const httpsPort = await freeTcpPort();
  const mediaPort = await freeUdpPort();
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'src/cli/main.ts'), 'start'], {
    cwd: repo,
    env: {
      ...process.env,
      TERTULIA_CONFIG: '',
      TERTULIA_LISTEN_ADDRESS: '127.0.0.1',
      TERTULIA_HTTPS_PORT: String(httpsPort),
      TERTULIA_HTTP_PORT: '0',
      TERTULIA_MEDIA_PORT: String(mediaPort),
      TERTULIA_TCP_MEDIA_PORT: '0',
      TERTULIA_MEDIA_WORKERS: '2',
      TERTULIA_DATA_DIR: path.join(tmp, `data-${name}`),
      TERTULIA_LOG_LEVEL: 'debug',
      ...extraEnv,
    },
    stdio: ['ignore', writeFd, writeFd],
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 60_000;
  while (!(await healthy(metricsPort ?? httpsPort, metricsPort !== undefined))) {
    assert.ok(Date.now() < deadline, 'the server did not start');
    assert.equal(child.exitCode, null, 'the server exited while starting');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, httpsPort, mediaPort, exited };
}

/** True when this process can bind the port now (TCP, or UDP). */
function portFree(port: number, udp = false): Promise<boolean> {
  return new Promise((resolve) => {
    if (udp) {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
      return;
    }
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Sends SIGTERM and waits at most `ms` for the exit; kills the process (and fails) when it does not come. */
async function stopWithin(child: ChildProcess, exited: Promise<{ code: number | null; signal: string | null }>, ms: number) {
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([exited, new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)))]);
  clearTimeout(timer);
  if (outcome === 'hung') {
    child.kill('SIGKILL');
    await exited;
  }
  return outcome;
}

/** Some traffic, so that the server has log lines to write (and cannot) while running and while stopping. */
async function useIt(httpsPort: number): Promise<void> {
  const clients = Array.from({ length: 5 }, () => new WsClient(httpsPort));
  await Promise.all(clients.map((c, i) => c.join(`room-${i}`, `P${i}`)));
  for (const c of clients) c.ws.terminate();
}

test('SIGTERM stops a server whose console pipe is full (its reader stopped reading)', { timeout: 90_000 }, async () => {
  const { readFd, writeFd } = consolePipe('full', true);
  try {
    const { child, httpsPort, exited } = await startWithConsole(writeFd, 'full');
    closeSync(writeFd); // the server holds its own copy
    await useIt(httpsPort);
    const outcome = await stopWithin(child, exited, 6000);
    assert.notEqual(outcome, 'hung', 'the server did not exit within 6 s of SIGTERM (nor did its forced exit come)');
    assert.deepEqual(outcome, { code: 0, signal: null });
  } finally {
    closeSync(readFd);
  }
});

test('SIGTERM stops a server whose console pipe has no reader any more (EPIPE)', { timeout: 90_000 }, async () => {
  const { readFd, writeFd } = consolePipe('gone', false);
  const { child, httpsPort, exited } = await startWithConsole(writeFd, 'gone');
  closeSync(writeFd);
  closeSync(readFd); // the reader ends: from now on every write fails with EPIPE
  await useIt(httpsPort);
  assert.equal(child.exitCode, null, 'the server kept running without a console');
  const outcome = await stopWithin(child, exited, 6000);
  assert.notEqual(outcome, 'hung', 'the server did not exit within 6 s of SIGTERM');
  assert.deepEqual(outcome, { code: 0, signal: null });
  assert.ok(await portFree(httpsPort), 'its HTTPS port is free again');
});

/** Each part alone on NATS (a machine of a split deployment), and the ports it must give back once stopped. */
const SPLIT_PARTS: { parts: string; ports: (p: { httpsPort: number; mediaPort: number; sipPort: number }) => { port: number; udp?: boolean; what: string }[] }[] = [
  { parts: 'bridge', ports: (p) => [{ port: p.mediaPort, udp: true, what: 'media' }] },
  { parts: 'web,signal,focus', ports: (p) => [{ port: p.httpsPort, what: 'HTTPS' }] },
  { parts: 'recorder', ports: () => [] },
  { parts: 'sip', ports: (p) => [{ port: p.sipPort, udp: true, what: 'SIP (UDP)' }, { port: p.sipPort, what: 'SIP (TCP)' }] },
];

for (const { parts, ports } of SPLIT_PARTS) {
  test(`SIGTERM stops --parts ${parts} on NATS whose console has no reader; its ports are free after`, { timeout: 90_000 }, async () => {
    const nats = await startNatsServer();
    const { readFd, writeFd } = consolePipe(`split-${parts.replace(/,/g, '-')}`, false);
    try {
      const metricsPort = await freeTcpPort();
      const sipPort = await freeUdpPort();
      const env = {
        TERTULIA_PARTS: parts,
        TERTULIA_NATS_URL: nats.url,
        TERTULIA_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
        TERTULIA_BRIDGE_ID: 'stop-test',
        TERTULIA_SIP_PORT: String(sipPort),
      };
      const { child, httpsPort, mediaPort, exited } = await startWithConsole(writeFd, `split-${parts}`, env, metricsPort);
      closeSync(writeFd);
      closeSync(readFd); // every write fails with EPIPE from now on
      assert.equal(child.exitCode, null, 'it kept running without a console');
      // a bridge drains first: with no meeting on it that ends at once, well within its grace period
      const outcome = await stopWithin(child, exited, 6000);
      assert.notEqual(outcome, 'hung', 'it did not exit within 6 s of SIGTERM');
      assert.deepEqual(outcome, { code: 0, signal: null });
      for (const p of [...ports({ httpsPort, mediaPort, sipPort }), { port: metricsPort, what: 'metrics' }]) {
        assert.ok(await portFree(p.port, p.udp), `its ${p.what} port ${p.port} is free again`);
      }
    } finally {
      await nats.stop();
    }
  });
}
