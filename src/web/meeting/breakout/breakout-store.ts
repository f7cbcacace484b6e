// The meeting's breakout rooms as this browser knows them (the server's `breakout-rooms`), and the actions on
// them: a moderator's (add, rename, close, remove, move, auto assign, let participants choose) and everyone's
// (join, leave). While in a breakout room the tab keeps the server's ticket in sessionStorage, so a reloaded page
// (or a new connection) goes back into its breakout room: `breakout-return` after each `joined`. The server
// forgets a ticket once its holder moved or its room closed, so after a move the stale one is simply ignored.
import type { BreakoutRoom, BreakoutServerMessage } from '../../../protocol/breakout-messages.ts';
import type { Conference } from '../../media/conference.ts';
import { Store } from '../../media/store.ts';
import { perConference } from '../per-conference.ts';

type Person = BreakoutServerMessage['mainParticipants'][number];

export interface BreakoutState {
  rooms: readonly BreakoutRoom[];
  mainParticipants: readonly Person[];
  participantsCanChoose: boolean;
  /** The breakout room we are in (null: the main room). */
  current: string | null;
}

const ticketKey = (room: string) => `tertulia-breakout-ticket:${room.toLowerCase()}`;

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage blocked (a framed app with third-party storage off)
  }
}

export class BreakoutStore extends Store<BreakoutState> {
  readonly #conference: Conference;
  readonly dispose: () => void;

  constructor(conference: Conference) {
    super({ rooms: [], mainParticipants: [], participantsCanChoose: false, current: null });
    this.#conference = conference;
    if (conference.state.status === 'joined') this.#returnByTicket();
    this.dispose = conference.onMessage((m) => {
      if (m.type === 'joined') {
        this.#returnByTicket();
      } else if (m.type === 'breakout-rooms') {
        this.update({ rooms: m.rooms, mainParticipants: m.mainParticipants, participantsCanChoose: m.participantsCanChoose, current: m.current });
        const s = storage();
        if (m.ticket) s?.setItem(ticketKey(conference.room), m.ticket);
        else if (m.current === null) s?.removeItem(ticketKey(conference.room));
      }
    });
  }

  /** After a reload or a new connection (in the main room): back to the breakout room this tab was in. */
  #returnByTicket(): void {
    const ticket = storage()?.getItem(ticketKey(this.#conference.room));
    if (ticket) this.#conference.sendMessage({ type: 'breakout-return', ticket });
  }

  /** The breakout room we are in, if any. */
  get currentRoom(): BreakoutRoom | undefined {
    return this.state.rooms.find((r) => r.id === this.state.current);
  }

  add(name: string): void {
    this.#conference.sendMessage({ type: 'breakout-add', name });
  }

  rename(roomId: string, name: string): void {
    this.#conference.sendMessage({ type: 'breakout-rename', roomId, name });
  }

  close(roomId: string): void {
    this.#conference.sendMessage({ type: 'breakout-close', roomId });
  }

  remove(roomId: string): void {
    this.#conference.sendMessage({ type: 'breakout-remove', roomId });
  }

  closeAll(): void {
    this.#conference.sendMessage({ type: 'breakout-close-all' });
  }

  /** Moves a participant into a breakout room, or to the main room (null). */
  move(participantId: string, roomId: string | null): void {
    this.#conference.sendMessage({ type: 'breakout-move', participantId, roomId });
  }

  autoAssign(): void {
    this.#conference.sendMessage({ type: 'breakout-auto-assign' });
  }

  allowChoice(allowed: boolean): void {
    this.#conference.sendMessage({ type: 'breakout-allow-choice', allowed });
  }

  join(roomId: string): void {
    this.#conference.sendMessage({ type: 'breakout-join', roomId });
  }

  leave(): void {
    this.#conference.sendMessage({ type: 'breakout-leave' });
  }
}

/** The breakout rooms of a conference (created on first use; lives as long as the conference). */
export const breakoutsFor = perConference((conference) => new BreakoutStore(conference));
