// The SFU bridge: one UDP socket for all participants, controlled by focus over the bus.
// Entry: startBridge({bus, config, log, bridgeId?}) -> {bridgeId, mediaPort, close()}.
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { Bus, Json, Unsubscribe } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import {
  bridgeAllocatePlainSchema,
  NO_BRIDGE_CAPACITY,
  bridgeAllocateSchema,
  bridgeConfigureSchema,
  bridgeConstraintsSchema,
  bridgeExpireSchema,
  bridgeMuteSchema,
  bridgeSubscribeSchema,
  subjects,
} from '../protocol/bus-messages.ts';
import { nativeUdp } from './native/udp-batch.ts';
import { Bridge } from './bridge.ts';
import { createBridgeCertificate } from './certificate.ts';
import { candidateAddresses } from './candidates.ts';
import type { BridgeCounters } from './counters.ts';
import { MediaWorkerPool, mediaWorkerCount } from './workers/pool.ts';
import { claimMediaPort, mediaPortBindError } from './port-guard.ts';

export const ANNOUNCE_INTERVAL_MS = 5000;
const TICK_INTERVAL_MS = 1000;
const COUNTERS_REFRESH_MS = 100;

export interface BridgeHandle {
  bridgeId: string;
  mediaPort: number;
  /** The ICE-TCP port (RFC 6544 passive candidates), 0 when off. */
  tcpMediaPort: number;
  /** Packet counters (in/out/dropped by reason), for stats and the benchmark (with media workers: their sum, up to 100 ms old). */
  counters: BridgeCounters;
  /** The packet counters, summed over the media workers when there are some. */
  readCounters(): Promise<Record<string, number>>;
  /**
   * What the bridge holds (conferences, endpoints, its timers; with media workers also theirs, summed under
   * `mediaWorkers.`, handles and heap included; `gc`: each worker collects garbage first): every endpoint and
   * conference count is 0 once everyone left.
   */
  resourceCounts(gc?: boolean): Promise<Record<string, number>>;
  /** Threads that forward media (1: the main thread). */
  mediaWorkers: number;
  /** The bridge's DTLS certificate fingerprint (sha-256, `AB:CD:...`). */
  fingerprint: string;
  close(): Promise<void>;
}

export interface StartBridgeOptions {
  bus: Bus;
  config: Config;
  log: Logger;
  bridgeId?: string;
  /** Consent freshness timeout (default 30 s); tests shorten it. */
  consentTimeoutMs?: number;
}

