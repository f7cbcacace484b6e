// The callers' voices into the meeting (voice-uplink.ts: Opus encoding, the largest cost of a call, then RTP,
// SRTP and the send) on threads of their own, so a gateway process uses more than one core. The frames each call
// gives during one callback of the event loop (the 20 ms frame clock runs every call's tick in one) go to the
// threads as one batch per thread (a transferred buffer: no copy per frame, nothing comes back). Uplinks are
// placed on the threads in turn. A thread that dies is said in the log and its calls are told (`onFailed`: the
// call hangs up; its SRTP stream cannot be taken over where the thread left it); later calls send from the
// gateway's own thread, as with no pool at all. The threads start with the first call (a gateway with no calls
// runs none). An uplink can be repointed (the meeting moved to another bridge: its address, port and key).
import dgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.ts';
import { VoiceUplink, type UplinkSpec, type UplinkTarget } from './voice-uplink.ts';

/** A caller's voice into the meeting, wherever it is encoded and sent. */
export interface Uplink {
  /** One frame (160 or 960 samples); the caller must not change it afterwards. */
  send(frame: Int16Array): void;
  /** Sends to another bridge (the meeting moved) from the next frame on. */
  repoint(to: UplinkTarget): void;
  close(): void;
}

export type ToUplinkWorker =
  | { type: 'create'; id: number; spec: UplinkSpec }
  | { type: 'repoint'; id: number; to: UplinkTarget }
  | { type: 'close'; id: number }
  | { type: 'batch'; pcm: ArrayBuffer; ids: Int32Array; offsets: Int32Array; counts: Int32Array };

/** An uplink in this thread, sending from `socket` (its own when none is given; closed with it then). */
export function localUplink(spec: UplinkSpec, socket?: dgram.Socket): Uplink {
  const own = socket ? null : dgram.createSocket('udp4');
  const s = socket ?? own!;
  if (own) {
    own.on('message', () => {}); // the bridge's RTCP is not needed
    own.on('error', () => {});
  }
  const uplink = new VoiceUplink(spec, (buf, length, port, address) => s.send(buf, 0, length, port, address));
  return {
    send: (frame) => uplink.send(frame),
    repoint: (to) => uplink.repoint(to),
    close() {
      uplink.close();
      own?.close();
    },
  };
}

class UplinkThread {
  readonly worker: Worker;
  alive = true;
  /** Each uplink's onFailed, by id. */
  readonly failed = new Map<number, () => void>();
  private frames: Int16Array[] = [];
  private ids: number[] = [];
  private flushQueued = false;

  constructor(worker: Worker) {
    this.worker = worker;
  }

  create(id: number, spec: UplinkSpec, onFailed: () => void): void {
    this.failed.set(id, onFailed);
    this.post({ type: 'create', id, spec });
  }

  repoint(id: number, to: UplinkTarget): void {
    this.flush(); // the frames before it go to the old bridge
    this.post({ type: 'repoint', id, to: { srtpKey: to.srtpKey, address: to.address, port: to.port } });
  }

  close(id: number): void {
    this.failed.delete(id);
    this.flush(); // its last frames first
    this.post({ type: 'close', id });
  }

  send(id: number, frame: Int16Array): void {
    this.frames.push(frame);
    this.ids.push(id);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // after every call's frame of this tick (the frame clock runs them in one callback)
      queueMicrotask(() => this.flush());
    }
  }

  /** The worker is gone; its uplinks are told unless the pool is closing. */
  died(tell: boolean): void {
    this.alive = false;
    this.frames = [];
    this.ids = [];
    const failed = [...this.failed.values()];
    this.failed.clear();
    if (tell) for (const f of failed) queueMicrotask(f);
  }

  private flush(): void {
    this.flushQueued = false;
    const frames = this.frames;
    if (frames.length === 0 || !this.alive) return;
    const ids = Int32Array.from(this.ids);
    this.frames = [];
    this.ids = [];
    let total = 0;
    for (const f of frames) total += f.length;
    const pcm = new Int16Array(total);
    const offsets = new Int32Array(frames.length);
    const counts = new Int32Array(frames.length);
    let at = 0;
    frames.forEach((f, i) => {
      pcm.set(f, at);
      offsets[i] = at;
      counts[i] = f.length;
      at += f.length;
    });
    this.worker.postMessage({ type: 'batch', pcm: pcm.buffer, ids, offsets, counts } satisfies ToUplinkWorker, [pcm.buffer, ids.buffer, offsets.buffer, counts.buffer]);
  }

  private post(m: ToUplinkWorker): void {
    if (this.alive) this.worker.postMessage(m);
  }
}

export class UplinkPool {
  /** Started with the first uplink. */
  private readonly threads: UplinkThread[] = [];
  private readonly count: number;
  private readonly log: Logger;
  /** The socket uplinks in this thread share once a thread died (made then). */
  private fallbackSocket: dgram.Socket | null = null;
  private nextId = 1;
  private nextThread = 0;
  private closed = false;

  /** A pool of `count` threads (at least one), started with its first uplink. */
  constructor(count: number, log: Logger) {
    this.count = Math.max(1, count);
    this.log = log;
  }

  /** The threads running now (none before the first call). */
  get threadCount(): number {
    return this.threads.length;
  }

  private startThreads(): void {
    for (let i = 0; i < this.count; i++) {
      const worker = new Worker(new URL('./uplink-worker.ts', import.meta.url));
      worker.unref();
      const t = new UplinkThread(worker);
      this.threads.push(t);
      const died = (why: string) => {
        if (!t.alive) return;
        if (!this.closed) this.log.error({ why }, 'an encoding thread of the SIP gateway died: its calls are hung up, new ones are encoded in the main thread');
        t.died(!this.closed);
      };
      worker.on('error', (e: Error) => died(e.message));
      worker.on('exit', (code) => died(`exit ${code}`));
    }
    this.log.info({ threads: this.count }, 'the SIP gateway started its encoding threads (its first call)');
  }

  /**
   * An uplink on the next thread (in this thread when that thread died). `onFailed`: its thread died, the
   * caller's voice cannot go on (called once, later).
   */
  uplink(spec: UplinkSpec, onFailed: () => void): Uplink {
    if (this.threads.length === 0 && !this.closed) this.startThreads();
    const thread = this.threads[this.nextThread++ % this.threads.length]!;
    if (!thread?.alive || this.closed) return localUplink(spec, this.socket());
    const id = this.nextId++;
    thread.create(id, spec, onFailed);
    let closed = false;
    return {
      send(frame) {
        if (!closed && thread.alive) thread.send(id, frame);
      },
      repoint(to) {
        if (!closed && thread.alive) thread.repoint(id, to);
      },
      close() {
        if (closed) return;
        closed = true;
        if (thread.alive) thread.close(id);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    this.fallbackSocket?.close();
  }

  private socket(): dgram.Socket {
    if (!this.fallbackSocket) {
      this.fallbackSocket = dgram.createSocket('udp4');
      this.fallbackSocket.on('message', () => {});
      this.fallbackSocket.on('error', () => {});
    }
    return this.fallbackSocket;
  }
}
