// The media workers when they are needed (`mediaWorkersOnDemand`; otherwise they start with the bridge and
// this only holds the ports while they start): an idle bridge runs none (each worker is a V8 isolate with its own
// copy of the bridge's modules, ~50 MiB of RSS), the first endpoint starts them, and they stop again once the
// bridge has been empty for IDLE_STOP_MS. Meanwhile the control thread holds the ports the bridge announced:
// a UDP socket in the media port's SO_REUSEPORT group (it reads nothing: nobody was given a candidate yet) and
// the ICE-TCP listener. The workers join the UDP group before the placeholder leaves it, so the port is never
// free; the TCP port is handed over by closing it and listening again (a short window, logged if lost).
// Invariant: at most one start or stop runs at a time (`chain`); `pool` is the running pool or null; a stop
// gives up when the bridge is no longer empty by the time it runs, and takes `pool` away before its first await
// (a join meanwhile starts the workers again after it, never uses the ones going away).
import dgram from 'node:dgram';
import net from 'node:net';
import { literalLookup } from '../../net/udp.ts';
import type { Logger } from '../../log.ts';
import { MediaWorkerPool, type MediaWorkerPoolOptions } from './pool.ts';

/** How long the bridge stays empty before its media workers stop. */
export const IDLE_STOP_MS = 10_000;
/** How long workers started by a warm-up (someone opened a room's join screen) wait for a join before they stop. */
export const WARM_HOLD_MS = 60_000;

export interface OnDemandPoolOptions extends Omit<MediaWorkerPoolOptions, 'port'> {
  /** Called with the running pool after each start (counters timers and the like). */
  onStart?: (pool: MediaWorkerPool) => void;
  /** Called at each stop with the workers' final counter sums (counters must not go back when they restart). */
  onStop?: (finalCounters: Record<string, number>) => void;
  /** Stop the workers when the bridge has been empty idleStopMs (false: once started they run until close). */
  stopWhenIdle: boolean;
  idleStopMs?: number;
  /** Whether the bridge is still empty when a stop comes to run (a join may have come since it was planned). */
  isIdle?: () => boolean;
}

export class OnDemandPool {
  /** The media port (the placeholder's, then the workers'). */
  port = 0;
  /** The ICE-TCP port held (0: none). */
  tcpPort = 0;
  pool: MediaWorkerPool | null = null;
  /** Times the workers were started (for tests and logs). */
  starts = 0;
  private readonly opts: OnDemandPoolOptions;
  private readonly log: Logger;
  private udpHold: dgram.Socket | null = null;
  private tcpHold: net.Server | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** The start under way, if any. */
  private starting: Promise<MediaWorkerPool> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(opts: OnDemandPoolOptions) {
    this.opts = opts;
    this.log = opts.log;
  }

  /** Holds the media port (0 = any free one); resolves with it. */
  async holdPorts(requestedPort: number, tcpPort: number): Promise<number> {
    this.port = await this.holdUdp(requestedPort);
    if (tcpPort > 0) {
      try {
        this.tcpPort = await this.holdTcp(tcpPort);
      } catch (e) {
        this.log.warn({ port: tcpPort, err: (e as Error).message }, 'ICE-TCP port unavailable: media over TCP is off');
      }
    }
    return this.port;
  }

  /** The running pool, started first when needed. Rejects when the workers could not start (a later call tries again). */
  get(): Promise<MediaWorkerPool> {
    this.cancelIdleStop();
    if (this.pool !== null) return Promise.resolve(this.pool);
    if (this.starting !== null) return this.starting;
    const p = this.chain.then(() => this.start());
    this.starting = p;
    this.chain = p.catch(() => {}).finally(() => {
      this.starting = null;
    });
    return p;
  }

