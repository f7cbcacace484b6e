// The SFU bridge: one UDP socket for all participants, controlled by focus over the bus.
// Entry: startBridge({bus, config, log, bridgeId?}) -> {bridgeId, mediaPort, close()}.
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { BusCallError, type Bus, type Unsubscribe } from '../bus/bus.ts';
import { serveBus, type BusCallSpec } from '../bus/typed-calls.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { NO_BRIDGE_CAPACITY, subjects } from '../protocol/bus-messages.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { nativeUdp } from './native/udp-batch.ts';
import { Bridge } from './bridge.ts';
import { createBridgeCertificate } from './certificate.ts';
import { candidateAddresses } from './candidates.ts';
import type { BridgeCounters } from './counters.ts';
import { receiverReportBuckets } from './receiver-reports.ts';
import { StressMeter } from './stress.ts';
import { MediaWorkerPool, mediaWorkerCount } from './workers/pool.ts';
import { claimMediaPort, mediaPortBindError } from './port-guard.ts';
import type { PlainAllocation } from './plain-transport.ts';

/** How often a draining bridge looks whether its conferences are gone. */
const DRAIN_POLL_MS = 100;
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
  /** Receivers' loss, round-trip time and jitter as bucket counts (receiver-reports.ts), over the media workers. */
  readReceiverReports(): Promise<Record<string, number>>;
  /** Conferences and endpoints on this bridge now, and its cap. */
  load(): { conferences: number; endpoints: number; maxEndpoints: number; largestConference: number };
  /** Threads that forward media (1: the main thread). */
  mediaWorkers: number;
  /** The bridge's DTLS certificate fingerprint (sha-256, `AB:CD:...`). */
  fingerprint: string;
  /** A reloaded lastN (SIGHUP), for the conferences that start from now. */
  setLastN(lastN: number): Promise<void>;
  /**
   * Drains the bridge (SIGTERM): it says so in its announcements (focus then moves its conferences to other
   * bridges at once) and refuses new endpoints; resolves once no conference is left on it, or after
   * `timeoutMs` (true: it is empty).
   */
  drain(timeoutMs: number): Promise<boolean>;
  /** True once drain() was called. */
  readonly draining: boolean;
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
  let draining = false;
  /** A draining bridge takes no new endpoint (focus already places them elsewhere: this covers a race). */
  const refuseWhileDraining = () => {
    if (draining) throw new BusCallError('unavailable', `bridge ${bridgeId} is stopping`);
  };
  /** Serves one of the bridge's calls; a refusal is logged here (focus logs it too, with its context). */
  const serve = <C extends BusCallSpec>(spec: C, fn: (req: z.output<C['request']>) => z.input<C['reply']> | Promise<z.input<C['reply']>>) => {
    unsubscribes.push(
      serveBus(opts.bus, spec, bridgeId, async (req) => {
        try {
          return await fn(req);
        } catch (e) {
          log.warn({ subject: spec.subject(bridgeId), err: (e as Error).message }, 'bridge request rejected');
          throw e;
        }
      }),
    );
  };
  serve(busCalls.bridgeAllocate, (p) => {
    // the cap focus honours (it learns it from the announcement); a re-allocation of an endpoint is no new one
    const known = bridge.conferences.get(p.conferenceId)?.endpoints.has(p.endpointId) ?? false;
    if (!known) refuseWhileDraining();
    if (!known && bridge.endpointCount >= opts.config.maxEndpointsPerBridge) throw new BusCallError('no-capacity', NO_BRIDGE_CAPACITY);
    const reply = bridge.allocate(p.conferenceId, p.endpointId);
    // with media workers the reply waits until every worker has applied the request
    return pool === null ? reply : pool.allocate(p.conferenceId, p.endpointId, reply.ufrag, reply.pwd).then(() => reply);
  });
  // the address a plain peer sends to: the first one browsers are given too
  const plainAddress = candidateAddresses({ listenAddress: opts.config.listenAddress, publicAddress: bridge.publicAddress })[0] ?? '127.0.0.1';
  // bridges reach each other on their own network, not through the public address a NAT in front of them has
  const relayAddress = candidateAddresses({ listenAddress: opts.config.listenAddress, publicAddress: '' })[0] ?? '127.0.0.1';
  serve(busCalls.bridgeAllocatePlain, async (p) => {
    const known = bridge.conferences.get(p.conferenceId)?.endpoints.has(p.endpointId) ?? false;
    if (known) throw new BusCallError('conflict', `endpoint ${p.endpointId} is already in conference ${p.conferenceId}`);
    refuseWhileDraining();
    if (bridge.endpointCount >= opts.config.maxEndpointsPerBridge) throw new BusCallError('no-capacity', NO_BRIDGE_CAPACITY);
    // with media workers the endpoint's home worker opens the sockets; this thread only keeps the record
    const own = await bridge.allocatePlain(p.conferenceId, p.endpointId, p, p.sources, pool === null);
    const description = pool === null ? own : await pool.allocatePlain(p);
    if (description === null) throw new BusCallError('unavailable', 'no media worker opened the plain-RTP transport');
    return { address: plainAddress, ...description };
  });
  // one end of a relay to another bridge of the conference: a plain transport of kind 'relay' (not counted
  // against maxEndpointsPerBridge: it carries participants that are counted where they are)
  serve(busCalls.bridgeAllocateRelay, async (p) => {
    const known = bridge.conferences.get(p.conferenceId)?.endpoints.has(p.endpointId) ?? false;
    if (known) throw new BusCallError('conflict', `endpoint ${p.endpointId} is already in conference ${p.conferenceId}`);
    refuseWhileDraining();
    const allocation: PlainAllocation = {
      conferenceId: p.conferenceId,
      endpointId: p.endpointId,
      legs: [p.peer ? { kind: 'all', address: p.peer.address, port: p.peer.port } : { kind: 'all' }],
      rtcpMux: true,
      comedia: p.peer === undefined,
      srtp: true,
      sources: [],
      keys: { local: p.sendKey, remote: p.receiveKey },
      relay: true,
    };
    const own = await bridge.allocatePlain(p.conferenceId, p.endpointId, allocation, [], pool === null);
    const description = pool === null ? own : await pool.allocatePlain(allocation);
    if (description === null) throw new BusCallError('unavailable', 'no media worker opened the relay transport');
    return { address: relayAddress, port: description.legs[0]!.port };
  });
  serve(busCalls.bridgeSetSources, (p) => {
    bridge.setSources(p.conferenceId, p.endpointId, p.sources);
    return pool === null ? ok : pool.apply('sources', p).then(() => ok);
  });
  serve(busCalls.bridgeConfigure, (p) => {
    bridge.configure(p);
    return pool === null ? ok : pool.apply('configure', p).then(() => ok);
  });
  serve(busCalls.bridgeSubscribe, (p) => {
    bridge.subscribe(p.conferenceId, p.endpointId, p.ssrcs, p.slots);
    return pool === null ? ok : pool.apply('subscribe', p).then(() => ok);
  });
  serve(busCalls.bridgeConstraints, (p) => {
    bridge.setVideoConstraints(p.conferenceId, p.endpointId, p.constraints, p.maxHeight);
    log.debug({ conferenceId: p.conferenceId, endpointId: p.endpointId, constraints: p.constraints }, 'video constraints');
    return pool === null ? ok : pool.apply('constraints', p).then(() => ok);
  });
  serve(busCalls.bridgeMute, (p) => {
    bridge.mute(p.conferenceId, p.endpointId, p.kind, p.muted);
    return pool === null ? ok : pool.apply('mute', p).then(() => ok);
  });
  // focus asks before it counts this bridge dead (its heartbeats were late): answered while the process runs
  serve(busCalls.bridgePing, () => ok);
  serve(busCalls.bridgeExpire, (p) => {
    bridge.expire(p.conferenceId, p.endpointId);
    return pool === null ? ok : pool.expire(p.conferenceId, p.endpointId).then(() => ok);
  });

  const instance = randomBytes(6).toString('hex');
  const stress = new StressMeter();
  const region = opts.config.region === '' ? {} : { region: opts.config.region };
  const announce = () => {
    try {
      opts.bus.publish(subjects.bridgeAnnounce, {
        bridgeId,
        endpoints: bridge.endpointCount,
        maxEndpoints: opts.config.maxEndpointsPerBridge,
        instance,
        stress: Math.min(64, stress.read()),
        ...region,
        ...(draining ? { draining: true } : {}),
      });
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
  // the heartbeat: focus counts the bridge dead after bridgeFailureTimeout without one
  const announceTimer = setInterval(announce, Math.round(opts.config.bridgeHeartbeat * 1000));
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
    readReceiverReports: () => (pool !== null ? pool.reports() : Promise.resolve(receiverReportBuckets(bridge.conferences.values()))),
    load: () => {
      let largestConference = 0;
      for (const c of bridge.conferences.values()) largestConference = Math.max(largestConference, c.endpoints.size);
      return { conferences: bridge.conferences.size, endpoints: bridge.endpointCount, maxEndpoints: opts.config.maxEndpointsPerBridge, largestConference };
    },
    resourceCounts: async (gc = false) => {
      const own = bridge.resourceCounts();
      if (pool === null) return own;
      const workers = await pool.resources(gc);
      return { ...own, ...Object.fromEntries(Object.entries(workers).map(([k, v]) => [`mediaWorkers.${k}`, v])) };
    },
    mediaWorkers: workerCount,
    fingerprint: certificate.fingerprint,
    async setLastN(lastN: number) {
      bridge.setLastN(lastN);
      await pool?.setLastN(lastN);
    },
    get draining() {
      return draining;
    },
    async drain(timeoutMs: number) {
      if (!draining) {
        draining = true;
        log.info({ conferences: bridge.conferences.size, endpoints: bridge.endpointCount, timeoutMs }, 'draining: no new conferences; waiting for focus to move the others away');
        announce(); // the goodbye: focus moves the conferences now rather than after the heartbeat timeout
      }
      const deadline = Date.now() + timeoutMs;
      while (bridge.conferences.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
      const empty = bridge.conferences.size === 0;
      if (empty) log.info('drained: no conference left on this bridge');
      else log.warn({ conferences: bridge.conferences.size, endpoints: bridge.endpointCount }, 'drain timeout: stopping with conferences still on this bridge');
      return empty;
    },
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
