// End-to-end encryption on the signalling server: the room's on/off setting and the relay of the browsers' key
// agreement (protocol/e2ee-messages.ts). The server never holds a key: it relays `data` unread, only between two
// members of the same room, capped in size (the schema) and rate (a token bucket per member).
// A moderator turns E2EE on or off. Turning it on is refused while something that cannot decrypt takes the
// room's media (a recording or live stream, a phone caller) and in rooms above MAX_E2EE_PARTICIPANTS; while it
// is on, recording, live streaming and phone callers (dial-in and dial-out) are refused (`e2eeEnabled`).
// The setting is a shared room item (shared-room-items.ts), as the subject: every signal instance of the room
// sees it (the relay reaches members on other instances through their stand-ins), and it is forgotten with the
// meeting. `states` is its synchronous view here, refreshed by the item's `loaded` hook.
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { MAX_E2EE_PARTICIPANTS, type E2eeClientMessage } from '../protocol/e2ee-messages.ts';
import type { Member, Room, Session } from './rooms.ts';
import type { SharedRoomItems } from './shared-room-items.ts';
import { TokenBucket } from './token-bucket.ts';
import { moderatorOnly } from './moderator-only.ts';

const E2EE_ITEM = 'encryption';
const e2eeItemSchema = z.object({ enabled: z.boolean(), by: z.string().max(200).optional() }).strict();

/**
 * Relayed messages one member may send at once, and per second after (browsers pace theirs below it: a join in a
 * full room is a hello and a key to each of MAX_E2EE_PARTICIPANTS - 1 peers). Under the socket's own message cap.
 */
export const RELAY_BURST = 30;
export const RELAY_PER_SECOND = 20;

interface RoomE2ee {
  enabled: boolean;
  by?: string;
}

const states = new WeakMap<Room, RoomE2ee>();

/** Whether end-to-end encryption is on in `room` (recording, live streaming and phone callers are refused then). */
export function e2eeEnabled(room: Room | undefined): boolean {
  return room !== undefined && stateOf(room)?.enabled === true;
}

/** A breakout room follows its meeting's main room (the setting is the meeting's). */
function stateOf(room: Room): RoomE2ee | undefined {
  return states.get(room.breakout?.main ?? room);
}

/** Why what cannot decrypt is refused while E2EE is on (the `e2ee-on` error's text). */
export function e2eeRefusal(what: string): string {
  return `${what} is not possible while the meeting is end-to-end encrypted: the server cannot decrypt its media`;
}

export class E2ee {
  private readonly log: Logger;
  private readonly buckets = new WeakMap<Member, TokenBucket>();
  /** What in the room takes its media without decrypting it (a recording, a live stream): a reason, or undefined. */
  plainConsumers: (room: Room) => string | undefined = () => undefined;
  /** The room's setting changed, here or on another instance (peer-to-peer for two stays off while it is on). */
  onChanged: (room: Room) => void = () => {};
  /** The rooms of the meeting whose main room is `main`: it and its breakout rooms here (they follow its setting). */
  meetingRooms: (main: Room) => Room[] = (main) => [main];

  private readonly items: SharedRoomItems;

  constructor(log: Logger, items: SharedRoomItems) {
    this.log = log;
    this.items = items;
    items.define<RoomE2ee>({
      name: E2EE_ITEM,
      schema: e2eeItemSchema,
      // another instance's change (its members here were told through their stand-ins there), or a room made here
      loaded: (room, value) => {
        states.set(room, value ?? { enabled: false });
        this.onChanged(room);
      },
      tell: (member) => this.afterJoin(member.session),
    });
  }

  handle(member: Member, msg: E2eeClientMessage): void {
    if (msg.type === 'e2ee-relay') this.relay(member, msg.to, msg.data);
    else this.set(member, msg.enabled);
  }

  /** After a join or a move: the room's setting. */
  afterJoin(session: Session): void {
    const room = session.member?.room;
    if (!room) return;
    const s = stateOf(room);
    session.send({ type: 'e2ee-state', enabled: s?.enabled === true, ...(s?.by ? { by: s.by } : {}) });
  }

  private set(member: Member, enabled: boolean): void {
    const room = member.room;
    const session = member.session;
    if (!moderatorOnly(this.log, member, 'set-e2ee', 'only a moderator may turn end-to-end encryption on or off')) return;
    if (room.breakout) {
      session.send({ type: 'error', code: 'not-allowed', message: 'end-to-end encryption is turned on or off in the main room (breakout rooms follow it)' });
      return;
    }
    const s = states.get(room) ?? { enabled: false };
    if (s.enabled === enabled) {
      this.afterJoin(session);
      return;
    }
    if (enabled) {
      const refused = this.refusal(room);
      if (refused) {
        this.log.info({ room: room.key, participant: member.id }, `end-to-end encryption refused: ${refused.message}`);
        session.send({ type: 'error', ...refused });
        this.afterJoin(session);
        return;
      }
    }
    const next: RoomE2ee = { enabled, by: member.displayName };
    states.set(room, next);
    void this.items.change<RoomE2ee>(room, E2EE_ITEM, () => next);
    this.onChanged(room);
    this.log.info({ room: room.key, participant: member.id, enabled }, 'end-to-end encryption changed');
    // everyone of the meeting, in its breakout rooms too: a breakout room follows the main room's setting
    for (const m of this.meetingMembers(room)) m.session.send({ type: 'e2ee-state', enabled, by: member.displayName });
  }

  /** The members of the meeting of main room `room`, in it and in its breakout rooms here. */
  private meetingMembers(room: Room): Member[] {
    return this.meetingRooms(room).flatMap((r) => [...r.members.values()]);
  }

  private refusal(room: Room): { code: 'e2ee-refused' | 'e2ee-too-many'; message: string } | undefined {
    const members = this.meetingMembers(room);
    if (members.length > MAX_E2EE_PARTICIPANTS) {
      return { code: 'e2ee-too-many', message: `end-to-end encryption is for meetings of at most ${MAX_E2EE_PARTICIPANTS} participants` };
    }
    // a browser on receive slots cannot tell whose frames a slot carries from its SDP (the key of each sender)
    if (members.some((m) => m.session.receiveSlots === true)) {
      return { code: 'e2ee-refused', message: 'someone in the meeting joined it when it was big and receives on slots: end-to-end encryption needs everyone to rejoin' };
    }
    const phone = members.find((m) => m.phone);
    if (phone) return { code: 'e2ee-refused', message: 'a phone caller is in the meeting: phones cannot decrypt end-to-end encrypted media' };
    const busy = this.plainConsumers(room);
    if (busy) return { code: 'e2ee-refused', message: `${busy}: stop it before turning on end-to-end encryption` };
    return undefined;
  }

  private relay(member: Member, to: string, data: string): void {
    const target = member.room.members.get(to);
    if (!target || target === member) {
      member.session.send({ type: 'error', code: 'no-such-participant', message: 'that participant is not in this meeting' });
      return;
    }
    // no key exchange while it is off (not a private channel around chat); a relay sent as it was turned off is dropped
    if (!e2eeEnabled(member.room)) {
      this.log.debug({ room: member.room.key, participant: member.id }, 'e2ee-relay dropped: end-to-end encryption is off');
      return;
    }
    let bucket = this.buckets.get(member);
    if (!bucket) {
      bucket = new TokenBucket(RELAY_BURST, RELAY_PER_SECOND);
      this.buckets.set(member, bucket);
    }
    if (!bucket.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many encryption key messages; slow down' });
      return;
    }
    target.session.send({ type: 'e2ee-relay', from: member.id, data });
  }
}
