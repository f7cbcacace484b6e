// The SFU bridge: one UDP socket for all participants, controlled by focus over the bus.
// Entry: startBridge({bus, config, log, bridgeId?}) -> {bridgeId, mediaPort, close()}.
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { BusCallError, type Bus, type Unsubscribe } from '../bus/bus.ts';
import { callBus, serveBus, type BusCallSpec } from '../bus/typed-calls.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { bridgeEventSchema, NO_BRIDGE_CAPACITY, subjects } from '../protocol/bus-messages.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { nativeReceive, nativeUdp } from './native/udp-batch.ts';
import { loadDtls } from './dtls.ts';
import { Bridge } from './bridge.ts';
import { createBridgeCertificate } from './certificate.ts';
import { candidateAddresses } from './candidates.ts';
import type { BridgeCounters } from './counters.ts';
import { receiverReportBuckets } from './receiver-reports.ts';
import { StressMeter } from './stress.ts';
import { LOST_ENDPOINT_EXPIRY_MS, LostEndpoints } from './lost-endpoints.ts';
import { mediaWorkerCount, type MediaWorkerPool } from './workers/pool.ts';
import { OnDemandPool } from './workers/on-demand-pool.ts';
import { claimMediaPort, mediaPortBindError } from './port-guard.ts';
import type { PlainAllocation } from './plain-transport.ts';

/** How often a draining bridge looks whether its conferences are gone. */
const DRAIN_POLL_MS = 100;
const TICK_INTERVAL_MS = 1000;

export interface BridgeHandle {
  bridgeId: string;
  mediaPort: number;
  /** The ICE-TCP port (RFC 6544 passive candidates), 0 when off. */
  tcpMediaPort: number;
  /**
   * Packet counters (in/out/dropped by reason), read now (with media workers: the sum of what they copied to shared
   * memory, up to 100 ms old: workers/shared-counters.ts).
   */
  readonly counters: BridgeCounters;
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
  /** How long a browser's endpoint may stay without a connection before the bridge expires it (tests shorten it). */
  lostEndpointExpiryMs?: number;
}

/** How long a running bridge of the same id has to answer the start's ping (it answers in milliseconds). */
const ID_CHECK_TIMEOUT_MS = 2000;

/**
 * Refuses an id another running bridge answers to on the bus: two bridges of one id would both take its requests
 * (half of each meeting's endpoints on each, focus seeing one bridge that restarts over and over). Nobody
 * answering (NATS says so at once) means the id is free; a bridge restarted after a crash finds it free.
 */
async function refuseTakenId(bus: Bus, bridgeId: string): Promise<void> {
  try {
    await callBus(bus, busCalls.bridgePing, bridgeId, {}, ID_CHECK_TIMEOUT_MS);
  } catch {
    return;
  }
  throw new Error(`another running bridge has the id ${bridgeId}: give each bridge its own --bridge-id (the default, <hostname>-<media port>, differs between machines)`);
}

