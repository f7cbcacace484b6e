// Moving conferences off lost bridges (focus's side of issue 17). A bridge is lost when it is dead (no heartbeat:
// focus/index.ts drops it from the table), draining (it said goodbye), or restarted (a new process under the same
// id: the endpoints there are gone). `rehome` queues, per conference on a lost bridge, one move in the
// conference's turn of its lock; the move (Conference.moveOff) places each participant as a join is placed
// (bridge-choice.ts): a bridge of its region with room (one the conference spans first), else one the conference
// spans, else the least loaded; this file keeps the table's counts true.
import type { Logger } from '../log.ts';
import { chooseBridgeFor, type BridgeState } from './bridge-choice.ts';
import type { Conference } from './conference.ts';

export interface BridgeInfo {
  id: string;
  /** Endpoints the bridge last said it has. */
  announcedEndpoints: number;
  /** Participants this focus placed on it. */
  placed: number;
  /** The bridge's endpoint cap, as it announced it (none: no cap). */
  maxEndpoints: number;
  conferences: Set<string>;
  /** When its last announcement arrived (Date.now()). */
  lastSeen: number;
  /** The announcing process (changes when the bridge restarts). */
  instance: string | undefined;
  /** It said it is stopping: chosen for nothing, its conferences move away. */
  draining: boolean;
  /** Its region and CPU stress, as last announced (placement: bridge-choice.ts). */
  region: string | undefined;
  stress: number;
}

export interface BridgeFailoverHost {
  /** The bridges heard (a dead one is no longer in it). */
  bridges: Map<string, BridgeInfo>;
  conferences: Map<string, Conference>;
  /** Runs fn in the conference's turn (focus's per-conference lock). */
  withLock<T>(conferenceId: string, fn: () => Promise<T>): Promise<T>;
  loadOf(b: BridgeInfo): number;
  /** An endpoint placed on b is gone. */
  released(b: BridgeInfo): void;
  /** Ends the conference when nobody is left (its plain senders may have ended with their bridge). */
  dropIfEmpty(c: Conference): void;
  stopped(): boolean;
  /** A bridge not heard from lately (it may be dead too, not yet confirmed): nobody is moved onto it. */
  silent?(b: BridgeInfo): boolean;
  /** focus's maxBridgeStress (a stressed bridge is chosen only when none other has room); none: no limit. */
  maxStress?: number;
  log: Logger;
}

export class BridgeFailover {
  private readonly host: BridgeFailoverHost;
  /** Conferences with a move queued. */
  private readonly moving = new Set<string>();
  /** Per conference, bridges that restarted since its endpoints there were made. */
  private readonly restartedUnder = new Map<string, Set<string>>();
  /**
   * When each lost bridge's endpoints were lost (Date.now(): its last heartbeat), kept while a conference still
   * has to leave it: a played file goes on from the point it had reached then (plain-endpoints.ts, moveAll).
   */
  private readonly lostAt = new Map<string, number>();

  constructor(host: BridgeFailoverHost) {
    this.host = host;
  }

  /** Bridge `bridgeId`, last heard at `lastHeard` (Date.now()), is dead (dropped from the table): its conferences move. */
  dead(bridgeId: string, lastHeard: number): void {
    this.lostSince(bridgeId, lastHeard);
    this.rehome();
  }

  /**
   * Bridge `bridgeId` is a new process: the endpoints of its conferences there are gone (since `lastHeard`, the old
   * process's last heartbeat); they are made again.
   */
  restarted(bridgeId: string, lastHeard = Date.now()): void {
    const b = this.host.bridges.get(bridgeId);
    if (!b) return;
    this.lostSince(bridgeId, lastHeard);
    b.placed = 0;
    for (const id of b.conferences) {
      let set = this.restartedUnder.get(id);
      if (!set) this.restartedUnder.set(id, (set = new Set()));
      set.add(bridgeId);
    }
    this.rehome();
  }

