// Breakout rooms (issue 20), as in Jitsi Meet: a meeting is its main room plus up to MAX_BREAKOUT_ROOMS
// breakout rooms, each a Room of its own in `Rooms` (its own conference at focus, so its own media, chat and
// participant list). A breakout room's key is "BR-<random>": it has upper-case letters, which `roomKey` never
// yields, so nobody reaches one by typing a name; the only way in is a move (Rooms.move) made here.
// Invariants: the state (the list of breakout rooms, "participants may choose", the reload tickets) belongs to the
// main Room object and dies with it; a breakout Room exists in `Rooms` only while someone is in it; the main room
// stays open while anyone of the meeting is in a breakout room (so it ends on its own only once nobody is in any
// of them), and when it is ended for everyone (end meeting from any of its rooms, the admin API) every breakout
// room ends with it. Moderators of the main room are moderators
// in the breakout rooms (a moved member keeps its role). Everything is checked here: non-moderators get
// `not-moderator`; a participant joins a room of their choice only while the moderator allows it.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import {
  MAX_BREAKOUT_ROOMS,
  type BreakoutClientMessage,
  type BreakoutRoom,
  type BreakoutServerMessage,
} from '../protocol/breakout-messages.ts';
import type { ErrorCode } from '../protocol/signal-messages.ts';
import type { Member, Room, Rooms, Session } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';
import type { Moderation } from './moderation.ts';
import type { MeetingFeatures } from './meeting.ts';

interface BreakoutEntry {
  id: string;
  name: string;
  key: string;
}

interface MeetingBreakouts {
  rooms: Map<string, BreakoutEntry>;
  participantsCanChoose: boolean;
  /** The next breakout room id (per meeting, never reused). */
  next: number;
  /** Reload tickets: a tab's secret -> the breakout room it was in (one per person in a breakout room). */
  tickets: Map<string, string>;
}

/** Reload tickets a meeting keeps at most (oldest dropped first). */
const MAX_TICKETS = 2000;

