// The parent's side of one driver process (driver-process.ts): forks it, sends it plan.ts's messages and waits
// for its answers. `tertulia loadtest` (run.ts) uses the typed waits (next: the next message of a type); the
// benchmark (bench/driver-pool.ts) uses numbered requests (`direct`, answered by a `direct-reply` with the
// same id) and answers the driver's own requests to the bridge (onBridgeRequest).
import { fork, type ChildProcess } from 'node:child_process';
import { siblingModuleUrl } from '../sibling-module.ts';
import type { DirectOp, DirectReply, FromDriver, ToDriver } from './plan.ts';

export class DriverHandle {
  readonly child: ChildProcess;
  private waiters: Array<{ type: FromDriver['type']; resolve: (m: FromDriver) => void }> = [];
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  readonly exited: Promise<number | null>;
  /** A driver's request to the bridge (benchmark): the parent answers with a bridge-reply. */
  onBridgeRequest: (m: Extract<FromDriver, { type: 'bridge-request' }>) => void = () => {};

  constructor(onProgress: (m: FromDriver) => void = () => {}) {
    this.child = fork(siblingModuleUrl('./driver-process', import.meta.url), [], {
      execArgv: ['--disable-warning=ExperimentalWarning'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        for (const p of this.pending.values()) p.reject(new Error(`a driver process exited (code ${code})`));
        this.pending.clear();
        resolve(code);
      }),
    );
    this.child.on('message', (m: FromDriver) => {
      if (m?.type === 'direct-reply') return this.settle(m);
      if (m?.type === 'bridge-request') return this.onBridgeRequest(m);
      onProgress(m);
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(m: ToDriver): void {
    if (this.child.connected) this.child.send(m);
  }

  /** The next message of this type; rejects when the driver exits first or after timeoutMs. */
  next<T extends FromDriver['type']>(type: T, timeoutMs: number): Promise<Extract<FromDriver, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a load tester process did not answer (${type}) in ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      this.waiters.push({ type, resolve: (m) => (clearTimeout(timer), resolve(m as Extract<FromDriver, { type: T }>)) });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`a load tester process exited (code ${code}) before it sent ${type}`));
      });
    });
  }

  /** A numbered request to a benchmark driver; resolves with its result. */
  direct<R>(op: DirectOp): Promise<R> {
    if (this.child.exitCode !== null || !this.child.connected) return Promise.reject(new Error('the driver process is gone'));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.child.send({ type: 'direct', id, op } satisfies ToDriver);
    });
  }

  private settle(m: DirectReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`driver process: ${m.error ?? 'request failed'}`));
  }
}