  /** Queues a move of every conference on a lost bridge (called when a bridge is dropped, drains, restarts or appears). */
  rehome(): void {
    if (this.host.stopped()) return;
    this.pruneLost();
    for (const c of this.host.conferences.values()) {
      if (this.moving.has(c.id) || this.lostBridgesOf(c).length === 0) continue;
      this.moving.add(c.id);
      this.host
        .withLock(c.id, () => this.move(c))
        .catch((e: unknown) => this.host.log.error({ conference: c.id, err: (e as Error).message }, 'moving a conference off a lost bridge failed'))
        .finally(() => this.moving.delete(c.id));
    }
  }

  /** When `bridgeId`'s endpoints were lost: the first loss noted and not yet left behind, else `at` (noted now). */
  private lostSince(bridgeId: string, at: number): number {
    const known = this.lostAt.get(bridgeId);
    if (known !== undefined) return known;
    this.lostAt.set(bridgeId, at);
    return at;
  }

  /** Forgets the losses no conference has to move off any more (moved, ended, or the bridge was heard again). */
  private pruneLost(): void {
    for (const id of this.lostAt.keys()) {
      if (![...this.host.conferences.values()].some((c) => this.lostBridgesOf(c).includes(id))) this.lostAt.delete(id);
    }
  }

  /** The bridges `c` must leave: dead, draining, or restarted since its endpoints were made. */
  private lostBridgesOf(c: Conference): string[] {
    const restarted = this.restartedUnder.get(c.id);
    const { bridges } = this.host;
    return c.bridges.filter((id) => !bridges.has(id) || bridges.get(id)!.draining || restarted?.has(id));
  }

  private async move(c: Conference): Promise<void> {
    const { bridges, loadOf, log } = this.host;
    if (this.host.stopped() || this.host.conferences.get(c.id) !== c) return;
    for (const lost of this.lostBridgesOf(c)) {
      const restarted = this.restartedUnder.get(c.id)?.delete(lost) ?? false;
      const dead = restarted || !bridges.has(lost);
      // placements made during this move count against the caps at once
      const pending = new Map<string, number>();
      const loadNow = (b: BridgeInfo) => loadOf(b) + (pending.get(b.id) ?? 0);
      // as a join is placed (bridge-choice.ts): a bridge of the participant's region with room first
      const target = (region: string | undefined): string | undefined => {
        const known = new Map<string, BridgeState>();
        for (const b of bridges.values()) {
          if (!b.draining && !this.host.silent?.(b)) known.set(b.id, { id: b.id, load: loadNow(b), maxEndpoints: b.maxEndpoints, stress: b.stress, region: b.region, conferences: b.conferences.size });
        }
        const best = chooseBridgeFor({ spanned: c.bridges, known, region, maxStress: this.host.maxStress ?? Infinity });
        if (best !== undefined) pending.set(best, (pending.get(best) ?? 0) + 1);
        return best;
      };
      // a draining bridge forwards until each endpoint is expired there (moveOff): lost only then
      const lostAt = dead ? this.lostSince(lost, Date.now()) : Date.now();
      const { moved, stuck } = await c.moveOff(lost, dead, target, lostAt);
      for (const to of moved.values()) {
        const b = bridges.get(to);
        if (b) {
          b.placed++;
          b.conferences.add(c.id);
        }
        const from = bridges.get(lost);
        if (from && !restarted) this.host.released(from);
      }
      if (!c.bridges.includes(lost)) bridges.get(lost)?.conferences.delete(c.id);
      if (stuck > 0) log.warn({ conference: c.id, bridge: lost, stuck }, 'no bridge has room for some participants of a lost bridge; they move when one does');
    }
    if (this.restartedUnder.get(c.id)?.size === 0) this.restartedUnder.delete(c.id);
    this.host.dropIfEmpty(c);
    this.pruneLost();
  }
}
