// Moderator actions, each checked here on the server: a request from someone who is not a moderator is
// refused with `not-moderator` and changes nothing. Mutes go through Rooms.mute, so focus (and the bridge)
// drop the muted audio whatever the target's browser does. forceMute, remove and endMeeting are also what the
// admin HTTP API (admin-api.ts) calls.
import type { Logger } from '../log.ts';
import type { AccessClientMessage } from '../protocol/access-messages.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';
import type { Admission } from './admission.ts';
import type { Lobby } from './lobby.ts';
import { broadcastRoomState, moderatorsOf, policyOf, roomStateFor } from './room-policy.ts';
import type { Recordings } from './recording.ts';
import type { PhoneInvites } from './phone-invites.ts';
import { toParticipant, type Member, type Room, type Rooms, type Session } from './rooms.ts';
import { AvModeration, mayUnmute, moderatedAtJoin } from './av-moderation.ts';
import { e2eeEnabled, e2eeRefusal } from './e2ee.ts';
import { moderatorOnly } from './moderator-only.ts';

type ModeratorMessage = Exclude<AccessClientMessage, { type: 'login' | 'admin-list-recordings' | 'admin-delete-recording' }>;

export class Moderation {
  private readonly rooms: Rooms;
  private readonly lobby: Lobby;
  private readonly admission: Admission;
  private readonly log: Logger;
  /** Open rooms: when the last moderator leaves, the longest-present participant becomes one (as Jitsi does). */
  /** Open mode: the first one in an empty room becomes its moderator (a reload may change the mode). */
  autoModerator: boolean;
  /** Start/stop recording (none: this signal has no recording, e.g. in unit tests). */
  private readonly recordings: Recordings | undefined;
  /** Invite by phone (none: this signal has no bus to a sip part, e.g. in unit tests). */
  private readonly phoneInvites: PhoneInvites | undefined;
  /** Audio/video moderation ("Ask to unmute"): its own messages; selfMute and joins ask it. */
  readonly avModeration: AvModeration;
  /** A meeting's breakout rooms (breakout-rooms.ts): their moderators count, and they end with the meeting. */
  breakouts?: {
    moderatorsElsewhere(room: Room): number;
    endBreakouts(room: Room, end: (member: Member) => void): void;
    /** The moderators of the meeting of `room`, in its main room and every breakout room. */
    meetingModerators(room: Room): Member[];
    /** `member` was made a moderator: it is shown who is in which room of the meeting from now on. */
    promoted(member: Member): void;
  };

  constructor(opts: { rooms: Rooms; lobby: Lobby; admission: Admission; log: Logger; autoModerator: boolean; recordings?: Recordings; phoneInvites?: PhoneInvites }) {
    this.recordings = opts.recordings;
    this.phoneInvites = opts.phoneInvites;
    this.rooms = opts.rooms;
    this.lobby = opts.lobby;
    this.admission = opts.admission;
    this.log = opts.log;
    this.autoModerator = opts.autoModerator;
    this.avModeration = new AvModeration({ log: opts.log, forceMute: (m, by, kind) => this.forceMute(m, by, kind) });
    this.lobby.meetingModerators = (room) => this.breakouts?.meetingModerators(room) ?? moderatorsOf(room);
  }

  /**
   * A participant's own mute/unmute: unmuting is refused while a moderator moderates that kind and has not
   * allowed this participant (av-moderation.ts), and unmuting the microphone, or a camera a moderator stopped, while
   * a moderator disabled self-unmuting.
   */
  selfMute(session: Session, kind: MediaKind, muted: boolean): void {
    const member = session.member;
    if (!member) return;
    if (!muted && !mayUnmute(member, kind)) {
      session.send({ type: 'error', code: 'not-allowed', message: `a moderator moderates ${kind === 'audio' ? 'microphones' : 'cameras'}: ask to unmute first` });
      return;
    }
    const locked = member.role !== 'moderator' && !policyOf(member.room).selfUnmuteAllowed;
    if (kind === 'audio' && !muted && member.audioMuted && locked) {
      session.send({ type: 'error', code: 'not-allowed', message: 'a moderator has turned off unmuting for participants' });
      return;
    }
    // a camera a moderator stopped stays off under the same setting; one the participant stopped does not
    if (kind === 'video' && !muted && member.videoForceMuted && locked) {
      session.send({ type: 'error', code: 'not-allowed', message: 'a moderator stopped your camera and has turned off unmuting for participants' });
      return;
    }
    if (kind === 'video' && !muted) member.videoForceMuted = undefined;
    this.rooms.mute(session, kind, muted);
  }

