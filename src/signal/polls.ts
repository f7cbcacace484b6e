// Polls on the signalling server (protocol: poll-messages.ts). A room's polls live as long as its Room object
// (at most MAX_POLLS_PER_ROOM, open and closed). Votes are counted per voter key (the tab's secret), so a
// reloaded page changes its answer instead of adding one; a participant uses one key for the whole meeting.
// Who chose what never leaves the server: everyone gets the counts. Every refusal is an `error` to the sender
// and changes nothing. Creating is rate-limited per participant, answering and closing too.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import { MAX_POLL_VOTERS, MAX_POLLS_PER_ROOM, type Poll } from '../protocol/poll-messages.ts';
import type { ErrorCode } from '../protocol/signal-messages.ts';
import type { Member, Room, Session } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';

interface PollState {
  id: string;
  question: string;
  options: string[];
  votes: number[];
  /** Each voter key's option. */
  answers: Map<string, number>;
  creatorId: string;
  creatorKey: string;
  creatorName: string;
  createdAt: number;
  closed: boolean;
}

interface MemberLimits {
  creates: TokenBucket;
  actions: TokenBucket;
  /** The poll key this participant uses (the first it sent). */
  key: string | undefined;
}

function view(p: PollState): Poll {
  return {
    id: p.id,
    question: p.question,
    options: p.options.map((text, i) => ({ text, votes: p.votes[i] ?? 0 })),
    voters: p.answers.size,
    creatorName: p.creatorName,
    createdAt: p.createdAt,
    closed: p.closed,
  };
}

export class Polls {
  private readonly polls = new WeakMap<Room, PollState[]>();
  private readonly limits = new WeakMap<Member, MemberLimits>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  private refuse(member: Member, code: ErrorCode, message: string): void {
    member.session.send({ type: 'error', code, message });
  }

  private limitsOf(member: Member): MemberLimits {
    let l = this.limits.get(member);
    if (!l) {
      l = { creates: new TokenBucket(3, 0.1), actions: new TokenBucket(10, 2), key: undefined };
      this.limits.set(member, l);
    }
    return l;
  }

  /** False (and the member told why) when it sends another key than the one it used before. */
  private keyOk(member: Member, key: string): boolean {
    const used = this.limitsOf(member).key;
    if (used === undefined || used === key) return true;
    this.refuse(member, 'bad-message', 'this participant already uses another poll key');
    return false;
  }

  /** Takes a token (and binds the key to the member); false, and the member told, when over its rate. */
  private take(member: Member, key: string, bucket: 'creates' | 'actions'): boolean {
    const l = this.limitsOf(member);
    if (!l[bucket].take()) {
      this.refuse(member, 'rate-limited', bucket === 'creates' ? 'too many new polls; wait a moment' : 'too many poll answers; wait a moment');
      return false;
    }
    l.key = key;
    return true;
  }

  private find(member: Member, pollId: string): PollState | undefined {
    const poll = this.polls.get(member.room)?.find((p) => p.id === pollId);
    if (!poll) this.refuse(member, 'poll-not-found', 'there is no such poll in this meeting');
    return poll;
  }

  /** The poll to everyone; to `actor` with `extra` (its answer, or that it created the poll). */
  private broadcast(room: Room, poll: PollState, actor: Member, extra: { answer?: number; mine?: true }): void {
    const p = view(poll);
    for (const m of room.members.values()) m.session.send(m === actor ? { type: 'poll', poll: p, ...extra } : { type: 'poll', poll: p });
  }

  /** The room's polls, for a joiner (and a reloaded page). */
  afterJoin(session: Session): void {
    const member = session.member;
    if (!member) return;
    session.send({ type: 'polls', polls: (this.polls.get(member.room) ?? []).map(view) });
  }

  create(member: Member, question: string, options: string[], key: string): void {
    const room = member.room;
    let list = this.polls.get(room);
    if (!this.keyOk(member, key)) return;
    if (list && list.length >= MAX_POLLS_PER_ROOM) {
      this.refuse(member, 'poll-limit', `this meeting has ${MAX_POLLS_PER_ROOM} polls, the most it may have`);
      return;
    }
    if (!this.take(member, key, 'creates')) return;
    if (!list) {
      list = [];
      this.polls.set(room, list);
    }
    const poll: PollState = {
      id: `poll-${randomUUID().slice(0, 13)}`,
      question,
      options,
      votes: options.map(() => 0),
      answers: new Map(),
      creatorId: member.id,
      creatorKey: key,
      creatorName: member.displayName,
      createdAt: Date.now(),
      closed: false,
    };
    list.push(poll);
    this.log.info({ room: room.key, participant: member.id, poll: poll.id, options: options.length }, 'poll created');
    this.broadcast(room, poll, member, { mine: true });
  }

  answer(member: Member, pollId: string, option: number, key: string): void {
    if (!this.keyOk(member, key)) return;
    const poll = this.find(member, pollId);
    if (!poll) return;
    if (poll.closed) return this.refuse(member, 'poll-closed', 'this poll is closed');
    if (option >= poll.options.length) return this.refuse(member, 'poll-bad-option', `this poll has ${poll.options.length} options (0..${poll.options.length - 1})`);
    const before = poll.answers.get(key);
    if (before === option) return this.refuse(member, 'poll-already-answered', 'that option is already your answer');
    if (before === undefined && poll.answers.size >= MAX_POLL_VOTERS) return this.refuse(member, 'poll-limit', `this poll has ${MAX_POLL_VOTERS} voters, the most it counts`);
    if (!this.take(member, key, 'actions')) return;
    if (before !== undefined) poll.votes[before]! -= 1;
    poll.votes[option]! += 1;
    poll.answers.set(key, option);
    this.broadcast(member.room, poll, member, { answer: option });
  }

  close(member: Member, pollId: string, key: string): void {
    if (!this.keyOk(member, key)) return;
    const poll = this.find(member, pollId);
    if (!poll) return;
    if (poll.closed) return this.refuse(member, 'poll-closed', 'this poll is closed already');
    if (member.id !== poll.creatorId && key !== poll.creatorKey && member.role !== 'moderator') {
      return this.refuse(member, 'not-allowed', 'only the creator of a poll or a moderator may close it');
    }
    if (!this.take(member, key, 'actions')) return;
    poll.closed = true;
    this.log.info({ room: member.room.key, participant: member.id, poll: poll.id, voters: poll.answers.size }, 'poll closed');
    this.broadcast(member.room, poll, member, {});
  }
}
