// Audio/video moderation ("Ask to unmute"), enforced here on the server. While a moderator moderates a kind
// (audio, video or both), a participant who is not a moderator has it off: turning it on moderates it off for
// everyone who is on (forceMute), joining makes it off (admission.ts asks `moderatedAtJoin`), and a self-unmute
// is refused (moderation.ts asks `mayUnmute`) until a moderator allows that participant. The server's mute state
// is what focus and the bridge follow, so a browser that sends audio or camera video anyway is neither heard nor
// seen (the bridge drops it: every simulcast layer and its RTX; a shared screen is not a camera).
// A participant asks (`ask-to-unmute`, rate-limited); moderators see the whole list of requests and allow one, all,
// or dismiss one. State lives with the room object (a room emptied and started again is not moderated); a
// permission belongs to one member (a page reload joins as a new member, muted, and asks again, as in Jitsi).
// Bounded by the room: at most one request per member and kind.
import type { Logger } from '../log.ts';
import type { AvModerationClientMessage, UnmuteRequest } from '../protocol/av-moderation-messages.ts';
import type { Role } from '../protocol/access-messages.ts';
import type { MediaKind } from '../protocol/signal-messages.ts';
import type { Member, Room } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';
import { moderatorOnly } from './moderator-only.ts';

const KINDS: readonly MediaKind[] = ['audio', 'video'];
/** Requests (and withdrawals) one participant may send at once, and per second after that. */
export const ASK_BURST = 4;
export const ASK_PER_SECOND = 0.2;

interface RoomAvModeration {
  enabled: Record<MediaKind, boolean>;
  /** Members allowed to turn the kind on while it is moderated. */
  allowed: Record<MediaKind, Set<string>>;
  /** Waiting requests: member id -> when asked (ms since the epoch), in the order asked. */
  requests: Record<MediaKind, Map<string, number>>;
}

const states = new WeakMap<Room, RoomAvModeration>();

function stateOf(room: Room): RoomAvModeration {
  let s = states.get(room);
  if (!s) {
    s = { enabled: { audio: false, video: false }, allowed: { audio: new Set(), video: new Set() }, requests: { audio: new Map(), video: new Map() } };
    states.set(room, s);
  }
  return s;
}

/** Whether `member` may turn `kind` on now. */
export function mayUnmute(member: Member, kind: MediaKind): boolean {
  if (member.role === 'moderator') return true;
  const s = states.get(member.room);
  return !s || !s.enabled[kind] || s.allowed[kind].has(member.id);
}

/** Whether someone joining `room` with `role` must start with `kind` off. */
export function moderatedAtJoin(room: Room | undefined, role: Role, kind: MediaKind): boolean {
  if (!room || role === 'moderator') return false;
  return states.get(room)?.enabled[kind] === true;
}

export class AvModeration {
  private readonly log: Logger;
  private readonly forceMute: (m: Member, by: string, kind: MediaKind) => void;
  private readonly buckets = new WeakMap<Member, TokenBucket>();

  /** `forceMute`: turns a member's kind off on the server and tells them by whom (Moderation.forceMute). */
  constructor(opts: { log: Logger; forceMute: (m: Member, by: string, kind: MediaKind) => void }) {
    this.log = opts.log;
    this.forceMute = opts.forceMute;
  }

