// `tertulia start` stops on SIGTERM whatever became of its console: its stdout/stderr is a pipe whose reader
// stopped reading (the pipe is full, every write would wait) or is gone (every write fails with EPIPE), as with
// `tertulia start 2>&1 | tee log` when tee stops. The real server runs as a child process whose stdout and
// stderr are one named pipe the test controls; readiness is asked over HTTPS (/healthz), not read from stdout.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.ts';
import { WsClient } from '../helpers/signal-client.ts';

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

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

async function startWithConsole(writeFd: number, name: string): Promise<{ child: ChildProcess; httpsPort: number; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const httpsPort = await freeTcpPort();
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'src/cli/main.ts'), 'start'], {
    cwd: repo,
    env: {
      ...process.env,
      TERTULIA_CONFIG: '',
      TERTULIA_LISTEN_ADDRESS: '127.0.0.1',
      TERTULIA_HTTPS_PORT: String(httpsPort),
      TERTULIA_HTTP_PORT: '0',
      TERTULIA_MEDIA_PORT: String(await freeUdpPort()),
      TERTULIA_TCP_MEDIA_PORT: '0',
      TERTULIA_TURN: 'off',
      TERTULIA_MEDIA_WORKERS: '2',
      TERTULIA_DATA_DIR: path.join(tmp, `data-${name}`),
      TERTULIA_LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', writeFd, writeFd],
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 60_000;
  while (!(await healthy(httpsPort))) {
    assert.ok(Date.now() < deadline, 'the server did not start');
    assert.equal(child.exitCode, null, 'the server exited while starting');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, httpsPort, exited };
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
});
