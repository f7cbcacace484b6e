// Breakout rooms (issue 20), as in Jitsi Meet: a meeting is its main room plus up to MAX_BREAKOUT_ROOMS
// breakout rooms, each a Room of its own in `Rooms` (its own conference at focus, so its own media, chat and
// participant list). A breakout room's key is "BR-<random>": it has upper-case letters, which `roomKey` never
// yields, so nobody reaches one by typing a name; the only way in is a move (Rooms.move) made here.
// Invariants: the list of breakout rooms ("participants may choose", the seats with their reload tickets) is the
// shared room item `breakouts` of the main room (breakout-list.ts): every signal instance shows the same list, and
// it outlives the instance that made it. A breakout Room exists in `Rooms` only while someone is in it (here, or
// a stand-in of someone on another instance: its presence names its main room); the main room stays open while
// anyone of the meeting is in a breakout room (so it ends on its own only once nobody is in any of them), and when
// it is ended for everyone (end meeting from any of its rooms, the admin API) every breakout room ends with it.
// Moderators of the main room are moderators in the breakout rooms (a moved member keeps its role). Everything is
// checked here: non-moderators get `not-moderator`; a participant joins a room of their choice only while the
// moderator allows it.
// Who is sent the list: everyone in the meeting when the list changes; on a join, a leave or a new name, everyone
// while the meeting has breakout rooms, else only its moderators (nobody else is shown the main room's people
// then; a meeting that never had breakout rooms included, so a moderator's first list counts everyone); a new
// moderator gets it once.
// Several signal instances (issue 17): a move is made by the instance that holds the person's socket; a moderator
// elsewhere asks it (`signal.breakout-move.<instance>`, room-fanout.ts). Each instance sends the list to its own
// members, when it changes here, when another instance's change is read, and when a stand-in comes or goes. A
// person back after a reconnect (resume, maybe through another instance) returns to the breakout room its seat names.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { MAX_BREAKOUT_ROOMS, type BreakoutClientMessage } from '../protocol/breakout-messages.ts';
import type { ErrorCode } from '../protocol/signal-messages.ts';
import type { Member, Room, Rooms, Session } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';
import type { Moderation } from './moderation.ts';
import type { MeetingFeatures } from './meeting.ts';
import { localRoomItems, type SharedRoomItems } from './shared-room-items.ts';
import {
  addRoom,
  allowChoice,
  BREAKOUTS_ITEM,
  breakoutListSchema,
  closeRoom,
  EMPTY_LIST,
  entryOf,
  renameRoom,
  reseat,
  seatByTicket,
  seatOf,
  useTicket,
  type BreakoutEntry,
  type BreakoutList,
} from './breakout-list.ts';
import { breakoutRoomsOf, everyoneIn, listView, viewFor } from './breakout-view.ts';

