// How long the meeting has run, for the page's timer beside the subject (as Jitsi Meet's conference timer). The
// meeting's start is a shared room item (shared-room-items.ts): the first signal instance to have the room writes
// when it made it, and a later writer keeps what is there, so every instance tells the same start; it is forgotten
// with the meeting. A joiner is told the time elapsed by the server's clock (`meeting-clock`), never a date: the page
// counts on from its own clock, whatever the two clocks say.
import { z } from 'zod';
import type { Room, Session } from './rooms.ts';
import type { SharedRoomItems } from './shared-room-items.ts';

const STARTED = 'started';

export class MeetingClock {
  private readonly items: SharedRoomItems;

  constructor(items: SharedRoomItems) {
    this.items = items;
    items.define<number>({
      name: STARTED,
      schema: z.number().int().positive(),
      // another instance started the meeting earlier: members who joined here meanwhile hear the right time
      tell: (member, started) => {
        if (started !== undefined) member.session.send({ type: 'meeting-clock', elapsedMs: Math.max(0, Date.now() - started) });
      },
    });
  }

  /** When the meeting started, as every instance of the room tells it (this Room's start until one is stored). */
  startOf(room: Room): number {
    return this.items.get<number>(room, STARTED) ?? room.startedAt;
  }

  /** After a join (the room's items read): the elapsed time, and the start stored if none is yet. */
  afterJoin(session: Session): void {
    const room = session.member?.room;
    if (!room) return;
    if (this.items.get<number>(room, STARTED) === undefined) void this.items.change<number>(room, STARTED, (old) => old ?? room.startedAt);
    session.send({ type: 'meeting-clock', elapsedMs: Math.max(0, Date.now() - this.startOf(room)) });
  }
}
