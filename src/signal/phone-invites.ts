// "Invite by phone" on signal's side (issue 15): a moderator's request becomes a `sip.dial` on the bus to the sip
// part, which calls the number through the SIP trunk; the moderator is told `calling` at once, then `answered`
// or `failed` with the plain reason (busy, no answer, not found ...). A moderator of the room may give up on a
// call still ringing (`sip.dial-cancel`). Calls may cost money: a moderator must have signed in or brought a
// token unless sipDialOutAnonymous says otherwise. Capped per room; no sip part or no trunk is a clear error.
import { randomBytes } from 'node:crypto';
import { BusNoHandlerError, BusTimeoutError, type Bus } from '../bus/bus.ts';
import { callBus, failedWith } from '../bus/typed-calls.ts';
import type { Logger } from '../log.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import type { Member } from './rooms.ts';

/** Phone invitations ringing at once in one room. */
export const MAX_PHONE_INVITES_PER_ROOM = 5;
/** How long signal waits for the sip part's outcome (it gives up ringing after a minute). */
const DIAL_TIMEOUT_MS = 150_000;

interface PendingInvite {
  roomKey: string;
}

export class PhoneInvites {
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly pending = new Map<string, PendingInvite>();
  private readonly allowAnonymous: boolean;

  constructor(bus: Bus, log: Logger, allowAnonymous: boolean) {
    this.bus = bus;
    this.log = log;
    this.allowAnonymous = allowAnonymous;
  }

  /** Whether `member`, once a moderator, may invite by phone: it signed in or brought a token, or anyone may. */
  mayInvite(member: Member): boolean {
    return member.authenticated || this.allowAnonymous;
  }

  /** A moderator (checked by the caller) asks to call `target` (already validated) into their room. */
  invite(actor: Member, target: string): void {
    const room = actor.room;
    const session = actor.session;
    if (!this.mayInvite(actor)) {
      session.send({ type: 'error', code: 'dial-out-sign-in', message: 'inviting by phone needs a moderator who signed in (or joined with a token)' });
      return;
    }
    if ([...this.pending.values()].filter((p) => p.roomKey === room.key).length >= MAX_PHONE_INVITES_PER_ROOM) {
      session.send({ type: 'error', code: 'dial-out-limit', message: `at most ${MAX_PHONE_INVITES_PER_ROOM} phone invitations may ring at once` });
      return;
    }
    const id = `dial-${randomBytes(8).toString('hex')}`;
    this.pending.set(id, { roomKey: room.key });
    session.send({ type: 'phone-invite', id, target, state: 'calling' });
    callBus(this.bus, busCalls.sipDial, '', { dialId: id, room: room.name, target, by: actor.displayName }, DIAL_TIMEOUT_MS)
      .then(
        (rep) => session.send({ type: 'phone-invite', id, target, state: rep.answered ? 'answered' : 'failed', ...(rep.reason ? { reason: rep.reason } : {}) }),
        (e: unknown) => {
          if (e instanceof BusNoHandlerError || failedWith(busCalls.sipDial, e, 'unavailable')) {
            session.send({ type: 'error', code: 'dial-out-unavailable', message: 'calling phones is not set up on this server' });
          } else if (failedWith(busCalls.sipDial, e, 'limit')) {
            session.send({ type: 'error', code: 'dial-out-limit', message: 'the phone gateway is calling as many numbers as it may; try again shortly' });
          } else if (!(e instanceof BusTimeoutError)) {
            this.log.error({ room: room.key, err: (e as Error).message }, 'dial-out request failed');
          }
          session.send({ type: 'phone-invite', id, target, state: 'failed', reason: e instanceof BusTimeoutError ? 'no-answer' : 'failed' });
        },
      )
      .finally(() => this.pending.delete(id));
  }

  /** A moderator gives up on a call of their room still ringing. */
  cancel(actor: Member, id: string): void {
    if (this.pending.get(id)?.roomKey !== actor.room.key) {
      actor.session.send({ type: 'error', code: 'not-found', message: 'that phone invitation is not ringing' });
      return;
    }
    callBus(this.bus, busCalls.sipDialCancel, '', { dialId: id }).catch(() => {}); // answered or ended meanwhile: its outcome says so
  }
}
