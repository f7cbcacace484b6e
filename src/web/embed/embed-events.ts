// The IFrame API's events with Jitsi's names and payloads, made by comparing the meeting's stores (conference,
// local media, access, chat, view) before and after each change, plus the chat messages as they arrive. One
// place: components do not call the embedding.
import type { Participant } from '../../protocol/signal-messages.ts';
import type { EmbedContext } from './embed-commands.ts';
import { availableDevices } from './embed-devices.ts';
import { subjectFor } from '../meeting/subject-store.ts';

export type Emit = (name: string, data?: Record<string, unknown>) => void;

/** What the last look at the stores saw. */
interface Seen {
  status: string;
  participants: ReadonlyMap<string, Participant>;
  self: Participant | null;
  audioMuted: boolean;
  videoMuted: boolean;
  sharing: boolean;
  dominant: string | null;
  tileView: boolean;
  paneOpen: boolean;
  chatOpen: boolean;
  unread: number;
  /** The room-password prompt (or the lobby's, when the room has a password), each answer a new object; null: none. */
  passwordGate: PasswordGate | null;
  knocks: ReadonlySet<string>;
  recording: boolean;
  streaming: boolean;
  error: { code: string; message: string } | null;
  ended: boolean;
  /** The subject shown (the meeting's, or the local one). */
  subject: string;
}

type PasswordGate = { kind: string; failed?: 'wrong-password' | 'rate-limited'; message?: string };

const role = (p: Participant) => p.role ?? 'participant';

export class EmbedEvents {
  readonly #c: EmbedContext;
  readonly #emit: Emit;
  #seen: Seen;
  readonly #unsubscribe: Array<() => void> = [];
  readonly #onDeviceChange = () => void availableDevices().then((devices) => this.#emit('deviceListChanged', { devices }), () => {});

  constructor(c: EmbedContext, emit: Emit) {
    this.#c = c;
    this.#emit = emit;
    this.#seen = this.#look();
    const check = () => this.#check();
    for (const store of [c.conference, c.conference.local, c.access, c.chat, c.view, subjectFor(c.conference)]) this.#unsubscribe.push(store.subscribe(check));
    this.#unsubscribe.push(
      c.conference.onMessage((m) => {
        if (m.type !== 'chat') return;
        const { message } = m;
        const privateMessage = message.to !== undefined;
        if (message.from === c.conference.state.selfId) this.#emit('outgoingMessage', { message: message.text, privateMessage });
        else this.#emit('incomingMessage', { from: message.from, nick: message.fromName, privateMessage, message: message.text, stamp: message.at });
      }),
    );
    navigator.mediaDevices?.addEventListener?.('devicechange', this.#onDeviceChange);
  }

  dispose(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.#onDeviceChange);
  }

