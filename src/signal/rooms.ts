// Rooms and presence. A room is identified by roomKey(name) (case-insensitive, Unicode-normalised); it is
// created by its first join and removed when its last participant leaves. Media setup is focus's job: the
// room only tells focus who joined, answered, muted and left (bus requests, in order per participant), and
// hands focus's offers to the right socket. Caps (caps.ts) are checked before a join changes anything.
import { callBus, failedWith } from '../bus/typed-calls.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { randomUUID } from 'node:crypto';
import { BusNoHandlerError, BusTimeoutError, type Bus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { bridgeDominantSpeakerSchema, NO_BRIDGE_CAPACITY, signalOfferSchema } from '../protocol/bus-messages.ts';
import type { Role } from '../protocol/access-messages.ts';
import {
  type IceServer,
  roomKey,
  type ClientMessage,
  type ErrorCode,
  type MediaKind,
  type Participant,
  type ServerMessage,
} from '../protocol/signal-messages.ts';
import { Caps } from './caps.ts';
import { newResumeToken, type RoomState } from './room-state.ts';
import type { RoomFanout } from './room-fanout.ts';
import { applyPolicy, broadcastRoomState, policyOf, storedPolicy } from './room-policy.ts';
/** focus.join may wait up to 5 s for a first bridge to announce itself, then allocates on it. */
const FOCUS_JOIN_TIMEOUT_MS = 15_000;
const FOCUS_TIMEOUT_MS = 10_000;
/** How long the chat and policy of a room whose people all dropped are kept for them to come back. */
export const ROOM_RETURN_GRACE_MS = 5 * 60_000;

/** One client connection, whatever carries it (a WebSocket in practice). */
export interface Session {
  send(message: ServerMessage): void;
  member?: Member;
  /** The peer's network address, for rate limits (password and sign-in attempts). */
  remoteAddress?: string;
  /** TURN servers with fresh credentials for this connection's browser (src/turn/), sent with `joined`. */
  iceServers?: () => IceServer[];
  /** Where the participant is (signal/region.ts): focus prefers a bridge of that region. */
  region?: string;
}

/** What admission decided for a join: the role, and whether the person signed in or brought a token. */
export interface JoinGrant {
  role: Role;
  authenticated: boolean;
  /** A display name from the credentials (a token's context.user.name), used instead of the typed one. */
  displayName?: string;
  /** Moderator only because the room was empty when asked: re-checked when actually entering the room. */
  firstComer?: boolean;
  /** A caller on the phone (the SIP gateway). */
  phone?: boolean;
  /** A reconnect: back in as this participant id (from its resume token, room-state.ts). */
  resumeId?: string;
  /** The token that resumed it (forgotten once a new one is given). */
  resumedWith?: string;
}

export interface Member {
  id: string;
  room: Room;
  displayName: string;
  audioMuted: boolean;
  videoMuted: boolean;
  session: Session;
  /** When the hand went up (ms since the epoch); undefined while it is down. */
  handRaisedAt?: number;
  /** True while sharing a screen. */
  screenSharing?: boolean;
  /** A moderator (or an admin) turned the camera off and the participant has not turned it on since. */
  videoForceMuted?: boolean;
  role: Role;
  /** Signed in (accounts mode) or joined with a valid token (token mode). */
  authenticated: boolean;
  /** Bus requests for this participant run one after another, in the order the browser caused them. */
  queue: Promise<void>;
  /** When it entered the room (ms since the epoch). */
  joinedAt: number;
  /** A caller on the phone: never made moderator, and does not count as the meeting having started. */
  phone?: boolean;
  /** Its media was attached by `joinPlain` (a phone caller, a file played in), not by focus.join: it never moves. */
  plain?: boolean;
  /** Given in `joined`: a reconnecting browser comes back as this member with it (room-state.ts). */
  resumeToken?: string;
  /** A member whose socket is on another signal instance (this id), stood in for here (room-fanout.ts). */
  remote?: string;
  /** For a remote member: when its connection there entered (orders its presences). */
  remoteSince?: number;
}

export interface LeaveOptions {
  resumable?: boolean;
  displaced?: boolean;
  returning?: boolean;
}

export interface Room {
  key: string;
  /** The name as first typed by whoever created the room. */
  name: string;
  members: Map<string, Member>;
  /** The participant the bridge last named dominant speaker (sent to late joiners). */
  dominantSpeaker?: string;
  /** When its first participant entered (ms since the epoch). */
  startedAt: number;
  /** A breakout room (breakout-rooms.ts): the meeting's main room and this room's id there. */
  breakout?: { main: Room; id: string };
  /** A main room with breakout rooms: how many of its meeting's people (not phones) are in them now. */
  peopleInBreakouts?: () => number;
}

/** Someone entered or left a room: told to observers (webhooks.ts) from the one place each happens. */
export type PresenceChange =
  | { kind: 'joined'; room: Room; member: Member; roomStarted: boolean }
  | { kind: 'left'; room: Room; member: Member; roomFinished: boolean; reason: string }
  /** A room kept open while empty (`Rooms.holds`: a main room whose people are in breakout rooms) was let go. */
  | { kind: 'finished'; room: Room };

type JoinMessage = Extract<ClientMessage, { type: 'join' }>;

export function toParticipant(m: Member): Participant {
  const p: Participant = { id: m.id, displayName: m.displayName, audioMuted: m.audioMuted, videoMuted: m.videoMuted };
  if (m.handRaisedAt !== undefined) p.handRaisedAt = m.handRaisedAt;
  if (m.screenSharing) p.screenSharing = true;
  p.role = m.role;
  if (m.phone) p.phone = true;
  return p;
}

/** People in the room (or its breakout rooms) other than phone callers (a room with only callers has no host yet). */
export function peopleIn(room: Room | undefined): number {
  let n = room?.peopleInBreakouts?.() ?? 0;
  for (const m of room?.members.values() ?? []) if (!m.phone) n++;
  return n;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class Rooms {
  readonly rooms = new Map<string, Room>();
  private readonly bus: Bus;
  private readonly log: Logger;
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
  }

  private readonly policyLoads = new WeakMap<Room, Promise<void>>();
  private readonly forgetTimers = new Set<NodeJS.Timeout>();

  /**
   * The room `key` has nobody left here. Left on purpose: its stored chat and policy are forgotten now. Its last
   * connection dropped: they are kept for the people coming back, and forgotten after ROOM_RETURN_GRACE_MS if the
   * room is still empty here (with other signal instances, a room alive there has stand-ins here).
   */
  private roomEmptied(key: string, resumable: boolean): void {
    if (!this.state) return;
    if (!resumable) {
      this.state.forgetRoom(key);
      return;
    }
    const timer = setTimeout(() => {
      this.forgetTimers.delete(timer);
      if (!this.rooms.has(key)) this.state?.forgetRoom(key);
    }, ROOM_RETURN_GRACE_MS);
    timer.unref();
    this.forgetTimers.add(timer);
  }

  /** A moderator changed `room`'s policy: kept in the store, and told to the room's other signal instances. */
  policyChanged(room: Room): void {
    const p = storedPolicy(policyOf(room));
    this.state?.savePolicy(room.key, p);
    this.fanout?.policy(room, p);
  }

  /** Applies the stored policy of a room this instance starts or takes over (once per Room object). */
  policyLoaded(room: Room): Promise<void> {
    let p = this.policyLoads.get(room);
    if (!p) {
      p = (this.state?.policy(room.key) ?? Promise.resolve(undefined)).then((stored) => {
        if (!stored) return;
        applyPolicy(room, stored);
        broadcastRoomState(room);
      });
      this.policyLoads.set(room, p);
    }
    return p;
  }

  /** Another instance's moderator made our member `member` a moderator (wired to moderation in index.ts). */
  onPromotedElsewhere?: (member: Member) => void;

  /** Writes who `member`'s resume token resumes again (after its role or name changed). */
  remember(member: Member): void {
    if (!member.resumeToken || !this.state) return;
    // a reconnect joins the meeting's main room (its breakout store brings it back to its breakout room)
    const home = member.room.breakout?.main ?? member.room;
    this.state.remember(member.resumeToken, {
      room: home.key,
      roomName: home.name,
      participantId: member.id,
      displayName: member.displayName,
      role: member.role,
      authenticated: member.authenticated,
    });
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

  private broadcast(room: Room, message: ServerMessage, except?: Member): void {
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

  /** Called after a member left (`room.members` no longer has it; the room is gone unless `rooms` still has it). */
  onLeft?: (room: Room, member: Member) => void;
  /** An empty room stays open while this says so (a main room whose people are all in breakout rooms). */
  holds?: (room: Room) => boolean;
  /** Called after every join and leave (webhooks). */
  onPresence?: (change: PresenceChange) => void;

  private readonly memberWatchers: ((room: Room) => void)[] = [];

  /** `watcher` is called after anyone (here or on another signal instance) entered or left a room. */
  watchMembers(watcher: (room: Room) => void): void {
    this.memberWatchers.push(watcher);
  }

  private membersChanged(room: Room): void {
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
        if (resumed) await callBus(this.bus, busCalls.focusLeave, '', { conferenceId, participantId: id }, FOCUS_TIMEOUT_MS);
        const region = member.session.region;
        await callBus(this.bus, busCalls.focusJoin, '', region === undefined ? { conferenceId, participantId: id } : { conferenceId, participantId: id, region }, FOCUS_JOIN_TIMEOUT_MS);
        // focus learns the initial mute state the same way as later changes
        if (member.audioMuted) await callBus(this.bus, busCalls.focusMute, '', { conferenceId, participantId: id, kind: 'audio', muted: true }, FOCUS_TIMEOUT_MS);
        if (member.videoMuted) await callBus(this.bus, busCalls.focusMute, '', { conferenceId, participantId: id, kind: 'video', muted: true }, FOCUS_TIMEOUT_MS);
      },
      (e) => {
        if (session.member !== member) return;
        if (failedWith(busCalls.focusJoin, e, 'no-capacity')) {
          // every bridge is at its cap: this participant cannot have media, so it is not in the meeting either
          this.sendError(session, 'server-full', `this server has no room for another participant now (${NO_BRIDGE_CAPACITY}); try again later`);
          this.leave(session, 'no bridge capacity');
          return;
        }
        this.sendError(session, 'internal', `could not set up media for this meeting: ${errorText(e)}`);
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
      const member = this.admit(session, msg, grant);
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
    // a reconnect whose old connection is still here (this process has not noticed it drop yet) takes its place
    const stale = grant.resumeId !== undefined ? room?.members.get(grant.resumeId) : undefined;
    const refusal = this.caps.checkJoin(session.remoteAddress, room && room.members.size - (stale ? 1 : 0), this.rooms.size);
    if (refusal) {
      const level = this.caps.warnAbout(session.remoteAddress) ? 'warn' : 'debug';
      this.log[level]({ room: key, address: session.remoteAddress, code: refusal.code }, `join refused: ${refusal.message}`);
      this.sendError(session, refusal.code, refusal.message);
      return { refused: refusal.message };
    }
    // (it is coming straight back: nobody is made moderator in its place meanwhile)
    if (stale?.remote) this.dropRemote(stale, true, { returning: true });
    else if (stale) this.leave(stale.session, 'resumed on a new connection', { resumable: true, returning: true });
    room = this.rooms.get(key);
    this.caps.joined(session.remoteAddress, !room);
    const roomStarted = !room;
    if (!room) {
      room = { key, name: msg.room, members: new Map(), startedAt: Date.now() };
      this.rooms.set(key, room);
      void this.policyLoaded(room);
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
    // browsers get a resume token (a phone or plain-RTP sender has no use for one); the one used is spent
    if (this.state && !grant.phone) {
      member.resumeToken = newResumeToken();
      if (grant.resumedWith) this.state.forget(grant.resumedWith);
      this.remember(member);
    }
    this.enter(session, member, roomStarted, grant.resumeId !== undefined);
    return member;
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
    });
    this.broadcast(room, { type: 'participant-joined', participant: toParticipant(member) }, member);
    this.log.info({ room: room.key, participant: member.id, participants: room.members.size, ...(resumed ? { resumed: true } : {}) }, 'participant joined');
    this.log.debug({ room: room.key, participant: member.id, displayName: member.displayName }, 'participant name');
    this.tellPresence({ kind: 'joined', room, member, roomStarted });
    this.fanout?.joined(member);
    this.membersChanged(room);
  }

  /** Adds or updates the stand-in for a member whose socket is on signal instance `instance` (room-fanout.ts). */
  addRemote(instance: string, key: string, roomName: string, p: Participant, since: number): void {
    let room = this.rooms.get(key);
    if (!room) {
      room = { key, name: roomName, members: new Map(), startedAt: Date.now() };
      this.rooms.set(key, room);
      void this.policyLoaded(room);
    }
    const known = room.members.get(p.id);
    if (known && !known.remote) return; // ours (the fan-out makes it leave first when the remote one is newer)
    const member: Member = known ?? {
      id: p.id,
      room,
      displayName: p.displayName,
      audioMuted: p.audioMuted,
      videoMuted: p.videoMuted,
      session: { send: (message) => this.fanout?.forward(member, message) },
      role: p.role ?? 'participant',
      authenticated: false,
      queue: Promise.resolve(),
      joinedAt: since,
    };
    member.session.member = member;
    Object.assign(member, { displayName: p.displayName, audioMuted: p.audioMuted, videoMuted: p.videoMuted, role: p.role ?? 'participant', remote: instance, remoteSince: since });
    member.handRaisedAt = p.handRaisedAt;
    member.screenSharing = p.screenSharing;
    member.phone = p.phone;
    if (known) return;
    room.members.set(p.id, member);
    this.broadcast(room, { type: 'participant-joined', participant: toParticipant(member) }, member);
    this.membersChanged(room);
    this.log.debug({ room: key, participant: p.id, instance }, 'participant joined on another signal instance');
  }

  /** Takes out the stand-in of a remote member (it left there, or its instance went silent). */
  dropRemote(member: Member, resumable: boolean, opts: { returning?: boolean } = {}): void {
    const room = member.room;
    if (!member.remote || room.members.get(member.id) !== member) return;
    member.session.member = undefined;
    room.members.delete(member.id);
    // a returning member's room stays (its lock, lobby and polls with it) for the join that follows at once
    if (room.members.size === 0 && !opts.returning) {
      this.rooms.delete(room.key);
      this.roomEmptied(room.key, resumable);
    }
    this.broadcast(room, { type: 'participant-left', id: member.id });
    this.log.debug({ room: room.key, participant: member.id }, 'participant left on another signal instance');
    this.membersChanged(room);
    if (opts.returning) return;
    this.afterExit(room, member);
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
   */
  move(member: Member, target: Room, reason: string): Member {
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
    // a reconnect still comes back with its token (to the main room, from where the breakout store returns it)
    if (member.resumeToken) moved.resumeToken = member.resumeToken;
    this.enter(session, moved, target.members.size === 0);
    this.remember(moved); // its id may have changed
    this.setUpMedia(session, moved);
    if (from.members.size === 0 && !this.holds?.(from)) this.release(from);
    this.afterExit(from, member);
    return moved;
  }

  /** A room for a breakout room of `main` (made, not yet in `rooms`, when nobody is in it). */
  breakoutRoom(main: Room, id: string, key: string, name: string): Room {
    return this.rooms.get(key) ?? { key, name, members: new Map(), startedAt: Date.now(), breakout: { main, id } };
  }

  /** Lets go of an empty room that `holds` kept open. */
  release(room: Room): void {
    if (room.members.size > 0 || this.rooms.get(room.key) !== room) return;
    this.rooms.delete(room.key);
    // the meeting is over: its stored chat and policy go (a next meeting of that name starts afresh)
    this.roomEmptied(room.key, false);
    this.log.info({ room: room.key }, 'room finished');
    this.tellPresence({ kind: 'finished', room });
  }

  /** Takes `member` out of its room: the others and focus are told; an empty room goes unless `holds` keeps it. */
  private exit(member: Member, reason: string, moving = false, opts: LeaveOptions = {}): void {
    const room = member.room;
    room.members.delete(member.id);
    if (room.members.size === 0 && !moving && !opts.returning && !this.holds?.(room)) {
      this.rooms.delete(room.key);
      this.roomEmptied(room.key, opts.resumable === true);
    }
    this.broadcast(room, { type: 'participant-left', id: member.id });
    this.log.info({ room: room.key, participant: member.id, reason, participants: room.members.size }, 'participant left');
    this.tellPresence({ kind: 'left', room, member, roomFinished: !this.rooms.has(room.key), reason });
    this.membersChanged(room);
    if (!opts.displaced) {
      // a move is not a goodbye to the meeting: other instances keep its stored state
      this.fanout?.left(member, opts.resumable === true || moving);
      this.enqueue(member, 'focus leave', () =>
        callBus(this.bus, busCalls.focusLeave, '', { conferenceId: room.key, participantId: member.id }, FOCUS_TIMEOUT_MS),
      );
    }
    if (!moving && !opts.returning) this.afterExit(room, member);
  }

  private afterExit(room: Room, member: Member): void {
    try {
      this.onLeft?.(room, member);
    } catch (e) {
      this.log.error({ room: room.key, err: errorText(e) }, 'after-leave handling failed');
    }
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
      callBus(this.bus, busCalls.focusMute, '', { conferenceId: member.room.key, participantId: member.id, kind, muted }, FOCUS_TIMEOUT_MS),
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

  /** A `signal.offer` event from focus: forwarded to that participant's socket when it is still here. */
  deliverOffer(payload: unknown): void {
    const parsed = signalOfferSchema.safeParse(payload);
    if (!parsed.success) {
      this.log.warn({ err: parsed.error.issues[0]?.message }, 'dropped a malformed signal.offer');
      return;
    }
    const { conferenceId, participantId, sdp, version, sources } = parsed.data;
    const member = this.rooms.get(conferenceId)?.members.get(participantId);
    if (!member) {
      this.log.debug({ room: conferenceId, participant: participantId }, 'offer for a participant who is gone');
      return;
    }
    member.session.send({ type: 'offer', sdp, version, sources });
  }

  /** A `bridge.dominant-speaker` event: tells the room who speaks (malformed or unknown ones are dropped). */
  deliverDominantSpeaker(payload: unknown): void {
    const parsed = bridgeDominantSpeakerSchema.safeParse(payload);
    if (!parsed.success) return;
    const room = this.rooms.get(parsed.data.conferenceId);
    if (!room || !room.members.has(parsed.data.endpointId)) return;
    // every bridge of a conference that spans several judges from the same audio: the same name comes from each
    if (room.dominantSpeaker === parsed.data.endpointId) return;
    room.dominantSpeaker = parsed.data.endpointId;
    this.broadcast(room, { type: 'dominant-speaker', participantId: parsed.data.endpointId });
    this.onSpeaker?.(room);
  }

  /** Called after the room's dominant speaker changed (the recorder's speaker layout follows it). */
  onSpeaker?: (room: Room) => void;
  /** Called after someone's microphone or camera was turned off or on (a multitrack recording's timeline). */
  onMuted?: (room: Room) => void;

  /** Every participant leaves (focus is told); waits up to `timeoutMs` for those requests. */
  async closeAll(timeoutMs = 2000): Promise<void> {
    for (const room of [...this.rooms.values()]) {
      // resumable: their browsers reconnect, to this server once it is back or to another signal instance
      for (const m of [...room.members.values()]) if (!m.remote) this.leave(m.session, 'server stopping', { resumable: true });
    }
    // a stopping instance leaves its rooms' state to the store (another instance, or this one restarted)
    for (const t of this.forgetTimers) clearTimeout(t);
    this.forgetTimers.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}
