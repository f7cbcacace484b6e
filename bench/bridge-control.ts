// Driver side of the bridge process: fork it, send control requests, read its CPU/memory/counters.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Json } from '../src/bus/bus.ts';
import { IpcChild, type IpcReply } from './ipc-child.ts';

export type BridgeOp = 'allocate' | 'allocate-relay' | 'set-sources' | 'configure' | 'subscribe' | 'constraints' | 'mute' | 'expire' | 'stats' | 'gc' | 'memory' | 'heap-snapshot' | 'close';
export interface BridgeRequest {
  id: number;
  op: BridgeOp;
  payload: Json;
}
export type BridgeReply = IpcReply;
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
  private readonly ipc: IpcChild;
  port = 0;
  fingerprint = '';

  private constructor(ipc: IpcChild) {
    this.ipc = ipc;
  }

  get child(): ChildProcess {
    return this.ipc.child;
  }

  /** Starts the bridge process; `config` is merged into its bridge configuration. */
  static async start(config: Record<string, unknown> = {}): Promise<BridgeProcess> {
    const ipc = new IpcChild(path.join(import.meta.dirname, 'bridge-process.ts'), {
      what: 'the bridge process',
      execArgv: [
        '--disable-warning=ExperimentalWarning',
        '--expose-gc',
        // e.g. BENCH_BRIDGE_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the bridge
        ...(process.env.BENCH_BRIDGE_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
      ],
      env: { ...process.env, BENCH_BRIDGE_CONFIG: JSON.stringify(config) },
    });
    const bp = new BridgeProcess(ipc);
    const { port, fingerprint } = (await ipc.ready) as { port: number; fingerprint: string };
    bp.port = port;
    bp.fingerprint = fingerprint;
    return bp;
  }

  request(op: BridgeOp, payload: Json = null): Promise<Json | undefined> {
    return this.ipc.request({ op, payload } satisfies Omit<BridgeRequest, 'id'>);
  }

  async stats(): Promise<BridgeStats> {
    return (await this.request('stats')) as unknown as BridgeStats;
  }

  close(): Promise<void> {
    return this.ipc.close({ op: 'close', payload: null }, 5000);
  }
}
