// Rooms and presence. A room is identified by roomKey(name) (case-insensitive, Unicode-normalised); it is
// created by its first join and removed when its last participant leaves. Media setup is focus's job: the
// room only tells focus who joined, answered, muted and left (bus requests, in order per participant); focus's
// offers and the bridges' words reach the sockets through media-words.ts. Caps (caps.ts) are checked before a
// join changes anything. What rooms and members are: room-types.ts; resume records and a room's stored state:
// room-resume.ts; stand-ins for members on other signal instances: room-standins.ts.
import { callBus, failedWith } from '../bus/typed-calls.ts';
import { FOCUS_ATTACH_TIMEOUT_MS, busCalls } from '../protocol/bus-calls.ts';
import { randomUUID } from 'node:crypto';
import { BusNoHandlerError, BusTimeoutError, type Bus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { NO_BRIDGE_CAPACITY } from '../protocol/bus-messages.ts';
import { roomKey, type ErrorCode, type MediaKind, type Participant, type ServerMessage } from '../protocol/signal-messages.ts';
import type { StoredPolicy } from '../protocol/signal-fanout-messages.ts';
import { Caps } from './caps.ts';
import { e2eeEnabled } from './e2ee.ts';
import { MAX_E2EE_PARTICIPANTS } from '../protocol/e2ee-messages.ts';
import { callFocus } from './focus-call.ts';
import { newResumeToken, type RoomState } from './room-state.ts';
import type { RoomFanout } from './room-fanout.ts';
import { RoomResume } from './room-resume.ts';
import { addStandIn, dropStandIn, type StandInBreakout, type StandInHost } from './room-standins.ts';
import { toParticipant, type JoinGrant, type JoinMessage, type LeaveOptions, type Member, type PresenceChange, type Room, type Session } from './room-types.ts';

export { peopleIn, toParticipant } from './room-types.ts';
export type { JoinGrant, LeaveOptions, Member, PresenceChange, Room, Session } from './room-types.ts';
export { ROOM_RETURN_GRACE_MS } from './room-resume.ts';
/** focus.join may wait up to 5 s for a first bridge to announce itself, then allocates on it. */
const FOCUS_TIMEOUT_MS = 10_000;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class Rooms implements StandInHost {
  readonly rooms = new Map<string, Room>();
  private readonly bus: Bus;
  readonly log: Logger;
  private readonly pending = new Set<Promise<void>>();
  readonly caps: Caps;
  /** Resume tokens and chat history beyond this process (none: nobody can resume). */
  readonly state: RoomState | undefined;
  /** The other signal instances' members of our rooms (none: this is the only instance). */
  fanout: RoomFanout | undefined;

  constructor(bus: Bus, log: Logger, caps: Caps = new Caps(), state?: RoomState) {
    this.bus = bus;
    this.log = log;
    this.caps = caps;
    this.state = state;
    this.resume = new RoomResume(state, this.rooms, () => this.fanout);
  }

  /** Resume records and the stored state of rooms emptied here (room-resume.ts). */
  private readonly resume: RoomResume;

  /** A moderator changed `room`'s policy: kept in the store, and told to the room's other signal instances. */
  policyChanged(room: Room): void {
    this.resume.policyChanged(room);
  }

  /** Applies the stored policy of a room this instance starts or takes over (once per Room object). */
  policyLoaded(room: Room): Promise<void> {
    return this.resume.policyLoaded(room);
  }

  /** The lock and lobby kept for the people of an empty room who dropped and may come back (room-resume.ts). */
  keptPolicy(key: string): Promise<StoredPolicy | undefined> {
    return this.resume.keptPolicy(key);
  }

  /** Another instance's moderator made our member `member` a moderator (wired to moderation in index.ts). */
  onPromotedElsewhere?: (member: Member) => void;
  /** Another instance's moderator answered a lobby knock held here (wired to moderation in index.ts). */
  onLobbyAnswer?: (room: Room, id: string, admit: boolean, by: string) => void;
  /** Another instance's moderator changed `room`'s policy, applied here already (the lobby turned off lets in those waiting here). */
  onPolicyElsewhere?: (room: Room) => void;
  /** Signal instance `instance` went silent (room-fanout.ts): what it held in `room` goes (its lobby knocks). */
  onInstanceSilent?: (room: Room, instance: string) => void;
  /** Someone on another instance came into `room` or changed its name (the breakout list follows it). */
  onStandIn?: (room: Room) => void;
  /** Another instance's moderator moves our member `participantId` of meeting `mainKey` (breakout-rooms.ts; null: to the main room). */
  onBreakoutMove?: (mainKey: string, participantId: string, roomId: string | null, by: string) => void;

  /** Writes who `member`'s resume token resumes again (after its role or name changed). */
  remember(member: Member): void {
    this.resume.remember(member);
  }

  /** Rooms, their members and the bus requests in flight: 0 once everyone left. */
  resourceCounts(): Record<string, number> {
    let members = 0;
    for (const room of this.rooms.values()) members += room.members.size;
    return { 'signal.rooms': this.rooms.size, 'signal.participants': members, 'signal.pendingRequests': this.pending.size };
  }

  private sendError(session: Session, code: ErrorCode, message: string): void {
    session.send({ type: 'error', code, message });
  }

  /** Sends `message` to every member of `room` but `except` (stand-ins forward it to their instance). */
  broadcast(room: Room, message: ServerMessage, except?: Member): void {
    for (const m of room.members.values()) if (m !== except) m.session.send(message);
  }

  /** Queues a bus request for `member`; failures are logged and, when `onError` says so, told to the browser. */
  private enqueue(member: Member, what: string, run: () => Promise<unknown>, onError?: (e: unknown) => void): void {
    const p = member.queue.then(async () => {
      try {
        await run();
      } catch (e) {
        this.log.warn({ room: member.room.key, participant: member.id, err: errorText(e) }, `${what} failed`);
        try {
          onError?.(e);
        } catch {
          // never let a reporting failure escape
        }
      }
    });
    member.queue = p;
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /**
   * Called after a member left (`room.members` no longer has it; the room is gone unless `rooms` still has it);
   * `resumable`: its connection dropped (it may come back as itself) or it went on through another instance.
   */
  onLeft?: (room: Room, member: Member, resumable: boolean) => void;
  /** An empty room stays open while this says so (a main room whose people are all in breakout rooms). */
  holds?: (room: Room) => boolean;
  /** Called after every join and leave (webhooks). */
  onPresence?: (change: PresenceChange) => void;

  private readonly memberWatchers: ((room: Room) => void)[] = [];

  /** `watcher` is called after anyone (here or on another signal instance) entered or left a room. */
  watchMembers(watcher: (room: Room) => void): void {
    this.memberWatchers.push(watcher);
  }

  membersChanged(room: Room): void {
    for (const w of this.memberWatchers) {
      try {
        w(room);
      } catch (e) {
        this.log.error({ room: room.key, err: errorText(e) }, 'member watcher failed');
      }
    }
  }

  private tellPresence(change: PresenceChange): void {
    try {
      this.onPresence?.(change);
    } catch (e) {
      this.log.error({ room: change.room.key, err: errorText(e) }, 'presence observer failed');
    }
  }

  join(session: Session, msg: JoinMessage, grant: JoinGrant = { role: 'participant', authenticated: false }): void {
    const member = this.admit(session, msg, grant);
    if ('refused' in member) return;
    this.setUpMedia(session, member, grant.resumeId !== undefined);
  }

  /**
   * focus.join for `member` (and its initial mute state); no bridge capacity sends it away. `resumed`: it may
   * still be in focus's conference (its signal process died), so it leaves there first for a fresh start.
   */
  private setUpMedia(session: Session, member: Member, resumed = false): void {
    const conferenceId = member.room.key;
    const id = member.id;
    this.enqueue(
      member,
      'focus join',
      async () => {
        if (resumed) await callFocus(this.bus, busCalls.focusLeave, { conferenceId, participantId: id }, FOCUS_TIMEOUT_MS);
        const { region, offerVersion } = member.session;
        await callFocus(
          this.bus,
          busCalls.focusJoin,
          { conferenceId, participantId: id, ...(region === undefined ? {} : { region }), ...(offerVersion ? { versionsAfter: offerVersion } : {}) },
          FOCUS_ATTACH_TIMEOUT_MS,
        );
        // focus learns the initial mute state the same way as later changes
        if (member.audioMuted) await callFocus(this.bus, busCalls.focusMute, { conferenceId, participantId: id, kind: 'audio', muted: true }, FOCUS_TIMEOUT_MS);
        if (member.videoMuted) await callFocus(this.bus, busCalls.focusMute, { conferenceId, participantId: id, kind: 'video', muted: true }, FOCUS_TIMEOUT_MS);
      },
      (e) => {
        if (session.member !== member) return;
        if (failedWith(busCalls.focusJoin, e, 'no-capacity')) {
          // every bridge is at its cap: this participant cannot have media, so it is not in the meeting either
          this.sendError(session, 'server-full', `this server has no room for another participant now (${NO_BRIDGE_CAPACITY}); try again later`);
          this.leave(session, 'no bridge capacity');
          return;
        }
        this.sendError(session, 'media-unavailable', `could not set up media for this meeting: ${errorText(e)}`);
      },
    );
  }

  /**
   * A participant that is not a browser (a file played into the meeting over plain RTP): it joins like one, but
   * `attach` sets up its media instead of focus.join. Resolves with its member once attached; when attaching
   * fails it leaves again and the promise rejects with the reason.
   */
  joinPlain(
    session: Session,
    msg: JoinMessage,
    attach: (conferenceId: string, participantId: string) => Promise<void>,
    grant: JoinGrant = { role: 'participant', authenticated: false },
  ): Promise<Member> {
    return new Promise((resolve, reject) => {
      const member = this.admit(session, msg, { ...grant, plain: true });
      if ('refused' in member) return reject(new Error(member.refused));
      member.plain = true;
      this.enqueue(
        member,
        'plain-RTP attach',
        async () => {
          await attach(member.room.key, member.id);
          resolve(member);
        },
        (e) => {
          this.leave(session, 'media setup failed');
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  /** Checks the caps and enters the room (told to the others); when refused, the session is told why. */
  private admit(session: Session, msg: JoinMessage, grant: JoinGrant): Member | { refused: string } {
    if (session.member) {
      const refused = `already in room "${session.member.room.name}"; leave first`;
      this.sendError(session, 'already-joined', refused);
      return { refused };
    }
    const key = roomKey(msg.room);
    let room = this.rooms.get(key);
    // a reconnect whose old connection is still here (this process has not noticed it drop yet) takes its place,
    // in this room or in one of its breakout rooms (a resume comes back to the main room)
    const staleHere = grant.resumeId !== undefined ? room?.members.get(grant.resumeId) : undefined;
    const staleInBreakout = grant.resumeId !== undefined && !staleHere ? this.inBreakoutRoomOf(key, grant.resumeId) : undefined;
    const stale = staleHere ?? staleInBreakout;
    // a meeting's size counts its people in breakout rooms too (they come back to this room)
    const meetingSize = room && room.members.size + (room.peopleInBreakouts?.() ?? 0) - (stale ? 1 : 0);
    // an encrypted meeting stays within what its key exchange is made for (and so never puts anyone on receive slots)
    const refusal =
      this.caps.checkJoin(session.remoteAddress, meetingSize, this.rooms.size) ??
      (meetingSize !== undefined && meetingSize >= MAX_E2EE_PARTICIPANTS && e2eeEnabled(room)
        ? { code: 'room-full' as const, message: `the meeting is end-to-end encrypted and has the most participants that allows (${MAX_E2EE_PARTICIPANTS})` }
        : null);
    if (refusal) {
      const level = this.caps.warnAbout(session.remoteAddress) ? 'warn' : 'debug';
      this.log[level]({ room: key, address: session.remoteAddress, code: refusal.code }, `join refused: ${refusal.message}`);
      this.sendError(session, refusal.code, refusal.message);
      return { refused: refusal.message };
    }
    // (it is coming straight back: nobody is made moderator in its place meanwhile)
    if (staleHere?.remote) this.dropRemote(staleHere, true, { returning: true });
    else if (staleHere) this.leave(staleHere.session, 'resumed on a new connection', { resumable: true, returning: true });
    room = this.rooms.get(key);
    this.caps.joined(session.remoteAddress, !room);
    const roomStarted = !room;
    if (!room) {
      room = { key, name: msg.room, members: new Map(), startedAt: Date.now() };
      this.rooms.set(key, room);
      this.roomMade(room);
    } else if (this.state?.durable) {
      // the joiner is told the room's items once they are read again (meeting.ts, recording.ts: whenLoaded)
      void this.state.items.refresh(room);
    }
    let id: string;
    if (grant.resumeId !== undefined) id = grant.resumeId;
    else {
      do id = randomUUID().slice(0, 8);
      while (room.members.has(id));
    }
    const member: Member = {
      id,
      room,
      displayName: grant.displayName ?? msg.displayName,
      audioMuted: msg.audioMuted,
      videoMuted: msg.videoMuted,
      session,
      role: grant.role,
      authenticated: grant.authenticated,
      // after the stale connection's focus leave, when there is one
      queue: stale?.queue ?? Promise.resolve(),
      joinedAt: Date.now(),
    };
    if (grant.phone) member.phone = true;
    if (grant.account) member.account = grant.account;
    // browsers get a resume token (a phone or plain-RTP sender has no use for one); the one used is spent
    if (this.state && !grant.phone && !grant.plain) {
      member.resumeToken = newResumeToken();
      if (grant.resumedWith) this.state.forget(grant.resumedWith);
      this.remember(member);
    }
    this.enter(session, member, roomStarted, grant.resumeId !== undefined);
    // its old connection in a breakout room goes once it is back in the main room (which so never looks empty)
    if (staleInBreakout?.remote) this.dropRemote(staleInBreakout, true);
    else if (staleInBreakout) this.leave(staleInBreakout.session, 'resumed on a new connection', { resumable: true });
    return member;
  }

  /** The member `id` in a breakout room of the main room `mainKey`, if any. */
  private inBreakoutRoomOf(mainKey: string, id: string): Member | undefined {
    for (const r of this.rooms.values()) if (r.breakout?.main.key === mainKey && r.members.has(id)) return r.members.get(id);
    return undefined;
  }

  /** `member` (of `member.room`) enters: it gets `joined`, the others (here and on other instances) `participant-joined`. */
  private enter(session: Session, member: Member, roomStarted: boolean, resumed = false): void {
    const room = member.room;
    const others = [...room.members.values()].map(toParticipant);
    room.members.set(member.id, member);
    session.member = member;
    const iceServers = session.iceServers?.() ?? [];
    session.send({
      type: 'joined',
      selfId: member.id,
      room: room.name,
      participants: others,
      role: member.role,
      ...(iceServers.length > 0 ? { iceServers } : {}),
      ...(member.resumeToken ? { resumeToken: member.resumeToken } : {}),
      ...(this.mayInviteByPhone?.(member) ? { phoneInvites: true as const } : {}),
    });
    this.broadcast(room, { type: 'participant-joined', participant: toParticipant(member) }, member);
    this.log.info({ room: room.key, participant: member.id, participants: room.members.size, ...(resumed ? { resumed: true } : {}) }, 'participant joined');
    this.log.debug({ room: room.key, participant: member.id, displayName: member.displayName }, 'participant name');
    this.tellPresence({ kind: 'joined', room, member, roomStarted });
    this.fanout?.joined(member);
    this.membersChanged(room);
  }

  /** A room made here (by a join or a stand-in): its stored policy is applied. */
  roomMade(room: Room): void {
    void this.policyLoaded(room);
    void this.state?.items.load(room);
  }

  /** The room `key` has nobody left here (`resumable`: its last connection dropped rather than left). */
  roomEmptied(key: string, resumable: boolean): void {
    this.resume.roomEmptied(key, resumable);
  }

  /** Adds or updates the stand-in for a member whose socket is on signal instance `instance` (room-standins.ts). */
  addRemote(instance: string, key: string, roomName: string, p: Participant, since: number, breakout?: StandInBreakout): void {
    const before = this.rooms.get(key)?.members.get(p.id);
    const name = before?.displayName;
    addStandIn(this, instance, key, roomName, p, since, breakout);
    const after = this.rooms.get(key)?.members.get(p.id);
    if (after?.remote && (after !== before || after.displayName !== name)) {
      try {
        this.onStandIn?.(after.room);
      } catch (e) {
        this.log.error({ room: key, err: errorText(e) }, 'stand-in observer failed');
      }
    }
  }

  /** Takes out the stand-in of a remote member (it left there, or its instance went silent). */
  dropRemote(member: Member, resumable: boolean, opts: { returning?: boolean } = {}): void {
    dropStandIn(this, member, resumable, opts);
  }

  /**
   * `member` leaves the room. `resumable`: its connection dropped (it may come back with its resume token, so the
   * token and the room's chat history are kept); otherwise both are forgotten. `displaced`: it is back through
   * another signal instance (focus and the other instances are not told). `returning`: it comes straight back on
   * a new connection (its room stays, nobody is made moderator meanwhile). A remote member (a moderator here
   * removed it) is made to leave by its own instance.
   */
  leave(session: Session, reason: string, opts: LeaveOptions = {}): void {
    const member = session.member;
    if (!member) return;
    if (member.remote) {
      this.fanout?.removeElsewhere(member, reason);
      this.dropRemote(member, false);
      return;
    }
    session.member = undefined;
    if (!opts.resumable && member.resumeToken) this.state?.forget(member.resumeToken);
    this.caps.left(session.remoteAddress);
    this.exit(member, reason, false, opts);
  }

  /**
   * Moves a participant to another room of the same meeting on the same session (breakout rooms): it leaves
   * `member.room` (media included) and enters `target` as a new member with the same id, name, role and mute
   * state; it gets `joined` for `target` and a new offer from focus. No caps: the person is already counted.
   * `resumed`: a reconnect going back into its breakout room (its old connection's signal process may have died
   * with it still in focus's conference of `target`): it leaves there first, for a fresh start.
   */
  move(member: Member, target: Room, reason: string, resumed = false): Member {
    const session = member.session;
    const from = member.room;
    // `from` is let go (and told about) only once `member` is in `target`: a main room whose last person moves
    // to a breakout room stays open (`holds`)
    this.exit(member, reason, true);
    if (!this.rooms.has(target.key)) this.rooms.set(target.key, target);
    let id = member.id;
    while (target.members.has(id)) id = randomUUID().slice(0, 8);
    const moved: Member = {
      id,
      room: target,
      displayName: member.displayName,
      audioMuted: member.audioMuted,
      videoMuted: member.videoMuted,
      session,
      role: member.role,
      authenticated: member.authenticated,
      // after the focus leave just queued: moving back and forth never races a join with an earlier leave
      queue: member.queue,
      joinedAt: Date.now(),
    };
    if (member.videoForceMuted) moved.videoForceMuted = true;
    if (member.account) moved.account = member.account;
    // a reconnect still comes back with its token (to the main room, from where the breakout store returns it)
    if (member.resumeToken) moved.resumeToken = member.resumeToken;
    this.enter(session, moved, target.members.size === 0);
    this.remember(moved); // its id may have changed
    this.setUpMedia(session, moved, resumed);
    if (from.members.size === 0 && !this.holds?.(from)) this.release(from);
    this.afterExit(from, member, false);
    return moved;
  }

  /** A room for a breakout room of `main` (made, not yet in `rooms`, when nobody is in it). */
  breakoutRoom(main: Room, id: string, key: string, name: string): Room {
    return this.rooms.get(key) ?? { key, name, members: new Map(), startedAt: Date.now(), breakout: { main, id } };
  }

  /**
   * Lets go of an empty room that `holds` kept open. The meeting is over: its stored chat and policy go (a next
   * meeting of that name starts afresh), unless `keepStored` (its last person here was a stand-in: the meeting may
   * go on on another instance; forgotten after the grace time if nobody is back).
   */
  release(room: Room, keepStored = false): void {
    if (room.members.size > 0 || this.rooms.get(room.key) !== room) return;
    this.rooms.delete(room.key);
    this.resume.roomEmptied(room.key, keepStored);
    this.log.info({ room: room.key }, 'room finished');
    this.tellPresence({ kind: 'finished', room });
  }

  /** Takes `member` out of its room: the others and focus are told; an empty room goes unless `holds` keeps it. */
  private exit(member: Member, reason: string, moving = false, opts: LeaveOptions = {}): void {
    const room = member.room;
    room.members.delete(member.id);
    if (room.members.size === 0 && !moving && !opts.returning && !this.holds?.(room)) {
      this.rooms.delete(room.key);
      this.resume.roomEmptied(room.key, opts.resumable === true);
    }
    this.broadcast(room, { type: 'participant-left', id: member.id });
    this.log.info({ room: room.key, participant: member.id, reason, participants: room.members.size }, 'participant left');
    this.tellPresence({ kind: 'left', room, member, roomFinished: !this.rooms.has(room.key), reason });
    this.membersChanged(room);
    if (!opts.displaced) {
      // a move is not a goodbye to the meeting: other instances keep its stored state
      this.fanout?.left(member, opts.resumable === true || moving);
      this.enqueue(member, 'focus leave', () =>
        callFocus(this.bus, busCalls.focusLeave, { conferenceId: room.key, participantId: member.id }, FOCUS_TIMEOUT_MS),
      );
    }
    if (!moving && !opts.returning) this.afterExit(room, member, opts.resumable === true || opts.displaced === true);
  }

  /** Tells `onLeft` that `member` left `room` (its failures logged). */
  afterExit(room: Room, member: Member, resumable: boolean): void {
    try {
      this.onLeft?.(room, member, resumable);
    } catch (e) {
      this.log.error({ room: room.key, err: errorText(e) }, 'after-leave handling failed');
    }
  }

  /**
   * `session`'s browser stopped answering for a while (`interrupted`), or answers again: everyone, the member too,
   * hears its new state (the others show "connection interrupted" on its tile, as Jitsi Meet does).
   */
  setInterrupted(session: Session, interrupted: boolean): void {
    const member = session.member;
    if (!member || member.remote || (member.interrupted === true) === interrupted) return;
    member.interrupted = interrupted || undefined;
    this.broadcast(member.room, { type: 'participant-updated', participant: toParticipant(member) });
  }

  mute(session: Session, kind: MediaKind, muted: boolean): void {
    const member = session.member;
    if (!member) return;
    const field = kind === 'audio' ? 'audioMuted' : 'videoMuted';
    if (member[field] === muted) return;
    member[field] = muted;
    // to everyone, the sender included (it sees the server's view of its own state)
    this.broadcast(member.room, { type: 'participant-updated', participant: toParticipant(member) });
    this.onMuted?.(member.room);
    this.enqueue(member, 'focus mute', () =>
      callFocus(this.bus, busCalls.focusMute, { conferenceId: member.room.key, participantId: member.id, kind, muted }, FOCUS_TIMEOUT_MS),
    );
  }

  answer(session: Session, sdp: string, version: number): void {
    const member = session.member;
    if (!member) return;
    this.enqueue(
      member,
      'focus answer',
      () => callBus(this.bus, busCalls.focusAnswer, '', { conferenceId: member.room.key, participantId: member.id, sdp, version }, FOCUS_TIMEOUT_MS),
      (e) => {
        if (session.member !== member) return;
        const internal = e instanceof BusTimeoutError || e instanceof BusNoHandlerError;
        this.sendError(session, internal ? 'internal' : 'bad-message', `answer refused: ${errorText(e)}`);
      },
    );
  }

  /** Called after the room's dominant speaker changed (the recorder's speaker layout follows it). */
  onSpeaker?: (room: Room) => void;
  /** Called when the dominant speaker went silent or spoke again (room.dominantSilent; speaker stats). */
  onSpeakerSilence?: (room: Room) => void;
  /** Called after someone's microphone or camera was turned off or on (a multitrack recording's timeline). */
  onMuted?: (room: Room) => void;
  /** Whether `member`, as a moderator, may invite by phone (told in its `joined`, so the page offers it only then). */
  mayInviteByPhone?: (member: Member) => boolean;

  /** Every participant leaves (focus is told); waits up to `timeoutMs` for those requests. */
  async closeAll(timeoutMs = 2000): Promise<void> {
    for (const room of [...this.rooms.values()]) {
      // resumable: their browsers reconnect, to this server once it is back or to another signal instance
      for (const m of [...room.members.values()]) if (!m.remote) this.leave(m.session, 'server stopping', { resumable: true });
    }
    this.resume.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}
