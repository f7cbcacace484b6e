// The control thread's side of the media workers: starts one worker per core, binds their sockets to the
// one media port (SO_REUSEPORT), numbers conferences and endpoints, places each endpoint on a worker
// (placement.ts), sends every control request to every worker, relays what one worker learns about an
// endpoint to the others, and sums their counters.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Json } from '../../bus/bus.ts';
import type { Config } from '../../config/config.ts';
import type { PlainAllocation, PlainTransportDescription } from '../plain-transport.ts';
import type { Logger } from '../../log.ts';
import type { BridgeCertificate } from '../certificate.ts';
import { PacketRing, RING_SLOTS } from './packet-ring.ts';
import { WorkerPlacement } from './placement.ts';
import type { FromWorker, MediaWorkerData, ToWorker } from './media-worker.ts';
import { SPEAKER_WORKER, TCP_WORKER } from './worker-bridge.ts';
import { siblingModuleUrl } from '../../sibling-module.ts';
import { SharedCounters } from './shared-counters.ts';

/** How long the sums over the workers wait for a busy worker's answer (then: the sum of those that answered). */
const SUM_TIMEOUT_MS = 1000;
const SUM_WITH_GC_TIMEOUT_MS = 5000;

/** Endpoints one bridge process numbers at most (size of the shared SRTCP index table). */
const MAX_ENDPOINTS = 65536;
/** handOff masks are 32-bit. */
export const MAX_MEDIA_WORKERS = 16;

/** How many media workers `mediaWorkers` asks for: 0 = one per core; 1 = none (the main thread forwards). */
export function mediaWorkerCount(setting: number): number {
  // one per core needs SO_REUSEPORT's load spreading, which is Linux's
  const n = setting === 0 ? (process.platform === 'linux' ? availableParallelism() : 1) : setting;
  return Math.max(1, Math.min(MAX_MEDIA_WORKERS, n));
}

/** Slots per ring: n * (n - 1) rings of 1.5 KB slots; 2048 slots (3 MB) each for 2 workers, 256 for 16. */
function ringSlots(workers: number): number {
  let slots = RING_SLOTS;
  while (slots > 256 && slots * workers > RING_SLOTS * 2) slots >>= 1;
  return slots;
}

export interface MediaWorkerPoolOptions {
  count: number;
  bridgeId: string;
  config: Config;
  log: Logger;
  certificate: BridgeCertificate;
  consentTimeoutMs?: number;
  bindAddress: string;
  /** The media port the workers bind (default config.mediaPort; 0 = any free port). */
  port?: number;
  onEvent: (subject: string, payload: Json) => void;
}

type ControlOp = 'allocate' | 'configure' | 'sources' | 'subscribe' | 'constraints' | 'mute' | 'expire' | 'lastN';

export class MediaWorkerPool {
  port = 0;
  private readonly workers: Worker[];
  private readonly log: Logger;
  private readonly rtcpIndexes: Int32Array;
  /** Per endpoint ("conference\nendpoint"): its number and the worker it is placed on. */
  private readonly endpoints = new Map<string, { num: number; worker: number }>();
  private readonly freeEndpointNums: number[] = [];
  private nextEndpointNum = 0;
  private readonly conferenceNums = new Map<string, number>();
  private readonly placement: WorkerPlacement;
  private nextConferenceNum = 1;
  private nextRequestId = 1;
  private readonly pendingOps = new Map<number, { left: number; results: Array<{ result?: Json; error?: string }>; done: () => void }>();
  private readonly pendingCounters = new Map<number, { left: number; sum: Record<string, number>; resolve: (c: Record<string, number>) => void }>();
  private closing = false;

  /** Each worker's counters as it last copied them (shared-counters.ts). */
  private readonly sharedCounters: SharedCounters[];

  private constructor(workers: Worker[], log: Logger, rtcpIndexes: Int32Array, span: number, sharedCounters: SharedCounters[]) {
    this.workers = workers;
    this.sharedCounters = sharedCounters;
    this.placement = new WorkerPlacement(workers.length, span);
    this.log = log;
    this.rtcpIndexes = rtcpIndexes;
  }

