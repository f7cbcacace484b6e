// Speaker stats (as Jitsi Meet's): how long each person of a room has been its dominant speaker. The bridge names
// the dominant speaker (media-words.ts); the time counts while that person is in the room with the microphone on,
// so someone who muted, or left, stops counting though the bridge names nobody else. Kept per Room object: the
// stats start when the room starts on this signal instance (an instance that joins a room spanning several later
// knows only what it heard) and go with the room. Who left stays listed with their time, up to MAX_SPEAKER_STATS
// people a room (then who left with the least time is forgotten). A participant asks with `speaker-stats` (the
// page asks again every few seconds while it shows them): rate-limited per participant, beyond it `rate-limited`.
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
  /** When the current stint started (Date.now()); undefined while it does not count (muted, gone, nobody). */
  since: number | undefined;
}

/** Asks one participant may make at once, and per second after that (the page asks every few seconds). */
const ASK_BURST = 5;
const ASK_PER_SECOND = 1;

export class SpeakerStats {
  private readonly rooms = new WeakMap<Room, RoomSpeaking>();
  private readonly asks = new WeakMap<Member, TokenBucket>();

  private of(room: Room): RoomSpeaking {
    let r = this.rooms.get(room);
    if (r === undefined) {
      r = { speakers: new Map(), current: undefined, since: undefined };
      this.rooms.set(room, r);
    }
    return r;
  }

  /** The room's dominant speaker is now room.dominantSpeaker. */
  speakerChanged(room: Room, now = Date.now()): void {
    const r = this.of(room);
    this.stop(room, r, now);
    r.current = room.dominantSpeaker;
    this.settle(room, now);
  }

  /**
   * Someone of the room muted, unmuted, renamed, joined or left: the current stint stops or starts again (the bridge
   * does not name the same speaker twice, so an unmute resumes it).
   */
  settle(room: Room, now = Date.now()): void {
    const r = this.rooms.get(room);
    if (r === undefined || r.current === undefined) return;
    const m = room.members.get(r.current);
    const counts = m !== undefined && !m.audioMuted;
    if (counts && r.since === undefined) {
      this.entry(r, m.id, m.displayName);
      r.since = now;
    } else if (!counts && r.since !== undefined) this.stop(room, r, now);
  }

  private stop(room: Room, r: RoomSpeaking, now: number): void {
    if (r.current === undefined || r.since === undefined) return;
    const e = this.entry(r, r.current, room.members.get(r.current)?.displayName);
    e.ms += Math.max(0, now - r.since);
    r.since = undefined;
  }

  private entry(r: RoomSpeaking, id: string, displayName: string | undefined): Speaker {
    let e = r.speakers.get(id);
    if (e === undefined) {
      e = { displayName: displayName ?? '', ms: 0 };
      r.speakers.set(id, e);
    } else if (displayName !== undefined) e.displayName = displayName;
    return e;
  }

  /** Everyone in the room or who has spoken in it, most speaking time first, at most MAX_SPEAKER_STATS. */
  list(room: Room, now = Date.now()): SpeakerStat[] {
    const r = this.of(room);
    this.settle(room, now);
    const out: SpeakerStat[] = [];
    for (const m of room.members.values()) {
      const e = r.speakers.get(m.id);
      const stat: SpeakerStat = { participantId: m.id, displayName: m.displayName, speakingMs: e?.ms ?? 0 };
      if (r.current === m.id && r.since !== undefined) {
        stat.speakingMs += Math.max(0, now - r.since);
        stat.speaking = true;
      }
      out.push(stat);
    }
    const gone: SpeakerStat[] = [];
    for (const [id, e] of r.speakers) if (!room.members.has(id) && e.ms > 0) gone.push({ participantId: id, displayName: e.displayName, speakingMs: e.ms, left: true });
    gone.sort((a, b) => b.speakingMs - a.speakingMs);
    // the people here first (a room is smaller than the cap), then who left, by time; the rest forgotten
    const listed = out.concat(gone).slice(0, MAX_SPEAKER_STATS);
    if (r.speakers.size > MAX_SPEAKER_STATS) {
      const kept = new Set(listed.map((s) => s.participantId));
      for (const id of r.speakers.keys()) if (!kept.has(id) && id !== r.current) r.speakers.delete(id);
    }
    return listed.sort((a, b) => b.speakingMs - a.speakingMs || a.displayName.localeCompare(b.displayName));
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
