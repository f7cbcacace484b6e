// The check every moderator action starts with: a member who is not a moderator is refused with `not-moderator`
// (the attempt logged as a warning, with the room, the participant and the action).
import type { Logger } from '../log.ts';
import type { Member } from './room-types.ts';

/** True when `member` is a moderator; otherwise refuses `action` to them and returns false. */
export function moderatorOnly(log: Logger, member: Member, action: string, message = `only a moderator may do "${action}"`): boolean {
  if (member.role === 'moderator') return true;
  log.warn({ room: member.room.key, participant: member.id, action }, 'moderator action refused: not a moderator');
  member.session.send({ type: 'error', code: 'not-moderator', message });
  return false;
}
