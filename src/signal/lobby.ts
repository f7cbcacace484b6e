// The lobby: while a moderator has it on, joiners "knock" and wait on their open WebSocket; moderators see
// the list and admit (the waiting socket is joined at once, no reload) or deny.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { LobbyKnock } from '../protocol/access-messages.ts';
import type { ClientMessage } from '../protocol/signal-messages.ts';
import { moderatorsOf } from './room-policy.ts';
import type { JoinGrant, Member, Room, Session } from './rooms.ts';

type JoinMessage = Extract<ClientMessage, { type: 'join' }>;

export const MAX_KNOCKS_PER_ROOM = 100;

export interface Knock {
  id: string;
  room: Room;
  session: Session;
  msg: JoinMessage;
  grant: JoinGrant;
  displayName: string;
}

export class Lobby {
  private readonly byRoom = new WeakMap<Room, Map<string, Knock>>();
  private readonly bySession = new WeakMap<Session, Knock>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /**
   * Who sees a room's knocks: its moderators; for a main room with breakout rooms, the meeting's moderators
   * wherever they are (a main room emptied into breakout rooms still has a lobby someone must answer).
   */
  meetingModerators: (room: Room) => Member[] = moderatorsOf;

  list(room: Room): LobbyKnock[] {
    return [...(this.byRoom.get(room)?.values() ?? [])].map((k) => ({ id: k.id, displayName: k.displayName }));
  }

  /** Sends the current knock list to the room's moderators (or to one member). */
  sendList(room: Room, only?: Session): void {
    const msg = { type: 'lobby-list' as const, knocks: this.list(room) };
    if (only) only.send(msg);
    else for (const m of this.meetingModerators(room)) m.session.send(msg);
  }

  isWaiting(session: Session): boolean {
    return this.bySession.has(session);
  }

  /** Puts `session` in `room`'s lobby; false when the lobby is full. */
  knock(room: Room, session: Session, msg: JoinMessage, grant: JoinGrant): boolean {
    let knocks = this.byRoom.get(room);
    if (!knocks) {
      knocks = new Map();
      this.byRoom.set(room, knocks);
    }
    if (knocks.size >= MAX_KNOCKS_PER_ROOM) return false;
    const knock: Knock = { id: randomUUID().slice(0, 8), room, session, msg, grant, displayName: grant.displayName ?? msg.displayName };
    knocks.set(knock.id, knock);
    this.bySession.set(session, knock);
    session.send({ type: 'lobby-wait', room: room.name });
    this.log.info({ room: room.key, knock: knock.id }, 'lobby knock');
    this.sendList(room);
    return true;
  }

  /** Takes a knock out of the lobby (admitted, denied or gone) and updates the moderators. */
  take(room: Room, id: string): Knock | undefined {
    const knock = this.byRoom.get(room)?.get(id);
    if (!knock) return undefined;
    this.remove(knock);
    return knock;
  }

  private remove(knock: Knock): void {
    this.byRoom.get(knock.room)?.delete(knock.id);
    this.bySession.delete(knock.session);
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

  /** Every knock of `room`, taken out (to admit them all, or because the meeting is over). */
  takeAll(room: Room): Knock[] {
    const knocks = [...(this.byRoom.get(room)?.values() ?? [])];
    for (const k of knocks) this.bySession.delete(k.session);
    this.byRoom.delete(room);
    return knocks;
  }
}
