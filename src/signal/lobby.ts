// The lobby: while a moderator has it on, joiners "knock" and wait on their open WebSocket; moderators see
// the list and admit (the waiting socket is joined at once, no reload) or deny.
//
// A knock is its socket: it lives on the signal instance that has that socket (`Knock`, here). The list of a
// room's knocks is a shared room item (shared-room-items.ts: `lobby`, each entry with the instance that holds it),
// so moderators on every instance see every knock; each instance sends the list to its own moderators (when it
// changes here, or another instance's change is read). A moderator's answer to a knock held elsewhere goes to
// that instance (`answerElsewhere`, room-fanout.ts), which admits or denies it. The knocks of an instance that
// died leave the list when the others notice it silent (`dropInstance`).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { LobbyKnock } from '../protocol/access-messages.ts';
import type { ClientMessage } from '../protocol/signal-messages.ts';
import { moderatorsOf, policyOf } from './room-policy.ts';
import type { JoinGrant, Member, Room, Session } from './rooms.ts';
import { localRoomItems, type SharedRoomItems } from './shared-room-items.ts';

type JoinMessage = Extract<ClientMessage, { type: 'join' }>;

export const MAX_KNOCKS_PER_ROOM = 100;
const LOBBY = 'lobby';

export interface Knock {
  id: string;
  room: Room;
  session: Session;
  msg: JoinMessage;
  grant: JoinGrant;
  displayName: string;
  /** What its socket was last told: the room has a password (a join with it skips the lobby). */
  locked: boolean;
}

const sharedKnockSchema = z.object({ id: z.string().max(16), displayName: z.string().max(1000), instance: z.string().max(64) });
type SharedKnock = z.infer<typeof sharedKnockSchema>;
const sharedKnocksSchema = z.array(sharedKnockSchema).max(MAX_KNOCKS_PER_ROOM);

/** How the lobby reaches the other signal instances (room-fanout.ts); none: this is the only one. */
export interface LobbyPeers {
  instance: string;
  /** A moderator here answered knock `id` of `room`, held by instance `instance`. */
  answer(instance: string, roomKey: string, id: string, admit: boolean, by: string): void;
}

export class Lobby {
  private readonly byRoom = new WeakMap<Room, Map<string, Knock>>();
  private readonly bySession = new WeakMap<Session, Knock>();
  private readonly log: Logger;
  private readonly items: SharedRoomItems;
  peers: LobbyPeers | undefined;

  constructor(log: Logger, items: SharedRoomItems = localRoomItems(log)) {
    this.log = log;
    this.items = items;
    // another instance's knock came or went: this instance's moderators get the new list
    items.define({ name: LOBBY, schema: sharedKnocksSchema, loaded: (room) => this.sendList(room) });
  }

  /**
   * Who sees a room's knocks: its moderators; for a main room with breakout rooms, the meeting's moderators
   * wherever they are (a main room emptied into breakout rooms still has a lobby someone must answer).
   */
  meetingModerators: (room: Room) => Member[] = moderatorsOf;

  private get instance(): string {
    return this.peers?.instance ?? 'local';
  }

  list(room: Room): LobbyKnock[] {
    return (this.items.get<SharedKnock[]>(room, LOBBY) ?? []).map((k) => ({ id: k.id, displayName: k.displayName }));
  }

  /** Sends the current knock list to the room's moderators on this instance (or to one member). */
  sendList(room: Room, only?: Session): void {
    const msg = { type: 'lobby-list' as const, knocks: this.list(room) };
    if (only) only.send(msg);
    // stand-ins' own instances send them the list themselves
    else for (const m of this.meetingModerators(room)) if (!m.remote) m.session.send(msg);
  }

  isWaiting(session: Session): boolean {
    return this.bySession.has(session);
  }

  /** The knock `session` waits with, if any. */
  knockOf(session: Session): Knock | undefined {
    return this.bySession.get(session);
  }

