// Which focus leads (issue 17: more than one focus may run; each conference is owned by exactly one live focus).
// One lease key in the focus's key-value bucket holds `{holder, term, beat}`: the leader bumps `beat` every
// `renewMs` with a revision-checked update (key-value.ts `update`), so a write only lands when nobody else wrote in
// between. A standby reads the key as often and takes the lease (term + 1) once it has seen the same
// `{holder, term, beat}` for `ttlMs` by its own clock: no clock is compared across machines, only how long a value
// stood still. Two standbys racing for it: the compare-and-set lets one win; the other sees a new holder.
// The leader steps down (onLost) when its renewal finds another holder, or when it could not renew for
// `ttlMs * STEP_DOWN_FRACTION` (its store or bus link is down: a standby may take over soon, so it stops acting
// before that); once the store answers again it takes back at once a lease nobody else took. `release` deletes
// the key (a clean stop): a standby takes over at its next read.
import type { Json } from '../bus/bus.ts';
import type { KeyValue } from '../bus/key-value.ts';
import type { Logger } from '../log.ts';

export interface LeaseValue {
  holder: string;
  term: number;
  beat: number;
}

/** The share of ttlMs a leader may go without a renewal before it steps down (the standby waits the whole ttlMs). */
export const STEP_DOWN_FRACTION = 0.7;

class LeaseMoved extends Error {}

/** A stored lease value, or undefined when it is not one (a foreign or damaged entry counts as no lease). */
export function leaseValueOf(v: Json | undefined): LeaseValue | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const { holder, term, beat } = v as Record<string, unknown>;
  if (typeof holder !== 'string' || typeof term !== 'number' || typeof beat !== 'number') return undefined;
  return { holder, term, beat };
}

const same = (a: LeaseValue | undefined, b: LeaseValue | undefined) => a?.holder === b?.holder && a?.term === b?.term && a?.beat === b?.beat;

export interface LeaderLeaseOptions {
  store: KeyValue;
  key: string;
  /** This process's id (random per process: a restarted focus is a new holder). */
  holder: string;
  ttlMs: number;
  /** How often the leader renews and a standby reads (default ttlMs / 6). */
  renewMs?: number;
  log: Logger;
  /** Became the leader (term: the lease's term number). */
  onAcquired(term: number): void;
  /** Is no longer the leader (another took the lease, or this one could not renew in time). */
  onLost(reason: string): void;
}

export class LeaderLease {
  private readonly opts: LeaderLeaseOptions;
  private timer: NodeJS.Timeout | null = null;
  private term = 0;
  private leading = false;
  private lastRenewed = 0;
  private observed: LeaseValue | undefined;
  private observedAt = 0;
  private busy = false;
  private stopped = false;
  /** The store failed at the last call: the next failures are not logged again (one line per outage). */
  private failing = false;

  constructor(opts: LeaderLeaseOptions) {
    this.opts = opts;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const every = this.opts.renewMs ?? Math.max(50, Math.round(this.opts.ttlMs / 6));
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
    void this.tick();
  }

  /** One renewal (leader) or one read (standby); never two at once. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.busy) {
      // a renewal that hangs (the store or the bus unreachable, a call not yet timed out) must not keep a leader
      // leading past the time a standby may take over
      const silentMs = Date.now() - this.lastRenewed;
      if (this.leading && silentMs > this.opts.ttlMs * STEP_DOWN_FRACTION) this.lose(`no renewal for ${silentMs} ms (a renewal hangs)`);
      return;
    }
    this.busy = true;
    try {
      if (this.leading) await this.renew();
      else await this.tryToLead();
    } finally {
      this.busy = false;
    }
  }

  private async renew(): Promise<void> {
    const { store, key, holder } = this.opts;
    const startedAt = Date.now();
    try {
      await store.update(key, (old) => {
        const v = leaseValueOf(old);
        if (!v || v.holder !== holder || v.term !== this.term) throw new LeaseMoved(v ? `focus ${v.holder} holds the lease now (term ${v.term})` : 'the lease was deleted');
        return { holder, term: v.term, beat: v.beat + 1 };
      });
      this.lastRenewed = startedAt;
      this.failing = false;
    } catch (e) {
      if (e instanceof LeaseMoved) return this.lose(e.message);
      const silentMs = Date.now() - this.lastRenewed;
      this.storeFailed('renewal', e);
      if (silentMs > this.opts.ttlMs * STEP_DOWN_FRACTION) this.lose(`no renewal for ${silentMs} ms (store unreachable)`);
    }
  }

  private async tryToLead(): Promise<void> {
    const { store, key, holder, ttlMs } = this.opts;
    let current: LeaseValue | undefined;
    try {
      current = leaseValueOf((await store.get(key))?.value);
      this.failing = false;
    } catch (e) {
      this.storeFailed('read', e);
      return;
    }
    const now = Date.now();
    // its own lease (it stepped down while its store was unreachable, and nobody took over): taken back at once
    const own = current?.holder === holder;
    if (current && !own && !same(current, this.observed)) {
      this.observed = current;
      this.observedAt = now;
      return;
    }
    if (current && !own && now - this.observedAt < ttlMs) return;
    // no lease, or one that stood still for ttlMs: its holder is gone
    const startedAt = Date.now();
    let won: LeaseValue | undefined;
    try {
      await store.update(key, (old) => {
        const v = leaseValueOf(old);
        if (v && !same(v, current)) throw new LeaseMoved(`focus ${v.holder} holds the lease (term ${v.term})`);
        won = { holder, term: (v?.term ?? 0) + 1, beat: 0 };
        return won as unknown as Json;
      });
    } catch (e) {
      if (!(e instanceof LeaseMoved)) this.storeFailed('taking it', e);
      this.observed = undefined;
      return;
    }
    if (!won || this.stopped) return;
    this.term = won.term;
    this.leading = true;
    this.lastRenewed = startedAt;
    this.opts.log.info({ term: won.term, previous: current?.holder ?? null }, own ? 'focus lease taken back: the store answers again' : current ? 'focus lease taken over: its holder stopped renewing it' : 'focus lease acquired');
    this.opts.onAcquired(won.term);
  }

  private storeFailed(what: string, e: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.opts.log.warn({ err: (e as Error).message }, `focus lease: ${what} failed (store unreachable?); not logged again until it works`);
  }

  private lose(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.observed = undefined;
    this.opts.log.warn({ reason, term: this.term }, 'focus lease lost: this focus stops leading');
    this.opts.onLost(reason);
  }

  /** Stops renewing and reading; a leader deletes the key so that a standby takes over at its next read. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.leading) return;
    this.leading = false;
    const { store, key, holder } = this.opts;
    await store
      .update(key, (old) => {
        if (leaseValueOf(old)?.holder !== holder) throw new LeaseMoved('held by another focus already');
        return undefined;
      })
      .catch((e: unknown) => {
        if (!(e instanceof LeaseMoved)) this.opts.log.warn({ err: (e as Error).message }, 'focus lease: release failed (a standby takes over once it expires)');
      });
  }
}
