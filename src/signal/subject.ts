// The meeting's subject on the signalling server: set by a moderator (anyone else is refused with
// `not-moderator`), cleaned like a display name by the protocol (meeting-messages.ts), '' clears it. Told to
// everyone when it changes and to each joiner while set; it lives as long as the Room object.
import type { Logger } from '../log.ts';
import type { Member, Room, Session } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';

export class MeetingSubjects {
  private readonly subjects = new WeakMap<Room, string>();
  private readonly changes = new WeakMap<Member, TokenBucket>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** The room's subject ('' when none). */
  of(room: Room): string {
    return this.subjects.get(room) ?? '';
  }

  afterJoin(session: Session): void {
    const subject = session.member && this.of(session.member.room);
    if (subject) session.send({ type: 'subject', subject });
  }

  set(member: Member, subject: string): void {
    if (member.role !== 'moderator') {
      this.log.warn({ room: member.room.key, participant: member.id, action: 'set-subject' }, 'moderator action refused: not a moderator');
      member.session.send({ type: 'error', code: 'not-moderator', message: 'only a moderator may do "set-subject"' });
      return;
    }
    let bucket = this.changes.get(member);
    if (!bucket) this.changes.set(member, (bucket = new TokenBucket(5, 0.5)));
    if (!bucket.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many subject changes; wait a moment' });
      return;
    }
    const room = member.room;
    if (subject === this.of(room)) return;
    if (subject) this.subjects.set(room, subject);
    else this.subjects.delete(room);
    this.log.info({ room: room.key, participant: member.id, cleared: subject === '' }, 'subject changed');
    for (const m of room.members.values()) m.session.send({ type: 'subject', subject, by: member.displayName });
  }
}