  handle(session: Session, msg: ModeratorMessage): void {
    const actor = session.member;
    if (!actor) {
      session.send({ type: 'error', code: 'not-joined', message: `"${msg.type}" needs a joined room; send "join" first` });
      return;
    }
    if (!moderatorOnly(this.log, actor, msg.type)) return;
    const room = actor.room;
    const target = (id: string): Member | undefined => {
      const m = room.members.get(id);
      if (!m) session.send({ type: 'error', code: 'no-such-participant', message: 'that participant is not in this meeting' });
      return m;
    };
    const by = actor.displayName;
    this.log.info({ room: room.key, participant: actor.id, action: msg.type, target: 'target' in msg && msg.type !== 'invite-by-phone' ? msg.target : undefined }, 'moderator action');
    switch (msg.type) {
      case 'mute-participant': {
        const t = target(msg.target);
        if (!t) return;
        this.forceMute(t, by);
        return;
      }
      case 'start-recording':
      case 'stop-recording':
      case 'recording-layout':
        if (!this.recordings) {
          session.send({ type: 'error', code: 'recording-unavailable', message: 'recording is not available on this server' });
          return;
        }
        if (msg.type === 'start-recording' && e2eeEnabled(room)) session.send({ type: 'error', code: 'e2ee-on', message: e2eeRefusal('recording') });
        else if (msg.type === 'start-recording') this.recordings.start(actor, msg.mode);
        else if (msg.type === 'recording-layout') this.recordings.setLayout(actor, msg.layout);
        else this.recordings.stop(actor);
        return;
      case 'list-recordings':
      case 'delete-recording': {
        if (!this.recordings) {
          session.send({ type: 'error', code: 'recording-unavailable', message: 'recording is not available on this server' });
          return;
        }
        const library = this.recordings.library;
        const done = msg.type === 'list-recordings' ? library.listTo(session, room.key) : library.deleteFor(session, msg.recordingId, room.key, actor.id);
        done.catch((e: unknown) => {
          this.log.error({ err: (e as Error).message }, 'recordings request failed');
          session.send({ type: 'error', code: 'internal', message: 'internal error' });
        });
        return;
      }
      case 'start-live-stream':
      case 'stop-live-stream':
        if (!this.recordings) {
          session.send({ type: 'error', code: 'live-stream-unavailable', message: 'live streaming is not available on this server' });
          return;
        }
        if (msg.type === 'start-live-stream' && e2eeEnabled(room)) session.send({ type: 'error', code: 'e2ee-on', message: e2eeRefusal('live streaming') });
        else if (msg.type === 'start-live-stream') this.recordings.startStream(actor, msg.url, msg.key);
        else this.recordings.stopStream(actor);
        return;
      case 'invite-by-phone':
      case 'cancel-phone-invite':
        if (!this.phoneInvites) {
          session.send({ type: 'error', code: 'dial-out-unavailable', message: 'calling phones is not set up on this server' });
          return;
        }
        if (msg.type === 'invite-by-phone' && e2eeEnabled(room)) session.send({ type: 'error', code: 'e2ee-on', message: e2eeRefusal('calling a phone') });
        else if (msg.type === 'invite-by-phone') this.phoneInvites.invite(actor, msg.target);
        else this.phoneInvites.cancel(actor, msg.id);
        return;
      case 'mute-everyone':
        for (const m of [...room.members.values()]) if (m !== actor) this.forceMute(m, by, msg.kind);
        if (msg.kind === 'video') {
          policyOf(room).camerasStopped = true;
          this.rooms.policyChanged(room);
        }
        return;
      case 'lower-hand': {
        // the page whose hand it is lowers it (its socket may be on another signal instance)
        const hands = msg.target === undefined ? [...room.members.values()].filter((m) => m !== actor) : [target(msg.target)];
        for (const m of hands) if (m && m.handRaisedAt !== undefined) m.session.send({ type: 'hand-lowered', by });
        return;
      }
      case 'ask-stop-camera': {
        const t = target(msg.target);
        if (t) t.session.send({ type: 'camera-stop-requested', by });
        return;
      }
      case 'remove-participant': {
        const t = target(msg.target);
        if (!t) return;
        if (t === actor) {
          session.send({ type: 'error', code: 'not-allowed', message: 'to leave, use "leave"' });
          return;
        }
        this.remove(t, by, `removed by ${actor.id}`);
        return;
      }
      case 'grant-moderator': {
        const t = target(msg.target);
        if (t?.remote) this.rooms.fanout?.promoteElsewhere(t);
        else if (t && t.role !== 'moderator') this.promote(t);
        return;
      }
      case 'end-meeting':
        this.endMeeting(room, by, `meeting ended by ${actor.id}`, actor);
        return;
      case 'lock-room':
        policyOf(room).password = msg.password;
        this.rooms.policyChanged(room);
        broadcastRoomState(room);
        this.lobby.tellLocked(room);
        return;
      case 'unlock-room':
        policyOf(room).password = undefined;
        this.rooms.policyChanged(room);
        broadcastRoomState(room);
        this.lobby.tellLocked(room);
        return;
      case 'set-self-unmute':
        policyOf(room).selfUnmuteAllowed = msg.allowed;
        if (msg.allowed) policyOf(room).camerasStopped = undefined;
        this.rooms.policyChanged(room);
        broadcastRoomState(room);
        return;
      case 'set-lobby':
        policyOf(room).lobby = msg.enabled;
        this.rooms.policyChanged(room);
        broadcastRoomState(room);
        this.lobbyChanged(room);
        return;
      case 'lobby-admit':
      case 'lobby-deny': {
        // the lobby is the meeting's main room's (a moderator in a breakout room answers it too); a knock held by
        // another signal instance is answered there
        const main = room.breakout?.main ?? room;
        const admit = msg.type === 'lobby-admit';
        if (!this.answerKnock(main, msg.id, admit) && !this.lobby.answerElsewhere(main, msg.id, admit, by)) {
          session.send({ type: 'error', code: 'no-such-participant', message: 'nobody with that id is waiting in the lobby' });
        }
        return;
      }
    }
  }

