// A recorder's GStreamer child process (compose/compose.py, compose/multitrack.py), run with Debian's
// /usr/bin/python3 and its python3-gi/python3-gst-1.0: settings in argv, JSON commands on its stdin, JSON events
// on its stdout, one per line. Every event is checked against the child's schema; anything else it prints is
// logged and ignored. Its stderr (GStreamer warnings) goes to the log at debug level, a line at a time, cut to
// 300 characters, with `secrets` (a live stream's address) cut out of every line logged; when it ends by itself
// without finishing (a crash), its last stderr lines (faulthandler's stacks) are logged again as a warning. The
// events every child has (ready with its ports, keyed, error, stopped) are handled here; the others go to `onEvent`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { z } from 'zod';
import type { Logger } from '../log.ts';

/** Debian's Python, where apt installs gi and GStreamer's bindings (a pyenv or venv python3 has neither). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** The events every child sends. */
export type BaseEvent =
  | { event: 'ready'; videoPort: number; audioPort: number }
  | { event: 'keyed' }
  | { event: 'error'; message: string }
  | { event: 'stopped' }
  | { event: string };

/** How many of its last stderr lines a child that crashed leaves in the log. */
const STDERR_TAIL_LINES = 30;

export interface MediaChildOptions<E extends { event: string }> {
  script: string;
  settings: unknown;
  /** What to call it in the log and in errors ("composer", "multitrack process"). */
  what: string;
  eventSchema: z.ZodType<E>;
  log: Logger;
  python?: string;
  /** Strings cut out of every line logged. */
  secrets?: string[];
}

export class MediaChild<E extends { event: string }, C> {
  private readonly child: ChildProcess;
  /** Resolves with its ports once its pipeline plays; rejects when it ends before. */
  readonly ready: Promise<{ videoPort: number; audioPort: number }>;
  /** Resolves with the `keyed` event once it has the SRTP key (after a `crypto` command): media may flow. */
  readonly keyedEvent: Promise<E>;
  /** Resolves when the process has exited: `clean` when it said it finished its files first. */
  readonly exited: Promise<{ clean: boolean; code: number | null; signal: NodeJS.Signals | null }>;
  /** Whoever waits for the next `keyed` (a key changed: rekey). */
  private keyedWaiters: (() => void)[] = [];
  /** Every event but ready, keyed, error and stopped. */
  onEvent: (event: E) => void = () => {};
  /** Cuts the secrets out of a line (and to 300 characters) before it is logged or passed on. */
  readonly clean: (line: string) => string;

  private readonly what: string;
  /** Set by kill(): an end we caused is no crash to explain. */
  private killed = false;

  constructor(o: MediaChildOptions<E>) {
    this.what = o.what;
    const python = o.python ?? SYSTEM_PYTHON;
    const secrets = (o.secrets ?? []).filter((s) => s.length > 3);
    this.clean = (line) => secrets.reduce((l, s) => l.split(s).join('[secret]'), line).slice(0, 300);
    this.child = spawn(python, [o.script, JSON.stringify(o.settings)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stopped = false;
    let lastError = '';
    const ready = deferred<{ videoPort: number; audioPort: number }>();
    const keyed = deferred<E>();
    this.ready = ready.promise;
    this.keyedEvent = keyed.promise;
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let e: E;
      try {
        const r = o.eventSchema.safeParse(JSON.parse(line));
        if (!r.success) throw new Error('unknown event');
        e = r.data;
      } catch {
        o.log.debug({ line: this.clean(line) }, `${o.what} printed something else`);
        return;
      }
      const base = e as BaseEvent;
      if (base.event === 'ready' && 'videoPort' in base) ready.resolve({ videoPort: base.videoPort, audioPort: base.audioPort });
      else if (base.event === 'keyed') {
        keyed.resolve(e);
        for (const w of this.keyedWaiters.splice(0)) w();
      }
      else if (base.event === 'error' && 'message' in base) {
        lastError = this.clean(base.message);
        o.log.warn({ err: lastError }, `${o.what} error`);
      } else if (base.event === 'stopped') stopped = true;
      else this.onEvent(e);
    });
    const tail: string[] = [];
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      const l = this.clean(line);
      o.log.debug({ line: l }, `${o.what} stderr`);
      if (tail.push(l) > STDERR_TAIL_LINES) tail.shift();
    });
    this.child.stdin!.on('error', () => {}); // it may be gone: its exit says so
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        ready.reject(new Error(`cannot run ${python}: ${err.message} (is python3-gst-1.0 installed?)`));
        keyed.reject(new Error(`the ${o.what} did not start`));
        resolve({ clean: false, code: null, signal: null });
      });
      this.child.once('exit', (code, signal) => {
        const clean = stopped && code === 0;
        if (!clean && !this.killed) o.log.warn({ code, signal, stderr: tail }, `${o.what} ended by itself: its last lines`);
        ready.reject(new Error(lastError || `the ${o.what} exited (${signal ?? code}) before it was ready`));
        keyed.reject(new Error(lastError || `the ${o.what} exited (${signal ?? code})`));
        resolve({ clean, code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(command: C): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || !this.child.stdin?.writable) return;
    this.child.stdin.write(JSON.stringify(command) + '\n');
  }

  /**
   * A new `crypto` command while it runs (its endpoint moved to another bridge: new keys, same ports and file);
   * resolves when the child says the key is set, rejects after `timeoutMs` or when it exits.
   */
  rekey(command: C, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${this.what} did not take the new key within ${timeoutMs} ms`)), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.keyedWaiters.push(done);
      this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the ${this.what} exited`));
      }, () => {});
      this.send(command);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.killed = true;
    this.child.kill(signal);
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // a rejection nobody waits for is no crash
  return { promise, resolve, reject };
}
