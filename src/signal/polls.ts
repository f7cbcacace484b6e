// Polls on the signalling server (protocol: poll-messages.ts). A room's polls are a shared room item
// (shared-room-items.ts): every signal instance of the room sees and changes them (a vote on one instance, a
// close on another), they outlive each instance, and go when the meeting ends. At most MAX_POLLS_PER_ROOM per
// room (open and closed). Votes are counted per voter key (the tab's secret, kept only as a short hash), so a
// reloaded page changes its answer instead of adding one; a participant uses one key for the whole meeting.
// Every change is a pure function of the stored list (applied again on the newest list when another instance
// wrote meanwhile: no vote is lost). Who chose what never leaves the server: everyone gets the counts. Every
// refusal is an `error` to the sender and changes nothing. Creating is rate-limited per participant, answering
// and closing too.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { MAX_POLL_OPTIONS, MAX_POLL_VOTERS, MAX_POLLS_PER_ROOM, type Poll } from '../protocol/poll-messages.ts';
import type { ErrorCode } from '../protocol/signal-messages.ts';
import type { Member, Room, Session } from './rooms.ts';
import type { SharedRoomItems } from './shared-room-items.ts';
import { TokenBucket } from './token-bucket.ts';

const POLLS = 'polls';

/** A poll as stored: `answers` maps each voter key's hash to its option. */
const pollStateSchema = z.object({
  id: z.string().max(64),
  question: z.string().max(4000),
  options: z.array(z.string().max(2000)).max(MAX_POLL_OPTIONS),
  answers: z.record(z.string().max(16), z.number().int().min(0).max(MAX_POLL_OPTIONS - 1)),
  creatorId: z.string().max(128),
  creatorKey: z.string().max(16),
  creatorName: z.string().max(1000),
  createdAt: z.number(),
  closed: z.boolean(),
});
type PollState = z.infer<typeof pollStateSchema>;
const pollListSchema = z.array(pollStateSchema).max(MAX_POLLS_PER_ROOM);

/** A voter key as stored: 72 bits of its SHA-256 (the key itself, a tab's secret, is never stored). */
function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 12);
}

interface MemberLimits {
  creates: TokenBucket;
  actions: TokenBucket;
  /** The poll key this participant uses (the first it sent). */
  key: string | undefined;
}

function view(p: PollState): Poll {
  const votes = p.options.map(() => 0);
  for (const option of Object.values(p.answers)) if (option < votes.length) votes[option]! += 1;
  return {
    id: p.id,
    question: p.question,
    options: p.options.map((text, i) => ({ text, votes: votes[i] ?? 0 })),
    voters: Object.keys(p.answers).length,
    creatorName: p.creatorName,
    createdAt: p.createdAt,
    closed: p.closed,
  };
}

/** `list` with poll `id` replaced by `change(poll)` (unchanged when it is not there). */
function withPoll(list: PollState[] | undefined, id: string, change: (p: PollState) => PollState): PollState[] | undefined {
  return list?.map((p) => (p.id === id ? change(p) : p));
}

export class Polls {
  private readonly items: SharedRoomItems;
  private readonly limits = new WeakMap<Member, MemberLimits>();
  private readonly log: Logger;

  constructor(log: Logger, items: SharedRoomItems) {
    this.log = log;
    this.items = items;
    items.define<PollState[]>({ name: POLLS, schema: pollListSchema, tell: (member, list) => member.session.send({ type: 'polls', polls: (list ?? []).map(view) }) });
  }

  private list(room: Room): PollState[] {
    return this.items.get<PollState[]>(room, POLLS) ?? [];
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
    const poll = this.list(member.room).find((p) => p.id === pollId);
    if (!poll) this.refuse(member, 'poll-not-found', 'there is no such poll in this meeting');
    return poll;
  }

  /** Changes the room's polls (here at once, in the store revision-checked), then tells everyone poll `id`. */
  private apply(member: Member, id: string, change: (list: PollState[] | undefined) => PollState[] | undefined, extra: { answer?: number; mine?: true }): void {
    const room = member.room;
    void this.items.change<PollState[]>(room, POLLS, change);
    const poll = this.list(room).find((p) => p.id === id);
    if (!poll) return;
    const p = view(poll);
    for (const m of room.members.values()) m.session.send(m === member ? { type: 'poll', poll: p, ...extra } : { type: 'poll', poll: p });
  }

  /** The room's polls, for a joiner (and a reloaded page). */
  afterJoin(session: Session): void {
    const member = session.member;
    if (!member) return;
    session.send({ type: 'polls', polls: this.list(member.room).map(view) });
  }

  create(member: Member, question: string, options: string[], key: string): void {
    if (!this.keyOk(member, key)) return;
    if (this.list(member.room).length >= MAX_POLLS_PER_ROOM) {
      this.refuse(member, 'poll-limit', `this meeting has ${MAX_POLLS_PER_ROOM} polls, the most it may have`);
      return;
    }
    if (!this.take(member, key, 'creates')) return;
    const poll: PollState = {
      id: `poll-${randomUUID().slice(0, 13)}`,
      question,
      options,
      answers: {},
      creatorId: member.id,
      creatorKey: keyHash(key),
      creatorName: member.displayName,
      createdAt: Date.now(),
      closed: false,
    };
    this.log.info({ room: member.room.key, participant: member.id, poll: poll.id, options: options.length }, 'poll created');
    // another instance's poll that made the list full meanwhile wins: this one is then not kept
    this.apply(member, poll.id, (list = []) => (list.length >= MAX_POLLS_PER_ROOM || list.some((p) => p.id === poll.id) ? list : [...list, poll]), { mine: true });
  }

  answer(member: Member, pollId: string, option: number, key: string): void {
    if (!this.keyOk(member, key)) return;
    const poll = this.find(member, pollId);
    if (!poll) return;
    if (poll.closed) return this.refuse(member, 'poll-closed', 'this poll is closed');
    if (option >= poll.options.length) return this.refuse(member, 'poll-bad-option', `this poll has ${poll.options.length} options (0..${poll.options.length - 1})`);
    const voter = keyHash(key);
    const before = poll.answers[voter];
    if (before === option) return this.refuse(member, 'poll-already-answered', 'that option is already your answer');
    if (before === undefined && Object.keys(poll.answers).length >= MAX_POLL_VOTERS) return this.refuse(member, 'poll-limit', `this poll has ${MAX_POLL_VOTERS} voters, the most it counts`);
    if (!this.take(member, key, 'actions')) return;
    const vote = (p: PollState): PollState => {
      if (p.closed || (p.answers[voter] === undefined && Object.keys(p.answers).length >= MAX_POLL_VOTERS)) return p;
      return { ...p, answers: { ...p.answers, [voter]: option } };
    };
    this.apply(member, pollId, (list) => withPoll(list, pollId, vote), { answer: option });
  }

  close(member: Member, pollId: string, key: string): void {
    if (!this.keyOk(member, key)) return;
    const poll = this.find(member, pollId);
    if (!poll) return;
    if (poll.closed) return this.refuse(member, 'poll-closed', 'this poll is closed already');
    if (member.id !== poll.creatorId && keyHash(key) !== poll.creatorKey && member.role !== 'moderator') {
      return this.refuse(member, 'not-allowed', 'only the creator of a poll or a moderator may close it');
    }
    if (!this.take(member, key, 'actions')) return;
    this.log.info({ room: member.room.key, participant: member.id, poll: poll.id, voters: Object.keys(poll.answers).length }, 'poll closed');
    this.apply(member, pollId, (list) => withPoll(list, pollId, (p) => ({ ...p, closed: true })), {});
  }
}
