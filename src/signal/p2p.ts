// Peer-to-peer for two (issue 20; protocol in src/protocol/p2p-messages.ts). Per room: when exactly two browsers
// are in it, both on this signal instance, and nothing else needs the room's media at the bridge (no phone caller
// or played file, which are members; no recording or live stream, no `tertulia tap`: "holds"), a P2P session
// starts between them. Anything else ends it: both go back to the bridge, whose connection they kept up.
// The later joiner offers (one offerer: no glare). Signals are relayed only between the two members of the
// current session, each member at most P2P_SIGNAL_BURST at once and P2P_SIGNALS_PER_SECOND after that.
// A session whose connection failed is not tried again for the same two members (a reload makes a new member).
// Changes are looked at once per room per tick (after a move's leave and join, after a played file is marked plain).
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { P2pSignal } from '../protocol/p2p-messages.ts';
import type { Member, Room } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';

export const P2P_SIGNAL_BURST = 40;
export const P2P_SIGNALS_PER_SECOND = 10;

interface P2pSession {
  id: string;
  /** The offerer (the later joiner) and the answerer. */
  offerer: Member;
  answerer: Member;
}

export class PeerToPeer {
  private readonly sessions = new Map<Room, P2pSession>();
  /** The two members whose connection failed, per room: not tried again while they are the pair. */
  private readonly failedPairs = new WeakMap<Room, readonly [Member, Member]>();
  /** Things that need a room's media at the bridge (a recording, a tap), counted per room. */
  private readonly holds = new Map<Room, number>();
  private readonly buckets = new WeakMap<Member, TokenBucket>();
  private readonly pending = new Set<Room>();
  private readonly enabled: boolean;
  private readonly log: Logger;
  /** More reasons to stay on the bridge (recordings and live streams running or starting). */
  keepOnBridge: (room: Room) => boolean = () => false;

  constructor(opts: { enabled: boolean; log: Logger }) {
    this.enabled = opts.enabled;
    this.log = opts.log;
  }

  /** Rooms with a P2P session now (resource counts: 0 once everyone left). */
  get size(): number {
    return this.sessions.size;
  }

  /** Keeps `room` on the bridge until the returned function is called. */
  hold(room: Room): () => void {
    this.holds.set(room, (this.holds.get(room) ?? 0) + 1);
    this.reconsider(room);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.holds.get(room) ?? 1) - 1;
      if (n <= 0) this.holds.delete(room);
      else this.holds.set(room, n);
      this.reconsider(room);
    };
  }

  /** `room`'s members (or what keeps it on the bridge) changed: looked at once this tick is over. */
  reconsider(room: Room): void {
    if (this.pending.has(room)) return;
    this.pending.add(room);
    queueMicrotask(() => {
      this.pending.delete(room);
      this.apply(room);
    });
  }

  private apply(room: Room): void {
    const pair = this.enabled ? this.pairOf(room) : undefined;
    const current = this.sessions.get(room);
    if (current && pair && samePair([current.offerer, current.answerer], pair)) return;
    if (current) this.stop(room, current, pair ? 'other members' : 'not two browsers only, or held on the bridge');
    if (!pair) return;
    const failed = this.failedPairs.get(room);
    if (failed && samePair(failed, pair)) return;
    this.start(room, pair);
  }

  /** The two browsers of `room` (the later joiner first) when P2P may run there now. */
  private pairOf(room: Room): [Member, Member] | undefined {
    if (room.members.size !== 2 || (this.holds.get(room) ?? 0) > 0 || this.keepOnBridge(room)) return undefined;
    const [a, b] = [...room.members.values()] as [Member, Member];
    for (const m of [a, b]) if (m.phone || m.plain || m.remote !== undefined) return undefined;
    return a.joinedAt > b.joinedAt ? [a, b] : [b, a];
  }

  private start(room: Room, [offerer, answerer]: [Member, Member]): void {
    const session: P2pSession = { id: randomBytes(12).toString('base64url'), offerer, answerer };
    this.sessions.set(room, session);
    this.log.info({ room: room.key, session: session.id, offerer: offerer.id, answerer: answerer.id }, 'p2p session started');
    offerer.session.send({ type: 'p2p-start', session: session.id, peerId: answerer.id, offerer: true });
    answerer.session.send({ type: 'p2p-start', session: session.id, peerId: offerer.id, offerer: false });
  }

  private stop(room: Room, session: P2pSession, reason: string): void {
    this.sessions.delete(room);
    this.log.info({ room: room.key, session: session.id, reason }, 'p2p session ended');
    // a member that left may still have its socket (moved to a breakout room): it closes its P2P connection too
    for (const m of [session.offerer, session.answerer]) m.session.send({ type: 'p2p-stop', session: session.id });
  }

  /** The session `sessionId` of `member`'s room, with `member` in it; undefined for an older or a stranger's one. */
  private sessionOf(member: Member, sessionId: string): P2pSession | undefined {
    const s = this.sessions.get(member.room);
    return s && s.id === sessionId && (s.offerer === member || s.answerer === member) ? s : undefined;
  }

  /** Relays `signal` to the other member of the session (a stale session's signals are dropped). */
  signal(member: Member, sessionId: string, signal: P2pSignal): void {
    const s = this.sessionOf(member, sessionId);
    if (!s) {
      this.log.debug({ room: member.room.key, participant: member.id, session: sessionId }, 'p2p signal for no current session dropped');
      return;
    }
    let bucket = this.buckets.get(member);
    if (!bucket) this.buckets.set(member, (bucket = new TokenBucket(P2P_SIGNAL_BURST, P2P_SIGNALS_PER_SECOND)));
    if (!bucket.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many peer-to-peer signals; wait a moment' });
      return;
    }
    const peer = s.offerer === member ? s.answerer : s.offerer;
    peer.session.send({ type: 'p2p-signal', session: s.id, from: member.id, signal });
  }

  /** `member`'s browser says the P2P connection failed: the room stays on the bridge while these two are its pair. */
  failed(member: Member, sessionId: string): void {
    const s = this.sessionOf(member, sessionId);
    if (!s) return;
    this.failedPairs.set(member.room, [s.offerer, s.answerer]);
    this.stop(member.room, s, `connection failed (said by ${member.id})`);
  }
}

function samePair(a: readonly [Member, Member], b: readonly [Member, Member]): boolean {
  return (a[0] === b[0] && a[1] === b[1]) || (a[0] === b[1] && a[1] === b[0]);
}
