// Follow me in the page: who the room follows (the server's `follow-me`, a joiner's included), the leader's layout
// applied to this page's view (tile or speaker view, the pinned tile), and, on the leader's own page, its layout
// sent at each change. A follower may still change its view; the leader's next change applies again. When follow
// me ends, the page keeps the layout it has.
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import type { FollowMeLayout } from '../../protocol/follow-me-messages.ts';
import { perConference } from './per-conference.ts';
import { viewFor, type ViewStore } from './view-store.ts';

export interface FollowMeState {
  /** The participant everyone follows (null: nobody). */
  leader: string | null;
  /**
   * The leader's name as last seen in the room (null: not seen yet): kept while the leader is away for a moment (a
   * dropped connection's grace), when follow me goes on.
   */
  leaderName: string | null;
}

export class FollowMeStore extends Store<FollowMeState> {
  readonly #conference: Conference;
  readonly #view: ViewStore;
  readonly dispose: () => void;
  /** The layout this page last sent as the leader (null: none yet since it leads). */
  #sent: FollowMeLayout | null = null;
  /** The leader's layout last applied here (a repeat of it, such as a joiner's copy, does not undo our own choice). */
  #applied: FollowMeLayout | null = null;

  constructor(conference: Conference, view: ViewStore = viewFor(conference)) {
    super({ leader: null, leaderName: null });
    this.#conference = conference;
    this.#view = view;
    const offMessages = conference.onMessage((m) => {
      // a joiner (a breakout room's too) is told follow me only when it is on
      if (m.type === 'joined') this.#lead(null);
      else if (m.type === 'follow-me') {
        this.#lead(m.leader ?? null);
        if (m.leader !== undefined && m.layout && !this.leading) this.#apply(m.layout);
      }
    });
    const offView = view.subscribe(() => this.#sendLayout());
    const offPeople = conference.subscribe(() => this.#seeLeader());
    this.dispose = () => {
      offMessages();
      offView();
      offPeople();
      view.following = false;
      view.followedPin = null;
    };
  }

  /** Whether this page is the one followed. */
  get leading(): boolean {
    return this.state.leader !== null && this.state.leader === this.#conference.state.selfId;
  }

  /** Moderators: everyone follows me (true, from the layout shown here), or nobody follows anyone (false). */
  setEnabled(enabled: boolean): void {
    this.#conference.sendMessage(enabled ? { type: 'set-follow-me', enabled, layout: this.#layout() } : { type: 'set-follow-me', enabled });
  }

  #layout(): FollowMeLayout {
    const { view, pinned } = this.#view.state;
    return { view, pinned };
  }

  #lead(leader: string | null): void {
    if (leader !== this.state.leader) {
      this.#sent = null;
      this.#applied = null;
      this.#view.followedPin = null;
      this.update({ leader, leaderName: null });
      this.#seeLeader();
    }
    this.#view.following = leader !== null && !this.leading;
    this.#sendLayout();
  }

  /** The leader's name, when the room shows the leader now. */
  #seeLeader(): void {
    const { leader, leaderName } = this.state;
    if (leader === null) return;
    const name = this.#conference.state.participants.find((p) => p.id === leader)?.displayName;
    if (name !== undefined && name !== leaderName) this.update({ leaderName: name });
  }

  #apply(layout: FollowMeLayout): void {
    const last = this.#applied;
    if (last !== null && last.view === layout.view && last.pinned === layout.pinned) return;
    this.#applied = layout;
    const v = this.#view;
    v.followedPin = layout.pinned;
    // the pin first (pinning shows speaker view), then the view: tile view may keep a pin for speaker view
    if (v.state.pinned !== layout.pinned) v.pin(layout.pinned);
    if (v.state.view !== layout.view) v.setView(layout.view);
  }

  /** The leader's page: its layout to the server when it differs from what was sent. */
  #sendLayout(): void {
    if (!this.leading) return;
    const layout = this.#layout();
    if (this.#sent !== null && this.#sent.view === layout.view && this.#sent.pinned === layout.pinned) return;
    this.#sent = layout;
    this.#conference.sendMessage({ type: 'follow-me-layout', layout });
  }
}

/** Follow me of a conference (created on first use; lives as long as the conference). */
export const followMeFor = perConference((conference) => new FollowMeStore(conference));
