// Several focus processes over NATS (issue 17: no single focus). Each waits for the leader lease in the JetStream
// key-value bucket `tertulia-focus` (leader-lease.ts); the one holding it runs focus (index.ts's control: it
// answers focus.* and owns every conference), the others stand by and answer nothing. When the leader dies
// (SIGKILL, machine gone) its lease stops being renewed; within FOCUS_LEASE_TTL_MS a standby takes it, reads the
// conferences back from the bucket (conference-store.ts) and carries on: the bridges kept every endpoint and the
// media flowed meanwhile (focus is only the control plane). A focus stopped cleanly (SIGTERM) releases the lease
// at once and leaves its meetings on the bridges for the next leader. A leader that cannot renew (its link to NATS
// is down) stops leading before a standby may take over, so two never act at once.
// Without JetStream (nats-server without -js) nothing is shared: this focus leads alone, as one focus always did,
// and a warning says that a second one would split the meetings.
import { randomBytes } from 'node:crypto';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { ConferenceStore, FOCUS_BUCKET, FOCUS_MAX_VALUE_BYTES } from './conference-store.ts';
import { LeaderLease } from './leader-lease.ts';

/** How long a standby waits for a silent leader before it takes over (it renews six times as often). */
export const FOCUS_LEASE_TTL_MS = 3000;
/** The lease's key in the focus bucket. */
export const FOCUS_LEASE_KEY = 'leader';

/** What the leading focus stores its conferences with. */
export interface FocusPersistence {
  store: ConferenceStore;
  /** False once the lease is lost: nothing more is written or sent. */
  isLeader(): boolean;
}

interface Control {
  resourceCounts(): Record<string, number>;
  bridgeLoads(): { bridgeId: string; endpoints: number; maxEndpoints: number; conferences: number }[];
  close(keepMeetings?: boolean): Promise<void>;
}

/** Runs `startControl` while this process holds the lease; the handle answers for whichever control runs now. */
export function startFocusWithLease<C extends Control>(
  opts: { bus: Bus; log: Logger; leaseTtlMs?: number },
  startControl: (persistence: FocusPersistence | undefined) => C,
): Control {
  const log = opts.log.child({ part: 'focus' });
  const holder = randomBytes(6).toString('hex');
  let control: C | undefined;
  let lease: LeaderLease | undefined;
  let closed = false;
  let stopping: Promise<void> = Promise.resolve();

  const opening = (async () => {
    const { store, durable } = await opts.bus.keyValue(FOCUS_BUCKET, { ttlSeconds: 0, maxValueBytes: FOCUS_MAX_VALUE_BYTES });
    if (closed) return;
    if (!durable) {
      log.warn('the NATS server has no JetStream: this focus keeps its conferences in memory and leads alone (a second focus would split the meetings; run nats-server with -js for several)');
      control = startControl(undefined);
      return;
    }
    const l: LeaderLease = new LeaderLease({
      store,
      key: FOCUS_LEASE_KEY,
      holder,
      ttlMs: opts.leaseTtlMs ?? FOCUS_LEASE_TTL_MS,
      log: log.child({ focus: holder }),
      onAcquired: (term) => {
        // a previous control of this process (it lost the lease and got it back) has stopped first
        void stopping.then(() => {
          if (closed || !l.isLeader) return;
          log.info({ focus: holder, term }, 'this focus leads: it answers focus requests and owns the conferences');
          control = startControl({ store: new ConferenceStore(store, log), isLeader: () => l.isLeader });
        });
      },
      onLost: () => {
        const c = control;
        control = undefined;
        stopping = c ? c.close(true) : Promise.resolve();
      },
    });
    lease = l;
    l.start();
    log.info({ focus: holder }, 'focus standing by for the leader lease');
  })().catch((e: unknown) => {
    // no bucket at all (not even an in-memory one): lead alone rather than not at all
    log.error({ err: (e as Error).message }, 'the focus key-value bucket could not be opened: this focus leads alone');
    if (!closed) control = startControl(undefined);
  });

  return {
    resourceCounts: () => ({
      'focus.conferences': 0,
      'focus.participants': 0,
      'focus.bridges': 0,
      'focus.queuedConferences': 0,
      ...control?.resourceCounts(),
      'focus.leader': control ? 1 : 0,
    }),
    bridgeLoads: () => control?.bridgeLoads() ?? [],
    async close() {
      if (closed) return;
      closed = true;
      await opening;
      const c = control;
      control = undefined;
      // release last: no standby takes over before this one stopped acting
      await c?.close(lease !== undefined);
      await stopping;
      await lease?.release();
    },
  };
}
