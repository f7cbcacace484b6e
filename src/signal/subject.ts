// The meeting's subject on the signalling server: set by a moderator (anyone else is refused with
// `not-moderator`), cleaned like a display name by the protocol (meeting-messages.ts), '' clears it. Told to
// everyone when it changes and to each joiner while set. It is a shared room item (shared-room-items.ts): every
// signal instance of the room sees it, and it outlives each of them (forgotten when the meeting ends).
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { MAX_SUBJECT } from '../protocol/meeting-messages.ts';
import type { Member, Room, Session } from './rooms.ts';
import type { SharedRoomItems } from './shared-room-items.ts';
import { TokenBucket } from './token-bucket.ts';
import { moderatorOnly } from './moderator-only.ts';

const SUBJECT = 'subject';

export class MeetingSubjects {
  private readonly items: SharedRoomItems;
  private readonly changes = new WeakMap<Member, TokenBucket>();
  private readonly log: Logger;

  constructor(log: Logger, items: SharedRoomItems) {
    this.log = log;
    this.items = items;
    items.define<string>({
      name: SUBJECT,
      schema: z.string().min(1).max(MAX_SUBJECT),
      tell: (member, subject) => member.session.send({ type: 'subject', subject: subject ?? '' }),
    });
  }

  /** The room's subject ('' when none). */
  of(room: Room): string {
    return this.items.get<string>(room, SUBJECT) ?? '';
  }

  afterJoin(session: Session): void {
    const subject = session.member && this.of(session.member.room);
    if (subject) session.send({ type: 'subject', subject });
  }

  set(member: Member, subject: string): void {
    if (!moderatorOnly(this.log, member, 'set-subject')) return;
    let bucket = this.changes.get(member);
    if (!bucket) this.changes.set(member, (bucket = new TokenBucket(5, 0.5)));
    if (!bucket.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many subject changes; wait a moment' });
      return;
    }
    const room = member.room;
    if (subject === this.of(room)) return;
    void this.items.change<string>(room, SUBJECT, () => subject || undefined);
    this.log.info({ room: room.key, participant: member.id, cleared: subject === '' }, 'subject changed');
    for (const m of room.members.values()) m.session.send({ type: 'subject', subject, by: member.displayName });
  }
}
