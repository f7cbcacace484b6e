// The GStreamer child of one multitrack recording (compose/multitrack.py, Debian's /usr/bin/python3): settings
// in argv, JSON commands on its stdin (crypto, participants, stop: as the composer's), JSON events on its
// stdout, one per line. Every event is checked here; anything else it prints is logged and ignored, its stderr
// goes to the log at debug level. It writes one WebM file per received stream and says so (`track`,
// `track-ended`).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { PortSet } from './port-range.ts';
import type { Logger } from '../log.ts';
import { SYSTEM_PYTHON, type ComposerCommand } from './compositor-process.ts';

const SCRIPT = fileURLToPath(new URL('./compose/multitrack.py', import.meta.url));

export interface MultitrackSettings {
  /** The recording's folder: the files go there. */
  dir: string;
  bindAddress: string;
  srtp: boolean;
  /** The RTP ports to bind (the recorder's range); else the system picks. */
  ports?: PortSet;
}

const port = z.number().int().min(1).max(65535);
const ssrc = z.number().int().min(0).max(0xffffffff);
const fileName = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/);
const offsetMs = z.number().int().nonnegative();
const eventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('ready'), videoPort: port, audioPort: port }),
  /** `at`: when it began to take media (epoch ms): offsets count from there. */
  z.object({ event: z.literal('keyed'), at: z.number().int().positive() }),
  z.object({
    event: z.literal('track'),
    ssrc,
    file: fileName,
    kind: z.enum(['audio', 'video']),
    role: z.enum(['camera', 'screen']).nullable(),
    participantId: z.string().min(1).max(128).nullable(),
    offsetMs,
  }),
  z.object({ event: z.literal('track-ended'), ssrc, file: fileName, offsetMs }),
  z.object({ event: z.literal('error'), message: z.string() }),
  z.object({ event: z.literal('stopped'), file: z.null() }),
]);
export type MultitrackEvent = z.infer<typeof eventSchema>;
export type MultitrackCommand = Exclude<ComposerCommand, { cmd: 'layout' }>;

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class MultitrackProcess {
  private readonly child: ChildProcess;
  private readonly log: Logger;
  /** Resolves with its ports once its pipeline is ready; rejects when it ends before. */
  readonly ready: Promise<{ videoPort: number; audioPort: number }>;
  /** Resolves with when it began to take media (epoch ms), after a `crypto` command. */
  readonly keyed: Promise<number>;
  /** Resolves when the process has exited: `clean` when it said it finished its files first. */
  readonly exited: Promise<{ clean: boolean; code: number | null; signal: NodeJS.Signals | null }>;
  /** A file was begun (its first frame written) or finished. */
  onTrack: (event: Extract<MultitrackEvent, { event: 'track' | 'track-ended' }>) => void = () => {};

  constructor(settings: MultitrackSettings, log: Logger, python = SYSTEM_PYTHON) {
    this.log = log;
    this.child = spawn(python, [SCRIPT, JSON.stringify(settings)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stopped = false;
    let lastError = '';
    const ready = deferred<{ videoPort: number; audioPort: number }>();
    const keyed = deferred<number>();
    this.ready = ready.promise;
    this.keyed = keyed.promise;
    this.ready.catch(() => {});
    this.keyed.catch(() => {});
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let e: MultitrackEvent;
      try {
        const r = eventSchema.safeParse(JSON.parse(line));
        if (!r.success) throw new Error('unknown event');
        e = r.data;
      } catch {
        this.log.debug({ line: line.slice(0, 300) }, 'multitrack process printed something else');
        return;
      }
      if (e.event === 'ready') ready.resolve({ videoPort: e.videoPort, audioPort: e.audioPort });
      else if (e.event === 'keyed') keyed.resolve(e.at);
      else if (e.event === 'track' || e.event === 'track-ended') this.onTrack(e);
      else if (e.event === 'error') {
        lastError = e.message;
        this.log.warn({ err: e.message.slice(0, 300) }, 'multitrack process error');
      } else if (e.event === 'stopped') stopped = true;
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.log.debug({ line: line.slice(0, 300) }, 'multitrack process stderr'));
    this.child.stdin!.on('error', () => {}); // it may be gone: its exit says so
    this.exited = new Promise((resolve) => {
      this.child.once('error', (e) => {
        ready.reject(new Error(`cannot run ${python}: ${e.message} (is python3-gst-1.0 installed?)`));
        keyed.reject(new Error('the multitrack process did not start'));
        resolve({ clean: false, code: null, signal: null });
      });
      this.child.once('exit', (code, signal) => {
        ready.reject(new Error(lastError || `the multitrack process exited (${signal ?? code}) before it was ready`));
        keyed.reject(new Error(lastError || `the multitrack process exited (${signal ?? code})`));
        resolve({ clean: stopped && code === 0, code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(command: MultitrackCommand): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || !this.child.stdin?.writable) return;
    this.child.stdin.write(JSON.stringify(command) + '\n');
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
