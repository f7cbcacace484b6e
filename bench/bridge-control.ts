// Driver side of the bridge process: fork it, send control requests, read its CPU/memory/counters.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Json } from '../src/bus/bus.ts';

export type BridgeOp = 'allocate' | 'configure' | 'subscribe' | 'constraints' | 'mute' | 'expire' | 'stats' | 'gc' | 'close';
export interface BridgeRequest {
  id: number;
  op: BridgeOp;
  payload: Json;
}
export interface BridgeReply {
  id: number;
  ok: boolean;
  result?: Json;
  error?: string;
}
export interface BridgeStats {
  /** process.cpuUsage() of the bridge process, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  rss: number;
  heapUsed: number;
  external: number;
  counters: Record<string, number>;
  mediaWorkers: number;
  connected: number;
  disconnected: number;
}

export class BridgeProcess {
  readonly child: ChildProcess;
  port = 0;
  fingerprint = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Json | undefined) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (raw) => {
      const m = raw as BridgeReply;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error ?? 'bridge request failed'));
    });
    child.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`bridge process exited (${code})`));
      this.pending.clear();
    });
  }

  /** Starts the bridge process; `config` is merged into its bridge configuration. */
  static start(config: Record<string, unknown> = {}): Promise<BridgeProcess> {
    const child = fork(path.join(import.meta.dirname, 'bridge-process.ts'), [], {
      execArgv: [
        '--disable-warning=ExperimentalWarning',
        '--expose-gc',
        // e.g. BENCH_BRIDGE_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the bridge
        ...(process.env.BENCH_BRIDGE_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
      ],
      env: { ...process.env, BENCH_BRIDGE_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const bp = new BridgeProcess(child);
    return new Promise((resolve, reject) => {
      bp.pending.set(0, {
        resolve: (r) => {
          const { port, fingerprint } = r as { port: number; fingerprint: string };
          bp.port = port;
          bp.fingerprint = fingerprint;
          resolve(bp);
        },
        reject,
      });
    });
  }

  request(op: BridgeOp, payload: Json = null): Promise<Json | undefined> {
    if (this.exited) return Promise.reject(new Error('bridge process is gone'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, op, payload } satisfies BridgeRequest);
    });
  }

  async stats(): Promise<BridgeStats> {
    return (await this.request('stats')) as unknown as BridgeStats;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.request('close').catch(() => {
      // it is going away anyway
    });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (!this.exited) this.child.kill('SIGTERM');
    await exited;
  }
}
