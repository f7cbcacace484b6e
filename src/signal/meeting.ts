// In-meeting features on the signalling server: chat (bounded room history, private messages), raised
// hands, reactions, renaming and the screen-share flag; polls (polls.ts), the subject (subject.ts), follow me
// (follow-me.ts), the meeting's start (meeting-clock.ts) and speaker stats (speaker-stats.ts). Room state lives as long as its Room object (a room
// ends when its last participant leaves, and its chat with it).
// Everything a participant sends that reaches everyone is rate-limited per participant (a token bucket each):
// chat, reactions and renames beyond their limit are refused (`rate-limited`); screen-share and hand toggles
// beyond theirs wait for the next token and are merged, so everyone still learns the latest state once.
import { callBus } from '../bus/typed-calls.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { randomUUID } from 'node:crypto';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../log.ts';
import { CHAT_HISTORY_LIMIT, type ChatMessage, type Reaction } from '../protocol/meeting-messages.ts';
import type { ServerMessage } from '../protocol/signal-messages.ts';
import { toParticipant, type Member, type Room, type Session } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';
import type { RoomState } from './room-state.ts';
import { Polls } from './polls.ts';
import { MeetingSubjects } from './subject.ts';
import { FollowMe } from './follow-me.ts';
import { MeetingClock } from './meeting-clock.ts';
import { localRoomItems, type SharedRoomItems } from './shared-room-items.ts';
import { E2ee } from './e2ee.ts';
import { MeetingBoards } from './board.ts';
import { SpeakerStats } from './speaker-stats.ts';

const FOCUS_TIMEOUT_MS = 10_000;

/** A flag whose changes are rate-limited by deferring: the latest wanted value, applied when a token comes. */
interface DeferredFlag {
  bucket: TokenBucket;
  wanted: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface MemberExtras {
  chat: TokenBucket;
  reactions: TokenBucket;
  renames: TokenBucket;
  screenShare: DeferredFlag;
  hand: DeferredFlag;
}

/** Screen-share (each one renegotiates) and raised-hand toggles one participant may make at once, and per second after that. */
export interface ToggleLimits {
  burst: number;
  perSecond: number;
}

/** As focus's renegotiation limits (renegotiationBurst, renegotiationRate): a screen-share toggle is one renegotiation. */
export const DEFAULT_TOGGLE_LIMITS: ToggleLimits = { burst: 6, perSecond: 2 };

export class MeetingFeatures {
  private readonly history = new WeakMap<Room, ChatMessage[]>();
  /** The stored history read once per Room object (a room this process starts, or takes over from another). */
  private readonly loaded = new WeakMap<Room, Promise<void>>();
  private readonly historyRead = new WeakSet<Room>();
  /** Where chat history outlives this process (room-state.ts). */
  state: RoomState | undefined;
  private readonly extras = new WeakMap<Member, MemberExtras>();
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly toggles: ToggleLimits;
  readonly polls: Polls;
  readonly subjects: MeetingSubjects;
  /** Everyone follows a moderator's layout (follow-me.ts). */
  readonly followMe: FollowMe;
  /** When the meeting started, for the pages' timer (meeting-clock.ts). */
  readonly clock: MeetingClock;
  /** End-to-end encryption: the room's setting and the key agreement's relay (e2ee.ts). */
  readonly e2ee: E2ee;
  /** The shared whiteboard and notes (board.ts). */
  readonly boards: MeetingBoards;
  /** How long each person has been the dominant speaker (speaker-stats.ts). */
  readonly speakerStats = new SpeakerStats();

  /** The subject and polls, as every signal instance of a room sees them (shared-room-items.ts). */
  readonly items: SharedRoomItems;

  constructor(bus: Bus, log: Logger, toggles: ToggleLimits = DEFAULT_TOGGLE_LIMITS, items: SharedRoomItems = localRoomItems(log)) {
    this.bus = bus;
    this.log = log;
    this.toggles = toggles;
    this.items = items;
    this.polls = new Polls(log, items);
    this.subjects = new MeetingSubjects(log, items);
    this.followMe = new FollowMe(log, items);
    this.clock = new MeetingClock(items);
    this.e2ee = new E2ee(log, items);
    this.boards = new MeetingBoards(log);
  }

  private extrasOf(m: Member): MemberExtras {
    let e = this.extras.get(m);
    if (!e) {
      const flag = (): DeferredFlag => ({ bucket: new TokenBucket(this.toggles.burst, this.toggles.perSecond), wanted: false, timer: undefined });
      e = { chat: new TokenBucket(10, 2), reactions: new TokenBucket(6, 2), renames: new TokenBucket(3, 0.2), screenShare: flag(), hand: flag() };
      this.extras.set(m, e);
    }
    return e;
  }

  /**
   * Applies `wanted` now when `flag` has a token, else once it has one (one timer at a time: toggles meanwhile
   * only change what will be applied). Nothing is applied for a member that left in between.
   */
  private deferred(member: Member, flag: DeferredFlag, wanted: boolean, apply: (value: boolean) => void): void {
    flag.wanted = wanted;
    if (flag.timer !== undefined) return;
    const wait = flag.bucket.msUntilToken();
    if (wait === 0) {
      flag.bucket.take();
      apply(wanted);
      return;
    }
    const fire = () => {
      flag.timer = undefined;
      if (member.room.members.get(member.id) !== member) return;
      // a timer may fire a little before the token is there (its clock is not Date.now()'s): wait again, never
      // apply without a token
      const again = flag.bucket.msUntilToken();
      if (again > 0) {
        flag.timer = setTimeout(fire, again);
        return;
      }
      flag.bucket.take();
      apply(flag.wanted);
    };
    flag.timer = setTimeout(fire, wait);
  }