  #look(): Seen {
    const { conference, access, chat, view } = this.#c;
    const s = conference.state;
    const a = access.state;
    return {
      status: s.status,
      participants: new Map(s.participants.map((p) => [p.id, p])),
      self: s.self,
      audioMuted: conference.local.state.audioMuted,
      videoMuted: conference.local.state.videoMuted,
      sharing: s.screenTrack !== null,
      dominant: s.dominantSpeakerId,
      tileView: view.state.view === 'tile',
      paneOpen: view.state.paneOpen,
      chatOpen: chat.state.open,
      unread: chat.state.unread,
      passwordGate: a.gate?.kind === 'password' || (a.gate?.kind === 'lobby' && a.gate.locked) ? a.gate : null,
      knocks: new Set(a.knocks.map((k) => k.id)),
      recording: a.recording !== null,
      streaming: a.liveStream !== null,
      error: s.error,
      ended: a.ended !== null,
      subject: subjectFor(conference).shown,
    };
  }

  #check(): void {
    const before = this.#seen;
    const now = this.#look();
    this.#seen = now;
    const emit = this.#emit;
    const c = this.#c;
    const selfId = c.conference.state.selfId;

    // as Jitsi: the prompt, and again after a wrong password; too many wrong ones is an error
    const gate = now.passwordGate;
    if (gate !== null && gate !== before.passwordGate) {
      if (gate.failed === 'rate-limited') emit('errorOccurred', { name: 'conference.passwordRateLimited', message: gate.message ?? 'too many wrong passwords', type: 'CONFERENCE', isFatal: false });
      else if ((gate.kind === 'password' && before.passwordGate?.kind !== 'password') || gate.failed === 'wrong-password') emit('passwordRequired');
    }
    if (now.status === 'joined' && before.status !== 'joined') this.#joined(now);
    else if (now.status === 'joined') this.#people(before, now);

    if (now.audioMuted !== before.audioMuted) emit('audioMuteStatusChanged', { muted: now.audioMuted });
    if (now.videoMuted !== before.videoMuted) emit('videoMuteStatusChanged', { muted: now.videoMuted });
    if (now.sharing !== before.sharing) emit('screenSharingStatusChanged', { on: now.sharing, details: now.sharing ? { sourceType: 'screen' } : {} });
    if (now.dominant !== before.dominant && now.dominant) emit('dominantSpeakerChanged', { id: now.dominant });
    if (now.tileView !== before.tileView) emit('tileViewChanged', { enabled: now.tileView });
    if (now.paneOpen !== before.paneOpen) emit('participantsPaneToggled', { open: now.paneOpen });
    if (now.chatOpen !== before.chatOpen || now.unread !== before.unread) emit('chatUpdated', { isOpen: now.chatOpen, unreadCount: now.unread });
    for (const k of c.access.state.knocks) if (!before.knocks.has(k.id)) emit('knockingParticipant', { participant: { id: k.id, name: k.displayName } });
    if (now.subject !== before.subject) emit('subjectChange', { subject: now.subject });
    if (now.recording !== before.recording) emit('recordingStatusChanged', { on: now.recording, mode: 'file', transcription: false });
    if (now.streaming !== before.streaming) emit('recordingStatusChanged', { on: now.streaming, mode: 'stream', transcription: false });
    if (now.error && now.error !== before.error) {
      const fatal = now.status === 'failed';
      emit('errorOccurred', { name: now.error.code, message: now.error.message, type: fatal ? 'CONNECTION' : 'OTHER', isFatal: fatal });
    }
    const ended = c.access.state.ended;
    if (ended?.kind === 'removed' && !before.ended) {
      // the server names the moderator, not their id: found among the participants when the name is theirs
      const kicker = [...before.participants.values()].find((p) => p.displayName === ended.by);
      emit('participantKickedOut', { kicked: { id: selfId, local: true }, kicker: { id: kicker?.id, name: ended.by } });
    }
    if (before.status === 'joined' && now.status !== 'joined' && now.status !== 'connecting') {
      if (now.status === 'lost') emit('errorOccurred', { name: 'connection.droppedError', message: 'the connection to the server was lost', type: 'CONNECTION', isFatal: true });
      emit('videoConferenceLeft', { roomName: c.conference.room });
      if (now.status === 'left') emit('readyToClose');
    }
  }

  /** videoConferenceJoined, then everyone already there as participantJoined (as Jitsi tells them). */
  #joined(now: Seen): void {
    const s = this.#c.conference.state;
    const self = now.self;
    if (!self) return;
    this.#emit('videoConferenceJoined', { roomName: this.#c.conference.room, id: self.id, displayName: self.displayName, avatarURL: '', breakoutRoom: false, visitor: false });
    if (role(self) === 'moderator') this.#emit('participantRoleChanged', { id: self.id, role: 'moderator' });
    for (const p of s.participants) {
      this.#emit('participantJoined', { id: p.id, displayName: p.displayName, formattedDisplayName: p.displayName });
      if (role(p) === 'moderator') this.#emit('participantRoleChanged', { id: p.id, role: 'moderator' });
    }
  }

  #people(before: Seen, now: Seen): void {
    const emit = this.#emit;
    for (const [id, p] of now.participants) {
      const old = before.participants.get(id);
      if (!old) {
        emit('participantJoined', { id, displayName: p.displayName, formattedDisplayName: p.displayName });
        if (role(p) === 'moderator') emit('participantRoleChanged', { id, role: 'moderator' });
        continue;
      }
      this.#changes(old, p);
    }
    for (const id of before.participants.keys()) if (!now.participants.has(id)) emit('participantLeft', { id });
    if (before.self && now.self && before.self !== now.self) this.#changes(before.self, now.self);
    const sharing = (s: Seen) => [...s.participants.values()].filter((p) => p.screenSharing).map((p) => p.id).join(',');
    if (sharing(before) !== sharing(now) || before.sharing !== now.sharing) {
      const ids = [...now.participants.values()].filter((p) => p.screenSharing).map((p) => p.id);
      if (now.sharing && now.self) ids.unshift(now.self.id);
      emit('contentSharingParticipantsChanged', { data: ids });
    }
  }

  /** What changed about one participant (ourselves included): name, mute (others), hand, role. */
  #changes(old: Participant, p: Participant): void {
    const emit = this.#emit;
    const isSelf = p.id === this.#c.conference.state.selfId;
    if (old.displayName !== p.displayName) emit('displayNameChange', { id: p.id, displayname: p.displayName, formattedDisplayName: p.displayName });
    if (!isSelf && old.audioMuted !== p.audioMuted) emit('participantMuted', { id: p.id, isMuted: p.audioMuted, mediaType: 'audio' });
    if (!isSelf && old.videoMuted !== p.videoMuted) emit('participantMuted', { id: p.id, isMuted: p.videoMuted, mediaType: 'video' });
    if (old.handRaisedAt !== p.handRaisedAt) emit('raiseHandUpdated', { id: p.id, handRaised: p.handRaisedAt ?? 0 });
    if (role(old) !== role(p)) emit('participantRoleChanged', { id: p.id, role: role(p) });
  }
}
