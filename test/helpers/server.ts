// Starts the whole suite (`tertulia start`, every part in one process) as a child process, the way an
// admin does, on free ports and a temporary data directory: through scripts/launch.mjs, so the server runs the
// JavaScript build in dist/ when it is up to date (scripts/test builds it) and the TypeScript otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort } from './ports.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunningServer {
  baseUrl: string;
  httpsPort: number;
  httpPort: number;
  mediaPort: number;
  /** The SIP gateway's port (UDP and TCP), when the process runs the sip part. */
  sipPort: number | undefined;
  dataDir: string;
  process: ChildProcess;
  /** Everything the server printed so far (stdout + stderr). */
  output(): string;
  /** True while the server process is alive. */
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * `netns`: run the server inside that network namespace (`ip netns exec`, which execs the server itself, so
 * the child is the server); `host`: the address browsers use in baseUrl (default 127.0.0.1); `wrap`: a command
 * that runs before the server and execs it (given the data directory), e.g. one mounting a small file system there;
 * `args`: command-line options after `start`, run through the `./tertulia` script as an admin does (it execs Node,
 * so the child is still the server). Ports given in `extraEnv` are used (and reported) instead of free ones.
 */
export async function startServer(
  extraEnv: Record<string, string> = {},
  opts: { netns?: string; host?: string; wrap?: (dataDir: string) => string[]; args?: string[] } = {},
): Promise<RunningServer> {
  const given = (name: string) => (extraEnv[name] !== undefined ? Number(extraEnv[name]) : undefined);
  const httpsPort = given('TERTULIA_HTTPS_PORT') ?? (await freeTcpPort());
  // a port is free again once picked (nothing binds it until the server starts): never the same twice
  let httpPort = given('TERTULIA_HTTP_PORT') ?? (await freeTcpPort());
  while (httpPort === httpsPort) httpPort = await freeTcpPort();
  const mediaPort = given('TERTULIA_MEDIA_PORT') ?? (await freeUdpPort());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-test-'));
  const command = opts.args
    ? [path.join(repo, 'tertulia'), 'start', ...opts.args]
    : [process.execPath, '--disable-warning=ExperimentalWarning', path.join(repo, 'scripts/launch.mjs'), 'start'];
  if (opts.wrap) command.unshift(...opts.wrap(dataDir));
  if (opts.netns) command.unshift('ip', 'netns', 'exec', opts.netns);
  const child = spawn(
    command[0]!,
    command.slice(1),
    {
      cwd: repo,
      env: {
        ...process.env,
        TERTULIA_CONFIG: '',
        TERTULIA_LISTEN_ADDRESS: '0.0.0.0',
        TERTULIA_HTTPS_PORT: String(httpsPort),
        TERTULIA_HTTP_PORT: String(httpPort),
        TERTULIA_MEDIA_PORT: String(mediaPort),
        // ICE-TCP off unless a test asks for it (4443 is one port for every server of the machine)
        TERTULIA_TCP_MEDIA_PORT: '0',
        // the SIP gateway on any free port (5060 is one port for every server of the machine)
        TERTULIA_SIP_PORT: '0',
        // no coturn unless a test asks for it (3478 is one port for every server of the machine)
        TERTULIA_TURN: 'off',
        // the tests of two browsers read the bridge's media: peer-to-peer for two only where a test asks for it
        TERTULIA_P2P: 'false',
        TERTULIA_DATA_DIR: dataDir,
        TERTULIA_LOG_LEVEL: process.env.TERTULIA_TEST_LOG_LEVEL ?? 'warn',
        // every test browser comes from 127.0.0.1: per-address caps only where a test sets them
        TERTULIA_MAX_CONNECTIONS_PER_ADDRESS: '10000',
        TERTULIA_MAX_PARTICIPANTS_PER_ADDRESS: '10000',
        TERTULIA_MAX_ROOMS_PER_ADDRESS_PER_MINUTE: '10000',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let exited = false;
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  child.on('exit', () => (exited = true));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes('Tertulia is ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    baseUrl: `https://${opts.host ?? '127.0.0.1'}:${httpsPort}`,
    httpsPort,
    httpPort,
    mediaPort,
    sipPort: (() => {
      const m = /(\d+)\/udp\+tcp +SIP/.exec(out);
      return m ? Number(m[1]) : undefined;
    })(),
    dataDir,
    process: child,
    output: () => out,
    alive: () => !exited,
    async stop() {
      // TERTULIA_TEST_SERVER_LOGS=<dir>: keep each server's output there (with TERTULIA_TEST_LOG_LEVEL=debug, to debug a test)
      const logDir = process.env.TERTULIA_TEST_SERVER_LOGS;
      if (logDir) (await import('node:fs')).writeFileSync(`${logDir}/server-${httpsPort}.log`, out);
      if (!exited) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