  /** Resolves once no start or stop is under way (tests). */
  async settled(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.chain;
      await seen.catch(() => {});
    } while (seen !== this.chain);
  }

  /** The running pool, or the one starting; null when the workers are stopped (there are no endpoints then). */
  current(): MediaWorkerPool | Promise<MediaWorkerPool> | null {
    return this.pool ?? this.starting;
  }

  /** The bridge's endpoint count changed: an empty bridge stops its workers after idleStopMs. */
  endpointsChanged(count: number): void {
    if (count > 0) {
      this.cancelIdleStop();
      return;
    }
    this.armIdleStop(this.opts.idleStopMs ?? IDLE_STOP_MS);
  }

  /**
   * Someone is about to join (a room's join screen opened): with workers on demand, an idle bridge starts them now,
   * so the join does not wait for them, and keeps them holdMs for that join before the idle stop applies again.
   */
  warm(holdMs = WARM_HOLD_MS): void {
    if (!this.opts.stopWhenIdle || this.closed) return;
    this.get().then(
      () => {
        if (this.opts.isIdle?.() === false) return; // the join came: the endpoint count decides from now on
        this.cancelIdleStop();
        this.armIdleStop(holdMs);
      },
      (e: Error) => this.log.warn({ err: e.message }, 'media workers did not start for a warm-up'),
    );
  }

  /** Stops the workers after ms unless a stop is already planned (or nothing runs). */
  private armIdleStop(ms: number): void {
    if (!this.opts.stopWhenIdle || this.pool === null || this.idleTimer !== null || this.closed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.chain = this.chain.then(() => this.stop()).catch((e: Error) => this.log.error({ err: e.message }, 'media workers did not stop'));
    }, ms);
    this.idleTimer.unref();
  }

  private cancelIdleStop(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private async start(): Promise<MediaWorkerPool> {
    if (this.closed) throw new Error('the bridge is closing');
    if (this.pool !== null) return this.pool;
    const started = Date.now();
    const pool = await MediaWorkerPool.start({ ...this.opts, port: this.port });
    try {
      // the workers are in the port's group now: the placeholder leaves it
      await closeUdp(this.udpHold);
      this.udpHold = null;
      if (this.tcpPort > 0) {
        await closeTcp(this.tcpHold);
        this.tcpHold = null;
        const got = await pool.listenTcp(this.opts.bindAddress, this.tcpPort);
        if (got !== this.tcpPort) this.log.warn({ port: this.tcpPort }, 'ICE-TCP port lost while the media workers took it over: media over TCP is off');
      }
    } catch (e) {
      await pool.close(); // not left running unseen; the next join tries again
      throw e;
    }
    this.pool = pool;
    this.starts++;
    this.log.info({ workers: this.opts.count, ms: Date.now() - started }, 'media workers started');
    this.opts.onStart?.(pool);
    return pool;
  }

  private async stop(): Promise<void> {
    const pool = this.pool;
    if (pool === null || this.closed || this.opts.isIdle?.() === false) return;
    this.pool = null;
    let finalCounters: Record<string, number> = {};
    try {
      // the port stays held: the placeholder joins the group before the workers leave it
      this.udpHold = await this.holdUdpSocket(this.port);
      finalCounters = await pool.counters();
    } finally {
      this.opts.onStop?.(finalCounters);
      await pool.close();
    }
    if (this.tcpPort > 0) {
      try {
        this.tcpHold = await listenTcp(this.opts.bindAddress, this.tcpPort);
      } catch (e) {
        this.log.warn({ port: this.tcpPort, err: (e as Error).message }, 'ICE-TCP port lost after the media workers stopped');
      }
    }
    this.log.info('media workers stopped: the bridge is idle');
  }

  private async holdUdp(port: number): Promise<number> {
    this.udpHold = await this.holdUdpSocket(port);
    return this.udpHold.address().port;
  }

  private holdUdpSocket(port: number): Promise<dgram.Socket> {
    const s = dgram.createSocket({ type: 'udp4', lookup: literalLookup, reusePort: true });
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, this.opts.bindAddress, () => {
        s.off('error', reject);
        s.on('error', () => {}); // it reads nothing; an ICMP error on it means nothing to the bridge
        resolve(s);
      });
    });
  }

  private async holdTcp(port: number): Promise<number> {
    this.tcpHold = await listenTcp(this.opts.bindAddress, port);
    return (this.tcpHold.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    this.cancelIdleStop();
    this.closed = true;
    await this.chain.catch(() => {});
    const pool = this.pool;
    this.pool = null;
    if (pool !== null) {
      // the workers' counters go to onStop as at an idle stop: the bridge's last summary counts them
      let finalCounters: Record<string, number> = {};
      try {
        finalCounters = await pool.counters();
      } catch {
        // a worker that does not answer any more: its counters are lost
      } finally {
        this.opts.onStop?.(finalCounters);
      }
      await pool.close();
    }
    await closeUdp(this.udpHold);
    await closeTcp(this.tcpHold);
    this.udpHold = null;
    this.tcpHold = null;
  }
}

function listenTcp(host: string, port: number): Promise<net.Server> {
  // a connection before the workers run has no endpoint to reach: closed at once
  const server = net.createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeUdp(s: dgram.Socket | null): Promise<void> {
  if (s === null) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

function closeTcp(s: net.Server | null): Promise<void> {
  if (s === null) return Promise.resolve();
  return new Promise((resolve) => s.close(() => resolve()));
}