function parse<T>(schema: z.ZodType<T>, payload: unknown, subject: string): T {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${subject}: invalid request: ${issues}`);
  }
  return result.data;
}

export async function startBridge(opts: StartBridgeOptions): Promise<BridgeHandle> {
  const bridgeId = opts.bridgeId ?? `bridge-${randomBytes(4).toString('hex')}`;
  const log = opts.log.child({ part: 'bridge', bridgeId });
  const certificate = await createBridgeCertificate();
  const bridge = new Bridge({
    bus: opts.bus,
    config: opts.config,
    log,
    bridgeId,
    certificate,
    consentTimeoutMs: opts.consentTimeoutMs,
  });
  const bindAddress = opts.config.listenAddress === '::' || opts.config.listenAddress === '' ? '0.0.0.0' : opts.config.listenAddress;
  // with media workers this thread keeps the control plane (requests are checked by its Bridge, which never
  // binds a socket) and every worker gets each accepted request; see workers/ and docs/ARCHITECTURE.md
  const workerCount = mediaWorkerCount(opts.config.mediaWorkers);
  // one bridge per media port on this machine (port-guard.ts): claimed before any socket binds it; port 0
  // (any free port) is claimed once the kernel picked it
  const requestedPort = opts.config.mediaPort;
  let guard = requestedPort > 0 ? await claimMediaPort(requestedPort) : null;
  let pool: MediaWorkerPool | null = null;
  let mediaPort: number;
  try {
    if (workerCount > 1) {
      pool = await MediaWorkerPool.start({
        count: workerCount,
        bridgeId,
        config: opts.config,
        log,
        certificate,
        consentTimeoutMs: opts.consentTimeoutMs,
        bindAddress,
        onEvent: (subject, payload) => opts.bus.publish(subject, payload),
      });
      bridge.udp.port = pool.port;
      mediaPort = pool.port;
    } else {
      mediaPort = await bridge.udp.bind(bindAddress, requestedPort);
    }
    guard ??= await claimMediaPort(mediaPort);
  } catch (e) {
    await pool?.close();
    await bridge.close();
    await guard?.release();
    throw mediaPortBindError(e, requestedPort);
  }
  // with media workers, handle.counters is their sum, refreshed a few times a second
  const countersTimer =
    pool === null
      ? null
      : setInterval(() => {
          void pool!.counters().then((sum) => Object.assign(bridge.counters, sum));
        }, COUNTERS_REFRESH_MS);
  countersTimer?.unref();
  // no publicAddress but a stunServer: ask it once, before the first allocation (the candidates use it)
  await bridge.discoverPublicAddress(bindAddress);
  // ICE-TCP: with media workers one of them owns the TCP port (and sends to whoever connects over TCP); this
  // thread's Bridge only announces it in candidates
  let tcpMediaPort = 0;
  if (opts.config.tcpMediaPort > 0) {
    if (pool === null) tcpMediaPort = await bridge.listenTcp(bindAddress, opts.config.tcpMediaPort);
    else {
      tcpMediaPort = await pool.listenTcp(bindAddress, opts.config.tcpMediaPort);
      bridge.tcpPort = tcpMediaPort;
      if (tcpMediaPort === 0) log.warn({ port: opts.config.tcpMediaPort }, 'ICE-TCP port unavailable: media over TCP is off');
    }
  }

  const ok = { ok: true } as const;
  const unsubscribes: Unsubscribe[] = [];
  const handle = (subject: string, fn: (payload: unknown) => Json | Promise<Json>) => {
    unsubscribes.push(
      opts.bus.handle(subject, (payload) => {
        try {
          return fn(payload);
        } catch (e) {
          log.warn({ subject, err: (e as Error).message }, 'bridge request rejected');
          throw e;
        }
      }),
    );
  };
  const allocateSubject = subjects.bridgeAllocate(bridgeId);
  handle(allocateSubject, (payload) => {
    const p = parse(bridgeAllocateSchema, payload, allocateSubject);
    // the cap focus honours (it learns it from the announcement); a re-allocation of an endpoint is no new one
    const known = bridge.conferences.get(p.conferenceId)?.endpoints.has(p.endpointId) ?? false;
    if (!known && bridge.endpointCount >= opts.config.maxEndpointsPerBridge) throw new Error(NO_BRIDGE_CAPACITY);
    const reply = bridge.allocate(p.conferenceId, p.endpointId);
    // with media workers the reply waits until every worker has applied the request
    return pool === null ? reply : pool.allocate(p.conferenceId, p.endpointId, reply.ufrag, reply.pwd).then(() => reply);
  });
  const allocatePlainSubject = subjects.bridgeAllocatePlain(bridgeId);
  // the address a plain peer sends to: the first one browsers are given too
  const plainAddress = candidateAddresses({ listenAddress: opts.config.listenAddress, publicAddress: bridge.publicAddress })[0] ?? '127.0.0.1';
  handle(allocatePlainSubject, async (payload) => {
    const p = parse(bridgeAllocatePlainSchema, payload, allocatePlainSubject);
    // with media workers the endpoint's home worker opens the sockets; this thread only keeps the record
    const own = await bridge.allocatePlain(p.conferenceId, p.endpointId, p, p.sources, pool === null);
    const description = pool === null ? own : await pool.allocatePlain(p, bridge.endpointUfrag(p.conferenceId, p.endpointId));
    if (description === null) throw new Error(`${allocatePlainSubject}: no media worker opened the transport`);
    return { address: plainAddress, ...description };
  });
  const configureSubject = subjects.bridgeConfigure(bridgeId);
  handle(configureSubject, (payload) => {
    const p = parse(bridgeConfigureSchema, payload, configureSubject);
    bridge.configure(p);
    return pool === null ? ok : pool.apply('configure', p).then(() => ok);
  });
  const subscribeSubject = subjects.bridgeSubscribe(bridgeId);
  handle(subscribeSubject, (payload) => {
    const p = parse(bridgeSubscribeSchema, payload, subscribeSubject);
    bridge.subscribe(p.conferenceId, p.endpointId, p.ssrcs);
    return pool === null ? ok : pool.apply('subscribe', p).then(() => ok);
  });
  const constraintsSubject = subjects.bridgeConstraints(bridgeId);
  handle(constraintsSubject, (payload) => {
    const p = parse(bridgeConstraintsSchema, payload, constraintsSubject);
    bridge.setVideoConstraints(p.conferenceId, p.endpointId, p.constraints);
    log.debug({ conferenceId: p.conferenceId, endpointId: p.endpointId, constraints: p.constraints }, 'video constraints');
    return pool === null ? ok : pool.apply('constraints', p).then(() => ok);
  });
  const muteSubject = subjects.bridgeMute(bridgeId);
  handle(muteSubject, (payload) => {
    const p = parse(bridgeMuteSchema, payload, muteSubject);
    bridge.mute(p.conferenceId, p.endpointId, p.kind, p.muted);
    return pool === null ? ok : pool.apply('mute', p).then(() => ok);
  });
  const expireSubject = subjects.bridgeExpire(bridgeId);
  handle(expireSubject, (payload) => {
    const p = parse(bridgeExpireSchema, payload, expireSubject);
    bridge.expire(p.conferenceId, p.endpointId);
    return pool === null ? ok : pool.expire(p.conferenceId, p.endpointId).then(() => ok);
  });

  const instance = randomBytes(6).toString('hex');
  const announce = () => {
    try {
      opts.bus.publish(subjects.bridgeAnnounce, { bridgeId, endpoints: bridge.endpointCount, maxEndpoints: opts.config.maxEndpointsPerBridge, instance });
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'could not announce the bridge');
    }
  };
  announce();
  // a focus that (re)starts asks at once instead of waiting for the next announcement (payload unused)
  let lastDiscoverAnswer = 0;
  unsubscribes.push(
    opts.bus.subscribe(subjects.bridgeDiscover, () => {
      if (Date.now() - lastDiscoverAnswer < 500) return; // at most twice a second, whoever asks
      lastDiscoverAnswer = Date.now();
      announce();
    }),
  );
  const announceTimer = setInterval(announce, ANNOUNCE_INTERVAL_MS);
  const tickTimer = setInterval(() => {
    try {
      if (pool === null) bridge.tick(); // media workers keep their own endpoints' consent
    } catch (e) {
      log.error({ err: (e as Error).message }, 'bridge maintenance failed');
    }
  }, TICK_INTERVAL_MS);
  announceTimer.unref();
  tickTimer.unref();

  log.info({ mediaPort, tcpMediaPort, address: bindAddress, fingerprint: certificate.fingerprint, mediaWorkers: workerCount, batchedSends: opts.config.nativeSend && nativeUdp() !== null }, 'bridge started');

  let closing: Promise<void> | null = null;
  return {
    bridgeId,
    mediaPort,
    tcpMediaPort,
    counters: bridge.counters,
    readCounters: () =>
      pool !== null
        ? pool.counters().then((sum) => Object.assign(bridge.counters, sum).snapshot())
        : Promise.resolve(bridge.counters.snapshot()),
    resourceCounts: async (gc = false) => {
      const own = bridge.resourceCounts();
      if (pool === null) return own;
      const workers = await pool.resources(gc);
      return { ...own, ...Object.fromEntries(Object.entries(workers).map(([k, v]) => [`mediaWorkers.${k}`, v])) };
    },
    mediaWorkers: workerCount,
    fingerprint: certificate.fingerprint,
    close() {
      closing ??= (async () => {
        clearInterval(announceTimer);
        clearInterval(tickTimer);
        for (const u of unsubscribes) u();
        if (countersTimer !== null) clearInterval(countersTimer);
        await pool?.close();
        await bridge.close();
        await guard.release();
        log.info({ counters: bridge.counters.snapshot() }, 'bridge stopped');
      })();
      return closing;
    },
  };
}
