// focus: answers signal's focus.* requests, keeps the conferences, places each participant on a bridge
// (bridge-choice.ts: room by endpoint cap and CPU stress, the participant's region) and drives each
// participant's offer/answer cycle. Every operation of one conference runs one at a time, in arrival order.
// A bridge whose heartbeat (its announcement, every bridgeHeartbeat) stays away for bridgeFailureTimeout is
// dead; one that announces `draining` (SIGTERM) says goodbye; one that comes back as a new process (same id,
// new instance) lost its endpoints. In each case the conferences on it move: their participants get endpoints
// on other bridges and fresh offers (Conference.moveOff).
// Several focus processes (over NATS with JetStream): one leads at a time (high-availability.ts, leader-lease.ts);
// the leader stores every conference after each of its operations (conference-store.ts) and publishes the offers
// that operation made only then; a focus that takes over reads them back, waits for their bridges to announce
// themselves, and offers every participant afresh on its current endpoint (Conference.resync).
import { BusCallError, type Bus, type Unsubscribe } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { callBus, serveBus } from '../bus/typed-calls.ts';
import { bridgeAnnounceSchema, bridgeEventSchema, NO_BRIDGE_CAPACITY, subjects, type SignalOffer } from '../protocol/bus-messages.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { Conference } from './conference.ts';
import { limitsFromConfig } from './limits.ts';
import { chooseBridgeFor, chooseFirstBridge, type BridgeState } from './bridge-choice.ts';
import { BridgeFailover, type BridgeInfo } from './failover.ts';
import { participantFromRecord, type ConferenceStore } from './conference-store.ts';
import { startFocusWithLease, type FocusPersistence } from './high-availability.ts';

export { Conference } from './conference.ts';
export { buildOffer, parseAnswer, AnswerError } from './sdp.ts';

/** After the bus link comes back, how long bridges have to reconnect and announce before silence counts (NATS clients retry every 2 s). */
export const BUS_BACK_GRACE_MS = 10_000;

/** How long a bridge whose heartbeats stopped has to answer a ping before it counts as dead. */
export const BRIDGE_PING_TIMEOUT_MS = 1000;

/** How long a join waits for a first bridge to announce itself. */
export const BRIDGE_WAIT_MS = 5000;

export interface FocusHandle {
  /** Conferences, their participants, bridges known, operations queued: conferences and participants are 0 once everyone left. */
  resourceCounts(): Record<string, number>;
  /** Each bridge focus knows: its load as focus counts it (announced or placed, the larger), its cap, its conferences. */
  bridgeLoads(): { bridgeId: string; endpoints: number; maxEndpoints: number; conferences: number }[];
  close(): Promise<void>;
}

export interface FocusOptions {
  bus: Bus;
  config: Config;
  log: Logger;
  bridgeWaitMs?: number;
  bridgeExpiryMs?: number;
  /** The leader lease's time to live (high-availability.ts; default FOCUS_LEASE_TTL_MS). */
  leaseTtlMs?: number;
}

/**
 * Starts focus. Over NATS (natsUrl set) it runs under a leader lease in the JetStream key-value bucket: any
 * number of focus processes may run, one leads (high-availability.ts). In one process it leads at once.
 */
export function startFocus(opts: FocusOptions): FocusHandle {
  if (opts.config.natsUrl === '') return startFocusControl(opts);
  return startFocusWithLease(opts, (persistence) => startFocusControl(opts, persistence));
}

/** What one leading focus runs; `close(true)` leaves the meetings on the bridges (another focus takes them over). */
export interface FocusControl extends FocusHandle {
  close(keepMeetings?: boolean): Promise<void>;
}