  /**
   * Turns someone's microphone (or camera) off: they are told by whom, and focus stops forwarding it. `atJoin`: the
   * member joins (or moves) muted as the room's moderation says, nobody muted them just now.
   */
  forceMute(m: Member, by: string, kind: MediaKind = 'audio', atJoin = false): void {
    m.session.send({ type: 'force-muted', by, ...(kind === 'video' ? { kind } : {}), ...(atJoin ? { atJoin: true as const } : {}) });
    if (kind === 'video') m.videoForceMuted = true;
    this.rooms.mute(m.session, kind, true);
  }

  /** Sends someone out of the meeting, telling them by whom. */
  remove(m: Member, by: string, reason: string): void {
    m.session.send({ type: 'removed', by });
    this.rooms.leave(m.session, reason);
  }

  /** Ends the meeting for everyone; `last` (the moderator who ended it) leaves last, so nobody is made moderator meanwhile. */
  endMeeting(room: Room, by: string, reason: string, last?: Member): void {
    const end = (m: Member) => {
      m.session.send({ type: 'meeting-ended', by });
      this.rooms.leave(m.session, reason);
    };
    // from a breakout room too, the whole meeting ends: its breakout rooms first, then its main room
    this.breakouts?.endBreakouts(room, (m) => m !== last && end(m));
    room = room.breakout?.main ?? room;
    for (const m of [...room.members.values()].sort((a, b) => Number(a === last) - Number(b === last))) end(m);
    if (last && last.session.member === last) end(last); // it was in a breakout room
  }