  static async start(opts: MediaWorkerPoolOptions): Promise<MediaWorkerPool> {
    const n = opts.count;
    const rtcpSab = new SharedArrayBuffer(MAX_ENDPOINTS * 4);
    const rings: Array<Array<SharedArrayBuffer | null>> = [];
    for (let from = 0; from < n; from++) {
      rings.push([]);
      for (let to = 0; to < n; to++) rings[from].push(from === to ? null : new PacketRing(undefined, ringSlots(n)).sab);
    }
    const workers: Worker[] = [];
    const sharedCounters: SharedCounters[] = [];
    for (let i = 0; i < n; i++) {
      const counters = new SharedCounters();
      sharedCounters.push(counters);
      const data: MediaWorkerData = {
        workerIndex: i,
        workerCount: n,
        bridgeId: opts.bridgeId,
        config: opts.config,
        logLevel: opts.log.level,
        certificate: opts.certificate,
        consentTimeoutMs: opts.consentTimeoutMs,
        rtcpIndexes: rtcpSab,
        rings,
        counters: counters.sab,
      };
      workers.push(new Worker(siblingModuleUrl('./media-worker', import.meta.url), { workerData: data, name: `media-${i}` }));
    }
    const pool = new MediaWorkerPool(workers, opts.log, new Int32Array(rtcpSab), opts.config.mediaWorkerSpan, sharedCounters);
    for (const [i, w] of workers.entries()) {
      w.on('message', (m: FromWorker) => pool.onMessage(i, m, opts.onEvent));
      w.on('error', (e: Error) => opts.log.error({ worker: i, err: e.message }, 'media worker failed'));
      w.on('exit', (code) => {
        if (!pool.closing) opts.log.error({ worker: i, code }, 'media worker exited');
      });
    }
    try {
      // the first socket picks the port (0 = any), the others join it
      pool.port = await pool.bind(0, opts.bindAddress, opts.port ?? opts.config.mediaPort);
      for (let i = 1; i < n; i++) await pool.bind(i, opts.bindAddress, pool.port);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** ICE-TCP: the TCP worker (0) listens on `port`; resolves to the port, 0 when it could not. */
  listenTcp(address: string, port: number): Promise<number> {
    const w = this.workers[TCP_WORKER];
    return new Promise((resolve) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== 'tcpBound') return;
        w.off('message', onMessage);
        resolve(m.port);
      };
      w.on('message', onMessage);
      w.postMessage({ type: 'listenTcp', address, port } satisfies ToWorker);
    });
  }

  private bind(i: number, address: string, port: number): Promise<number> {
    const w = this.workers[i];
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === 'bound') resolve(m.port);
        else if (m.type === 'bindError') reject(new Error(`media worker ${i}: ${m.message}`));
        else return;
        w.off('message', onMessage);
      };
      w.on('message', onMessage);
      w.postMessage({ type: 'bind', address, port } satisfies ToWorker);
    });
  }

  private onMessage(from: number, m: FromWorker, onEvent: (subject: string, payload: Json) => void): void {
    if (m.type === 'event') onEvent(m.subject, m.payload);
    else if (m.type === 'peer') {
      // a check goes to the endpoint's worker, audio levels to the speaker worker, the rest to every other
      const to = m.update.kind === 'stun' ? m.update.to : m.update.kind === 'levels' ? SPEAKER_WORKER : -1;
      for (const [i, w] of this.workers.entries()) {
        if (i !== from && (to < 0 || i === to)) w.postMessage({ type: 'peer', update: m.update } satisfies ToWorker);
      }
    } else if (m.type === 'applied') {
      const p = this.pendingOps.get(m.id);
      if (p && (m.result !== undefined || m.error !== undefined)) p.results.push({ result: m.result, error: m.error });
      if (p && --p.left === 0) {
        this.pendingOps.delete(m.id);
        p.done();
      }
    } else if (m.type === 'counters') {
      const p = this.pendingCounters.get(m.id);
      if (!p) return;
      for (const [k, v] of Object.entries(m.counters)) p.sum[k] = (p.sum[k] ?? 0) + v;
      if (--p.left === 0) {
        this.pendingCounters.delete(m.id);
        p.resolve(p.sum);
      }
    }
  }

  /** Sends a control request to every worker; resolves when all applied it (so a bus reply means "in effect"). */
  /** A reloaded lastN, to every worker (for the conferences that start from now). */
  setLastN(lastN: number): Promise<void> {
    return this.broadcast('lastN', { lastN });
  }

  private broadcast(op: ControlOp, payload: Record<string, unknown>): Promise<void> {
    return this.broadcastFor(op, payload).then(() => {});
  }

  /** broadcast, resolving with what the workers returned (results or errors; a worker returns at most one). */
  private broadcastFor(op: ControlOp, payload: Record<string, unknown>): Promise<Array<{ result?: Json; error?: string }>> {
    const id = this.nextRequestId++;
    const results: Array<{ result?: Json; error?: string }> = [];
    return new Promise((resolve) => {
      // a stuck or dead worker must not hold the control plane: give up waiting after a second
      const timer = setTimeout(() => {
        this.pendingOps.delete(id);
        resolve(results);
      }, 1000);
      timer.unref();
      this.pendingOps.set(id, {
        left: this.workers.length,
        results,
        done: () => {
          clearTimeout(timer);
          resolve(results);
        },
      });
      for (const w of this.workers) w.postMessage({ type: 'op', id, op, payload } satisfies ToWorker);
    });
  }

  /**
   * After the control thread's bridge accepted the allocation (and chose ufrag/pwd). The endpoint is placed
   * on a worker (placement.ts), which receives and sends its media (worker-bridge.ts).
   */
  allocate(conferenceId: string, endpointId: string, ufrag: string, pwd: string): Promise<void> {
    return this.broadcast('allocate', { ...this.place(conferenceId, endpointId), ufrag, pwd });
  }

  /** Numbers the endpoint (and its conference) and places it on a worker. */
  private place(conferenceId: string, endpointId: string) {
    const key = `${conferenceId}\n${endpointId}`;
    if (this.endpoints.has(key)) this.release(conferenceId, endpointId);
    const endpointNum = this.freeEndpointNums.pop() ?? this.nextEndpointNum++;
    if (endpointNum >= MAX_ENDPOINTS) throw new Error('too many endpoints on this bridge');
    Atomics.store(this.rtcpIndexes, endpointNum, 1);
    let conferenceNum = this.conferenceNums.get(conferenceId);
    if (conferenceNum === undefined) this.conferenceNums.set(conferenceId, (conferenceNum = this.nextConferenceNum++));
    const worker = this.placement.place(conferenceId);
    this.endpoints.set(key, { num: endpointNum, worker });
    return { conferenceId, endpointId, conferenceNum, endpointNum, worker };
  }

  /**
   * A plain-RTP endpoint (after the control thread's bridge accepted it): placed like any endpoint; its home
   * worker opens the sockets and describes them. Rejects with the home worker's error.
   */
  async allocatePlain(p: PlainAllocation): Promise<PlainTransportDescription> {
    const { conferenceId, endpointId } = p;
    const results = await this.broadcastFor('allocate', { ...this.place(conferenceId, endpointId), ufrag: '', pwd: '', plain: p });
    const error = results.find((r) => r.error !== undefined)?.error;
    const description = results.find((r) => r.result !== undefined)?.result;
    if (error !== undefined || description === undefined) {
      void this.expire(conferenceId, endpointId);
      throw new Error(error ?? 'the media worker did not open the plain transport in time');
    }
    return description as unknown as PlainTransportDescription;
  }

  /** configure, sources, subscribe, constraints, mute: after the control thread's bridge accepted them. */
  apply(op: 'configure' | 'sources' | 'subscribe' | 'constraints' | 'mute', payload: Record<string, unknown>): Promise<void> {
    return this.broadcast(op, payload);
  }

  expire(conferenceId: string, endpointId: string): Promise<void> {
    if (!this.endpoints.has(`${conferenceId}\n${endpointId}`)) return Promise.resolve();
    const applied = this.broadcast('expire', { conferenceId, endpointId });
    this.release(conferenceId, endpointId);
    return applied;
  }

  private release(conferenceId: string, endpointId: string): void {
    const key = `${conferenceId}\n${endpointId}`;
    const e = this.endpoints.get(key);
    if (e === undefined) return;
    this.endpoints.delete(key);
    this.freeEndpointNums.push(e.num);
    if (this.placement.remove(conferenceId, e.worker)) this.conferenceNums.delete(conferenceId);
  }

  /** The sum of every worker's packet counters as they last copied them (at most COPY_EVERY_MS old), now. */
  countersNow(): Record<string, number> {
    const sum: Record<string, number> = {};
    for (const c of this.sharedCounters) c.addTo(sum);
    return sum;
  }

  /** The sum of every worker's packet counters, asked of them (what answered within a second, if a worker is stuck). */
  counters(): Promise<Record<string, number>> {
    return this.sumOverWorkers('counters');
  }

  /** The sum of every worker's resource counts (endpoints, timers, handles, heap: each worker's own); `gc` first. */
  resources(gc = false): Promise<Record<string, number>> {
    return this.sumOverWorkers('resources', gc);
  }

  /** The sum of every worker's receiver-report bucket counts (receiver-reports.ts). */
  reports(): Promise<Record<string, number>> {
    return this.sumOverWorkers('reports');
  }

  private sumOverWorkers(type: 'counters' | 'resources' | 'reports', gc = false): Promise<Record<string, number>> {
    const id = this.nextRequestId++;
    return new Promise((resolve) => {
      const sum: Record<string, number> = {};
      // a forced GC on a busy worker may take longer than a plain count
      const timer = setTimeout(() => {
        this.pendingCounters.delete(id);
        resolve(sum);
      }, gc ? SUM_WITH_GC_TIMEOUT_MS : SUM_TIMEOUT_MS);
      timer.unref();
      this.pendingCounters.set(id, {
        left: this.workers.length,
        sum,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      });
      for (const w of this.workers) w.postMessage((type === 'resources' ? { type, id, gc } : { type, id }) satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const done = () => resolve();
            const timer = setTimeout(done, 2000);
            w.on('message', (m: FromWorker) => {
              if (m.type === 'closed') {
                clearTimeout(timer);
                done();
              }
            });
            w.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            w.postMessage({ type: 'close' } satisfies ToWorker);
          }),
      ),
    );
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.log.debug('media workers stopped');
  }
}