  handle(member: Member, msg: AvModerationClientMessage): void {
    if (msg.type === 'ask-to-unmute') {
      this.ask(member, msg.kind, msg.raised);
      return;
    }
    if (!moderatorOnly(this.log, member, msg.type)) return;
    const room = member.room;
    const s = stateOf(room);
    this.log.info({ room: room.key, participant: member.id, action: msg.type, kind: msg.kind, target: 'target' in msg ? msg.target : undefined }, 'moderator action');
    switch (msg.type) {
      case 'set-av-moderation':
        if (s.enabled[msg.kind] === msg.enabled) {
          this.sendState(member);
          return;
        }
        s.enabled[msg.kind] = msg.enabled;
        s.allowed[msg.kind].clear();
        s.requests[msg.kind].clear();
        if (msg.enabled) {
          for (const m of [...room.members.values()]) {
            const on = msg.kind === 'audio' ? !m.audioMuted : !m.videoMuted;
            if (m.role !== 'moderator' && on) this.forceMute(m, member.displayName, msg.kind);
          }
        }
        for (const m of room.members.values()) this.sendState(m);
        this.sendRequests(room);
        return;
      case 'allow-unmute': {
        const ids = msg.target !== undefined ? [msg.target] : [...s.requests[msg.kind].keys()];
        if (msg.target !== undefined && !room.members.has(msg.target)) {
          member.session.send({ type: 'error', code: 'no-such-participant', message: 'that participant is not in this meeting' });
          return;
        }
        for (const id of ids) {
          const t = room.members.get(id);
          if (!t) continue;
          s.requests[msg.kind].delete(id);
          if (s.enabled[msg.kind]) s.allowed[msg.kind].add(id);
          this.sendState(t);
        }
        this.sendRequests(room);
        return;
      }
      case 'dismiss-unmute-request': {
        if (!s.requests[msg.kind].delete(msg.target)) return;
        const t = room.members.get(msg.target);
        if (t) this.sendState(t);
        this.sendRequests(room);
        return;
      }
    }
  }

  private ask(member: Member, kind: MediaKind, raised: boolean): void {
    let bucket = this.buckets.get(member);
    if (!bucket) this.buckets.set(member, (bucket = new TokenBucket(ASK_BURST, ASK_PER_SECOND)));
    if (!bucket.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many requests to unmute; wait a moment' });
      return;
    }
    const s = stateOf(member.room);
    const requests = s.requests[kind];
    const wanted = raised && !mayUnmute(member, kind);
    if (wanted === requests.has(member.id)) {
      this.sendState(member);
      return;
    }
    if (wanted) requests.set(member.id, Date.now());
    else requests.delete(member.id);
    this.log.info({ room: member.room.key, participant: member.id, kind, raised: wanted }, 'unmute request');
    this.sendState(member);
    this.sendRequests(member.room);
  }

  /** Right after a join: the room's moderation; moderators also get the requests. */
  afterJoin(member: Member): void {
    this.sendState(member);
    if (member.role === 'moderator') this.sendRequests(member.room, member);
  }

  /** After someone became a moderator (they may unmute now, and see the requests). */
  roleChanged(member: Member): void {
    const s = states.get(member.room);
    if (s) for (const k of KINDS) s.requests[k].delete(member.id);
    this.sendState(member);
    if (member.role === 'moderator') this.sendRequests(member.room);
  }

  /** After a member left: its permission and requests go with it. */
  afterLeave(room: Room, member: Member): void {
    const s = states.get(room);
    if (!s) return;
    let changed = false;
    for (const k of KINDS) {
      s.allowed[k].delete(member.id);
      changed = s.requests[k].delete(member.id) || changed;
    }
    if (changed) this.sendRequests(room);
  }

  private sendState(member: Member): void {
    const s = states.get(member.room);
    const enabled = { audio: s?.enabled.audio ?? false, video: s?.enabled.video ?? false };
    member.session.send({
      type: 'av-moderation',
      enabled,
      allowed: { audio: mayUnmute(member, 'audio'), video: mayUnmute(member, 'video') },
      asked: { audio: s?.requests.audio.has(member.id) ?? false, video: s?.requests.video.has(member.id) ?? false },
    });
  }

  /** The whole list of requests, to `to` or to every moderator of the room. */
  private sendRequests(room: Room, to?: Member): void {
    const s = states.get(room);
    const requests: UnmuteRequest[] = [];
    if (s) {
      for (const k of KINDS) {
        for (const id of s.requests[k].keys()) {
          const m = room.members.get(id);
          if (m) requests.push({ id, displayName: m.displayName, kind: k });
        }
      }
    }
    const message = { type: 'unmute-requests', requests } as const;
    if (to) to.session.send(message);
    else for (const m of room.members.values()) if (m.role === 'moderator') m.session.send(message);
  }
}
