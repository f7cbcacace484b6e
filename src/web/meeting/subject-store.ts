// The meeting's subject: what a moderator set (the server's `subject` messages, a joiner's included) and the
// IFrame API's `localSubject`, shown instead in this browser only (as Jitsi's). Moderators change the subject
// here; the server refuses anyone else.
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { perConference } from './per-conference.ts';

export interface SubjectState {
  /** The meeting's subject ('' when none). */
  subject: string;
  /** Shown instead in this browser only, when set ('' when not). */
  localSubject: string;
}

export class SubjectStore extends Store<SubjectState> {
  readonly #conference: Conference;
  readonly dispose: () => void;

  constructor(conference: Conference) {
    super({ subject: '', localSubject: '' });
    this.#conference = conference;
    this.dispose = conference.onMessage((m) => {
      if (m.type === 'joined') this.update({ subject: '' }); // a joiner is told the subject only when there is one
      else if (m.type === 'subject') this.update({ subject: m.subject });
    });
  }

  /** What this browser shows. */
  get shown(): string {
    return this.state.localSubject || this.state.subject;
  }

  /** Moderators: the subject for everyone ('' clears it). */
  set(subject: string): void {
    this.#conference.sendMessage({ type: 'set-subject', subject: subject.trim() });
  }

  setLocal(subject: string): void {
    this.update({ localSubject: subject.trim() });
  }
}

/** The subject of a conference (created on first use; lives as long as the conference). */
export const subjectFor = perConference((conference) => new SubjectStore(conference));