  /** `room` was locked or unlocked: the people waiting here are told whether its password would let them in. */
  tellLocked(room: Room): void {
    const locked = policyOf(room).password !== undefined;
    for (const k of this.byRoom.get(room)?.values() ?? []) {
      if (k.locked === locked) continue;
      k.locked = locked;
      k.session.send({ type: 'lobby-wait', room: room.name, locked });
    }
  }

  /** Puts `session` in `room`'s lobby; false when the lobby is full. */
  knock(room: Room, session: Session, msg: JoinMessage, grant: JoinGrant): boolean {
    let knocks = this.byRoom.get(room);
    if (!knocks) {
      knocks = new Map();
      this.byRoom.set(room, knocks);
    }
    if (this.list(room).length >= MAX_KNOCKS_PER_ROOM) return false;
    const locked = policyOf(room).password !== undefined;
    const knock: Knock = { id: randomUUID().slice(0, 8), room, session, msg, grant, displayName: grant.displayName ?? msg.displayName, locked };
    knocks.set(knock.id, knock);
    this.bySession.set(session, knock);
    session.send({ type: 'lobby-wait', room: room.name, locked });
    this.log.info({ room: room.key, knock: knock.id }, 'lobby knock');
    const entry: SharedKnock = { id: knock.id, displayName: knock.displayName, instance: this.instance };
    void this.items.change<SharedKnock[]>(room, LOBBY, (old = []) => (old.length >= MAX_KNOCKS_PER_ROOM ? old : [...old.filter((k) => k.id !== entry.id), entry]));
    this.sendList(room);
    return true;
  }

  /** Takes a knock held here out of the lobby (admitted, denied or gone) and updates the moderators. */
  take(room: Room, id: string): Knock | undefined {
    const knock = this.byRoom.get(room)?.get(id);
    if (!knock) return undefined;
    this.remove(knock);
    return knock;
  }

  /** A knock of `room` held by another instance: the answer goes there (true), or there is no such knock (false). */
  answerElsewhere(room: Room, id: string, admit: boolean, by: string): boolean {
    const shared = (this.items.get<SharedKnock[]>(room, LOBBY) ?? []).find((k) => k.id === id);
    if (!shared || shared.instance === this.instance || !this.peers) return false;
    this.peers.answer(shared.instance, room.key, id, admit, by);
    return true;
  }

  private unlist(room: Room, ids: Set<string>): void {
    void this.items.change<SharedKnock[]>(room, LOBBY, (old = []) => {
      const left = old.filter((k) => !ids.has(k.id));
      return left.length > 0 ? left : undefined;
    });
  }

  private remove(knock: Knock): void {
    this.byRoom.get(knock.room)?.delete(knock.id);
    this.bySession.delete(knock.session);
    this.unlist(knock.room, new Set([knock.id]));
    this.sendList(knock.room);
  }

  /** The socket closed or left while waiting. */
  cancel(session: Session): void {
    const knock = this.bySession.get(session);
    if (knock) {
      this.remove(knock);
      this.log.info({ room: knock.room.key, knock: knock.id }, 'lobby knock withdrawn');
    }
  }

  /** Every knock of `room` held here, taken out (to admit them all, or because the meeting is over). */
  takeAll(room: Room): Knock[] {
    const knocks = [...(this.byRoom.get(room)?.values() ?? [])];
    for (const k of knocks) this.bySession.delete(k.session);
    this.byRoom.delete(room);
    if (knocks.length > 0) this.unlist(room, new Set(knocks.map((k) => k.id)));
    return knocks;
  }

  /** Signal instance `instance` went silent: its knocks (their sockets were there) leave `room`'s list. */
  dropInstance(room: Room, instance: string): void {
    const gone = (this.items.get<SharedKnock[]>(room, LOBBY) ?? []).filter((k) => k.instance === instance);
    if (gone.length === 0) return;
    this.unlist(room, new Set(gone.map((k) => k.id)));
    this.sendList(room);
  }
}
