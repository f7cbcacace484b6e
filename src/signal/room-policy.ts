// Per-room settings a moderator changes: the room password (lock), the lobby, and whether participants may
// unmute themselves. They live as long as the room object (a room emptied and started again starts open), and in
// the room state store (room-state.ts) for another signal instance or this one restarted; `Rooms.policyChanged`
// saves a change and tells the other instances.
import type { Role } from '../protocol/access-messages.ts';
import type { ServerMessage } from '../protocol/signal-messages.ts';
import type { StoredPolicy } from '../protocol/signal-fanout-messages.ts';
import type { Member, Room } from './rooms.ts';

export interface RoomPolicy {
  /** Set while the room is locked. */
  password: string | undefined;
  lobby: boolean;
  selfUnmuteAllowed: boolean;
  /** "Stop everyone's video" was done and self-unmuting not allowed since: newcomers join with the camera off while it is off. */
  camerasStopped?: boolean;
}

const policies = new WeakMap<Room, RoomPolicy>();

/** The policy as stored and sent between instances (no undefined fields). */
export function storedPolicy(p: RoomPolicy): StoredPolicy {
  return {
    ...(p.password !== undefined ? { password: p.password } : {}),
    lobby: p.lobby,
    selfUnmuteAllowed: p.selfUnmuteAllowed,
    ...(p.camerasStopped ? { camerasStopped: true } : {}),
  };
}

/** Replaces `room`'s policy with a stored or another instance's one. */
export function applyPolicy(room: Room, stored: StoredPolicy): void {
  Object.assign(policyOf(room), { password: stored.password, lobby: stored.lobby, selfUnmuteAllowed: stored.selfUnmuteAllowed, camerasStopped: stored.camerasStopped });
}

export function policyOf(room: Room): RoomPolicy {
  let p = policies.get(room);
  if (!p) {
    p = { password: undefined, lobby: false, selfUnmuteAllowed: true };
    policies.set(room, p);
  }
  return p;
}

export function roomStateFor(room: Room, role: Role): ServerMessage {
  const p = policyOf(room);
  const msg: ServerMessage = { type: 'room-state', locked: p.password !== undefined, lobby: p.lobby, selfUnmuteAllowed: p.selfUnmuteAllowed };
  if (role === 'moderator' && p.password !== undefined) msg.password = p.password;
  return msg;
}

export function moderatorsOf(room: Room): Member[] {
  return [...room.members.values()].filter((m) => m.role === 'moderator');
}

/**
 * Tells every member the room's settings (moderators also get the password); `hereOnly`: only this instance's own
 * members (a change another instance made: it told its own).
 */
export function broadcastRoomState(room: Room, hereOnly = false): void {
  for (const m of room.members.values()) if (!hereOnly || !m.remote) m.session.send(roomStateFor(room, m.role));
}
