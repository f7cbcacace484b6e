// Who is in a meeting's rooms (its main room and its breakout rooms open on this instance, stand-ins included) and
// the `breakout-rooms` message each member is sent: the shared list (breakout-list.ts) with the people in each room
// now, plus the member's own `current` room and, while it is in a breakout room, its reload ticket. Pure reads.
import type { BreakoutRoom, BreakoutServerMessage } from '../protocol/breakout-messages.ts';
import { seatOf, type BreakoutList } from './breakout-list.ts';
import type { Member, Room } from './room-types.ts';

/** The breakout Rooms of `main` in `rooms` (someone is in each, here or on another instance). */
export function breakoutRoomsOf(rooms: ReadonlyMap<string, Room>, main: Room): Room[] {
  const out: Room[] = [];
  for (const r of rooms.values()) if (r.breakout?.main === main) out.push(r);
  return out;
}

/** Everyone of the meeting of `main`: the main room and every breakout room (stand-ins included). */
export function everyoneIn(rooms: ReadonlyMap<string, Room>, main: Room): Member[] {
  const out = [...main.members.values()];
  for (const r of breakoutRoomsOf(rooms, main)) out.push(...r.members.values());
  return out;
}

/** The list as everyone sees it (`current` and `ticket` are each member's own: `viewFor`). */
export function listView(rooms: ReadonlyMap<string, Room>, main: Room, list: BreakoutList): BreakoutServerMessage {
  const person = (m: Member) => ({ id: m.id, displayName: m.displayName, ...(m.phone || m.plain ? { staysInMain: true } : {}) });
  const open: BreakoutRoom[] = list.rooms.map((e) => ({
    id: e.id,
    name: e.name,
    participants: [...(rooms.get(e.key)?.members.values() ?? [])].map(person),
  }));
  return {
    type: 'breakout-rooms',
    mainParticipants: [...main.members.values()].map(person),
    rooms: open,
    participantsCanChoose: list.participantsCanChoose,
    current: null,
  };
}

/** `shared` for `member`: its room, and its ticket while in a breakout room. */
export function viewFor(member: Member, list: BreakoutList, shared: BreakoutServerMessage): BreakoutServerMessage {
  const current = member.room.breakout?.id ?? null;
  const msg: BreakoutServerMessage = { ...shared, current };
  const seat = current === null ? undefined : seatOf(list, member.id);
  if (seat?.roomId === current) msg.ticket = seat.ticket;
  return msg;
}