function tokenOf(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export class BreakoutRooms {
  private readonly rooms: Rooms;
  private readonly log: Logger;
  private readonly meetings = new WeakMap<Room, MeetingBreakouts>();
  /** Per socket: its own moves (join/leave by choice, a return after reload), each one a new media session. */
  private readonly selfMoves = new WeakMap<Session, TokenBucket>();
  /** The ticket of each member in a breakout room (sent in its `breakout-rooms`). */
  private readonly ticketOf = new WeakMap<Member, string>();
  /** While a move is under way (its leave is not told alone: the list follows once the member is in). */
  private moving = false;
  /** After a member entered another room of its meeting (chat history, polls, room state: as after a join). */
  afterMove: (session: Session) => void = () => {};

  constructor(rooms: Rooms, log: Logger) {
    this.rooms = rooms;
    this.log = log;
  }

  /** Hooks itself into the rooms (holds, leaves), moderation (moderators, end meeting) and renames. */
  watch(rooms: Rooms, moderation: Moderation, meeting: MeetingFeatures): void {
    rooms.holds = (room) => this.holds(room);
    // every join (a browser's, a phone caller's, a file played in): the others see the newcomer in the list
    const onPresence = rooms.onPresence;
    rooms.onPresence = (change) => {
      onPresence?.(change);
      if (change.kind === 'joined' && !this.moving) this.changed(change.room);
    };
    const onLeft = rooms.onLeft;
    rooms.onLeft = (room, member) => {
      onLeft?.(room, member);
      this.afterLeave(room);
    };
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

  /** The breakout Rooms of a main room that have people in them. */
  private breakoutRoomsOf(main: Room): Room[] {
    const state = this.meetings.get(main);
    if (!state) return [];
    const out: Room[] = [];
    for (const e of state.rooms.values()) {
      const r = this.rooms.rooms.get(e.key);
      if (r) out.push(r);
    }
    return out;
  }

  /** Everyone of the meeting of `room`: the main room and every breakout room. */
  private everyone(main: Room): Member[] {
    const out = [...main.members.values()];
    for (const r of this.breakoutRoomsOf(main)) out.push(...r.members.values());
    return out;
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

  private state(main: Room): MeetingBreakouts {
    let s = this.meetings.get(main);
    if (!s) {
      s = { rooms: new Map(), participantsCanChoose: false, next: 1, tickets: new Map() };
      this.meetings.set(main, s);
      main.peopleInBreakouts = () => this.breakoutRoomsOf(main).reduce((n, r) => n + [...r.members.values()].filter((m) => !m.phone).length, 0);
    }
    return s;
  }

  private refuse(session: Session, code: ErrorCode, message: string): void {
    session.send({ type: 'error', code, message });
  }

  /** Rooms.onLeft: the last of a meeting gone (from any of its rooms) lets its held main room go; else the new list. */
  afterLeave(room: Room): void {
    const main = BreakoutRooms.mainOf(room);
    if (main.members.size === 0 && !this.holds(main)) {
      this.rooms.release(main);
      return;
    }
    if (!this.moving) this.broadcast(main);
  }

  /** Before a main room ends for everyone (end meeting, admin API): its breakout rooms end first. */
  endBreakouts(room: Room, end: (member: Member) => void): void {
    const main = BreakoutRooms.mainOf(room);
    for (const r of this.breakoutRoomsOf(main)) for (const m of [...r.members.values()]) end(m);
    this.meetings.delete(main);
    main.peopleInBreakouts = undefined;
  }

  /** Someone joined or changed name in `room`: the meeting's list again (only when it has breakout rooms). */
  changed(room: Room): void {
    const main = BreakoutRooms.mainOf(room);
    if ((this.meetings.get(main)?.rooms.size ?? 0) > 0) this.broadcast(main);
  }

  handle(session: Session, msg: BreakoutClientMessage): void {
    const actor = session.member;
    if (!actor) {
      this.refuse(session, 'not-joined', `"${msg.type}" needs a joined room; send "join" first`);
      return;
    }
    const main = BreakoutRooms.mainOf(actor.room);
    const state = this.state(main);
    switch (msg.type) {
      case 'breakout-join': {
        if (actor.role !== 'moderator' && !state.participantsCanChoose) {
          this.refuse(session, 'not-allowed', 'the moderator has not let participants choose a breakout room');
          return;
        }
        const entry = this.entry(session, state, msg.roomId);
        if (entry && this.selfMoveAllowed(session)) this.moveTo(actor, main, entry, 'joined a breakout room');
        return;
      }
      case 'breakout-leave':
        if (actor.room.breakout && this.selfMoveAllowed(session)) this.moveTo(actor, main, null, 'left the breakout room');
        return;
      case 'breakout-return': {
        const roomId = state.tickets.get(msg.ticket);
        const entry = roomId === undefined ? undefined : state.rooms.get(roomId);
        if (!entry || actor.room.breakout || !this.selfMoveAllowed(session)) return;
        state.tickets.delete(msg.ticket);
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
        if (state.rooms.size >= MAX_BREAKOUT_ROOMS) {
          this.refuse(session, 'breakout-limit', `a meeting may have at most ${MAX_BREAKOUT_ROOMS} breakout rooms`);
          return;
        }
        const id = String(state.next++);
        state.rooms.set(id, { id, name: msg.name, key: `BR-${tokenOf(12)}` });
        break;
      }
      case 'breakout-rename': {
        const entry = this.entry(session, state, msg.roomId);
        if (!entry) return;
        entry.name = msg.name;
        const live = this.rooms.rooms.get(entry.key);
        if (live) live.name = msg.name;
        break;
      }
      case 'breakout-close':
      case 'breakout-remove': {
        const entry = this.entry(session, state, msg.roomId);
        if (!entry) return;
        this.close(main, entry, msg.type === 'breakout-remove');
        break;
      }
      case 'breakout-close-all':
        for (const entry of [...state.rooms.values()]) this.close(main, entry, true);
        break;
      case 'breakout-move': {
        const target = this.findMember(main, msg.participantId);
        if (!target) {
          this.refuse(session, 'no-such-participant', 'that participant is not in this meeting');
          return;
        }
        if (target.plain || target.phone) {
          this.refuse(session, 'not-allowed', 'phone callers and files played in stay in the main room');
          return;
        }
        // connected to another signal instance: its socket is there, so only that instance could move it
        if (target.remote) {
          this.refuse(session, 'not-allowed', 'that participant is connected through another server of this site and cannot be moved from here');
          return;
        }
        if (msg.roomId === null) {
          if (target.room.breakout) this.moveTo(target, main, null, `moved to the main room by ${actor.id}`);
          return;
        }
        const entry = this.entry(session, state, msg.roomId);
        if (entry) this.moveTo(target, main, entry, `moved to a breakout room by ${actor.id}`, true, session);
        return;
      }
      case 'breakout-auto-assign': {
        const entries = [...state.rooms.values()];
        if (entries.length === 0) {
          this.refuse(session, 'breakout-not-found', 'add a breakout room first');
          return;
        }
        // the least full room first, so rooms end up within one person of each other
        const sizes = new Map(entries.map((e) => [e, this.rooms.rooms.get(e.key)?.members.size ?? 0]));
        for (const m of [...main.members.values()]) {
          if (m.role === 'moderator' || m.plain || m.phone || m.remote) continue;
          const entry = entries.reduce((a, b) => ((sizes.get(b) ?? 0) < (sizes.get(a) ?? 0) ? b : a));
          sizes.set(entry, (sizes.get(entry) ?? 0) + 1);
          if (!this.moveTo(m, main, entry, `auto-assigned by ${actor.id}`, false, session)) break;
        }
        break; // the list once, after every move
      }
      case 'breakout-allow-choice':
        state.participantsCanChoose = msg.allowed;
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

  private entry(session: Session, state: MeetingBreakouts, id: string): BreakoutEntry | undefined {
    const e = state.rooms.get(id);
    if (!e) this.refuse(session, 'breakout-not-found', 'no such breakout room in this meeting');
    return e;
  }

  private findMember(main: Room, id: string): Member | undefined {
    return this.everyone(main).find((m) => m.id === id);
  }

  /** Its people back to the main room; `remove` also takes it off the list. */
  private close(main: Room, entry: BreakoutEntry, remove: boolean): void {
    const live = this.rooms.rooms.get(entry.key);
    // the list once, by the caller, after every move
    for (const m of [...(live?.members.values() ?? [])]) this.moveTo(m, main, null, 'breakout room closed', false);
    const state = this.state(main);
    for (const [ticket, id] of state.tickets) if (id === entry.id) state.tickets.delete(ticket);
    if (remove) state.rooms.delete(entry.id);
  }

  /**
   * Moves `member` to the breakout room `entry`, or to the main room (null), unless it is there already.
   * `tell`: the meeting's list goes to everyone after it (a caller moving many sends it once, after the last).
   */
  private moveTo(member: Member, main: Room, entry: BreakoutEntry | null, reason: string, tell = true, actor: Session = member.session): boolean {
    const target = entry ? this.rooms.breakoutRoom(main, entry.id, entry.key, entry.name) : main;
    if (member.room === target) return true;
    // a breakout room nobody is in yet is one more room on this server: maxRooms counts it
    const refusal = this.rooms.rooms.has(target.key) ? null : this.rooms.caps.checkNewRoom(this.rooms.rooms.size);
    if (refusal) {
      this.refuse(actor, refusal.code, refusal.message);
      return false;
    }
    const state = this.state(main);
    const old = this.ticketOf.get(member);
    if (old) state.tickets.delete(old);
    this.moving = true;
    let moved: Member;
    try {
      moved = this.rooms.move(member, target, reason);
    } finally {
      this.moving = false;
    }
    if (entry) {
      const ticket = tokenOf(18);
      state.tickets.set(ticket, entry.id);
      if (state.tickets.size > MAX_TICKETS) state.tickets.delete(state.tickets.keys().next().value as string);
      this.ticketOf.set(moved, ticket);
    }
    this.afterMove(moved.session);
    if (tell) this.broadcast(main);
    return true;
  }

  /** The list as everyone sees it (`current` and `ticket` are each member's own: `viewFor`). */
  private view(main: Room): BreakoutServerMessage {
    const state = this.state(main);
    const person = (m: Member) => ({ id: m.id, displayName: m.displayName });
    const rooms: BreakoutRoom[] = [...state.rooms.values()].map((e) => ({
      id: e.id,
      name: e.name,
      participants: [...(this.rooms.rooms.get(e.key)?.members.values() ?? [])].map(person),
    }));
    return {
      type: 'breakout-rooms',
      mainParticipants: [...main.members.values()].map(person),
      rooms,
      participantsCanChoose: state.participantsCanChoose,
      current: null,
    };
  }

  private viewFor(member: Member, shared = this.view(BreakoutRooms.mainOf(member.room))): BreakoutServerMessage {
    const msg: BreakoutServerMessage = { ...shared, current: member.room.breakout?.id ?? null };
    const ticket = member.room.breakout ? this.ticketOf.get(member) : undefined;
    if (ticket) msg.ticket = ticket;
    return msg;
  }

  private broadcast(main: Room): void {
    if (!this.meetings.has(main)) return;
    const shared = this.view(main);
    for (const m of this.everyone(main)) m.session.send(this.viewFor(m, shared));
  }
}
