// A meeting's list of breakout rooms as every signal instance sees it (issue 17): the shared room item `breakouts`
// of the main room (shared-room-items.ts: JetStream over NATS, so it outlives the instance that made it). It holds
// the rooms (id, name, conference key), whether participants may choose, the next id, and the seats: who was put
// in which breakout room, with the reload ticket that brings that person's tab back there.
//
// Invariants: every change is a pure function of the old value (the store re-runs it on the newest value when
// another instance wrote meanwhile); at most MAX_BREAKOUT_ROOMS rooms and MAX_SEATS seats (oldest dropped first);
// one seat per participant id and per ticket; a seat names a room on the list (removing a room drops its seats).
// Who is in a breakout room right now is not here: that is presence (rooms and stand-ins, room-fanout.ts).
import { z } from 'zod';
import { breakoutIdSchema, MAX_BREAKOUT_NAME, MAX_BREAKOUT_ROOMS } from '../protocol/breakout-messages.ts';

export const BREAKOUTS_ITEM = 'breakouts';
/** Seats a meeting keeps at most (oldest dropped first). */
export const MAX_SEATS = 2000;

const entrySchema = z.object({
  id: breakoutIdSchema,
  name: z.string().min(1).max(MAX_BREAKOUT_NAME),
  /** The breakout room's conference key: "BR-" and random letters `roomKey` never yields. */
  key: z.string().regex(/^BR-[A-Za-z0-9_-]{8,64}$/),
});
export type BreakoutEntry = z.infer<typeof entrySchema>;

const seatSchema = z.object({
  participantId: z.string().min(1).max(64),
  roomId: breakoutIdSchema,
  ticket: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
});
export type BreakoutSeat = z.infer<typeof seatSchema>;

export const breakoutListSchema = z.object({
  rooms: z.array(entrySchema).max(MAX_BREAKOUT_ROOMS),
  participantsCanChoose: z.boolean(),
  next: z.number().int().min(1).max(1_000_000_000),
  seats: z.array(seatSchema).max(MAX_SEATS),
});
export type BreakoutList = z.infer<typeof breakoutListSchema>;

export const EMPTY_LIST: BreakoutList = { rooms: [], participantsCanChoose: false, next: 1, seats: [] };

export function entryOf(list: BreakoutList | undefined, id: string): BreakoutEntry | undefined {
  return list?.rooms.find((e) => e.id === id);
}

export function seatByTicket(list: BreakoutList | undefined, ticket: string): BreakoutSeat | undefined {
  return list?.seats.find((s) => s.ticket === ticket);
}

export function seatOf(list: BreakoutList | undefined, participantId: string): BreakoutSeat | undefined {
  return list?.seats.find((s) => s.participantId === participantId);
}

// ---- changes (pure functions of the old value) ----

/** A new room `key` named `name` (unless the list is full: then unchanged). */
export const addRoom =
  (name: string, key: string) =>
  (old = EMPTY_LIST): BreakoutList => {
    if (old.rooms.length >= MAX_BREAKOUT_ROOMS) return old;
    return { ...old, rooms: [...old.rooms, { id: String(old.next), name, key }], next: old.next + 1 };
  };

// The changes below touch rooms or seats that exist: on a meeting without a list (never had one, or ended and
// forgotten meanwhile by another instance) they leave it without one, never write back an empty list.

export const renameRoom =
  (id: string, name: string) =>
  (old: BreakoutList | undefined): BreakoutList | undefined => old && { ...old, rooms: old.rooms.map((e) => (e.id === id ? { ...e, name } : e)) };

/** Room `id` closed: its seats go (nobody returns there by ticket); `remove` also takes it off the list. */
export const closeRoom =
  (id: string, remove: boolean) =>
  (old: BreakoutList | undefined): BreakoutList | undefined =>
    old && {
      ...old,
      rooms: remove ? old.rooms.filter((e) => e.id !== id) : old.rooms,
      seats: old.seats.filter((s) => s.roomId !== id),
    };

export const allowChoice =
  (allowed: boolean) =>
  (old = EMPTY_LIST): BreakoutList => ({ ...old, participantsCanChoose: allowed });

/**
 * `participantId` moved: its seat (if any) goes; `seat`, when it moved into a breakout room that is still on the
 * list, is its new one. `formerId`: the id it had before the move (a move may give a new id).
 */
export const reseat =
  (formerId: string, seat: BreakoutSeat | null) =>
  (old: BreakoutList | undefined): BreakoutList | undefined => {
    if (!old) return undefined;
    let seats = old.seats.filter((s) => s.participantId !== formerId && (seat === null || s.participantId !== seat.participantId));
    if (seat && old.rooms.some((e) => e.id === seat.roomId)) seats = [...seats, seat].slice(-MAX_SEATS);
    return { ...old, seats };
  };

/** A reload ticket was used: its seat goes (a ticket is good once; the move gives a new one). */
export const useTicket =
  (ticket: string) =>
  (old: BreakoutList | undefined): BreakoutList | undefined => old && { ...old, seats: old.seats.filter((s) => s.ticket !== ticket) };
