// Short-lived things everyone sees: notices (someone joined, left, raised a hand, started sharing, the
// recording or live stream started or stopped, a live stream on air or interrupted, a phone invitation answered or not) and reactions. Derived from the server's messages; each disappears after a few seconds.
import type { Reaction } from '../../protocol/meeting-messages.ts';
import type { DialOutFailure } from '../../protocol/dial-out-messages.ts';
import type { Participant } from '../../protocol/signal-messages.ts';
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { perConference } from './per-conference.ts';

type NewNotice =
  | { kind: 'joined' | 'left' | 'hand' | 'sharing' | 'recording-started' | 'recording-stopped' | 'moderator' | 'hand-lowered'; name: string }
  | { kind: 'you-moderator' }
  | { kind: 'live-started' | 'live-stopped'; name: string }
  | { kind: 'recording-failed' | 'recording-disk-full' | 'recording-continued' | 'live-failed' | 'live-connected' | 'live-connect-failed' | 'live-interrupted' | 'live-resumed' }
  | { kind: 'reaction'; name: string; reaction: Reaction }
  | { kind: 'phone-answered'; target: string }
  | { kind: 'phone-failed'; target: string; reason: DialOutFailure };
export type Notice = NewNotice & { id: number };

export interface NotificationsState {
  notices: readonly Notice[];
}

const NOTICE_MS = 6000;
const REACTION_MS = 4000;
const MAX_VISIBLE = 6;

export class NotificationsStore extends Store<NotificationsState> {
  readonly dispose: () => void;
  #nextId = 1;
  #known = new Map<string, Participant>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Our own role as last told (a change to moderator is news; the role we join with is not). */
  #selfModerator = false;

  constructor(conference: Conference) {
    super({ notices: [] });
    const unsubscribe = conference.onMessage((m) => {
      switch (m.type) {
        case 'joined':
          for (const p of m.participants) this.#known.set(p.id, p);
          this.#selfModerator = m.role === 'moderator';
          break;
        case 'participant-joined':
          this.#known.set(m.participant.id, m.participant);
          this.#add({ kind: 'joined', name: m.participant.displayName });
          break;
        case 'participant-left': {
          const p = this.#known.get(m.id);
          this.#known.delete(m.id);
          if (p) this.#add({ kind: 'left', name: p.displayName });
          break;
        }
        case 'participant-updated': {
          const before = this.#known.get(m.participant.id);
          const p = m.participant;
          this.#known.set(p.id, p);
          // made a moderator (by a moderator, or as the longest here when the last one left)
          if (p.id === conference.state.selfId) {
            if (p.role === 'moderator' && !this.#selfModerator) this.#add({ kind: 'you-moderator' });
            this.#selfModerator = p.role === 'moderator';
            break;
          }
          if (before !== undefined && before.role !== 'moderator' && p.role === 'moderator') this.#add({ kind: 'moderator', name: p.displayName });
          if (p.handRaisedAt !== undefined && before?.handRaisedAt === undefined) this.#add({ kind: 'hand', name: p.displayName });
          if (p.screenSharing && !before?.screenSharing) this.#add({ kind: 'sharing', name: p.displayName });
          break;
        }
        case 'recording':
          // a joiner is told the state as it is (the indicator shows it), not as news
          if (m.current) break;
          if (m.continued) this.#add({ kind: 'recording-continued' });
          else if (m.active) this.#add({ kind: 'recording-started', name: m.by ?? '' });
          else if (m.reason === 'failed') this.#add({ kind: 'recording-failed' });
          else if (m.reason === 'disk-full') this.#add({ kind: 'recording-disk-full' });
          else this.#add({ kind: 'recording-stopped', name: m.by ?? '' });
          break;
        case 'live-stream':
          if (m.current) break;
          // started, then on air once the streaming server takes it; a failure before that is no interruption
          if (m.change === 'connected') this.#add({ kind: 'live-connected' });
          else if (m.change === 'interrupted') this.#add({ kind: m.connecting ? 'live-connect-failed' : 'live-interrupted' });
          else if (m.change === 'resumed') this.#add({ kind: 'live-resumed' });
          else if (m.active) this.#add({ kind: 'live-started', name: m.by ?? '' });
          else if (m.reason === 'failed') this.#add({ kind: 'live-failed' });
          else this.#add({ kind: 'live-stopped', name: m.by ?? '' });
          break;
        case 'phone-invite':
          // to the moderator who called: how the call ended
          if (m.state === 'answered') this.#add({ kind: 'phone-answered', target: m.target });
          else if (m.state === 'failed') this.#add({ kind: 'phone-failed', target: m.target, reason: m.reason ?? 'failed' });
          break;
        case 'hand-lowered':
          // the page lowers it (access-client.ts); we are told who did
          if (conference.state.self?.handRaisedAt !== undefined) this.#add({ kind: 'hand-lowered', name: m.by });
          break;
        case 'reaction': {
          const name = m.from === conference.state.selfId ? conference.displayName : (this.#known.get(m.from)?.displayName ?? '');
          this.#add({ kind: 'reaction', name, reaction: m.reaction });
          break;
        }
      }
    });
    this.dispose = () => {
      unsubscribe();
      for (const t of this.#timers) clearTimeout(t);
      this.#timers.clear();
    };
  }

  #add(n: NewNotice): void {
    const notice: Notice = { ...n, id: this.#nextId++ };
    this.update({ notices: [...this.state.notices, notice].slice(-MAX_VISIBLE) });
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        this.update({ notices: this.state.notices.filter((x) => x.id !== notice.id) });
      },
      notice.kind === 'reaction' ? REACTION_MS : NOTICE_MS,
    );
    this.#timers.add(timer);
  }
}

/** The notices of a conference (created on first use; lives as long as the conference). */
export const notificationsFor = perConference((conference) => new NotificationsStore(conference));
