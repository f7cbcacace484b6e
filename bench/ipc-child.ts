// The driver's side of a benchmark child process (the bridge process, the recording benchmark's server
// process): fork it with its configuration in an environment variable, send numbered requests over the IPC
// channel and match the replies `{id, ok, result?, error?}` to them. Reply id 0 is the child's "ready" (its
// start result); id -1 is an event it sends unasked. Every request still waiting fails when the child exits.
import { fork, type ChildProcess } from 'node:child_process';
import type { Json } from '../src/bus/bus.ts';

export interface IpcReply {
  id: number;
  ok: boolean;
  result?: Json;
  error?: string;
}

export class IpcChild {
  readonly child: ChildProcess;
  /** What the child said when it was ready (its reply with id 0). */
  readonly ready: Promise<Json | undefined>;
  /** An event the child sent unasked (a reply with id -1). */
  onEvent: (result: Json | null) => void = () => {};
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Json | undefined) => void; reject: (e: Error) => void }>();
  private exited = false;
  private readonly what: string;

  /** `what`: how errors name it ("the bridge process"). */
  constructor(script: string, opts: { what: string; execArgv: string[]; env: NodeJS.ProcessEnv }) {
    this.what = opts.what;
    this.child = fork(script, [], { execArgv: opts.execArgv, env: opts.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => this.pending.set(0, { resolve, reject }));
    this.child.on('message', (raw) => {
      const m = raw as IpcReply;
      if (m.id === -1) {
        this.onEvent(m.result ?? null);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error ?? `${this.what}: request failed`));
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`${this.what} exited (${code})`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends `{id, ...body}` and resolves with the reply's result. */
  request(body: Record<string, unknown>): Promise<Json | undefined> {
    if (this.exited) return Promise.reject(new Error(`${this.what} is gone`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, ...body });
    });
  }

  /** Asks it to close with `closeBody`; after `graceMs` without an exit, SIGTERM. */
  async close(closeBody: Record<string, unknown>, graceMs: number): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.request(closeBody).catch(() => {}); // it is going away anyway
    await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))]);
    if (!this.exited) this.child.kill('SIGTERM');
    await exited;
  }
}
