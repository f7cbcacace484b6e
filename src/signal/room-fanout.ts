// Several signal instances serving one room: each instance keeps its own members (their sockets are here) and a
// stand-in for every member of the same room on another instance ("remote member": `Member.remote` is that
// instance's id, its session forwards what it is sent to `signal.deliver.<instance>`). So every broadcast in
// signal (presence, chat, hands, moderation, polls...) reaches everyone in the room wherever their socket is,
// and rosters, caps and "is anyone here" count them.
//
// - Presence (`signal.presence`): an instance tells when its member enters, changes (every participant-updated
//   about it) or leaves; the others add, update or drop the stand-in and tell their own members of joins and
//   leaves. Offers, dominant-speaker, joins and leaves are never forwarded (every instance makes those itself
//   from the bus or from presence), so nobody gets them twice.
// - `since` (when that connection entered) orders presences of one participant: a participant that reconnected
//   to another instance wins over its older connection (which leaves without telling focus).
// - Liveness: `signal.alive` every 2 s; the stand-ins of an instance silent for 10 s are dropped (a killed
//   instance: its people come back through resume anyway); time this process itself did not run does not count
//   (stall-clock.ts). A starting instance says `signal.hello` and the others
//   tell their members again.
// - A room's policy (lock, lobby, self-unmute) changed on one instance is applied by the others and told to their
//   members (`signal.room-policy`); a moderator granting the role to a member elsewhere asks its instance.
// - Shared room items (shared-room-items.ts: subject, polls, recording flags) live in the store; a change is
//   announced by name (`signal.room-item`) and the room's other instances re-read it.
// - Lobby knocks: the list is a shared room item (lobby.ts); a moderator's answer to a knock held by another
//   instance goes to it (`signal.lobby-answer.<instance>`); the knocks of a silent instance leave the lists.
// - Breakout rooms: their list is a shared room item of the main room (breakout-rooms.ts); a presence in a breakout
//   room names its main room (so a stand-in's breakout room belongs to it here too); a moderator's move of a member
//   held by another instance goes to it (`signal.breakout-move.<instance>`), which makes the move.
import { randomBytes } from 'node:crypto';
import type { Bus, Json } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { breakoutMoveSchema, deliverSchema, fanoutSubjects, instanceSchema, lobbyAnswerSchema, presenceSchema, roomItemSchema, roomPolicySchema, type Presence, type StoredPolicy } from '../protocol/signal-fanout-messages.ts';
import { applyPolicy, broadcastRoomState } from './room-policy.ts';
import { StallClock } from './stall-clock.ts';
import type { ServerMessage } from '../protocol/signal-messages.ts';
import { toParticipant, type Member, type Rooms } from './rooms.ts';

const ALIVE_EVERY_MS = 2000;
const SILENT_AFTER_MS = 10_000;
/** Made by every instance itself: never forwarded to another instance's member. */
const LOCAL_ONLY = new Set<string>(['offer', 'slot-map', 'send-layers', 'dominant-speaker', 'participant-joined', 'participant-left', 'joined']);

export class RoomFanout {
  readonly instance = randomBytes(9).toString('base64url');
  private readonly bus: Bus;
  private readonly log: Logger;
  private rooms!: Rooms;
  private readonly lastHeard = new Map<string, number>();
  private stalls = new StallClock(ALIVE_EVERY_MS);
  private readonly unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Sessions whose sends are watched for participant-updated about their member (wrapped once). */
  private readonly watched = new WeakSet<object>();

  constructor(bus: Bus, log: Logger) {
    this.bus = bus;
    this.log = log.child({ instance: this.instance });
  }

