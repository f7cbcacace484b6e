// Speaker stats (as Jitsi Meet's): how long each person of a room has been its dominant speaker. The bridge names
// the dominant speaker and says when that person has gone silent (media-words.ts); the time counts while that
// person speaks, is in the room and has the microphone on, so a pause, a mute or a leave stops it though the bridge
// names nobody else. Kept per Room object: the stats start when the room starts on this signal instance (an instance
// that joins a room spanning several later knows only what it heard) and go with the room. Who is not in the room
// any more stays listed with their time (as being in another room of the meeting when they are in one of its
// breakout rooms); a room keeps at most MAX_SPEAKER_STATS people who are not in it (then the one with the least
// time is forgotten). Stints are timed with the monotonic clock (a wall-clock step adds or takes nothing). A list
// is answered again for half a second while nothing happened in the room (a big room asking at once).
// A participant asks with `speaker-stats` (the page asks again every few seconds while it shows them):
// rate-limited per participant, beyond it `rate-limited`.
import { performance } from 'node:perf_hooks';
import { MAX_SPEAKER_STATS, type SpeakerStat } from '../protocol/meeting-messages.ts';
import type { Member, Room } from './rooms.ts';
import { TokenBucket } from './token-bucket.ts';

interface Speaker {
  displayName: string;
  /** Time counted so far, ms (the current stint not included). */
  ms: number;
}

interface RoomSpeaking {
  speakers: Map<string, Speaker>;
  /** The dominant speaker the bridge named last. */
  current: string | undefined;
  /** When the current stint started (performance.now()); undefined while it does not count. */
  since: number | undefined;
  /** The last list made, reused for LIST_REUSE_MS while nothing happened in the room (many people asking at once). */
  made: { at: number; list: SpeakerStat[] } | undefined;
}

/** How long a list is answered again to other asks while nothing in the room changed. */
const LIST_REUSE_MS = 500;

/** Asks one participant may make at once, and per second after that (the page asks every few seconds). */
const ASK_BURST = 5;
const ASK_PER_SECOND = 1;

export class SpeakerStats {
  private readonly rooms = new WeakMap<Room, RoomSpeaking>();
  private readonly asks = new WeakMap<Member, TokenBucket>();
  /** Whether participant `id`, not in `room`, is in another room of its meeting (a breakout room, or the main one). */
  elsewhere: (room: Room, id: string) => boolean = () => false;

  private of(room: Room): RoomSpeaking {
    let r = this.rooms.get(room);
    if (r === undefined) {
      r = { speakers: new Map(), current: undefined, since: undefined, made: undefined };
      this.rooms.set(room, r);
    }
    return r;
  }

  /** The room's dominant speaker is now room.dominantSpeaker (or it went silent or spoke again: room.dominantSilent). */
  speakerChanged(room: Room, now = performance.now()): void {
    const r = this.of(room);
    r.made = undefined;
    if (r.current !== room.dominantSpeaker) {
      this.stop(room, r, now);
      r.current = room.dominantSpeaker;
    }
    this.settle(room, now);
  }

  /**
   * Someone of the room muted, unmuted, joined or left, or the speaker went silent: the current stint stops or
   * starts again (the bridge does not name the same speaker twice, so an unmute resumes it).
   */
  settle(room: Room, now = performance.now()): void {
    const r = this.rooms.get(room);
    if (r === undefined) return;
    r.made = undefined;
    this.settleStint(room, r, now);
  }

  private settleStint(room: Room, r: RoomSpeaking, now: number): void {
    if (r.current === undefined) return;
    const m = room.members.get(r.current);
    const counts = m !== undefined && !m.audioMuted && room.dominantSilent !== true;
    if (counts && r.since === undefined) {
      this.entry(room, r, m.id, m.displayName);
      r.since = now;
    } else if (!counts && r.since !== undefined) this.stop(room, r, now);
  }

  private stop(room: Room, r: RoomSpeaking, now: number): void {
    if (r.current === undefined || r.since === undefined) return;
    const e = this.entry(room, r, r.current, room.members.get(r.current)?.displayName);
    e.ms += Math.max(0, now - r.since);
    r.since = undefined;
  }

  /** The entry of `id` (made when new: then the one not in the room with the least time goes when they are too many). */
  private entry(room: Room, r: RoomSpeaking, id: string, displayName: string | undefined): Speaker {
    let e = r.speakers.get(id);
    if (e === undefined) {
      if (r.speakers.size >= MAX_SPEAKER_STATS) this.forgetOne(room, r);
      e = { displayName: displayName ?? '', ms: 0 };
      r.speakers.set(id, e);
    } else if (displayName !== undefined) e.displayName = displayName;
    return e;
  }

  /** Forgets, of those not in the room, who has the least time (none when everyone listed is here: the room's cap bounds them). */
  private forgetOne(room: Room, r: RoomSpeaking): void {
    let least: string | undefined;
    let leastMs = Infinity;
    for (const [id, e] of r.speakers) {
      if (id !== r.current && !room.members.has(id) && e.ms < leastMs) {
        least = id;
        leastMs = e.ms;
      }
    }
    if (least !== undefined) r.speakers.delete(least);
  }

  /** Everyone in the room (most time first), then who has spoken and is not in it (most time first), at most MAX_SPEAKER_STATS. */
  list(room: Room, now = performance.now()): SpeakerStat[] {
    const r = this.of(room);
    if (r.made !== undefined && now - r.made.at >= 0 && now - r.made.at < LIST_REUSE_MS) return r.made.list;
    this.settleStint(room, r, now);
    const here: SpeakerStat[] = [];
    for (const m of room.members.values()) {
      const e = r.speakers.get(m.id);
      if (e !== undefined) e.displayName = m.displayName; // the name they have, kept if they go
      const stat: SpeakerStat = { participantId: m.id, displayName: m.displayName, speakingMs: e?.ms ?? 0 };
      if (r.current === m.id && r.since !== undefined) {
        stat.speakingMs += Math.max(0, now - r.since);
        stat.speaking = true;
      }
      here.push(stat);
    }
    const gone: SpeakerStat[] = [];
    for (const [id, e] of r.speakers) {
      if (room.members.has(id) || e.ms <= 0) continue;
      const stat: SpeakerStat = { participantId: id, displayName: e.displayName, speakingMs: e.ms };
      if (this.elsewhere(room, id)) stat.elsewhere = true;
      else stat.left = true;
      gone.push(stat);
    }
    const byTime = (a: SpeakerStat, b: SpeakerStat) => b.speakingMs - a.speakingMs || a.displayName.localeCompare(b.displayName);
    const list = here.sort(byTime).concat(gone.sort(byTime)).slice(0, MAX_SPEAKER_STATS);
    r.made = { at: now, list };
    return list;
  }

  /** A participant asks: its room's stats, or `rate-limited`. */
  ask(member: Member): void {
    let bucket = this.asks.get(member);
    if (bucket === undefined) {
      bucket = new TokenBucket(ASK_BURST, ASK_PER_SECOND);
      this.asks.set(member, bucket);
    }
    if (!bucket.take()) {
      member.session.send({ type: 'error', code: 'rate-limited', message: 'speaker stats asked for too often; wait a moment' });
      return;
    }
    member.session.send({ type: 'speaker-stats', speakers: this.list(member.room) });
  }
}
