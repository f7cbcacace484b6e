// Runs Debian's coturn (`turnserver -c <conf>`) as a child and keeps it running: its stdout/stderr lines go to
// our log (debug; its errors as warnings), it counts as up once its TCP port answers on 127.0.0.1, and when it
// exits without being asked it is started again after a backoff (1 s doubling to 60 s, back to 1 s once it ran
// a minute). `restart()` (a new secret) stops it and starts it again at once. Never throws to its owner. It is
// started with a parent-death signal, so it does not outlive a server that was killed.
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Logger } from '../log.ts';
import { spawnTied } from '../tied-child.ts';

export type CoturnState = 'starting' | 'up' | 'down' | 'stopped';

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60_000;
const STABLE_MS = 60_000;
const READY_POLL_MS = 200;

/** True when something accepts a TCP connection on host:port within a second. */
export function tcpAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * What coturn logs as an ERROR in ordinary use: a client's TCP or TLS connection ending (a browser closing its
 * candidate pair, a page that left), which would otherwise fill an admin's log with a warning per join and leave.
 */
const ROUTINE_ERROR = /(TCP|TLS) socket error: (Connection reset by peer|Broken pipe)|connection (closed|reset) by (peer|client)/i;

/** The level a line of coturn's output is logged at: its errors as warnings, its routine ones and the rest as debug. */
export function coturnLineLevel(text: string): 'warn' | 'debug' {
  return /ERROR|cannot|Cannot/.test(text) && !ROUTINE_ERROR.test(text) ? 'warn' : 'debug';
}

export class CoturnProcess {
  #child: ChildProcess | undefined;
  #state: CoturnState = 'starting';
  #stopping = false;
  #backoff = BACKOFF_MIN_MS;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  /** How many times it was started again after it exited by itself. */
  restarts = 0;
  /** Why it is down, for `tertulia status` (never holds the secret). */
  lastError = '';
  readonly #binary: string;
  readonly #configFile: string;
  readonly #port: number;
  readonly #log: Logger;
  /** Runs before each start (a port check); a returned text is why it cannot start now (retried with the backoff). */
  readonly #precheck: () => Promise<string | undefined>;

  constructor(opts: { binary: string; configFile: string; port: number; log: Logger; precheck?: () => Promise<string | undefined> }) {
    this.#binary = opts.binary;
    this.#configFile = opts.configFile;
    this.#port = opts.port;
    this.#log = opts.log;
    this.#precheck = opts.precheck ?? (async () => undefined);
  }

  get state(): CoturnState {
    return this.#state;
  }

  start(): void {
    void this.#run();
  }

  async #run(): Promise<void> {
    if (this.#stopping) return;
    this.#state = 'starting';
    const problem = await this.#precheck().catch((e: unknown) => (e as Error).message);
    if (this.#stopping) return;
    if (problem) {
      this.lastError = problem;
      this.#down(problem);
      return;
    }
    // with a parent-death signal: a server killed with SIGKILL takes its coturn with it
    const child = spawnTied(this.#binary, ['-c', this.#configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#startedAt = Date.now();
    const lines = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        const text = line.trim();
        if (!text) continue;
        this.#log[coturnLineLevel(text)]({ coturn: text.slice(0, 500) }, 'coturn says');
      }
    };
    child.stdout!.on('data', lines);
    child.stderr!.on('data', lines);
    child.once('error', (e) => {
      this.lastError = e.message;
      this.#log.error({ err: e.message }, 'TURN: cannot run turnserver');
    });
    child.once('close', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      if (this.#stopping) return;
      if (Date.now() - this.#startedAt > STABLE_MS) this.#backoff = BACKOFF_MIN_MS;
      this.lastError ||= `turnserver exited (${signal ?? code})`;
      this.#down(`turnserver exited (${signal ?? `code ${code}`})`);
    });
    // up once its TCP listener answers on loopback
    const deadline = Date.now() + 15_000;
    while (this.#child === child && !this.#stopping && Date.now() < deadline) {
      if (await tcpAnswers(this.#port)) {
        if (this.#child !== child || this.#stopping) return;
        this.#state = 'up';
        this.lastError = '';
        this.#log.info({ port: this.#port, pid: child.pid }, 'TURN server (coturn) running');
        return;
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
    if (this.#child === child && !this.#stopping) {
      this.lastError = 'turnserver did not open its port';
      child.kill('SIGKILL'); // 'close' schedules the next try
    }
  }

  #down(why: string): void {
    this.#state = 'down';
    const wait = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
    this.#log.error({ why, retryInSeconds: wait / 1000 }, 'TURN server (coturn) is down; starting it again soon');
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.restarts++;
      void this.#run();
    }, wait);
    this.#timer.unref();
  }

  /** Stops the running coturn and starts it again now (its configuration file was rewritten). */
  async restart(): Promise<void> {
    await this.stop();
    this.#stopping = false;
    this.#backoff = BACKOFF_MIN_MS;
    this.start();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#state = 'stopped';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
