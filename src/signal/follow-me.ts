// "Follow me" on the signalling server: a moderator turns it on (`set-follow-me`, with the layout their page shows;
// anyone else is refused with `not-moderator`) and becomes the leader; the leader's page sends its layout at each
// change (`follow-me-layout`), which everyone in the room is told and their pages apply. Any moderator takes it
// over or turns it off. It ends when the leader leaves the room; a leader whose connection drops (or who resumes
// through another signal instance) has RETURN_GRACE_MS to be back. A joiner is told it while it is on. It is a
// shared room item (shared-room-items.ts): every signal instance of the room sees it (a member there is told
// through the room's fan-out, as for any room message), and it outlives each of them; the leader's layouts and its
// end change the stored value only while it still names that leader (another instance may have handed it on).
// Caps: turning it on or off 5 then one per 2 s per member; the leader's layouts 10 then 4 a second, the last one
// kept and sent when a token comes (a burst of clicks ends on the layout the leader ended on).
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { followMeLayoutSchema, type FollowMeLayout, type FollowMeServerMessage } from '../protocol/follow-me-messages.ts';
import type { Member, Room, Session } from './rooms.ts';
import type { SharedRoomItems } from './shared-room-items.ts';
import { TokenBucket } from './token-bucket.ts';
import { moderatorOnly } from './moderator-only.ts';

const FOLLOW_ME = 'follow-me';

const stateSchema = z.object({ leader: z.string().min(1).max(64), layout: followMeLayoutSchema });
type FollowMeState = z.infer<typeof stateSchema>;

/** No map of live rooms: a grace ends on the Room it began on. */
const noLiveRooms = (): Room | undefined => undefined;

/** How long a leader whose connection dropped has to come back before follow me ends. */
export const RETURN_GRACE_MS = 30_000;

function message(state: FollowMeState | undefined): FollowMeServerMessage {
  return state ? { type: 'follow-me', leader: state.leader, layout: state.layout } : { type: 'follow-me' };
}

function sameLayout(a: FollowMeLayout, b: FollowMeLayout): boolean {
  return a.view === b.view && a.pinned === b.pinned;
}

