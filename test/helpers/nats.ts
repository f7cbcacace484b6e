// A real nats-server (Debian package) for a test, on a free loopback port; it can be killed and started again
// on the same port to test reconnection.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, waitForTcp } from './ports.ts';

export const NATS_SERVER = process.env.NATS_SERVER_PATH ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');

export interface NatsServer {
  port: number;
  url: string;
  /** Everything the server printed so far. */
  output(): string;
  /** Kills the server (SIGKILL: as a crash or a pulled cable looks to its clients). */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same options. */
  restart(): Promise<void>;
  /** Stops the server's process (SIGSTOP: a stalled server; connections stay open, nothing is answered) or lets it go on. */
  pause(paused: boolean): void;
  stop(): Promise<void>;
}


/**
 * `jetstream`: with JetStream (-js), its files in a fresh temporary directory kept across restart(). `netns` and
 * `address`: run it in that network namespace, listening on that address, on NATS's usual port 4222 (ready when it
 * says so; the test's own namespace may not reach it).
 */
export async function startNatsServer(
  auth: { user?: string; password?: string; token?: string; jetstream?: boolean; netns?: string; address?: string } = {},
): Promise<NatsServer> {
  const port = auth.netns ? 4222 : await freeTcpPort();
  const address = auth.address ?? '127.0.0.1';
  const args = ['-a', address, '-p', String(port)];
  const storeDir = auth.jetstream ? mkdtempSync(join(tmpdir(), 'tertulia-js-')) : undefined;
  if (storeDir) args.push('-js', '--store_dir', storeDir);
  if (auth.user) args.push('--user', auth.user, '--pass', auth.password ?? '');
  if (auth.token) args.push('--auth', auth.token);
  let out = '';
  let child: ChildProcess | undefined;
  const launch = async () => {
    const command = auth.netns ? ['ip', 'netns', 'exec', auth.netns, NATS_SERVER, ...args] : [NATS_SERVER, ...args];
    const c = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    c.once('error', (e) => (out += `spawn error: ${e.message}\n`));
    let exited = false;
    c.once('exit', () => (exited = true));
    if (auth.netns) await waitForOutput('Server is ready', () => !exited, () => out, 10_000);
    else await waitForTcp(port, () => !exited, () => out, 10_000);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await done;
  };
  await launch();
  return {
    port,
    url: `nats://${address}:${port}`,
    output: () => out,
    kill,
    async restart() {
      await kill();
      await launch();
    },
    pause(paused: boolean) {
      child?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
    },
    async stop() {
      await kill();
      if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once `out()` includes `text`; rejects when `alive()` turns false or after the timeout. */
async function waitForOutput(text: string, alive: () => boolean, out: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!out().includes(text)) {
    if (!alive()) throw new Error(`nats-server exited:\n${out()}`);
    if (Date.now() > deadline) throw new Error(`nats-server did not say "${text}":\n${out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
