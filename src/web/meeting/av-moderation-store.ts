// The browser's side of audio/video moderation ("Ask to unmute"): which kinds a moderator moderates, whether we
// may turn each on, our own requests, and (moderators) everyone's requests. The server decides and enforces;
// this only shows its state and sends requests. Make it before the conference starts (RoomPage): the state comes
// right after `joined`.
import type { MediaKind } from '../../protocol/signal-messages.ts';
import type { UnmuteRequest } from '../../protocol/av-moderation-messages.ts';
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { perConference } from './per-conference.ts';
import { accessFor } from '../access/access-client.ts';

type KindFlags = Readonly<Record<MediaKind, boolean>>;

export interface AvModerationState {
  enabled: KindFlags;
  allowed: KindFlags;
  asked: KindFlags;
  /** Moderators: every waiting request. */
  requests: readonly UnmuteRequest[];
  /** A moderator just allowed us to turn this on (a notice until dismissed). */
  justAllowed: MediaKind | null;
}

const OFF: KindFlags = { audio: false, video: false };

export class AvModerationStore extends Store<AvModerationState> {
  readonly #conference: Conference;

  constructor(conference: Conference) {
    super({ enabled: OFF, allowed: { audio: true, video: true }, asked: OFF, requests: [], justAllowed: null });
    this.#conference = conference;
    conference.onMessage((m) => {
      if (m.type === 'av-moderation') {
        const before = this.state;
        const newly = (k: MediaKind) => m.enabled[k] && before.enabled[k] && !before.allowed[k] && m.allowed[k];
        const was = before.justAllowed;
        const kept = was !== null && m.enabled[was] && m.allowed[was] ? was : null;
        const justAllowed = newly('audio') ? 'audio' : newly('video') ? 'video' : kept;
        this.update({ enabled: m.enabled, allowed: m.allowed, asked: m.asked, justAllowed });
      } else if (m.type === 'unmute-requests') {
        this.update({ requests: m.requests });
      }
    });
  }

  /** Whether we may turn `kind` on ourselves now (else the server refuses it: ask instead). */
  mayTurnOn(kind: MediaKind): boolean {
    return !this.state.enabled[kind] || this.state.allowed[kind];
  }

  /**
   * The microphone or camera button (and its shortcut): toggles it, or, while it is off and moderated without our
   * permission, asks a moderator instead (as Jitsi Meet's unmute button does); while unmuting is turned off for
   * participants, the microphone says so instead.
   */
  toggle(kind: MediaKind): void {
    const c = this.#conference;
    const off = kind === 'audio' ? c.local.state.audioMuted : c.local.state.videoMuted;
    if (off && !this.mayTurnOn(kind)) {
      if (!this.state.asked[kind]) this.ask(kind);
      return;
    }
    // unmuting turned off for participants (a camera may go back on unless a moderator stopped it: the server says)
    const access = accessFor(c);
    if (off && kind === 'audio' && access.unmuteLocked) {
      access.refusedUnmute();
      return;
    }
    void (kind === 'audio' ? c.setAudioMuted(!off) : c.setVideoMuted(!off));
  }

  /** Moderators: moderate `kind` or stop moderating it. */
  setModerated(kind: MediaKind, enabled: boolean): void {
    this.#conference.sendMessage({ type: 'set-av-moderation', kind, enabled });
  }

  /** Ask a moderator to let us turn `kind` on (`raised` false: withdraw). */
  ask(kind: MediaKind, raised = true): void {
    this.#conference.sendMessage({ type: 'ask-to-unmute', kind, raised });
  }

  /** Moderators: `target` may turn `kind` on; without a target, everyone who asked. */
  allow(kind: MediaKind, target?: string): void {
    this.#conference.sendMessage(target === undefined ? { type: 'allow-unmute', kind } : { type: 'allow-unmute', kind, target });
  }

  dismissRequest(kind: MediaKind, target: string): void {
    this.#conference.sendMessage({ type: 'dismiss-unmute-request', kind, target });
  }

  dismissAllowed(): void {
    this.update({ justAllowed: null });
  }
}

export const avModerationFor = perConference((c) => new AvModerationStore(c));
