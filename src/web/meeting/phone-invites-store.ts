// A moderator's phone invitations ("Invite by phone"): each call as the server reports it (calling, then
// answered or failed with why). An answered or failed call stays listed a few seconds, then goes; a failure is
// also a notice (notifications.ts). The server checks the role and the number again.
import type { DialOutFailure } from '../../protocol/dial-out-messages.ts';
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { perConference } from './per-conference.ts';

export interface PhoneInvite {
  id: string;
  target: string;
  state: 'calling' | 'answered' | 'failed';
  reason?: DialOutFailure;
}

export interface PhoneInvitesState {
  invites: readonly PhoneInvite[];
}

const SHOWN_AFTER_END_MS = 8000;

export class PhoneInvitesStore extends Store<PhoneInvitesState> {
  readonly #conference: Conference;
  readonly dispose: () => void;
  #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(conference: Conference) {
    super({ invites: [] });
    this.#conference = conference;
    const off = conference.onMessage((m) => {
      if (m.type !== 'phone-invite') return;
      const invite: PhoneInvite = { id: m.id, target: m.target, state: m.state, ...(m.reason ? { reason: m.reason } : {}) };
      const others = this.state.invites.filter((i) => i.id !== m.id);
      this.update({ invites: [...others, invite] });
      if (m.state === 'calling') return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.update({ invites: this.state.invites.filter((i) => i.id !== m.id) });
      }, SHOWN_AFTER_END_MS);
      this.#timers.add(timer);
    });
    this.dispose = () => {
      off();
      for (const t of this.#timers) clearTimeout(t);
    };
  }

  invite(target: string): void {
    this.#conference.sendMessage({ type: 'invite-by-phone', target });
  }

  cancel(id: string): void {
    this.#conference.sendMessage({ type: 'cancel-phone-invite', id });
  }
}

export const phoneInvitesFor = perConference((conference) => new PhoneInvitesStore(conference));
