// The meeting's polls as this browser knows them: every poll of the room (from the join state, then each
// change), our answers and the polls we created, whether the polls pane is open and how many polls arrived
// unseen. This tab's poll key, answers and created polls are kept in sessionStorage, so a reloaded page is the
// same voter (the server counts one answer per key) and still knows its answers.
import type { Poll } from '../../protocol/poll-messages.ts';
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { perConference } from './per-conference.ts';

const STORAGE_KEY = 'tertulia.polls';

export interface PollsState {
  polls: readonly Poll[];
  /** Our option per poll id. */
  answers: Readonly<Record<string, number>>;
  /** Ids of the polls we created. */
  mine: readonly string[];
  open: boolean;
  /** Polls that arrived while the pane was closed (or open ones we have not answered, after joining). */
  unseen: number;
}

interface Kept {
  key: string;
  answers: Record<string, number>;
  mine: string[];
}

function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function load(): Kept {
  try {
    const kept = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Kept | null;
    if (kept && typeof kept.key === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(kept.key) && kept.answers && Array.isArray(kept.mine)) return kept;
  } catch {
    // no storage (private mode) or a bad entry: a new key
  }
  return { key: newKey(), answers: {}, mine: [] };
}

export class PollsStore extends Store<PollsState> {
  readonly #conference: Conference;
  readonly #key: string;
  readonly dispose: () => void;

  constructor(conference: Conference) {
    const kept = load();
    super({ polls: [], answers: kept.answers, mine: kept.mine, open: false, unseen: 0 });
    this.#conference = conference;
    this.#key = kept.key;
    this.dispose = conference.onMessage((m) => {
      if (m.type === 'polls') {
        const ids = new Set(m.polls.map((p) => p.id));
        // what this tab remembers of polls that are gone (another meeting, a room emptied) is dropped
        const answers = Object.fromEntries(Object.entries(this.state.answers).filter(([id]) => ids.has(id)));
        const mine = this.state.mine.filter((id) => ids.has(id));
        const unanswered = m.polls.filter((p) => !p.closed && answers[p.id] === undefined).length;
        this.#set({ polls: m.polls, answers, mine, unseen: this.state.open ? 0 : unanswered });
      } else if (m.type === 'poll') {
        const known = this.state.polls.some((p) => p.id === m.poll.id);
        const polls = known ? this.state.polls.map((p) => (p.id === m.poll.id ? m.poll : p)) : [...this.state.polls, m.poll];
        this.#set({
          polls,
          answers: m.answer === undefined ? this.state.answers : { ...this.state.answers, [m.poll.id]: m.answer },
          mine: m.mine ? [...this.state.mine, m.poll.id] : this.state.mine,
          unseen: !known && !m.mine && !this.state.open ? this.state.unseen + 1 : this.state.unseen,
        });
      }
    });
  }

  #set(patch: Partial<PollsState>): void {
    this.update(patch);
    try {
      const kept: Kept = { key: this.#key, answers: { ...this.state.answers }, mine: [...this.state.mine] };
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(kept));
    } catch {
      // not kept over a reload then
    }
  }

  setOpen(open: boolean): void {
    this.update({ open, unseen: open ? 0 : this.state.unseen });
  }

  toggle(): void {
    this.setOpen(!this.state.open);
  }

  create(question: string, options: readonly string[]): void {
    this.#conference.sendMessage({ type: 'create-poll', question: question.trim(), options: options.map((o) => o.trim()), key: this.#key });
  }

  answer(pollId: string, option: number): void {
    this.#conference.sendMessage({ type: 'answer-poll', pollId, option, key: this.#key });
  }

  close(pollId: string): void {
    this.#conference.sendMessage({ type: 'close-poll', pollId, key: this.#key });
  }
}

/** The polls of a conference (created on first use; lives as long as the conference). */
export const pollsFor = perConference((conference) => new PollsStore(conference));
