// Driver side of the recording benchmark's server process (server-process.ts): fork it, pass bus calls
// through, read its CPU and memory. `bus` is a Bus for callBus (typed, checked calls) that goes over the IPC
// channel; only `request` works on it.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Bus, Json } from '../../src/bus/bus.ts';
import { IpcChild, type IpcReply } from '../ipc-child.ts';

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
export type ServerReply = IpcReply;
export interface ServerStats {
  /** process.cpuUsage() of the server process, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  rss: number;
  recordings: number;
}

export class ServerProcess {
  private readonly ipc: IpcChild;
  dataDir = '';
  /** `recorder.ended` events (a recording that stopped by itself: its child died). */
  readonly ended: Json[] = [];

  private constructor(ipc: IpcChild) {
    this.ipc = ipc;
    ipc.onEvent = (result) => this.ended.push(result);
  }

  get child(): ChildProcess {
    return this.ipc.child;
  }

  /** Starts the server process; `config` is merged into its configuration (dataDir at least). */
  static async start(config: Record<string, unknown>): Promise<ServerProcess> {
    const ipc = new IpcChild(path.join(import.meta.dirname, 'server-process.ts'), {
      what: 'the server process',
      execArgv: ['--disable-warning=ExperimentalWarning'],
      env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify(config) },
    });
    const sp = new ServerProcess(ipc);
    sp.dataDir = ((await ipc.ready) as { dataDir: string }).dataDir;
    return sp;
  }

  get pid(): number {
    return this.ipc.pid;
  }

  private send(req: Omit<ServerRequest, 'id'>): Promise<Json | undefined> {
    return this.ipc.request({ ...req });
  }

  readonly bus = {
    request: (subject: string, payload: Json, timeoutMs?: number) => this.send({ op: 'call', subject, payload, timeoutMs }),
  } as unknown as Bus;

  async stats(): Promise<ServerStats> {
    return (await this.send({ op: 'stats' })) as unknown as ServerStats;
  }

  close(): Promise<void> {
    return this.ipc.close({ op: 'close' }, 20_000);
  }
}
