// How long the meeting has run (the header's timer, as Jitsi Meet's): the server says the time elapsed when we
// join (`meeting-clock`); the page counts on from its own clock. A new room (a breakout room) starts unknown.
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { perConference } from './per-conference.ts';

export interface MeetingClockState {
  /** The meeting's start on this page's clock (Date.now() ms), or null until the server said. */
  startedAt: number | null;
}

export class MeetingClockStore extends Store<MeetingClockState> {
  readonly dispose: () => void;

  constructor(conference: Conference, now: () => number = Date.now) {
    super({ startedAt: null });
    this.dispose = conference.onMessage((m) => {
      if (m.type === 'joined') this.update({ startedAt: null });
      else if (m.type === 'meeting-clock') this.update({ startedAt: now() - m.elapsedMs });
    });
  }
}

/** "m:ss" under an hour, "h:mm:ss" from then on (as Jitsi's timer). */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export const meetingClockFor = perConference((conference) => new MeetingClockStore(conference));
