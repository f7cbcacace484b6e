// What of a room is kept for the people coming back (room-state.ts holds it): the resume record of each member's
// token, and the room's stored chat and policy while it is empty. Rooms (rooms.ts) calls this when members enter,
// change and leave; it never changes who is in a room.
//
// - A room left on purpose by its last member forgets its stored chat and policy at once; one whose last
//   connection dropped keeps them for ROOM_RETURN_GRACE_MS (forgotten then if the room is still empty here;
//   with other signal instances, a room alive there has stand-ins here, so it is not empty).
// - A room this instance starts or takes over applies its stored policy once (per Room object).
import type { RoomFanout } from './room-fanout.ts';
import type { StoredPolicy } from '../protocol/signal-fanout-messages.ts';
import { applyPolicy, broadcastRoomState, policyOf, storedPolicy } from './room-policy.ts';
import type { RoomState } from './room-state.ts';
import type { Member, Room } from './room-types.ts';

/** How long the chat and policy of a room whose people all dropped are kept for them to come back. */
export const ROOM_RETURN_GRACE_MS = 5 * 60_000;

export class RoomResume {
  private readonly state: RoomState | undefined;
  private readonly rooms: ReadonlyMap<string, Room>;
  private readonly fanout: () => RoomFanout | undefined;
  private readonly policyLoads = new WeakMap<Room, Promise<void>>();
  private readonly forgetTimers = new Set<NodeJS.Timeout>();
  /** Rooms emptied here by drops, and until when their lock and lobby hold (known before the store has the mark). */
  private readonly keptHere = new Map<string, number>();

  constructor(state: RoomState | undefined, rooms: ReadonlyMap<string, Room>, fanout: () => RoomFanout | undefined) {
    this.state = state;
    this.rooms = rooms;
    this.fanout = fanout;
  }

  /** The room `key` has nobody left here (`resumable`: its last connection dropped rather than left). */
  roomEmptied(key: string, resumable: boolean): void {
    if (!this.state) return;
    if (!resumable) {
      this.state.forgetRoom(key);
      return;
    }
    // its lock and lobby hold for newcomers until the grace ends (keptPolicy), also if this instance stops or dies
    // before the timer below: a stored policy without the mark holds nobody out
    const state = this.state;
    const keptUntil = Date.now() + ROOM_RETURN_GRACE_MS;
    this.keptHere.set(key, keptUntil);
    void state.policy(key).then((p) => {
      if (p && !this.rooms.has(key)) state.savePolicy(key, { ...p, keptUntil });
    });
    const timer = setTimeout(() => {
      this.forgetTimers.delete(timer);
      if (this.keptHere.get(key) === keptUntil) this.keptHere.delete(key);
      if (!this.rooms.has(key)) this.state?.forgetRoom(key);
    }, ROOM_RETURN_GRACE_MS);
    timer.unref();
    this.forgetTimers.add(timer);
  }

  /** The lock and lobby kept for the people of room `key`, nobody being in it (its grace not over), else undefined. */
  async keptPolicy(key: string): Promise<StoredPolicy | undefined> {
    const p = await this.state?.policy(key);
    const until = Math.max(p?.keptUntil ?? 0, this.keptHere.get(key) ?? 0);
    return p && until > Date.now() ? p : undefined;
  }

  /** A moderator changed `room`'s policy: kept in the store, and told to the room's other signal instances. */
  policyChanged(room: Room): void {
    const p = storedPolicy(policyOf(room));
    this.state?.savePolicy(room.key, p);
    this.fanout()?.policy(room, p);
  }

  /** Applies the stored policy of a room this instance starts or takes over (once per Room object). */
  policyLoaded(room: Room): Promise<void> {
    let p = this.policyLoads.get(room);
    if (!p) {
      p = (this.state?.policy(room.key) ?? Promise.resolve(undefined)).then((stored) => {
        if (!stored) return;
        applyPolicy(room, stored);
        broadcastRoomState(room);
      });
      this.policyLoads.set(room, p);
    }
    return p;
  }

  /** Writes who `member`'s resume token resumes again (after its role or name changed). */
  remember(member: Member): void {
    if (!member.resumeToken || !this.state) return;
    // a reconnect joins the meeting's main room (its breakout store brings it back to its breakout room)
    const home = member.room.breakout?.main ?? member.room;
    this.state.remember(member.resumeToken, {
      room: home.key,
      roomName: home.name,
      participantId: member.id,
      displayName: member.displayName,
      role: member.role,
      authenticated: member.authenticated,
      ...(member.account ? { account: member.account } : {}),
    });
  }

  /** A stopping instance leaves its rooms' state to the store (another instance, or this one restarted). */
  stop(): void {
    for (const t of this.forgetTimers) clearTimeout(t);
    this.forgetTimers.clear();
    this.keptHere.clear();
  }
}