interface LayoutLimit {
  bucket: TokenBucket;
  /** The layout waiting for a token, and its timer. */
  pending: FollowMeLayout | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class FollowMe {
  private readonly items: SharedRoomItems;
  private readonly log: Logger;
  private readonly switches = new WeakMap<Member, TokenBucket>();
  private readonly layouts = new WeakMap<Member, LayoutLimit>();
  /** Per room, the leader's grace timer after a dropped connection (a new drop starts it again). */
  private readonly graces = new WeakMap<Room, NodeJS.Timeout>();
  /** The room this instance has under a key now (Rooms' map; unset: the Room objects as given, for tests). */
  liveRoom: (key: string) => Room | undefined = noLiveRooms;

  constructor(log: Logger, items: SharedRoomItems) {
    this.log = log;
    this.items = items;
    items.define<FollowMeState>({
      name: FOLLOW_ME,
      schema: stateSchema,
      tell: (member, state) => member.session.send(message(state)),
    });
  }

  /** Who is followed in the room, and their layout (undefined: nobody). */
  of(room: Room): FollowMeState | undefined {
    return this.items.get<FollowMeState>(room, FOLLOW_ME);
  }

  afterJoin(session: Session): void {
    const room = session.member?.room;
    const state = room && this.of(room);
    if (!room || !state) return;
    session.send(message(state));
    // a leader the room does not have, here or on another instance (its drop's grace ran where the room was then,
    // with nobody left to end it, or on an instance that went away): its grace starts again here
    if (!room.members.has(state.leader) && !this.graces.has(room)) this.startGrace(room, state.leader);
  }

  /** `layout`: what the moderator's page shows as it turns it on (followers take it at once). */
  set(member: Member, enabled: boolean, layout: FollowMeLayout = { view: 'tile', pinned: null }): void {
    if (!moderatorOnly(this.log, member, 'set-follow-me')) return;
    let bucket = this.switches.get(member);
    if (!bucket) this.switches.set(member, (bucket = new TokenBucket(5, 0.5)));
    if (!bucket.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many follow-me changes; wait a moment' });
      return;
    }
    const room = member.room;
    const now = this.of(room);
    if (enabled ? now?.leader === member.id : now === undefined) return;
    this.log.info({ room: room.key, participant: member.id, enabled }, enabled ? 'follow me: everyone follows a moderator' : 'follow me ended');
    this.apply(room, () => (enabled ? { leader: member.id, layout } : undefined));
  }

  /** The leader's layout (from anyone else: ignored). */
  layout(member: Member, layout: FollowMeLayout): void {
    const now = this.of(member.room);
    if (now?.leader !== member.id) return;
    let limit = this.layouts.get(member);
    if (!limit) this.layouts.set(member, (limit = { bucket: new TokenBucket(10, 4), pending: undefined, timer: undefined }));
    limit.pending = layout;
    if (limit.timer !== undefined) return;
    this.flush(member, limit);
  }

  /**
   * Rooms.onLeft: follow me ends with its leader in the room; one whose connection dropped (`resumable`) ends it
   * only if not back within RETURN_GRACE_MS.
   */
  afterLeave(room: Room, member: Member, resumable: boolean): void {
    const limit = this.layouts.get(member);
    if (limit?.timer !== undefined) clearTimeout(limit.timer);
    const id = member.id;
    if (this.of(room)?.leader !== id) return;
    clearTimeout(this.graces.get(room));
    this.graces.delete(room);
    if (resumable) this.startGrace(room, id);
    else this.end(room, id);
  }

  /** Ends follow me of leader `id` unless back within RETURN_GRACE_MS (a new grace of the room replaces it). */
  private startGrace(room: Room, id: string): void {
    clearTimeout(this.graces.get(room));
    const timer = setTimeout(() => {
      if (this.graces.get(room) === timer) this.graces.delete(room);
      this.end(room, id);
    }, RETURN_GRACE_MS);
    timer.unref();
    this.graces.set(room, timer);
  }

  /** Follow me of leader `id` ends, unless the room has the leader again (or follows someone else by now). */
  private end(room: Room, id: string): void {
    // the room as this instance has it now: the one the leader dropped from may have closed and opened again
    // (the leader resumed into a new Room object); none here: the instances with members decide (a joiner starts
    // the grace again where the room is, afterJoin)
    const live = this.liveRoom(room.key) ?? (this.liveRoom === noLiveRooms ? room : undefined);
    if (!live || this.of(live)?.leader !== id || live.members.has(id)) return;
    this.log.info({ room: room.key, participant: id }, 'follow me ended: the leader left');
    this.apply(live, (old) => (old?.leader === id ? undefined : old));
  }

  /** Sends the leader's pending layout now if a token is there, else once one is. */
  private flush(member: Member, limit: LayoutLimit): void {
    limit.timer = undefined;
    const layout = limit.pending;
    const now = this.of(member.room);
    if (layout === undefined || now?.leader !== member.id || member.room.members.get(member.id) !== member) {
      limit.pending = undefined;
      return;
    }
    const wait = limit.bucket.msUntilToken();
    if (wait > 0) {
      limit.timer = setTimeout(() => this.flush(member, limit), wait);
      return;
    }
    limit.bucket.take();
    limit.pending = undefined;
    const id = member.id;
    if (!sameLayout(now.layout, layout)) this.apply(member.room, (old) => (old?.leader === id ? { leader: id, layout } : old));
  }

  /** Changes the room's follow me (`change` of the value as this instance or the store has it) and tells the room. */
  private apply(room: Room, change: (old: FollowMeState | undefined) => FollowMeState | undefined): void {
    const before = this.of(room);
    void this.items.change<FollowMeState>(room, FOLLOW_ME, change);
    const next = this.of(room);
    if (next === before) return;
    const m = message(next);
    for (const member of room.members.values()) member.session.send(m);
  }
}
