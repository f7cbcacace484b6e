// The SIP gateway's Opus encoding (one encoder per call: the caller's voice into the meeting, its largest cost)
// on threads of its own, so a gateway process uses more than one core. The frames each call gives during one
// callback of the event loop (the 20 ms frame clock runs every call's tick in one) go to the threads as one
// batch per thread (a transferred buffer, no copy back and forth per frame), and each packet comes back to the
// call's `done` in order. Encoders are placed on the threads in turn. A thread that dies is said in the log;
// its calls and every later encoder then encode in the gateway's own thread, as with no pool at all.
//
// `localEncoder` has the same shape without a thread (done is called at once): what a call uses when the
// process has one core.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.ts';
import { createOpusEncoder, type OpusEncoder, type OpusImplementation, type OpusMaxBandwidth } from './opus-codec.ts';

export interface EncoderSpec {
  rate: 8000 | 48_000;
  bitrate: number;
  band: OpusMaxBandwidth;
  complexity: number;
  impl?: OpusImplementation;
}

/** An encoder whose packets come back to `done` (at once, or from a thread), in the order of the frames. */
export interface FrameEncoder {
  /** Encodes one frame; `done` gets the packet (valid during the call only), or null when it could not be encoded. */
  encode(frame: Int16Array, done: (packet: Uint8Array | null) => void): void;
  close(): void;
}

export type ToEncodeWorker =
  | { type: 'create'; id: number; spec: EncoderSpec }
  | { type: 'close'; id: number }
  | { type: 'batch'; batch: number; pcm: ArrayBuffer; ids: Int32Array; offsets: Int32Array; counts: Int32Array };

export interface FromEncodeWorker {
  batch: number;
  packets: ArrayBuffer;
  lengths: Int32Array;
  stride: number;
}

/** An encoder in this thread: `done` is called before `encode` returns. */
export function localEncoder(spec: EncoderSpec): FrameEncoder {
  const enc: OpusEncoder = createOpusEncoder(spec.rate, 1, spec.bitrate, spec.impl, spec.band, spec.complexity);
  const out = new Uint8Array(1000);
  return {
    encode(frame, done) {
      let n: number;
      try {
        n = enc.encode(frame, out);
      } catch {
        done(null);
        return;
      }
      done(out.subarray(0, n));
    },
    close: () => enc.close(),
  };
}

/** Frames waiting for one thread's next batch. */
class Pending {
  frames: Int16Array[] = [];
  ids: number[] = [];
  dones: ((packet: Uint8Array | null) => void)[] = [];
}

class EncodeThread {
  readonly worker: Worker;
  alive = true;
  private pending = new Pending();
  /** Batches sent and not answered yet: their callbacks, by batch number. */
  private readonly inFlight = new Map<number, ((packet: Uint8Array | null) => void)[]>();
  private nextBatch = 1;
  private flushQueued = false;

  constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (m: FromEncodeWorker) => this.answered(m));
  }

  create(id: number, spec: EncoderSpec): void {
    this.post({ type: 'create', id, spec });
  }

  close(id: number): void {
    this.flush(); // its last frames first
    this.post({ type: 'close', id });
  }

  encode(id: number, frame: Int16Array, done: (packet: Uint8Array | null) => void): void {
    const p = this.pending;
    p.frames.push(frame);
    p.ids.push(id);
    p.dones.push(done);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // after every call's frame of this tick (the frame clock runs them in one callback)
      queueMicrotask(() => this.flush());
    }
  }

  /** Frames of this thread's dead worker: answered as failed (their calls encode locally from now on). */
  failAll(): void {
    this.alive = false;
    for (const dones of this.inFlight.values()) for (const d of dones) d(null);
    this.inFlight.clear();
    for (const d of this.pending.dones) d(null);
    this.pending = new Pending();
  }

  private flush(): void {
    this.flushQueued = false;
    const p = this.pending;
    if (p.frames.length === 0 || !this.alive) return;
    this.pending = new Pending();
    let total = 0;
    for (const f of p.frames) total += f.length;
    const pcm = new Int16Array(total);
    const offsets = new Int32Array(p.frames.length);
    const counts = new Int32Array(p.frames.length);
    let at = 0;
    p.frames.forEach((f, i) => {
      pcm.set(f, at);
      offsets[i] = at;
      counts[i] = f.length;
      at += f.length;
    });
    const batch = this.nextBatch++;
    this.inFlight.set(batch, p.dones);
    const ids = Int32Array.from(p.ids);
    this.worker.postMessage({ type: 'batch', batch, pcm: pcm.buffer, ids, offsets, counts } satisfies ToEncodeWorker, [pcm.buffer, ids.buffer, offsets.buffer, counts.buffer]);
  }

  private post(m: ToEncodeWorker): void {
    if (this.alive) this.worker.postMessage(m);
  }

  private answered(m: FromEncodeWorker): void {
    const dones = this.inFlight.get(m.batch);
    if (!dones) return;
    this.inFlight.delete(m.batch);
    const packets = new Uint8Array(m.packets);
    for (let i = 0; i < dones.length; i++) {
      const n = m.lengths[i]!;
      dones[i]!(n < 0 ? null : packets.subarray(i * m.stride, i * m.stride + n));
    }
  }
}

export class OpusEncodePool {
  private readonly threads: EncodeThread[];
  private nextId = 1;
  private nextThread = 0;
  private closed = false;

  private constructor(threads: EncodeThread[]) {
    this.threads = threads;
  }

  /** Starts `count` threads (at least one). */
  static start(count: number, log: Logger): OpusEncodePool {
    const threads: EncodeThread[] = [];
    for (let i = 0; i < Math.max(1, count); i++) {
      const worker = new Worker(new URL('./opus-encode-worker.ts', import.meta.url));
      worker.unref();
      threads.push(new EncodeThread(worker));
    }
    const pool = new OpusEncodePool(threads);
    for (const t of threads) {
      const died = (why: string) => {
        if (!t.alive) return;
        if (!pool.closed) log.error({ why }, 'an Opus encoding thread of the SIP gateway died: its calls encode in the main thread');
        t.failAll();
      };
      t.worker.on('error', (e: Error) => died(e.message));
      t.worker.on('exit', (code) => died(`exit ${code}`));
    }
    return pool;
  }

  get threadCount(): number {
    return this.threads.length;
  }

  /** An encoder on the next thread (a local one when that thread died). */
  encoder(spec: EncoderSpec): FrameEncoder {
    const thread = this.threads[this.nextThread++ % this.threads.length]!;
    if (!thread.alive || this.closed) return localEncoder(spec);
    const id = this.nextId++;
    thread.create(id, spec);
    let local: FrameEncoder | null = null;
    let closed = false;
    return {
      encode(frame, done) {
        if (closed) return;
        if (thread.alive) return thread.encode(id, frame, done);
        (local ??= localEncoder(spec)).encode(frame, done);
      },
      close() {
        if (closed) return;
        closed = true;
        if (thread.alive) thread.close(id);
        local?.close();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