export async function startBridge(opts: StartBridgeOptions): Promise<BridgeHandle> {
  const bridgeId = opts.bridgeId ?? `bridge-${randomBytes(4).toString('hex')}`;
  const log = opts.log.child({ part: 'bridge', bridgeId });
  await refuseTakenId(opts.bus, bridgeId);
  const certificate = await createBridgeCertificate();
  // with media workers this thread keeps the control plane (requests are checked by its Bridge, which never
  // binds a socket nor runs media timers) and every worker gets each accepted request; see workers/ and
  // docs/ARCHITECTURE.md
  const workerCount = mediaWorkerCount(opts.config.mediaWorkers);
  const bridge = new Bridge({
    bus: opts.bus,
    config: opts.config,
    log,
    bridgeId,
    certificate,
    consentTimeoutMs: opts.consentTimeoutMs,
    controlPlaneOnly: workerCount > 1,
  });
  const bindAddress = opts.config.listenAddress === '::' || opts.config.listenAddress === '' ? '0.0.0.0' : opts.config.listenAddress;
  // one bridge per media port on this machine (port-guard.ts): claimed before any socket binds it; port 0
  // (any free port) is claimed once the kernel picked it
  const requestedPort = opts.config.mediaPort;
  let guard = requestedPort > 0 ? await claimMediaPort(requestedPort) : null;
  // media workers start with the bridge or, with mediaWorkersOnDemand, with the first endpoint, and then stop
  // when the bridge has been empty a while (workers/on-demand-pool.ts); meanwhile this thread holds the ports
  let workers: OnDemandPool | null = null;
  /** Counter sums of media workers that stopped (counters never go back when they start again). */
  let retiredCounters: Record<string, number> = {};
  let lastN = opts.config.lastN;
  /** The running workers' counter sum with those of workers that stopped, as bridge.counters. */
  const withRetired = (sum: Record<string, number>) => {
    for (const [k, v] of Object.entries(retiredCounters)) sum[k] = (sum[k] ?? 0) + v;
    return Object.assign(bridge.counters, sum);
  };
  const workerCounters = (pool: MediaWorkerPool) => pool.counters().then(withRetired);
  let mediaPort: number;
  try {
    if (workerCount > 1) {
      workers = new OnDemandPool({
        count: workerCount,
        bridgeId,
        config: opts.config,
        log,
        certificate,
        consentTimeoutMs: opts.consentTimeoutMs,
        bindAddress,
        onEvent: (subject, payload) => opts.bus.publish(subject, payload),
        stopWhenIdle: opts.config.mediaWorkersOnDemand,
        isIdle: () => bridge.conferences.size === 0,
        onStart: (pool) => {
          if (lastN !== opts.config.lastN) void pool.setLastN(lastN);
        },
        onStop: (finalCounters) => {
          for (const [k, v] of Object.entries(finalCounters)) retiredCounters[k] = (retiredCounters[k] ?? 0) + v;
          Object.assign(bridge.counters, retiredCounters);
        },
      });
      mediaPort = await workers.holdPorts(requestedPort, opts.config.tcpMediaPort);
      bridge.udp.port = mediaPort;
      if (!opts.config.mediaWorkersOnDemand) await workers.get();
    } else {
      mediaPort = await bridge.udp.bind(bindAddress, requestedPort);
      // this thread runs the handshakes: werift is loaded now, not by the first participant's (the control
      // thread of media workers never loads it)
      await loadDtls();
    }
    guard ??= await claimMediaPort(mediaPort);
  } catch (e) {
    await workers?.close();
    await bridge.close();
    await guard?.release();
    throw mediaPortBindError(e, requestedPort);
  }
  /** The running media workers (or those starting); null without workers or while they are stopped. */
  const pool = () => workers?.current() ?? null;
  // no publicAddress but a stunServer: ask it once, before the first allocation (the candidates use it)
  await bridge.discoverPublicAddress(bindAddress);
  // ICE-TCP: with media workers one of them owns the TCP port while they run (and sends to whoever connects
  // over TCP; this thread holds it while they do not); this thread's Bridge only announces it in candidates
  let tcpMediaPort = 0;
  if (opts.config.tcpMediaPort > 0) {
    if (workers === null) tcpMediaPort = await bridge.listenTcp(bindAddress, opts.config.tcpMediaPort);
    else {
      tcpMediaPort = workers.tcpPort;
      bridge.tcpPort = tcpMediaPort;
    }
  }

  const ok = { ok: true } as const;
  const unsubscribes: Unsubscribe[] = [];
  const lostExpiryMs = opts.lostEndpointExpiryMs ?? LOST_ENDPOINT_EXPIRY_MS;
  const lost = new LostEndpoints(lostExpiryMs);
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
    if (!known) lost.allocated(p.conferenceId, p.endpointId);
    // with media workers the reply waits until every worker has applied the request (started first if needed)
    if (workers === null) return reply;
    return workers.get().then(
      (pool) => pool.allocate(p.conferenceId, p.endpointId, reply.ufrag, reply.pwd).then(() => reply),
      (e: Error) => {
        bridge.expire(p.conferenceId, p.endpointId);
        throw new BusCallError('unavailable', `the media workers did not start: ${e.message}`);
      },
    );
  });
  /** The media workers, started first when needed; when they cannot start the endpoint is expired again. */
  const startedWorkers = (conferenceId: string, endpointId: string): Promise<MediaWorkerPool> =>
    workers!.get().catch((e: Error) => {
      bridge.expire(conferenceId, endpointId);
      throw new BusCallError('unavailable', `the media workers did not start: ${e.message}`);
    });
  /** A request every running media worker applies too (none run: nothing there to change). */
  const toWorkers = async (apply: (pool: MediaWorkerPool) => Promise<void>) => {
    const running = pool();
    if (running !== null) await apply(await running);
    return ok;
  };
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
    const own = await bridge.allocatePlain(p.conferenceId, p.endpointId, p, p.sources, workers === null);
    const description = workers === null ? own : await startedWorkers(p.conferenceId, p.endpointId).then((pool) => pool.allocatePlain(p));
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
    const own = await bridge.allocatePlain(p.conferenceId, p.endpointId, allocation, [], workers === null);
    const description = workers === null ? own : await startedWorkers(p.conferenceId, p.endpointId).then((pool) => pool.allocatePlain(allocation));
    if (description === null) throw new BusCallError('unavailable', 'no media worker opened the relay transport');
    return { address: relayAddress, port: description.legs[0]!.port };
  });
  serve(busCalls.bridgeSetSources, (p) => {
    bridge.setSources(p.conferenceId, p.endpointId, p.sources);
    return toWorkers((pool) => pool.apply('sources', p));
  });
  serve(busCalls.bridgeConfigure, (p) => {
    bridge.configure(p);
    return toWorkers((pool) => pool.apply('configure', p));
  });
  serve(busCalls.bridgeSubscribe, (p) => {
    bridge.subscribe(p.conferenceId, p.endpointId, p.ssrcs, p.slots, p.session);
    return toWorkers((pool) => pool.apply('subscribe', p));
  });
  serve(busCalls.bridgeConstraints, (p) => {
    bridge.setVideoConstraints(p.conferenceId, p.endpointId, p.constraints, p.maxHeight);
    log.debug({ conferenceId: p.conferenceId, endpointId: p.endpointId, constraints: p.constraints }, 'video constraints');
    return toWorkers((pool) => pool.apply('constraints', p));
  });
  serve(busCalls.bridgeMute, (p) => {
    bridge.mute(p.conferenceId, p.endpointId, p.kind, p.muted);
    return toWorkers((pool) => pool.apply('mute', p));
  });
  // focus asks before it counts this bridge dead (its heartbeats were late): answered while the process runs
  serve(busCalls.bridgePing, () => ok);
  const expire = (conferenceId: string, endpointId: string) => {
    bridge.expire(conferenceId, endpointId);
    lost.gone(conferenceId, endpointId);
    const done = toWorkers((pool) => pool.expire(conferenceId, endpointId));
    workers?.endpointsChanged(bridge.conferences.size);
    return done;
  };
  serve(busCalls.bridgeExpire, (p) => expire(p.conferenceId, p.endpointId));
  // browsers' endpoints left without a connection for minutes (lost-endpoints.ts): expired here, from the
  // bridge's own connected/disconnected events (its media workers' too)
  unsubscribes.push(
    opts.bus.subscribe(subjects.bridgeEvent, (payload) => {
      const e = bridgeEventSchema.safeParse(payload);
      if (!e.success || e.data.bridgeId !== bridgeId) return;
      if (e.data.event === 'connected') lost.connected(e.data.conferenceId, e.data.endpointId);
      else lost.disconnected(e.data.conferenceId, e.data.endpointId);
    }),
  );
  const lostTimer = setInterval(() => {
    for (const { conferenceId, endpointId } of lost.due()) {
      if (!bridge.conferences.get(conferenceId)?.endpoints.has(endpointId)) continue;
      log.info({ conferenceId, endpointId, minutes: Math.round(lostExpiryMs / 60_000) }, 'endpoint expired: no connection for minutes, and nobody expired it');
      expire(conferenceId, endpointId).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'expiring a lost endpoint failed'));
    }
  }, Math.min(30_000, lostExpiryMs / 2));
  lostTimer.unref();

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
  // someone opened a join screen (signal's POST /media/warm-up): idle media workers on demand start before the join
  if (workers !== null && opts.config.mediaWorkersOnDemand) {
    const w = workers;
    unsubscribes.push(opts.bus.subscribe(subjects.bridgeWarm, () => (draining ? undefined : w.warm())));
  }
  // the heartbeat: focus counts the bridge dead after bridgeFailureTimeout without one
  const announceTimer = setInterval(announce, Math.round(opts.config.bridgeHeartbeat * 1000));
  const tickTimer = setInterval(() => {
    try {
      if (workers === null) bridge.tick();
      else workers.endpointsChanged(bridge.conferences.size); // media workers keep their own endpoints' consent
    } catch (e) {
      log.error({ err: (e as Error).message }, 'bridge maintenance failed');
    }
  }, TICK_INTERVAL_MS);
  announceTimer.unref();
  tickTimer.unref();

  log.info({ mediaPort, tcpMediaPort, address: bindAddress, fingerprint: certificate.fingerprint, mediaWorkers: workerCount, batchedSends: opts.config.nativeSend && nativeUdp() !== null, batchedReceives: workers !== null ? opts.config.nativeSend && opts.config.nativeReceive && nativeReceive(nativeUdp()) !== null : bridge.udp.batchedReceive }, 'bridge started');

  let closing: Promise<void> | null = null;
  return {
    bridgeId,
    mediaPort,
    tcpMediaPort,
    get counters() {
      // with media workers: their sum as they last copied it (and those that stopped), without a message
      const running = workers?.pool ?? null;
      return running === null ? bridge.countersNow() : withRetired(running.countersNow());
    },
    readCounters: async () => {
      const running = workers?.pool ?? null;
      return running !== null ? (await workerCounters(running)).snapshot() : bridge.countersNow().snapshot();
    },
    readReceiverReports: async () => {
      const running = workers?.pool ?? null;
      return running !== null ? running.reports() : receiverReportBuckets(bridge.conferences.values());
    },
    load: () => {
      let largestConference = 0;
      for (const c of bridge.conferences.values()) largestConference = Math.max(largestConference, c.endpoints.size);
      return { conferences: bridge.conferences.size, endpoints: bridge.endpointCount, maxEndpoints: opts.config.maxEndpointsPerBridge, largestConference };
    },
    resourceCounts: async (gc = false) => {
      const own = bridge.resourceCounts();
      const running = workers?.pool ?? null;
      if (running === null) return own;
      const inWorkers = await running.resources(gc);
      return { ...own, ...Object.fromEntries(Object.entries(inWorkers).map(([k, v]) => [`mediaWorkers.${k}`, v])) };
    },
    mediaWorkers: workerCount,
    fingerprint: certificate.fingerprint,
    async setLastN(n: number) {
      bridge.setLastN(n);
      lastN = n;
      const running = pool();
      if (running !== null) await (await running).setLastN(n);
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
        clearInterval(lostTimer);
        clearInterval(tickTimer);
        for (const u of unsubscribes) u();
        await workers?.close();
        await bridge.close();
        await guard.release();
        log.info({ counters: bridge.counters.snapshot() }, 'bridge stopped');
      })();
      return closing;
    },
  };
}
