// The browser's side of "who gets in and who is in charge": the token from the URL (`?jwt=`), signing in
// (accounts mode), the room password, waiting in the lobby, our role, the room's settings, the lobby list
// (moderators) and moderator requests addressed to us. Moderator actions are sent here; the server checks them.
import type { LobbyKnock, Role } from '../../protocol/access-messages.ts';
import type { RecordingLayout, RecordingMode } from '../../protocol/recorder-messages.ts';
import type { ServerMessage } from '../../protocol/signal-messages.ts';
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { visibleDisplayName } from '../../protocol/display-name.ts';

const SESSION_KEY = 'tertulia.session';

/** What stands between us and the meeting, while connecting. */
export type Gate =
  | { kind: 'login'; failed?: 'login-failed' | 'rate-limited'; message?: string }
  | { kind: 'password'; failed?: 'wrong-password' | 'rate-limited'; message?: string }
  /** Waiting in the lobby; `locked`: the room has a password, which lets us in at once (a wrong one: `failed`). */
  | { kind: 'lobby'; locked: boolean; failed?: 'wrong-password' | 'rate-limited'; message?: string }
  /** A guest before the host: the join is asked again every HOST_WAIT_RETRY_MS; `signIn`: the host can sign in here. */
  | { kind: 'host'; signIn: boolean; failed?: 'login-failed' | 'rate-limited'; message?: string };

/** How often a guest waiting for the host asks to join again. */
export const HOST_WAIT_RETRY_MS = 5000;
/** A sign-in unanswered this long no longer holds back those joins. */
const LOGIN_ANSWER_MS = 10_000;

export interface RoomSettings {
  locked: boolean;
  lobby: boolean;
  selfUnmuteAllowed: boolean;
  password?: string;
}

export type LiveStreamDialogState = { state: 'editing' } | { state: 'sending' } | { state: 'refused'; code: string; message: string };

/** The server's refusals of a start-live-stream: answered in the dialog, not in the meeting's error banner. */
const LIVE_STREAM_REFUSALS: readonly string[] = ['live-stream-bad-url', 'live-stream-unavailable', 'live-stream-failed', 'e2ee-on', 'not-allowed', 'not-moderator'];

export interface AccessState {
  role: Role;
  room: RoomSettings;
  /** Moderators: who waits in the lobby. */
  knocks: readonly LobbyKnock[];
  gate: Gate | null;
  /** Signed in as (accounts mode). */
  username: string | null;
  /** The meeting is over for us: removed by a moderator, or ended for all. */
  ended: { kind: 'removed' | 'ended'; by: string; byMe: boolean } | null;
  /** As a moderator this page may invite by phone (the server said so in `joined`). */
  phoneInvites: boolean;
  /** A moderator asked us to stop the camera (by whom), until we answer. */
  cameraRequestBy: string | null;
  /** A moderator muted our microphone (by whom), until dismissed. */
  mutedBy: string | null;
  /**
   * Unmuting is turned off for participants and we are muted: we joined so ('joined'), or tried to unmute ('tried');
   * shown while it stays off, until dismissed.
   */
  unmuteLocked: 'joined' | 'tried' | null;
  /** We joined with the camera off as the room's moderation says (shown while turning it on stays off), until dismissed. */
  cameraOffAtJoin: boolean;
  /** Who turned our camera off (a moderator or the admin API), until dismissed. */
  cameraOffBy: string | null;
  /** The meeting is being recorded (started by whom). */
  recording: { by: string | undefined; mode?: RecordingMode; layout?: RecordingLayout } | null;
  /**
   * The meeting is streamed live (started by whom; connecting until the streaming server took data, so not live
   * yet; interrupted while the recorder reconnects).
   */
  liveStream: { by: string | undefined; connecting: boolean; interrupted: boolean } | null;
  /**
   * Moderators: the live stream dialog while it is open: being filled in, its start sent (until the server
   * answers: the stream runs, and the dialog closes, or it is refused), or refused (why, shown in the dialog).
   */
  liveStreamDialog: LiveStreamDialogState | null;
  /** Moderators: the moderator tools panel is open (its button is in the meeting header). */
  toolsOpen: boolean;
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function tokenFromUrl(search: string): string | undefined {
  const jwt = new URLSearchParams(search).get('jwt');
  return jwt && jwt.length <= 8192 ? jwt : undefined;
}

/** The user's name inside a token (for display only: the server verifies the token and uses the same name). */
export function nameInToken(jwt: string | undefined): string | undefined {
  const payload = jwt?.split('.')[1];
  if (!payload) return undefined;
  try {
    const bytes = Uint8Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
    const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const name = (json as { context?: { user?: { name?: unknown } } })?.context?.user?.name;
    return typeof name === 'string' ? visibleDisplayName(name) || undefined : undefined;
  } catch {
    return undefined;
  }
}

export class AccessClient extends Store<AccessState> {
  readonly #conference: Conference;
  readonly #jwt: string | undefined;
  #password: string | undefined;
  /** This page asked to end the meeting for all: the end it hears is its own. */
  #endedByMe = false;
  /** Our microphone and camera as last seen (#onLocalMedia acts on their changes). */
  #lastAudioMuted: boolean;
  #lastVideoMuted: boolean;
  /** The next join of a guest waiting for the host. */
  #hostRetry: ReturnType<typeof setTimeout> | null = null;
  /**
   * When a sign-in was sent that is not answered yet (0: none): the server checks one sign-in or join of a
   * connection at a time; an answer lost with the connection stops counting after LOGIN_ANSWER_MS.
   */
  #loginSentAt = 0;
  readonly dispose: () => void;

