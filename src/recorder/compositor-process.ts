// The GStreamer child of one recording (compose/compose.py, run with Debian's /usr/bin/python3 and its
// python3-gi/python3-gst-1.0): settings in argv, JSON commands on its stdin, JSON events on its stdout, one per
// line. Every event is checked here; anything else it prints is logged and ignored. Its stderr (GStreamer
// warnings) goes to the log at debug level, a line at a time, cut to 300 characters. A live stream's address
// (it holds the stream key) goes on stdin, never in argv (which every user of the machine may read), and is
// cut out of any line logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { PortSet } from './port-range.ts';

/** Debian's Python, where apt installs gi and GStreamer's bindings (a pyenv or venv python3 has neither). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./compose/compose.py', import.meta.url));

export interface ComposerSettings {
  /** The file to write; null for a live stream. */
  output: string | null;
  /** A live stream: the picture and sound go to an RTMP server (the `stream` command says which). */
  stream?: boolean;
  /** The RTP ports to bind (the recorder's range); else the system picks. */
  ports?: PortSet;
  width: number;
  height: number;
  fps: number;
  /** kbit/s */
  videoBitrate: number;
  layout: 'grid' | 'speaker';
  /** The IPv4 address its UDP sockets bind to (the bridge sends there). */
  bindAddress: string;
  srtp: boolean;
}

const port = z.number().int().min(1).max(65535);
const eventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('ready'), videoPort: port, audioPort: port }),
  z.object({ event: z.literal('keyed') }),
  z.object({
    event: z.literal('layout'),
    layout: z.enum(['grid', 'speaker']).optional(),
    tiles: z.number().int().nonnegative(),
    /** How large each video is drawn (0x0: not drawn), for the simulcast layer the bridge sends. */
    videos: z.array(z.object({ ssrc: z.number().int().min(0).max(0xffffffff), width: z.number().int().min(0).max(16384), height: z.number().int().min(0).max(16384) })).max(1024).optional(),
  }),
  z.object({ event: z.literal('error'), message: z.string() }),
  z.object({ event: z.literal('stopped'), file: z.string().nullable() }),
  z.object({ event: z.literal('stream'), state: z.enum(['live', 'interrupted']), message: z.string().optional(), retryIn: z.number().optional() }),
]);
export type ComposerEvent = z.infer<typeof eventSchema>;

export type ComposerCommand =
  | { cmd: 'crypto'; key: string; sendKey: string; bridge: { address: string; videoRtcpPort: number } }
  | {
      cmd: 'participants';
      participants: { id: string; name: string; sources: { ssrc: number; kind: 'audio' | 'video'; role?: 'video' | 'screen' }[] }[];
      speaker?: string;
    }
  | { cmd: 'layout'; layout: 'grid' | 'speaker' }
  | { cmd: 'stream'; url: string }
  | { cmd: 'stop' };

export class ComposerProcess {
  private readonly child: ChildProcess;
  private readonly log: Logger;
  /** Live stream events: connected (data flows), or the connection failed or dropped (it is retried). */
  onStream: (state: 'live' | 'interrupted', message: string) => void = () => {};
  /** Cut out of every line logged (the stream's address). */
  private readonly secrets: string[];
  /** Resolves with its ports once its pipeline plays; rejects when it ends before. */
  readonly ready: Promise<{ videoPort: number; audioPort: number }>;
  /** Resolves once it has the SRTP key (after a `crypto` command): media may flow. */
  readonly keyed: Promise<void>;
  /** Each new layout: how large it draws each video. */
  onLayout: (videos: { ssrc: number; width: number; height: number }[]) => void = () => {};
  /** Resolves when the process has exited: `clean` when it said it finished the file first. */
  readonly exited: Promise<{ clean: boolean; code: number | null; signal: NodeJS.Signals | null }>;

  constructor(settings: ComposerSettings, log: Logger, python = SYSTEM_PYTHON, secrets: string[] = []) {
    this.log = log;
    this.secrets = secrets.filter((s) => s.length > 3);
    const clean = (line: string) => this.secrets.reduce((l, s) => l.split(s).join('[secret]'), line).slice(0, 300);
    this.child = spawn(python, [SCRIPT, JSON.stringify(settings)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stopped = false;
    let resolveReady!: (p: { videoPort: number; audioPort: number }) => void;
    let rejectReady!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    this.ready.catch(() => {});
    let resolveKeyed!: () => void;
    let rejectKeyed!: (e: Error) => void;
    this.keyed = new Promise((res, rej) => {
      resolveKeyed = res;
      rejectKeyed = rej;
    });
    this.keyed.catch(() => {});
    let lastError = '';
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let parsed: ComposerEvent;
      try {
        const r = eventSchema.safeParse(JSON.parse(line));
        if (!r.success) throw new Error('unknown event');
        parsed = r.data;
      } catch {
        this.log.debug({ line: clean(line) }, 'composer printed something else');
        return;
      }
      if (parsed.event === 'ready') resolveReady({ videoPort: parsed.videoPort, audioPort: parsed.audioPort });
      if (parsed.event === 'keyed') resolveKeyed();
      if (parsed.event === 'layout' && parsed.videos) this.onLayout(parsed.videos);
      if (parsed.event === 'error') {
        lastError = clean(parsed.message);
        this.log.warn({ err: clean(parsed.message) }, 'composer error');
      }
      if (parsed.event === 'stream') this.onStream(parsed.state, clean(parsed.message ?? ''));
      if (parsed.event === 'stopped') stopped = true;
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.log.debug({ line: clean(line) }, 'composer stderr'));
    this.child.stdin!.on('error', () => {}); // it may be gone: its exit says so
    this.exited = new Promise((resolve) => {
      this.child.once('error', (e) => {
        rejectReady(new Error(`cannot run ${python}: ${e.message} (is python3-gst-1.0 installed?)`));
        rejectKeyed(new Error('the composer did not start'));
        resolve({ clean: false, code: null, signal: null });
      });
      this.child.once('exit', (code, signal) => {
        rejectReady(new Error(lastError || `the composer exited (${signal ?? code}) before it was ready`));
        rejectKeyed(new Error(lastError || `the composer exited (${signal ?? code})`));
        resolve({ clean: stopped && code === 0, code, signal });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(command: ComposerCommand): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || !this.child.stdin?.writable) return;
    this.child.stdin.write(JSON.stringify(command) + '\n');
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