function startFocusControl(opts: FocusOptions, persistence?: FocusPersistence): FocusControl {
  const { bus } = opts;
  const log = opts.log.child({ part: 'focus' });
  const bridgeWaitMs = opts.bridgeWaitMs ?? BRIDGE_WAIT_MS;
  // a bridge silent this long is dead (its process or machine stopped, or the bus to it is cut): its
  // conferences move; it is chosen again once it announces itself again
  const bridgeExpiryMs = opts.bridgeExpiryMs ?? Math.round(opts.config.bridgeFailureTimeout * 1000);
  const limits = limitsFromConfig(opts.config);
  const maxStress = opts.config.maxBridgeStress;
  const bridges = new Map<string, BridgeInfo>();
  const conferences = new Map<string, Conference>();
  const locks = new Map<string, Promise<unknown>>();
  let bridgeWaiters: (() => void)[] = [];
  let closed = false;

  /** Offers made by each conference's running operation: published once it is stored (with persistence). */
  const outbox = new Map<string, SignalOffer[]>();
  const publishOffer = (conferenceId: string) =>
    persistence
      ? (offer: SignalOffer) => {
          let list = outbox.get(conferenceId);
          if (!list) outbox.set(conferenceId, (list = []));
          list.push(offer);
        }
      : (offer: SignalOffer) => bus.publish(subjects.signalOffer, offer);

  /** After each operation of a conference (with persistence): store it as it is now, then send the offers it made. */
  async function settle(conferenceId: string): Promise<void> {
    if (!persistence) return;
    if (persistence.isLeader()) await persistence.store.save(conferenceId, conferences.get(conferenceId));
    const offers = outbox.get(conferenceId);
    outbox.delete(conferenceId);
    if (!offers || !persistence.isLeader()) return;
    for (const o of offers) bus.publish(subjects.signalOffer, o);
  }

  /** Until a takeover has read the stored conferences back, every operation waits. */
  let ready: Promise<void> = Promise.resolve();

  /** Runs fn after every earlier operation of this conference has finished. */
  function withLock<T>(conferenceId: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(conferenceId) ?? ready;
    const step = persistence
      ? async () => {
          try {
            return await fn();
          } finally {
            await settle(conferenceId);
          }
        }
      : fn;
    const run = prev.then(step, step);
    const tail = run.catch(() => {});
    locks.set(conferenceId, tail);
    void tail.then(() => {
      if (locks.get(conferenceId) === tail) locks.delete(conferenceId);
    });
    return run;
  }

  /** Until then silence proves nothing: the bus was down a moment ago (the bridges reconnect in their own time). */
  let quietUntil = 0;

  /** Silent bridges being asked whether they are alive (bridge.<id>.ping). */
  const confirming = new Set<string>();
  const silent = (b: BridgeInfo, now = Date.now()) => now - b.lastSeen > bridgeExpiryMs;

  /**
   * Asks each bridge that stopped announcing itself whether it is alive (its heartbeats may only have been late: a
   * stalled process, a busy link); one that does not answer within BRIDGE_PING_TIMEOUT_MS is forgotten and the
   * conferences on it move. Not while the bus is down or just back. A silent bridge takes nobody meanwhile.
   */
  function dropSilentBridges(): void {
    const now = Date.now();
    if (!bus.connected()) quietUntil = now + BUS_BACK_GRACE_MS;
    if (now < quietUntil) return;
    for (const b of bridges.values()) {
      if (!silent(b, now) || confirming.has(b.id)) continue;
      confirming.add(b.id);
      void confirmDead(b).finally(() => confirming.delete(b.id));
    }
  }

  async function confirmDead(b: BridgeInfo): Promise<void> {
    const silentMs = Date.now() - b.lastSeen;
    try {
      await callBus(bus, busCalls.bridgePing, b.id, {}, BRIDGE_PING_TIMEOUT_MS);
      if (bridges.get(b.id) !== b || closed) return;
      b.lastSeen = Date.now();
      log.warn({ bridge: b.id, silentMs }, 'bridge silent but it answered a ping: kept (its heartbeats were late or lost)');
      return;
    } catch (e) {
      if (bridges.get(b.id) !== b || closed || !silent(b)) return;
      bridges.delete(b.id);
      log.warn({ bridge: b.id, silentMs: Date.now() - b.lastSeen, ping: (e as Error).message, conferences: b.conferences.size }, 'bridge dead: no heartbeat for too long; its conferences move to other bridges');
      failover.dead(b.id, b.lastSeen); // (its endpoints were lost after its last heartbeat)
    }
  }

  const checkEveryMs = Math.max(100, Math.min(bridgeExpiryMs / 4, 1000));
  let lastCheck = Date.now();
  /**
   * The heartbeat check. While the bus is down and for BUS_BACK_GRACE_MS after, or when this process itself was
   * stalled (the check came far too late), silence says nothing about the bridges: each gets a full timeout
   * again rather than being declared dead.
   */
  function checkBridges(): void {
    const now = Date.now();
    const stalled = now - lastCheck > checkEveryMs + bridgeExpiryMs / 2;
    lastCheck = now;
    if (!bus.connected()) quietUntil = now + BUS_BACK_GRACE_MS;
    if (stalled || now < quietUntil) {
      for (const b of bridges.values()) b.lastSeen = now;
      return;
    }
    dropSilentBridges();
  }

  const failover = new BridgeFailover({
    bridges,
    conferences,
    withLock,
    loadOf: (b) => loadOf(b),
    released: (b) => released(b),
    dropIfEmpty: (c) => dropIfEmpty(c),
    stopped: () => closed,
    silent: (b) => silent(b),
    maxStress,
    log,
  });
  const rehome = () => failover.rehome();

  async function waitForBridge(): Promise<void> {
    dropSilentBridges();
    if ([...bridges.values()].some((b) => !silent(b))) return;
    log.info({ waitMs: bridgeWaitMs }, 'no bridge yet; waiting for one to announce itself');
    await new Promise<void>((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        bridgeWaiters = bridgeWaiters.filter((w) => w !== waiter);
        reject(new BusCallError('unavailable', 'no media bridge is available (none announced itself)'));
      }, bridgeWaitMs);
      bridgeWaiters.push(waiter);
    });
  }

  const loadOf = (b: BridgeInfo): number => Math.max(b.announcedEndpoints, b.placed);
  /** An endpoint this focus placed on `b` is gone: counted at once (its next announcement will agree). */
  const released = (b: BridgeInfo): void => {
    if (b.placed > 0) b.placed--;
    if (b.announcedEndpoints > 0) b.announcedEndpoints--;
  };

  const stateOf = (b: BridgeInfo): BridgeState => ({
    id: b.id,
    load: loadOf(b),
    maxEndpoints: b.maxEndpoints,
    stress: b.stress,
    region: b.region,
    conferences: b.conferences.size,
  });
  /** The bridges that may take people (a draining one is being left, a silent one may be dead). */
  const states = () => new Map([...bridges.values()].filter((b) => !b.draining && !silent(b)).map((b) => [b.id, stateOf(b)]));

  /** The bridge a new conference starts on (of `region` when one there has room). */
  function pickBridge(region: string | undefined): BridgeInfo {
    dropSilentBridges();
    const chosen = chooseFirstBridge([...states().values()], region, maxStress);
    const best = chosen && bridges.get(chosen.id);
    if (!best) {
      const running = [...bridges.values()].filter((b) => !b.draining).length;
      throw running > 0 ? new BusCallError('no-capacity', NO_BRIDGE_CAPACITY) : new BusCallError('unavailable', bridges.size > 0 ? 'every media bridge is stopping' : 'no media bridge is available');
    }
    return best;
  }

  const unsubscribers: Unsubscribe[] = [];
  /** Every instance id seen per bridge id, to tell a restart from two bridges sharing an id. */
  const seenInstances = new Map<string, Set<string>>();
  const expiryTimer = setInterval(checkBridges, checkEveryMs);
  expiryTimer.unref();

  unsubscribers.push(
    bus.subscribe(subjects.bridgeAnnounce, (payload) => {
      const r = bridgeAnnounceSchema.safeParse(payload);
      if (!r.success) {
        log.warn({ err: r.error.issues[0]?.message }, 'dropped a malformed bridge announcement');
        return;
      }
      const { bridgeId, endpoints, instance, region } = r.data;
      const draining = r.data.draining ?? false;
      const maxEndpoints = r.data.maxEndpoints ?? Infinity;
      const stress = r.data.stress ?? 0;
      const known = bridges.get(bridgeId);
      if (known) {
        const heardBefore = known.lastSeen;
        known.region = region;
        known.stress = stress;
        known.announcedEndpoints = endpoints;
        known.maxEndpoints = maxEndpoints;
        known.lastSeen = Date.now();
        if (draining && !known.draining) {
          known.draining = true;
          log.info({ bridge: bridgeId, conferences: known.conferences.size }, 'bridge draining: its conferences move to other bridges');
          rehome();
        } else if (!draining && known.draining && instance !== undefined && instance !== known.instance) {
          // a draining bridge never stops draining: this is another instance of the id (one that shared it
          // with the one that drained and stopped, or its restart), which takes placements again
          known.draining = false;
          log.info({ bridge: bridgeId, instance }, 'bridge available again: the instance that announces it is not draining');
        }
        if (instance && known.instance && instance !== known.instance) {
          // a restart, or two bridges configured with one id (they would share its requests: broken)
          const previous = known.instance;
          known.instance = instance;
          if (seenInstances.get(bridgeId)?.has(instance)) {
            log.error({ bridge: bridgeId }, 'two running bridges announce the same id; give each its own bridgeId');
          } else {
            log.warn({ bridge: bridgeId, previous, instance }, 'bridge restarted (or another bridge uses the same id); its conferences are set up again');
            known.draining = draining;
            failover.restarted(bridgeId, heardBefore);
          }
        } else if (instance) known.instance = instance;
      } else {
        const info: BridgeInfo = { id: bridgeId, announcedEndpoints: endpoints, placed: 0, maxEndpoints, conferences: new Set(), lastSeen: Date.now(), instance, draining, region, stress };
        bridges.set(bridgeId, info);
        // conferences this focus already placed there (the bridge was silent a while and is back, or a takeover)
        for (const c of conferences.values()) if (c.bridges.includes(bridgeId)) countOn(info, c);
        log.info({ bridge: bridgeId, endpoints, draining, region }, draining ? 'bridge heard, draining' : 'bridge available');
        rehome(); // participants a lost bridge left with nowhere to go
      }
      if (instance) {
        let set = seenInstances.get(bridgeId);
        if (!set) seenInstances.set(bridgeId, (set = new Set()));
        if (set.size > 16) set.clear();
        set.add(instance);
      }
      const waiters = bridgeWaiters;
      bridgeWaiters = [];
      for (const w of waiters) w();
    }),
    bus.subscribe(subjects.bridgeEvent, (payload) => {
      const r = bridgeEventSchema.safeParse(payload);
      if (!r.success) return;
      log.info({ bridge: r.data.bridgeId, conference: r.data.conferenceId, participant: r.data.endpointId }, `endpoint ${r.data.event}`);
    }),
  );

  const ok = { ok: true } as const;

  function dropIfEmpty(conference: Conference): void {
    if (conference.size > 0 || conferences.get(conference.id) !== conference) return;
    conferences.delete(conference.id);
    conference.close().catch((e: unknown) => log.warn({ conference: conference.id, err: (e as Error).message }, 'closing the conference failed'));
    for (const id of conference.bridges) bridges.get(id)?.conferences.delete(conference.id);
    log.info({ conference: conference.id }, 'conference ended');
  }

  /**
   * The conference (started on a bridge chosen for the participant when new) and the bridge `participantId`
   * goes to (bridge-choice.ts; a bridge the conference does not span yet joins it by relays). `homeOnly`: only
   * the conference's first bridge (a plain-RTP sender). `region`: the participant's.
   */
  async function conferenceWithRoomFor(
    conferenceId: string,
    participantId: string,
    homeOnly = false,
    region?: string,
  ): Promise<{ conference: Conference; bridgeId: string }> {
    if (closed) throw new BusCallError('unavailable', 'focus is stopping');
    let conference = conferences.get(conferenceId);
    if (!conference) {
      await waitForBridge();
      const bridge = pickBridge(region);
      conference = newConference(conferenceId, bridge.id);
      conferences.set(conferenceId, conference);
      bridge.conferences.add(conferenceId);
      log.info({ conference: conferenceId, bridge: bridge.id }, 'conference started');
    }
    const own = conference.participants.get(participantId)?.bridgeId;
    if (own !== undefined) return { conference, bridgeId: own };
    const chosen = chooseBridgeFor({ spanned: conference.bridges, known: states(), region, maxStress, homeOnly });
    if (chosen !== undefined) {
      bridges.get(chosen)?.conferences.add(conferenceId);
      return { conference, bridgeId: chosen };
    }
    dropIfEmpty(conference);
    throw new BusCallError('no-capacity', NO_BRIDGE_CAPACITY);
  }

  unsubscribers.push(
    serveBus(bus, busCalls.focusJoin, '', async ({ conferenceId, participantId, region, versionsAfter }) => {
      return await withLock(conferenceId, async () => {
        const { conference, bridgeId } = await conferenceWithRoomFor(conferenceId, participantId, false, region);
        try {
          await conference.join(participantId, bridgeId, versionsAfter, region);
          const b = bridges.get(bridgeId);
          if (b) b.placed++;
        } finally {
          dropIfEmpty(conference);
        }
        return ok;
      });
    }),
    serveBus(bus, busCalls.focusAnswer, '', async ({ conferenceId, participantId, sdp, version }) => {
      return await withLock(conferenceId, async () => {
        const conference = conferences.get(conferenceId);
        if (!conference) throw new BusCallError('not-found', `no conference ${conferenceId}`);
        await conference.answer(participantId, version, sdp);
        return ok;
      });
    }),
    serveBus(bus, busCalls.focusLeave, '', async ({ conferenceId, participantId }) => {
      return await withLock(conferenceId, async () => {
        const conference = conferences.get(conferenceId);
        if (!conference || !conference.has(participantId)) return ok; // already gone: fine
        const placedOn = conference.participants.get(participantId)?.bridgeId ?? conference.bridgeId;
        await conference.leave(participantId);
        const b = bridges.get(placedOn);
        if (b) released(b);
        dropIfEmpty(conference);
        return ok;
      });
    }),
    serveBus(bus, busCalls.focusAttachPlain, '', async (req) => {
      return await withLock(req.conferenceId, async () => {
        // a sender is a participant (it may start the meeting); a receiver needs a meeting to receive from
        let conference = conferences.get(req.conferenceId);
        if (req.sources.length > 0) conference = (await conferenceWithRoomFor(req.conferenceId, req.endpointId, true)).conference;
        if (!conference) throw new BusCallError('not-found', `no meeting is running in ${req.conferenceId}`);
        try {
          const reply = await conference.attachPlain(req);
          const b = bridges.get(conference.bridgeId);
          if (b && req.sources.length > 0) b.placed++;
          return reply;
        } finally {
          dropIfEmpty(conference);
        }
      });
    }),
    serveBus(bus, busCalls.focusStartPlain, '', async ({ conferenceId, endpointId }) => {
      return await withLock(conferenceId, async () => {
        const conference = conferences.get(conferenceId);
        if (!conference) throw new BusCallError('not-found', `no meeting is running in ${conferenceId}`);
        await conference.plain.start(endpointId);
        return ok;
      });
    }),
    serveBus(bus, busCalls.focusPlainConstraints, '', async ({ conferenceId, endpointId, constraints }) => {
      return await withLock(conferenceId, async () => {
        const conference = conferences.get(conferenceId);
        if (!conference) throw new BusCallError('not-found', `no meeting is running in ${conferenceId}`);
        await conference.plain.setConstraints(endpointId, constraints);
        return ok;
      });
    }),
    serveBus(bus, busCalls.focusDetachPlain, '', async ({ conferenceId, endpointId }) => {
      return await withLock(conferenceId, async () => {
        const conference = conferences.get(conferenceId);
        if (!conference || !conference.plain.byId.has(endpointId)) return ok; // already gone: fine
        const sender = (conference.plain.byId.get(endpointId)?.sources.length ?? 0) > 0;
        await conference.leave(endpointId);
        const b = bridges.get(conference.bridgeId);
        if (b && sender) released(b);
        dropIfEmpty(conference);
        return ok;
      });
    }),
    serveBus(bus, busCalls.focusRenegotiate, '', async ({ conferenceId, participantId }) => {
      return await withLock(conferenceId, async () => {
        const conference = conferences.get(conferenceId);
        if (!conference) throw new BusCallError('not-found', `no conference ${conferenceId}`);
        conference.renegotiate(participantId);
        return ok;
      });
    }),
    serveBus(bus, busCalls.focusConstraints, '', async ({ conferenceId, participantId, tiles, maxHeight }) => {
      return await withLock(conferenceId, async () => {
        const conference = conferences.get(conferenceId);
        if (!conference) throw new BusCallError('not-found', `no conference ${conferenceId}`);
        await conference.setTileSizes(participantId, tiles, maxHeight);
        return ok;
      });
    }),
    serveBus(bus, busCalls.focusMute, '', async ({ conferenceId, participantId, kind, muted }) => {
      return await withLock(conferenceId, async () => {
        const conference = conferences.get(conferenceId);
        if (!conference) throw new BusCallError('not-found', `no conference ${conferenceId}`);
        await conference.mute(participantId, kind, muted);
        return ok;
      });
    }),
  );

  function newConference(conferenceId: string, home: string): Conference {
    return new Conference({ id: conferenceId, bridgeId: home, bus, log, limits, exclusive: (fn) => withLock(conferenceId, fn), publishOffer: publishOffer(conferenceId) });
  }

  /** Bridge `b` hosts conference `c`: its participants there count against its cap. */
  function countOn(b: BridgeInfo, c: Conference): void {
    b.conferences.add(c.id);
    b.placed += c.placedOn(b.id) + (c.bridgeId === b.id ? c.plain.senders : 0);
  }

  /** A takeover: the stored conferences, once their bridges announced themselves (or bridgeExpiryMs passed: dead). */
  async function restoreFrom(store: ConferenceStore): Promise<void> {
    const stored = await store.loadAll();
    if (stored.length === 0) return;
    const needed = new Set(stored.flatMap((s) => s.record.bridges));
    const deadline = Date.now() + bridgeExpiryMs;
    while (!closed && Date.now() < deadline && [...needed].some((id) => !bridges.has(id))) await new Promise((r) => setTimeout(r, 50));
    let participants = 0;
    for (const s of stored) {
      if (conferences.has(s.record.id)) continue;
      const c = newConference(s.record.id, s.record.home);
      c.restore({ bridges: s.record.bridges, relays: s.record.relays, participants: s.participants.map((r) => participantFromRecord(r, limits)), plain: s.plain });
      conferences.set(c.id, c);
      // the bridges heard already; the others count it when they announce themselves
      for (const id of c.bridges) {
        const b = bridges.get(id);
        if (b) countOn(b, c);
      }
      participants += c.size;
    }
    log.info({ conferences: stored.length, participants, missingBridges: [...needed].filter((id) => !bridges.has(id)) }, 'conferences taken over from the store');
  }

  if (persistence) {
    ready = restoreFrom(persistence.store).catch((e: unknown) => log.error({ err: (e as Error).message }, 'reading the stored conferences failed: focus starts without them'));
    void ready.then(() => {
      for (const c of conferences.values()) {
        withLock(c.id, async () => {
          await c.resync();
          dropIfEmpty(c);
        }).catch((e: unknown) => log.warn({ conference: c.id, err: (e as Error).message }, 'offering afresh after the takeover failed'));
      }
      rehome(); // conferences on a bridge that died meanwhile
    });
  }

  // bridges that are already running announce themselves now rather than within 5 s
  bus.publish(subjects.bridgeDiscover, {});
  log.info(persistence ? 'focus started (leading)' : 'focus started');
  return {
    bridgeLoads: () => [...bridges.values()].map((b) => ({ bridgeId: b.id, endpoints: loadOf(b), maxEndpoints: b.maxEndpoints, conferences: b.conferences.size })),
    resourceCounts() {
      let participants = 0;
      for (const c of conferences.values()) participants += c.size;
      return {
        'focus.conferences': conferences.size,
        'focus.participants': participants,
        'focus.bridges': bridges.size,
        'focus.queuedConferences': locks.size,
        'focus.leader': 1,
      };
    },
    async close(keepMeetings = false) {
      if (closed) return;
      closed = true;
      clearInterval(expiryTimer);
      for (const u of unsubscribers) u();
      // another focus takes the meetings over: their endpoints stay on the bridges
      if (keepMeetings) for (const c of conferences.values()) c.forget();
      else await Promise.allSettled([...conferences.values()].map((c) => c.close()));
      for (const w of bridgeWaiters) w();
      bridgeWaiters = [];
      await Promise.allSettled([...locks.values()]);
      log.info(keepMeetings ? 'focus stopped; its meetings stay for the next focus' : 'focus stopped');
    },
  };
}