  start(rooms: Rooms): void {
    this.rooms = rooms;
    const on = (subject: string, handle: (payload: unknown) => void) =>
      this.unsubscribe.push(
        this.bus.subscribe(subject, (payload) => {
          try {
            handle(payload);
          } catch (e) {
            this.log.error({ subject, err: (e as Error).message }, 'room fan-out handling failed');
          }
        }),
      );
    on(fanoutSubjects.presence, (p) => this.onPresence(p));
    on(fanoutSubjects.deliver(this.instance), (p) => this.onDeliver(p));
    on(fanoutSubjects.policy, (p) => {
      const parsed = roomPolicySchema.safeParse(p);
      if (!parsed.success || parsed.data.instance === this.instance) return;
      const room = this.rooms.rooms.get(parsed.data.room);
      if (!room) return;
      applyPolicy(room, parsed.data.policy);
      broadcastRoomState(room, true);
      this.rooms.onPolicyElsewhere?.(room);
    });
    const items = rooms.state?.items;
    if (items) {
      items.announce = (room, item) => this.bus.publish(fanoutSubjects.roomItem, { instance: this.instance, room, item });
      on(fanoutSubjects.roomItem, (p) => {
        const parsed = roomItemSchema.safeParse(p);
        if (!parsed.success || parsed.data.instance === this.instance) return;
        const room = this.rooms.rooms.get(parsed.data.room);
        if (room) void items.reload(room, parsed.data.item, true);
      });
    }
    on(fanoutSubjects.lobbyAnswer(this.instance), (p) => {
      const parsed = lobbyAnswerSchema.safeParse(p);
      if (!parsed.success) return;
      const room = this.rooms.rooms.get(parsed.data.room);
      if (room) this.rooms.onLobbyAnswer?.(room, parsed.data.id, parsed.data.admit, parsed.data.by);
    });
    on(fanoutSubjects.breakoutMove(this.instance), (p) => {
      const parsed = breakoutMoveSchema.safeParse(p);
      if (!parsed.success) {
        this.log.warn({ err: parsed.error.issues[0]?.message }, 'dropped a malformed signal.breakout-move');
        return;
      }
      const d = parsed.data;
      this.rooms.onBreakoutMove?.(d.main, d.participantId, d.roomId, d.by);
    });
    on(fanoutSubjects.hello, (p) => {
      const parsed = instanceSchema.safeParse(p);
      if (!parsed.success || parsed.data.instance === this.instance) return;
      this.heard(parsed.data.instance);
      for (const room of this.rooms.rooms.values()) for (const m of room.members.values()) if (!m.remote) this.publish(m, 'in');
    });
    on(fanoutSubjects.alive, (p) => {
      const parsed = instanceSchema.safeParse(p);
      if (parsed.success && parsed.data.instance !== this.instance) this.heard(parsed.data.instance);
    });
    this.bus.publish(fanoutSubjects.hello, { instance: this.instance });
    this.stalls = new StallClock(ALIVE_EVERY_MS);
    this.timer = setInterval(() => {
      this.bus.publish(fanoutSubjects.alive, { instance: this.instance });
      this.sweep();
    }, ALIVE_EVERY_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** A member of this instance entered a room: the others learn it, and its later changes. */
  joined(member: Member): void {
    const session = member.session;
    if (!this.watched.has(session)) {
      this.watched.add(session);
      const send = session.send.bind(session);
      session.send = (message: ServerMessage) => {
        send(message);
        const m = session.member;
        if (message.type === 'participant-updated' && m && !m.remote && message.participant.id === m.id) this.publish(m, 'in');
      };
    }
    this.publish(member, 'in');
  }

  /** A member of this instance left (`resumable`: its connection dropped). */
  left(member: Member, resumable: boolean): void {
    this.publish(member, 'out', resumable);
  }

  /** A moderator here removed a member whose socket is on another instance: that instance makes it leave. */
  removeElsewhere(member: Member, reason: string): void {
    if (!member.remote) return;
    this.bus.publish(fanoutSubjects.deliver(member.remote), { room: member.room.key, participantId: member.id, leave: reason });
  }

  /** The room's other instances apply its new policy. */
  policy(room: Member['room'], policy: StoredPolicy): void {
    this.bus.publish(fanoutSubjects.policy, { instance: this.instance, room: room.key, policy });
  }

  /** A moderator here answered a knock held by instance `instance`. */
  lobbyAnswer(instance: string, roomKey: string, id: string, admit: boolean, by: string): void {
    this.bus.publish(fanoutSubjects.lobbyAnswer(instance), { room: roomKey, id, admit, by });
  }

  /** A moderator here moves a member held by instance `instance` into breakout room `roomId` of meeting `mainKey` (null: back). */
  breakoutMove(instance: string, mainKey: string, participantId: string, roomId: string | null, by: string): void {
    this.bus.publish(fanoutSubjects.breakoutMove(instance), { main: mainKey, participantId, roomId, by });
  }

  /** A moderator here made a member elsewhere a moderator: its instance does it (and tells everyone). */
  promoteElsewhere(member: Member): void {
    if (!member.remote) return;
    this.bus.publish(fanoutSubjects.deliver(member.remote), { room: member.room.key, participantId: member.id, promote: true });
  }

  /** What a remote member is sent goes to its instance (except what that instance makes itself). */
  forward(member: Member, message: ServerMessage): void {
    if (!member.remote || LOCAL_ONLY.has(message.type)) return;
    this.bus.publish(fanoutSubjects.deliver(member.remote), { room: member.room.key, participantId: member.id, message: message as unknown as Json });
  }

  private publish(member: Member, state: 'in' | 'out', resumable = false): void {
    const presence: Presence = { instance: this.instance, room: member.room.key, roomName: member.room.name, participant: toParticipant(member), state, since: member.joinedAt };
    if (state === 'out' && resumable) presence.resumable = true;
    const breakout = member.room.breakout;
    if (breakout) presence.breakout = { main: breakout.main.key, mainName: breakout.main.name, id: breakout.id };
    this.bus.publish(fanoutSubjects.presence, presence as unknown as Json);
  }

  private heard(instance: string): void {
    this.lastHeard.set(instance, Date.now());
  }

  private onPresence(payload: unknown): void {
    const parsed = presenceSchema.safeParse(payload);
    if (!parsed.success) {
      this.log.warn({ err: parsed.error.issues[0]?.message }, 'dropped a malformed signal.presence');
      return;
    }
    const p = parsed.data;
    if (p.instance === this.instance) return;
    this.heard(p.instance);
    const here = this.rooms.rooms.get(p.room)?.members.get(p.participant.id);
    if (p.state === 'out') {
      // only the instance that holds it now may take it out (an older connection's late "out" changes nothing)
      if (here?.remote === p.instance && p.since >= (here.remoteSince ?? 0)) this.rooms.dropRemote(here, p.resumable === true);
      return;
    }
    if (here && !here.remote) {
      if (p.since <= here.joinedAt) return; // our connection is the newer one
      // it reconnected to another instance: our old connection leaves, without telling focus (it is back there)
      this.rooms.leave(here.session, 'resumed on another signal instance', { resumable: true, displaced: true });
    } else if (here && p.since < (here.remoteSince ?? 0)) return;
    this.rooms.addRemote(p.instance, p.room, p.roomName, p.participant, p.since, p.breakout);
  }

  private onDeliver(payload: unknown): void {
    const parsed = deliverSchema.safeParse(payload);
    if (!parsed.success) {
      this.log.warn({ err: parsed.error.issues[0]?.message }, 'dropped a malformed signal.deliver');
      return;
    }
    const d = parsed.data;
    const member = this.rooms.rooms.get(d.room)?.members.get(d.participantId);
    if (!member || member.remote) return; // gone meanwhile
    if (d.leave !== undefined) this.rooms.leave(member.session, d.leave);
    else if (d.promote) this.rooms.onPromotedElsewhere?.(member);
    else if (d.message) member.session.send(d.message as unknown as ServerMessage);
  }

  /** Drops the stand-ins (and lobby knocks) of instances not heard from for SILENT_AFTER_MS. */
  private sweep(): void {
    const now = Date.now();
    // time this process did not run is not the other instances' silence (stall-clock.ts)
    const stalled = this.stalls.tick(now);
    if (stalled > 0) for (const [instance, heard] of this.lastHeard) this.lastHeard.set(instance, heard + stalled);
    for (const [instance, heard] of [...this.lastHeard]) {
      if (now - heard <= SILENT_AFTER_MS) continue;
      this.lastHeard.delete(instance);
      for (const room of this.rooms.rooms.values()) this.rooms.onInstanceSilent?.(room, instance);
    }
    for (const room of [...this.rooms.rooms.values()]) {
      for (const m of [...room.members.values()]) {
        if (!m.remote) continue;
        const heard = this.lastHeard.get(m.remote) ?? 0;
        if (now - heard > SILENT_AFTER_MS) {
          this.log.info({ room: room.key, participant: m.id, from: m.remote }, 'signal instance silent: its participant is dropped here');
          this.rooms.dropRemote(m, true);
        }
      }
    }
  }
}