function tokenOf(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export class BreakoutRooms {
  private readonly rooms: Rooms;
  private readonly log: Logger;
  private readonly items: SharedRoomItems;
  /** Per socket: its own moves (join/leave by choice, a return after reload), each one a new media session. */
  private readonly selfMoves = new WeakMap<Session, TokenBucket>();
  /** While a move is under way (its leave is not told alone: the list follows once the member is in). */
  private moving = false;
  /** After a member entered another room of its meeting (chat history, polls, room state: as after a join). */
  afterMove: (session: Session) => void = () => {};

  constructor(rooms: Rooms, log: Logger, items: SharedRoomItems = rooms.state?.items ?? localRoomItems(log)) {
    this.rooms = rooms;
    this.log = log;
    this.items = items;
    // another instance changed the list (or a room made here read it): names, removals, and the list to our members
    items.define({ name: BREAKOUTS_ITEM, schema: breakoutListSchema, loaded: (room, list) => this.loaded(room, list) });
  }

  /** Hooks itself into the rooms (holds, leaves, stand-ins, moves asked elsewhere), moderation and renames. */
  watch(rooms: Rooms, moderation: Moderation, meeting: MeetingFeatures): void {
    rooms.holds = (room) => this.holds(room);
    // every join (a browser's, a phone caller's, a file played in): the others see the newcomer in the list
    const onPresence = rooms.onPresence;
    rooms.onPresence = (change) => {
      onPresence?.(change);
      if (change.kind === 'joined' && !this.moving) this.changed(change.room);
    };
    const onLeft = rooms.onLeft;
    rooms.onLeft = (room, member, resumable) => {
      onLeft?.(room, member, resumable);
      this.afterLeave(room, member);
    };
    // someone on another instance came in (or changed name) in a room of a meeting: the list again here
    rooms.onStandIn = (room) => this.changed(room);
    rooms.onBreakoutMove = (mainKey, participantId, roomId, by) => this.moveAskedElsewhere(mainKey, participantId, roomId, by);
    moderation.breakouts = this;
    const onRenamed = meeting.onRenamed;
    meeting.onRenamed = (member) => {
      onRenamed(member);
      this.changed(member.room);
    };
  }

  /** The meeting's main room of any of its rooms. */
  static mainOf(room: Room): Room {
    return room.breakout?.main ?? room;
  }

  /** Rooms.holds: a main room stays open while someone of its meeting is in a breakout room. */
  holds(room: Room): boolean {
    return !room.breakout && this.breakoutRoomsOf(room).some((r) => r.members.size > 0);
  }

  private breakoutRoomsOf(main: Room): Room[] {
    return breakoutRoomsOf(this.rooms.rooms, main);
  }

  private everyone(main: Room): Member[] {
    return everyoneIn(this.rooms.rooms, main);
  }

  /** The moderators of the meeting of `room`, in its main room and every breakout room. */
  meetingModerators(room: Room): Member[] {
    return this.everyone(BreakoutRooms.mainOf(room)).filter((m) => m.role === 'moderator');
  }

  /** Moderators of the meeting of `room` outside `room` (an open meeting then needs no new moderator in `room`). */
  moderatorsElsewhere(room: Room): number {
    let n = 0;
    for (const m of this.everyone(BreakoutRooms.mainOf(room))) if (m.room !== room && m.role === 'moderator') n++;
    return n;
  }

  /** The meeting's list as read or last changed here (undefined: it never had breakout rooms). */
  private list(main: Room): BreakoutList | undefined {
    return this.items.get<BreakoutList>(main, BREAKOUTS_ITEM);
  }

  private change(main: Room, change: (old: BreakoutList | undefined) => BreakoutList | undefined): void {
    this.track(main);
    void this.items.change<BreakoutList>(main, BREAKOUTS_ITEM, change);
  }

  /** A main room with breakout rooms counts its people in them (caps, "is anyone here"). */
  private track(main: Room): void {
    main.peopleInBreakouts ??= () => this.breakoutRoomsOf(main).reduce((n, r) => n + [...r.members.values()].filter((m) => !m.phone).length, 0);
  }

  /** Runs `run` once `main`'s shared items are read (at once when they are); a failure is logged, never thrown. */
  private whenLoaded(main: Room, what: string, run: () => void | Promise<void>): void {
    const failed = (e: unknown) => this.log.error({ room: main.key, action: what, err: (e as Error).message }, 'breakout rooms action failed');
    this.items.whenLoaded(main, () => {
      try {
        void Promise.resolve(run()).catch(failed);
      } catch (e) {
        failed(e);
      }
    });
  }

  private refuse(session: Session, code: ErrorCode, message: string): void {
    session.send({ type: 'error', code, message });
  }

  /**
   * Rooms.onLeft: the last of a meeting gone (from any of its rooms) lets its held main room go; else the new
   * list. When that last one was a stand-in, the room's stored state is kept (the meeting may go on elsewhere).
   */
  afterLeave(room: Room, member: Member): void {
    const main = BreakoutRooms.mainOf(room);
    if (main.members.size === 0 && !this.holds(main)) {
      this.rooms.release(main, member.remote !== undefined);
      return;
    }
    if (!this.moving) this.peopleChanged(main);
  }

  /** Before a main room ends for everyone (end meeting, admin API): its breakout rooms end first. */
  endBreakouts(room: Room, end: (member: Member) => void): void {
    const main = BreakoutRooms.mainOf(room);
    for (const r of this.breakoutRoomsOf(main)) for (const m of [...r.members.values()]) end(m);
    if (this.list(main)) void this.items.change(main, BREAKOUTS_ITEM, () => undefined);
    main.peopleInBreakouts = undefined;
  }

  /** Someone joined or changed name in `room`: the meeting's list again, to those who see who is where. */
  changed(room: Room): void {
    const main = BreakoutRooms.mainOf(room);
    if ((this.list(main)?.rooms.length ?? 0) > 0) this.track(main);
    this.peopleChanged(main);
  }

  /** `member` (its socket here) was made a moderator: it is shown the main room's people from now on. */
  promoted(member: Member): void {
    const main = BreakoutRooms.mainOf(member.room);
    this.whenLoaded(main, 'list to a new moderator', () => {
      if (member.session.member === member) this.sendList(main, (m) => m === member);
    });
  }

  handle(session: Session, msg: BreakoutClientMessage): void {
    const actor = session.member;
    if (!actor) {
      this.refuse(session, 'not-joined', `"${msg.type}" needs a joined room; send "join" first`);
      return;
    }
    const main = BreakoutRooms.mainOf(actor.room);
    // a room this instance just took over acts on the stored list, never on an empty one
    this.whenLoaded(main, msg.type, () => {
      if (session.member === actor) this.act(session, actor, main, msg);
    });
  }

  private act(session: Session, actor: Member, main: Room, msg: BreakoutClientMessage): void {
    const list = this.list(main) ?? EMPTY_LIST;
    switch (msg.type) {
      case 'breakout-join': {
        if (actor.role !== 'moderator' && !list.participantsCanChoose) {
          this.refuse(session, 'not-allowed', 'the moderator has not let participants choose a breakout room');
          return;
        }
        const entry = this.entry(session, list, msg.roomId);
        if (entry && this.selfMoveAllowed(session)) this.moveTo(actor, main, entry, 'joined a breakout room');
        return;
      }
      case 'breakout-leave':
        if (actor.room.breakout && this.selfMoveAllowed(session)) this.moveTo(actor, main, null, 'left the breakout room');
        return;
      case 'breakout-return': {
        const seat = seatByTicket(list, msg.ticket);
        const entry = seat && entryOf(list, seat.roomId);
        if (!entry || actor.room.breakout || !this.selfMoveAllowed(session)) return;
        this.change(main, useTicket(msg.ticket)); // good once
        this.moveTo(actor, main, entry, 'back in its breakout room after a reload');
        return;
      }
    }
    if (actor.role !== 'moderator') {
      this.log.warn({ room: actor.room.key, participant: actor.id, action: msg.type }, 'breakout action refused: not a moderator');
      this.refuse(session, 'not-moderator', `only a moderator may do "${msg.type}"`);
      return;
    }
    this.log.info({ room: main.key, participant: actor.id, action: msg.type }, 'breakout rooms action');
    switch (msg.type) {
      case 'breakout-add': {
        if (list.rooms.length >= MAX_BREAKOUT_ROOMS) {
          this.refuse(session, 'breakout-limit', `a meeting may have at most ${MAX_BREAKOUT_ROOMS} breakout rooms`);
          return;
        }
        this.change(main, addRoom(msg.name, `BR-${tokenOf(12)}`));
        break;
      }
      case 'breakout-rename': {
        const entry = this.entry(session, list, msg.roomId);
        if (!entry) return;
        this.change(main, renameRoom(entry.id, msg.name));
        const live = this.rooms.rooms.get(entry.key);
        if (live) live.name = msg.name;
        break;
      }
      case 'breakout-close':
      case 'breakout-remove': {
        const entry = this.entry(session, list, msg.roomId);
        if (!entry) return;
        this.close(main, entry, msg.type === 'breakout-remove', actor.id);
        break;
      }
      case 'breakout-close-all':
        for (const entry of list.rooms) this.close(main, entry, true, actor.id);
        break;
      case 'breakout-move': {
        const target = this.everyone(main).find((m) => m.id === msg.participantId);
        if (!target) {
          this.refuse(session, 'no-such-participant', 'that participant is not in this meeting');
          return;
        }
        if (target.plain || target.phone) {
          this.refuse(session, 'not-allowed', 'phone callers and files played in stay in the main room');
          return;
        }
        if (msg.roomId === null) {
          if (target.room.breakout) this.moveAnywhere(target, main, null, actor.id, session);
          return;
        }
        const entry = this.entry(session, list, msg.roomId);
        if (entry) this.moveAnywhere(target, main, entry, actor.id, session);
        return;
      }
      case 'breakout-auto-assign': {
        if (list.rooms.length === 0) {
          this.refuse(session, 'breakout-not-found', 'add a breakout room first');
          return;
        }
        // the least full room first, so rooms end up within one person of each other
        const sizes = new Map(list.rooms.map((e) => [e, this.rooms.rooms.get(e.key)?.members.size ?? 0]));
        for (const m of [...main.members.values()]) {
          if (m.role === 'moderator' || m.plain || m.phone) continue;
          const entry = list.rooms.reduce((a, b) => ((sizes.get(b) ?? 0) < (sizes.get(a) ?? 0) ? b : a));
          sizes.set(entry, (sizes.get(entry) ?? 0) + 1);
          if (!this.moveAnywhere(m, main, entry, actor.id, session, false)) break;
        }
        break; // the list once, after every move
      }
      case 'breakout-allow-choice':
        this.change(main, allowChoice(msg.allowed));
        break;
    }
    this.broadcast(main);
  }

  private selfMoveAllowed(session: Session): boolean {
    let bucket = this.selfMoves.get(session);
    if (!bucket) {
      bucket = new TokenBucket(4, 0.5);
      this.selfMoves.set(session, bucket);
    }
    if (bucket.take()) return true;
    this.refuse(session, 'rate-limited', 'too many room changes; wait a moment');
    return false;
  }

  private entry(session: Session, list: BreakoutList, id: string): BreakoutEntry | undefined {
    const e = entryOf(list, id);
    if (!e) this.refuse(session, 'breakout-not-found', 'no such breakout room in this meeting');
    return e;
  }

  /** Its people back to the main room (those on other instances by theirs); `remove` also takes it off the list. */
  private close(main: Room, entry: BreakoutEntry, remove: boolean, by: string): void {
    const live = this.rooms.rooms.get(entry.key);
    // the list once, by the caller, after every move
    for (const m of [...(live?.members.values() ?? [])]) this.moveAnywhere(m, main, null, by, m.session, false);
    this.change(main, closeRoom(entry.id, remove));
  }

  /** A moderator's move: made here when `member`'s socket is here, else asked of the instance that has it. */
  private moveAnywhere(member: Member, main: Room, entry: BreakoutEntry | null, by: string, actor: Session, tell = true): boolean {
    if (!member.remote) return this.moveTo(member, main, entry, entry ? `moved to a breakout room by ${by}` : `moved to the main room by ${by}`, tell, actor);
    this.rooms.fanout?.breakoutMove(member.remote, main.key, member.id, entry?.id ?? null, by);
    return true;
  }

  /** Another instance's moderator moves our member `participantId` of the meeting `mainKey` (null: to the main room). */
  private moveAskedElsewhere(mainKey: string, participantId: string, roomId: string | null, by: string): void {
    const main = this.rooms.rooms.get(mainKey);
    if (!main || main.breakout) return;
    this.whenLoaded(main, 'breakout move asked by another instance', () => this.moveAsked(main, participantId, roomId, by));
  }

  private async moveAsked(main: Room, participantId: string, roomId: string | null, by: string): Promise<void> {
    let entry = roomId === null ? null : entryOf(this.list(main), roomId);
    // a room added on the asking instance a moment ago: read the list again before calling it unknown
    if (entry === undefined) {
      await this.items.reload(main, BREAKOUTS_ITEM);
      entry = entryOf(this.list(main), roomId as string);
    }
    const member = this.everyone(main).find((m) => m.id === participantId && !m.remote);
    if (!member || entry === undefined || (entry === null && !member.room.breakout)) {
      this.log.info({ room: main.key, participant: participantId, roomId }, 'breakout move asked by another instance: nothing to move');
      return;
    }
    this.moveTo(member, main, entry, entry ? `moved to a breakout room by ${by} (another instance)` : `moved to the main room by ${by} (another instance)`);
  }

  /** After a join (Access.onJoined): a person back after a reconnect goes back into the breakout room its seat names. */
  afterJoin(session: Session): void {
    const member = session.member;
    if (!member || member.room.breakout || member.phone || member.plain) return;
    const main = member.room;
    this.whenLoaded(main, 'back into a breakout room', () => {
      const list = this.list(main);
      const seat = seatOf(list, member.id);
      const entry = seat && entryOf(list, seat.roomId);
      if (entry && session.member === member) this.moveTo(member, main, entry, 'back in its breakout room after a reconnect', true, member.session, true);
    });
  }

  /** The list read from the store (another instance's change, or a room made here): renames, removals, our members told. */
  private loaded(main: Room, list: BreakoutList | undefined): void {
    if (main.breakout) return;
    if (list) this.track(main);
    const away: Member[] = [];
    for (const r of this.breakoutRoomsOf(main)) {
      // by key: an id given on one instance while another added a room at once may have been renumbered by the store
      const entry = list?.rooms.find((e) => e.key === r.key);
      if (entry) {
        r.name = entry.name;
        if (r.breakout) r.breakout.id = entry.id;
      } else for (const m of r.members.values()) if (!m.remote) away.push(m);
    }
    // removed on another instance: our people in it come back (that instance could not see them all yet)
    for (const m of away) this.moveTo(m, main, null, 'breakout room removed', false);
    this.broadcast(main);
  }

  /**
   * Moves `member` (its socket here) to the breakout room `entry`, or to the main room (null), unless it is there
   * already. `tell`: the meeting's list goes to everyone after it (a caller moving many sends it once, after the last).
   * `resumed`: a reconnect going back (Rooms.move: it may still be in focus's conference of that room).
   */
  private moveTo(member: Member, main: Room, entry: BreakoutEntry | null, reason: string, tell = true, actor: Session = member.session, resumed = false): boolean {
    const target = entry ? this.rooms.breakoutRoom(main, entry.id, entry.key, entry.name) : main;
    if (member.room === target) return true;
    // a breakout room nobody is in yet is one more room on this server: maxRooms counts it
    const refusal = this.rooms.rooms.has(target.key) ? null : this.rooms.caps.checkNewRoom(this.rooms.rooms.size);
    if (refusal) {
      this.refuse(actor, refusal.code, refusal.message);
      return false;
    }
    this.moving = true;
    let moved: Member;
    try {
      moved = this.rooms.move(member, target, reason, resumed);
    } finally {
      this.moving = false;
    }
    // its seat: where a reconnect or a reload (by ticket) brings it back
    this.change(main, reseat(member.id, entry ? { participantId: moved.id, roomId: entry.id, ticket: tokenOf(18) } : null));
    this.afterMove(moved.session);
    if (tell) this.broadcast(main);
    return true;
  }

  /** The list changed (here, or read from the store): to everyone in the meeting. */
  private broadcast(main: Room): void {
    if (this.list(main)) this.sendList(main, () => true);
  }

  /**
   * Someone came, went or changed name: while the meeting has breakout rooms everyone sees who is where; without
   * any, only its moderators are shown the main room's people (the others are not sent what they never see).
   */
  private peopleChanged(main: Room): void {
    const everyone = (this.list(main)?.rooms.length ?? 0) > 0;
    this.sendList(main, (m) => everyone || m.role === 'moderator');
  }

  /** The list (empty when the meeting never had breakout rooms) to the members on this instance `to` picks (each instance tells its own). */
  private sendList(main: Room, to: (m: Member) => boolean): void {
    const list = this.list(main) ?? EMPTY_LIST;
    const shared = listView(this.rooms.rooms, main, list);
    for (const m of this.everyone(main)) if (!m.remote && to(m)) m.session.send(viewFor(m, list, shared));
  }
}