  constructor(conference: Conference, search: string) {
    super({
      role: 'participant',
      room: { locked: false, lobby: false, selfUnmuteAllowed: true },
      knocks: [],
      gate: null,
      username: null,
      ended: null,
      phoneInvites: false,
      cameraRequestBy: null,
      mutedBy: null,
      unmuteLocked: null,
      cameraOffAtJoin: false,
      cameraOffBy: null,
      recording: null,
      liveStream: null,
      liveStreamDialog: null,
      toolsOpen: false,
    });
    this.#conference = conference;
    this.#jwt = tokenFromUrl(search);
    conference.joinExtras = () => {
      const extras: { jwt?: string; session?: string; password?: string } = {};
      if (this.#jwt) extras.jwt = this.#jwt;
      const session = storage()?.getItem(SESSION_KEY);
      if (session) extras.session = session;
      if (this.#password) extras.password = this.#password;
      return extras;
    };
    const unwatchMessages = conference.onMessage((m) => this.#onMessage(m));
    this.#lastAudioMuted = conference.local.state.audioMuted;
    this.#lastVideoMuted = conference.local.state.videoMuted;
    const unwatchLocal = conference.local.subscribe(() => this.#onLocalMedia());
    this.dispose = () => {
      unwatchMessages();
      unwatchLocal();
      if (this.#hostRetry !== null) clearTimeout(this.#hostRetry);
    };
  }

  /**
   * A moderator's word about our microphone or camera goes once we change what it is about: unmuted again, the
   * camera back on, or turned off as asked (a change, not a state: the mute a notice comes with lands after it).
   */
  #onLocalMedia(): void {
    const { audioMuted, videoMuted } = this.#conference.local.state;
    const audioOn = this.#lastAudioMuted && !audioMuted;
    const videoOn = this.#lastVideoMuted && !videoMuted;
    const videoOff = !this.#lastVideoMuted && videoMuted;
    this.#lastAudioMuted = audioMuted;
    this.#lastVideoMuted = videoMuted;
    const s = this.state;
    const clear: Partial<AccessState> = {};
    if (s.mutedBy !== null && audioOn) clear.mutedBy = null;
    if (s.unmuteLocked !== null && audioOn) clear.unmuteLocked = null;
    if (s.cameraOffBy !== null && videoOn) clear.cameraOffBy = null;
    if (s.cameraOffAtJoin && videoOn) clear.cameraOffAtJoin = false;
    if (s.cameraRequestBy !== null && videoOff) clear.cameraRequestBy = null;
    if (Object.keys(clear).length > 0) this.update(clear);
  }

  #onMessage(m: ServerMessage): void {
    const c = this.#conference;
    switch (m.type) {
      case 'joined': {
        // a new room (a breakout move too): what we were told about joining muted was about the one before
        this.update({ role: m.role ?? 'participant', gate: null, phoneInvites: m.phoneInvites === true, unmuteLocked: null, cameraOffAtJoin: false });
        // with a token the server shows everyone the token's name; show ourselves the same
        const tokenName = nameInToken(this.#jwt);
        if (tokenName && tokenName !== c.displayName) c.rename(tokenName);
        break;
      }
      case 'participant-updated':
        if (m.participant.id === c.state.selfId) this.update({ role: m.participant.role ?? 'participant' });
        break;
      case 'room-state':
        this.update({ room: { locked: m.locked, lobby: m.lobby, selfUnmuteAllowed: m.selfUnmuteAllowed, password: m.password } });
        break;
      case 'lobby-list':
        this.update({ knocks: m.knocks });
        break;
      case 'recording':
        this.update({ recording: m.active ? { by: m.by, ...(m.mode ? { mode: m.mode } : {}), ...(m.layout ? { layout: m.layout } : {}) } : null });
        break;
      case 'live-stream':
        // started (here or by another moderator): the dialog has done its job
        this.update({
          liveStream: m.active ? { by: m.by, connecting: m.connecting ?? false, interrupted: m.interrupted ?? false } : null,
          ...(m.active ? { liveStreamDialog: null } : {}),
        });
        break;
      case 'lobby-wait':
        this.update({ gate: { kind: 'lobby', locked: m.locked === true } });
        break;
      case 'host-wait': {
        const gate = this.state.gate;
        // what the sign-in form said stays while we keep waiting
        this.update({ gate: gate?.kind === 'host' ? { ...gate, signIn: m.signIn } : { kind: 'host', signIn: m.signIn } });
        this.#retryForHost();
        break;
      }
      case 'login-ok':
        this.#loginSentAt = 0;
        storage()?.setItem(SESSION_KEY, m.session);
        this.update({ username: m.username, gate: null });
        c.retryJoin();
        break;
      case 'force-muted':
        if (m.kind === 'video') {
          // a request to stop the camera is answered by this: one notice, not two
          this.update(m.atJoin ? { cameraOffAtJoin: true, cameraRequestBy: null } : { cameraOffBy: m.by, cameraRequestBy: null });
          void c.setVideoMuted(true);
          break;
        }
        // joining muted under the room's moderation: nobody muted us just now (moderated microphones say so themselves)
        this.update(m.atJoin ? { unmuteLocked: 'joined' } : { mutedBy: m.by });
        void c.setAudioMuted(true);
        break;
      case 'hand-lowered':
        if (c.state.self?.handRaisedAt !== undefined) c.sendMessage({ type: 'hand', raised: false });
        break;
      case 'camera-stop-requested':
        this.update({ cameraRequestBy: m.by });
        break;
      case 'removed':
      case 'meeting-ended':
        this.update({ ended: { kind: m.type === 'removed' ? 'removed' : 'ended', by: m.by, byMe: m.type === 'meeting-ended' && this.#endedByMe } });
        c.leave();
        break;
      case 'error':
        this.#onError(m.code, m.message);
        break;
    }
  }

  /** Asks to join again in HOST_WAIT_RETRY_MS while we wait for the host (later while a sign-in is being checked). */
  #retryForHost(): void {
    if (this.#hostRetry !== null) clearTimeout(this.#hostRetry);
    this.#hostRetry = setTimeout(() => {
      this.#hostRetry = null;
      const c = this.#conference;
      if (this.state.gate?.kind !== 'host' || c.state.status !== 'connecting') return;
      if (this.#loginSentAt > 0 && Date.now() - this.#loginSentAt < LOGIN_ANSWER_MS) this.#retryForHost();
      else c.retryJoin();
    }, HOST_WAIT_RETRY_MS);
  }

  #onError(code: string, message: string): void {
    // any refusal answers a pending sign-in (a wrong password, too many tries, no accounts here)
    this.#loginSentAt = 0;
    if (this.state.liveStreamDialog?.state === 'sending' && LIVE_STREAM_REFUSALS.includes(code)) {
      // the moderator reads why in the dialog, with what they typed still there
      this.update({ liveStreamDialog: { state: 'refused', code, message } });
      this.#conference.dismissError();
      return;
    }
    const gate = this.state.gate;
    switch (code) {
      case 'auth-required':
        // a stored session that expired is useless now
        storage()?.removeItem(SESSION_KEY);
        this.update({ gate: { kind: 'login', message } });
        break;
      case 'login-failed':
        this.update({ gate: gate?.kind === 'host' ? { ...gate, failed: 'login-failed', message } : { kind: 'login', failed: 'login-failed', message } });
        break;
      case 'password-required':
        this.update({ gate: { kind: 'password' } });
        break;
      case 'wrong-password':
        this.#password = undefined;
        // typed while waiting in the lobby: still waiting there
        if (gate?.kind === 'lobby') this.update({ gate: { ...gate, failed: 'wrong-password', message } });
        else this.update({ gate: { kind: 'password', failed: 'wrong-password', message } });
        break;
      case 'rate-limited':
        if (gate?.kind === 'lobby') {
          this.#password = undefined;
          this.update({ gate: { ...gate, failed: 'rate-limited', message } });
        } else if (gate?.kind === 'login' || gate?.kind === 'password') this.update({ gate: { kind: gate.kind, failed: 'rate-limited', message } });
        else if (gate?.kind === 'host') this.update({ gate: { ...gate, failed: 'rate-limited', message } });
        break;
      case 'not-allowed': {
        // unmuting (or turning on a camera a moderator stopped) refused by the server: off here too
        const c = this.#conference;
        if (c.state.status !== 'joined') break;
        if (!c.local.state.audioMuted && c.state.self?.audioMuted !== false) void c.setAudioMuted(true);
        if (!c.local.state.videoMuted && c.state.self?.videoMuted === true) void c.setVideoMuted(true);
        break;
      }
    }
  }

  login(username: string, password: string): void {
    this.#loginSentAt = Date.now();
    this.#conference.sendMessage({ type: 'login', username, password });
  }

  /** The room password, typed at a locked room or while waiting in the lobby: `join` again with it. */
  submitPassword(password: string): void {
    this.#password = password;
    this.#conference.retryJoin();
  }

  // ---- moderator actions (the server refuses them from anyone else) ----
  muteParticipant(id: string): void {
    this.#conference.sendMessage({ type: 'mute-participant', target: id });
  }
  /** Everyone else's microphone, or (video) camera. */
  muteEveryone(kind: 'audio' | 'video' = 'audio'): void {
    this.#conference.sendMessage(kind === 'audio' ? { type: 'mute-everyone' } : { type: 'mute-everyone', kind });
  }
  askToStopCamera(id: string): void {
    this.#conference.sendMessage({ type: 'ask-stop-camera', target: id });
  }
  /** Lowers someone's raised hand, or (no id) every raised hand. */
  lowerHand(id?: string): void {
    this.#conference.sendMessage(id === undefined ? { type: 'lower-hand' } : { type: 'lower-hand', target: id });
  }
  removeParticipant(id: string): void {
    this.#conference.sendMessage({ type: 'remove-participant', target: id });
  }
  grantModerator(id: string): void {
    this.#conference.sendMessage({ type: 'grant-moderator', target: id });
  }
  endMeeting(): void {
    this.#endedByMe = true;
    this.#conference.sendMessage({ type: 'end-meeting' });
  }
  lockRoom(password: string): void {
    this.#conference.sendMessage({ type: 'lock-room', password });
  }
  unlockRoom(): void {
    this.#conference.sendMessage({ type: 'unlock-room' });
  }
  setLobby(enabled: boolean): void {
    this.#conference.sendMessage({ type: 'set-lobby', enabled });
  }
  setSelfUnmute(allowed: boolean): void {
    this.#conference.sendMessage({ type: 'set-self-unmute', allowed });
  }
  admit(id: string): void {
    this.#conference.sendMessage({ type: 'lobby-admit', id });
  }
  deny(id: string): void {
    this.#conference.sendMessage({ type: 'lobby-deny', id });
  }
  startRecording(): void {
    this.#conference.sendMessage({ type: 'start-recording' });
  }
  stopRecording(): void {
    this.#conference.sendMessage({ type: 'stop-recording' });
  }
  /** The key goes to the server only; it is not kept here. A refusal is the meeting's error (the embed API's start). */
  startLiveStream(url: string, key: string): void {
    this.#conference.sendMessage({ type: 'start-live-stream', url, key });
  }
  openLiveStreamDialog(): void {
    this.update({ liveStreamDialog: { state: 'editing' } });
  }
  /** From the dialog (already checked there): it stays open until the stream runs, or shows why it was refused. */
  sendLiveStreamDialog(url: string, key: string): void {
    this.update({ liveStreamDialog: { state: 'sending' } });
    this.startLiveStream(url, key);
  }
  /** Closed (a start still under way goes on; its refusal, if any, becomes the meeting's error). */
  closeLiveStreamDialog(): void {
    this.update({ liveStreamDialog: null });
  }
  stopLiveStream(): void {
    this.#conference.sendMessage({ type: 'stop-live-stream' });
  }
  setRecordingLayout(layout: RecordingLayout): void {
    this.#conference.sendMessage({ type: 'recording-layout', layout });
  }

  // ---- answers to moderators ----
  stopCameraAsAsked(): void {
    this.update({ cameraRequestBy: null });
    void this.#conference.setVideoMuted(true);
  }
  dismissCameraRequest(): void {
    this.update({ cameraRequestBy: null });
  }
  dismissMuted(): void {
    this.update({ mutedBy: null, cameraOffBy: null, unmuteLocked: null, cameraOffAtJoin: false });
  }

  /** Whether a moderator's setting keeps us from unmuting ourselves now (the server would refuse it). */
  get unmuteLocked(): boolean {
    return this.state.role !== 'moderator' && !this.state.room.selfUnmuteAllowed;
  }

  /** The microphone button while unmuting is turned off: say so here rather than ask the server to refuse it. */
  refusedUnmute(): void {
    this.update({ unmuteLocked: 'tried' });
  }

  setToolsOpen(open: boolean): void {
    this.update({ toolsOpen: open });
  }
}

const clients = new WeakMap<Conference, AccessClient>();

/** The access client of a conference, made (and listening) on first use: call it before `start()`. */
export function accessFor(conference: Conference, search: string = window.location.search): AccessClient {
  let a = clients.get(conference);
  if (!a) {
    a = new AccessClient(conference, search);
    clients.set(conference, a);
  }
  return a;
}
