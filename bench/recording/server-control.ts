// Driver side of the recording benchmark's server process (server-process.ts): fork it, pass bus calls
// through, read its CPU and memory. `bus` is a Bus for callBus (typed, checked calls) that goes over the IPC
// channel; only `request` works on it.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Bus, Json } from '../../src/bus/bus.ts';

/** The recorder's id in the server process (the target of recorder.<id>.start). */
export const BENCH_RECORDER_ID = 'bench-recorder';

export interface ServerRequest {
  id: number;
  op: 'call' | 'stats' | 'close';
  /** op 'call': a bus request. */
  subject?: string;
  payload?: Json;
  timeoutMs?: number;
}
export interface ServerReply {
  id: number;
  ok: boolean;
  result?: Json;
  error?: string;
}
export interface ServerStats {
  /** process.cpuUsage() of the server process, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  rss: number;
  recordings: number;
}

export class ServerProcess {
  readonly child: ChildProcess;
  dataDir = '';
  /** `recorder.ended` events (a recording that stopped by itself: its child died). */
  readonly ended: Json[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Json | undefined) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (raw) => {
      const m = raw as ServerReply;
      if (m.id === -1) {
        this.ended.push(m.result ?? null);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error ?? 'server request failed'));
    });
    child.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`server process exited (${code})`));
      this.pending.clear();
    });
  }

  /** Starts the server process; `config` is merged into its configuration (dataDir at least). */
  static start(config: Record<string, unknown>): Promise<ServerProcess> {
    const child = fork(path.join(import.meta.dirname, 'server-process.ts'), [], {
      execArgv: ['--disable-warning=ExperimentalWarning'],
      env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const sp = new ServerProcess(child);
    return new Promise((resolve, reject) => {
      sp.pending.set(0, {
        resolve: (r) => {
          sp.dataDir = (r as { dataDir: string }).dataDir;
          resolve(sp);
        },
        reject,
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private send(req: Omit<ServerRequest, 'id'>): Promise<Json | undefined> {
    if (this.exited) return Promise.reject(new Error('the server process is gone'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, ...req });
    });
  }

  readonly bus = {
    request: (subject: string, payload: Json, timeoutMs?: number) => this.send({ op: 'call', subject, payload, timeoutMs }),
  } as unknown as Bus;

  async stats(): Promise<ServerStats> {
    return (await this.send({ op: 'stats' })) as unknown as ServerStats;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ op: 'close' }).catch(() => {});
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (!this.exited) this.child.kill('SIGTERM');
    await exited;
  }
}