  /** Another signal instance's moderator made our member `m` a moderator. */
  /**
   * The room's lobby setting may have changed (here or on another instance): turned off, it lets everyone waiting here
   * in; still on, those waiting are told whether the room has a password now.
   */
  lobbyChanged(room: Room): void {
    if (!policyOf(room).lobby) for (const k of this.lobby.takeAll(room)) this.admission.enter(k.session, k.msg, k.grant);
    else this.lobby.tellLocked(room); // another instance's change may have been a lock or unlock
    this.lobby.sendList(room);
  }

  /** Admits or denies knock `id` of `room` when this instance holds it (false: it does not). */
  answerKnock(room: Room, id: string, admit: boolean): boolean {
    const k = this.lobby.take(room, id);
    if (!k) return false;
    if (admit) this.admission.enter(k.session, k.msg, k.grant);
    else k.session.send({ type: 'error', code: 'denied', message: 'a moderator declined your request to join' });
    return true;
  }

  promoteFromElsewhere(m: Member): void {
    if (!m.remote && m.role !== 'moderator') this.promote(m);
  }

  private promote(m: Member): void {
    m.role = 'moderator';
    this.rooms.remember(m); // a reconnect comes back as moderator
    for (const other of m.room.members.values()) other.session.send({ type: 'participant-updated', participant: toParticipant(m) });
    m.session.send(roomStateFor(m.room, 'moderator'));
    this.lobby.sendList(m.room, m.session);
    this.avModeration.roleChanged(m);
    this.breakouts?.promoted(m);
    this.log.info({ room: m.room.key, participant: m.id }, 'moderator granted');
  }

  /**
   * After a move to another room of the meeting (breakout rooms): that room's settings, and to moderators its
   * lobby. Its mute rules apply as at a join (self-unmuting off, ask-to-unmute): a move never carries a microphone
   * or camera into a room where it would have to be off.
   */
  afterMove(session: Session): void {
    const member = session.member;
    if (!member) return;
    const room = member.room;
    session.send(roomStateFor(room, member.role));
    // the meeting's lobby is its main room's, wherever the moderator is
    if (member.role === 'moderator') this.lobby.sendList(room.breakout?.main ?? room, session);
    const policy = policyOf(room);
    const locked = member.role !== 'moderator' && !policy.selfUnmuteAllowed;
    const by = moderatorsOf(room)[0]?.displayName ?? '';
    if (!member.audioMuted && (locked || moderatedAtJoin(room, member.role, 'audio'))) this.forceMute(member, by, 'audio', true);
    if (!member.videoMuted && ((locked && policy.camerasStopped === true) || moderatedAtJoin(room, member.role, 'video'))) this.forceMute(member, by, 'video', true);
    this.avModeration.afterJoin(member);
  }

  /** Rooms.onLeft: an empty room sends its lobby away; an open room never stays without a moderator. */
  afterLeave(room: Room, member: Member): void {
    this.avModeration.afterLeave(room, member);
    this.recordings?.membersChanged(room);
    if (room.members.size === 0) {
      // a main room whose people are all in breakout rooms is still open: its lobby waits for a moderator
      if (this.rooms.rooms.get(room.key) === room) return;
      for (const k of this.lobby.takeAll(room)) {
        k.session.send({ type: 'error', code: 'lobby-closed', message: 'the meeting ended before anyone let you in' });
      }
      return;
    }
    if (this.autoModerator && moderatorsOf(room).length === 0 && !this.breakouts?.moderatorsElsewhere(room)) {
      // one of ours: a member on another signal instance is promoted there (room-fanout.ts)
      const next = [...room.members.values()].find((m) => !m.phone && !m.remote);
      if (next) this.promote(next);
    }
  }
}