  private broadcast(room: Room, message: ServerMessage): void {
    for (const m of room.members.values()) m.session.send(message);
  }

  private participantUpdated(member: Member): void {
    this.broadcast(member.room, { type: 'participant-updated', participant: toParticipant(member) });
  }

  /** Right after a join: what the room said so far, its subject, polls, whiteboard and notes. */
  afterJoin(session: Session): void {
    const member = session.member;
    if (!member) return;
    const sendHistory = () => session.send({ type: 'chat-history', messages: [...(this.history.get(member.room) ?? [])] });
    // in one process the stored history is read once per room (the first join here), later joins get it at once;
    // with a shared store (several signal instances append to it) every join reads it
    if (!this.state || (!this.state.durable && this.historyRead.has(member.room))) sendHistory();
    else
      void this.loadHistory(member.room).then(() => {
        if (session.member === member) sendHistory();
      });
    // a room this instance has just made: its subject and polls read from the store first
    this.items.whenLoaded(member.room, () => {
      if (session.member !== member) return;
      this.clock.afterJoin(session);
      this.subjects.afterJoin(session);
      this.followMe.afterJoin(session);
      this.polls.afterJoin(session);
      this.e2ee.afterJoin(session);
      this.boards.afterJoin(session);
    });
    const speaker = member.room.dominantSpeaker;
    if (speaker !== undefined && speaker !== member.id && member.room.members.has(speaker)) {
      session.send({ type: 'dominant-speaker', participantId: speaker });
    }
  }

  /** Merges the stored history (said before this process had the room) before what was said here meanwhile. */
  private loadHistory(room: Room): Promise<void> {
    let p = this.loaded.get(room);
    if (!p || this.state?.durable) {
      p = (this.state ? this.state.chatHistory(room.key) : Promise.resolve([])).then((stored) => {
        const here = this.history.get(room) ?? [];
        const ids = new Set(here.map((m) => m.id));
        const merged = [...stored.filter((m) => !ids.has(m.id)), ...here].sort((a, b) => a.at - b.at);
        this.history.set(room, merged.slice(-CHAT_HISTORY_LIMIT));
        this.historyRead.add(room);
      });
      this.loaded.set(room, p);
    }
    return p;
  }

  chat(member: Member, text: string, to: string | undefined): void {
    if (!this.extrasOf(member).chat.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many chat messages; wait a moment' });
      return;
    }
    const room = member.room;
    const message: ChatMessage = { id: randomUUID(), from: member.id, fromName: member.displayName, text, at: Date.now() };
    if (to !== undefined) {
      const recipient = room.members.get(to);
      if (!recipient || recipient === member) {
        member.session.send({ type: 'error', code: 'not-found', message: 'the recipient of that private message is not in this meeting' });
        return;
      }
      message.to = recipient.id;
      message.toName = recipient.displayName;
      recipient.session.send({ type: 'chat', message });
      member.session.send({ type: 'chat', message });
      return;
    }
    let list = this.history.get(room);
    if (!list) {
      list = [];
      this.history.set(room, list);
    }
    list.push(message);
    if (list.length > CHAT_HISTORY_LIMIT) list.splice(0, list.length - CHAT_HISTORY_LIMIT);
    this.state?.appendChat(room.key, message);
    this.broadcast(room, { type: 'chat', message });
  }

  hand(member: Member, raised: boolean): void {
    const e = this.extrasOf(member);
    if (e.hand.timer === undefined && raised === (member.handRaisedAt !== undefined)) return;
    this.deferred(member, e.hand, raised, (value) => {
      if (value === (member.handRaisedAt !== undefined)) return;
      member.handRaisedAt = value ? Date.now() : undefined;
      this.participantUpdated(member);
    });
  }

  reaction(member: Member, reaction: Reaction): void {
    if (!this.extrasOf(member).reactions.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many reactions; wait a moment' });
      return;
    }
    this.broadcast(member.room, { type: 'reaction', from: member.id, reaction });
  }

  rename(member: Member, displayName: string): void {
    if (displayName === member.displayName) return;
    if (!this.extrasOf(member).renames.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'too many name changes; wait a moment' });
      return;
    }
    member.displayName = displayName;
    this.participantUpdated(member);
    this.onRenamed(member);
  }

  /** After a rename (the recorder draws names). */
  onRenamed: (member: Member) => void = () => {};

  /**
   * Screen share on/off: everyone learns the flag; focus re-offers so the browser can add or drop the screen.
   * Rate-limited per participant (ToggleLimits): a toggle beyond the limit waits, merged with later ones.
   */
  screenShare(member: Member, sharing: boolean): void {
    this.deferred(member, this.extrasOf(member).screenShare, sharing, (value) => this.applyScreenShare(member, value));
  }

  private applyScreenShare(member: Member, sharing: boolean): void {
    if (sharing !== (member.screenSharing === true)) {
      member.screenSharing = sharing || undefined;
      this.participantUpdated(member);
    }
    const payload = { conferenceId: member.room.key, participantId: member.id };
    // after every earlier focus request of this participant (its join in particular)
    member.queue = member.queue.then(async () => {
      try {
        await callBus(this.bus, busCalls.focusRenegotiate, '', payload, FOCUS_TIMEOUT_MS);
      } catch (e) {
        this.log.warn({ room: member.room.key, participant: member.id, err: (e as Error).message }, 'focus renegotiate failed');
      }
    });
  }
}
