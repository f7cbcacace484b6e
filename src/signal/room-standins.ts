// Stand-ins: a member of one of our rooms whose socket is on another signal instance (room-fanout.ts tells who).
// It is a Member with `remote` set to that instance's id; what it is sent goes to the fan-out (which forwards it
// there). Adding one may start the room here; dropping the last member of a room ends it here (its stored state
// is kept when the drop was a dropped connection).
import type { Participant, ServerMessage } from '../protocol/signal-messages.ts';
import { toParticipant, type Member, type Room } from './room-types.ts';
import type { RoomFanout } from './room-fanout.ts';
import type { Logger } from '../log.ts';

/** What the stand-ins need of Rooms (rooms.ts). */
export interface StandInHost {
  readonly rooms: Map<string, Room>;
  readonly fanout: RoomFanout | undefined;
  readonly log: Logger;
  /** A room made here: its stored policy is applied. */
  roomMade(room: Room): void;
  roomEmptied(key: string, resumable: boolean): void;
  broadcast(room: Room, message: ServerMessage, except?: Member): void;
  afterExit(room: Room, member: Member, resumable: boolean): void;
  /** Who is in the room changed (peer-to-peer for two follows it). */
  membersChanged(room: Room): void;
  /** Someone's microphone or camera was turned off or on (a remote member's too: speaker stats, recordings). */
  readonly onMuted?: (room: Room) => void;
  /** An empty room stays open while this says so (a main room whose people are in breakout rooms). */
  readonly holds?: (room: Room) => boolean;
}

/** A stand-in in a breakout room: its meeting's main room (key and name) and the breakout room's id there. */
export interface StandInBreakout {
  main: string;
  mainName: string;
  id: string;
}

/** The room `key` here, made (and its stored state read) when it is not. */
function roomHere(host: StandInHost, key: string, name: string, breakout?: StandInBreakout): Room {
  let room = host.rooms.get(key);
  if (!room) {
    room = { key, name, members: new Map(), startedAt: Date.now() };
    // a breakout room belongs to its main room here too (which stays open while it has people)
    if (breakout) room.breakout = { main: roomHere(host, breakout.main, breakout.mainName), id: breakout.id };
    host.rooms.set(key, room);
    host.roomMade(room);
  }
  return room;
}

/** Adds or updates the stand-in for a member whose socket is on signal instance `instance`. */
export function addStandIn(host: StandInHost, instance: string, key: string, roomName: string, p: Participant, since: number, breakout?: StandInBreakout): void {
  const room = roomHere(host, key, roomName, breakout);
  const known = room.members.get(p.id);
  if (known && !known.remote) return; // ours (the fan-out makes it leave first when the remote one is newer)
  const member: Member = known ?? {
    id: p.id,
    room,
    displayName: p.displayName,
    audioMuted: p.audioMuted,
    videoMuted: p.videoMuted,
    session: { send: (message) => host.fanout?.forward(member, message) },
    role: p.role ?? 'participant',
    authenticated: false,
    queue: Promise.resolve(),
    joinedAt: since,
  };
  member.session.member = member;
  const mutedChanged = known !== undefined && (known.audioMuted !== p.audioMuted || known.videoMuted !== p.videoMuted);
  Object.assign(member, { displayName: p.displayName, audioMuted: p.audioMuted, videoMuted: p.videoMuted, role: p.role ?? 'participant', remote: instance, remoteSince: since });
  member.handRaisedAt = p.handRaisedAt;
  member.screenSharing = p.screenSharing;
  member.phone = p.phone;
  if (known) {
    if (mutedChanged) host.onMuted?.(room);
    return;
  }
  room.members.set(p.id, member);
  host.broadcast(room, { type: 'participant-joined', participant: toParticipant(member) }, member);
  // the bridge named them before their stand-in came (it names nobody twice): the room learns it now
  if (room.dominantSpeaker === p.id) host.broadcast(room, { type: 'dominant-speaker', participantId: p.id }, member);
  host.membersChanged(room);
  host.log.debug({ room: key, participant: p.id, instance }, 'participant joined on another signal instance');
}

/** Takes out the stand-in of a remote member (it left there, or its instance went silent). */
export function dropStandIn(host: StandInHost, member: Member, resumable: boolean, opts: { returning?: boolean } = {}): void {
  const room = member.room;
  if (!member.remote || room.members.get(member.id) !== member) return;
  member.session.member = undefined;
  room.members.delete(member.id);
  // a returning member's room stays (its lock, lobby and polls with it) for the join that follows at once
  if (room.members.size === 0 && !opts.returning && !host.holds?.(room)) {
    host.rooms.delete(room.key);
    host.roomEmptied(room.key, resumable);
  }
  host.broadcast(room, { type: 'participant-left', id: member.id });
  host.log.debug({ room: room.key, participant: member.id }, 'participant left on another signal instance');
  host.membersChanged(room);
  if (opts.returning) return;
  host.afterExit(room, member, resumable);
}
