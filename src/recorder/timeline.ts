// timeline.json of a multitrack recording: who was in the meeting when, and which file holds which of their
// streams from when to when, for post-production (lay the files on one timeline at their offsets). Offsets are
// milliseconds from the recording's start (when its media process began to take media); times are UTC.
// Built here as events come (names from signal, files from the media process) and written whole each time.
import { writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { recordingIdSchema } from '../protocol/recorder-messages.ts';

export const TIMELINE_FILE = 'timeline.json';

const isoTime = z.string().datetime();
const offset = z.number().int().nonnegative();
const fileName = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/);

export const timelineSchema = z
  .object({
    version: z.literal(1),
    recordingId: recordingIdSchema,
    room: z.string().min(1).max(256),
    startedAt: isoTime,
    endedAt: isoTime.optional(),
    participants: z
      .array(
        z
          .object({
            participantId: z.string().min(1).max(128),
            /** The name last shown in the meeting (plain text: escape it wherever it is shown). */
            name: z.string().max(256),
            /** Each stay in the meeting while recorded: one who leaves and comes back has two. */
            presence: z.array(z.object({ joinedAt: isoTime, joinOffsetMs: offset, leftAt: isoTime.optional(), leftOffsetMs: offset.optional() }).strict()).max(10_000),
            /** Microphone and camera turned off or on (as the meeting saw it), from the first known state on. */
            media: z
              .array(z.object({ at: isoTime, offsetMs: offset, audioMuted: z.boolean().optional(), videoMuted: z.boolean().optional() }).strict())
              .max(10_000),
          })
          .strict(),
      )
      .max(10_000),
    tracks: z
      .array(
        z
          .object({
            file: fileName,
            /** Absent when the stream's owner was not known (should not happen: focus says whose it is first). */
            participantId: z.string().min(1).max(128).optional(),
            kind: z.enum(['audio', 'video']),
            /** A video: the camera or a shared screen. */
            role: z.enum(['camera', 'screen']).optional(),
            ssrc: z.number().int().min(0).max(0xffffffff),
            startedAt: isoTime,
            startOffsetMs: offset,
            endedAt: isoTime.optional(),
            endOffsetMs: offset.optional(),
          })
          .strict(),
      )
      .max(10_000),
  })
  .strict();
export type Timeline = z.infer<typeof timelineSchema>;
export type TimelineTrack = Timeline['tracks'][number];

/** The timeline as it grows: presence from the names signal sends, tracks from the media process. */
export class TimelineBuilder {
  readonly timeline: Timeline;
  private readonly startMs: number;

  constructor(recordingId: string, room: string, startMs: number) {
    this.startMs = startMs;
    this.timeline = { version: 1, recordingId, room, startedAt: new Date(startMs).toISOString(), participants: [], tracks: [] };
  }

  private at(offsetMs: number): string {
    return new Date(this.startMs + offsetMs).toISOString();
  }

  /** The meeting's people now (the whole list): new ones join, missing ones leave, names follow renames. */
  setPresent(people: { participantId: string; name: string; audioMuted?: boolean; videoMuted?: boolean }[], nowMs: number): void {
    const offsetMs = Math.max(0, Math.round(nowMs - this.startMs));
    const present = new Set<string>();
    for (const { participantId, name, audioMuted, videoMuted } of people) {
      present.add(participantId);
      let p = this.timeline.participants.find((x) => x.participantId === participantId);
      if (!p) this.timeline.participants.push((p = { participantId, name, presence: [], media: [] }));
      p.name = name;
      const last = p.presence.at(-1);
      if (!last || last.leftAt !== undefined) p.presence.push({ joinedAt: this.at(offsetMs), joinOffsetMs: offsetMs });
      // only what changed since the last known state
      let audio: boolean | undefined;
      let video: boolean | undefined;
      for (const m of p.media) {
        if (m.audioMuted !== undefined) audio = m.audioMuted;
        if (m.videoMuted !== undefined) video = m.videoMuted;
      }
      const change = {
        ...(audioMuted !== undefined && audioMuted !== audio ? { audioMuted } : {}),
        ...(videoMuted !== undefined && videoMuted !== video ? { videoMuted } : {}),
      };
      if (Object.keys(change).length > 0) p.media.push({ at: this.at(offsetMs), offsetMs, ...change });
    }
    for (const p of this.timeline.participants) {
      const last = p.presence.at(-1);
      if (!present.has(p.participantId) && last && last.leftAt === undefined) {
        last.leftAt = this.at(offsetMs);
        last.leftOffsetMs = offsetMs;
      }
    }
  }

  trackStarted(t: { file: string; participantId: string | null; kind: 'audio' | 'video'; role: 'camera' | 'screen' | null; ssrc: number; offsetMs: number }): TimelineTrack {
    const track: TimelineTrack = {
      file: t.file,
      ...(t.participantId !== null ? { participantId: t.participantId } : {}),
      kind: t.kind,
      ...(t.kind === 'video' && t.role !== null ? { role: t.role } : {}),
      ssrc: t.ssrc,
      startedAt: this.at(t.offsetMs),
      startOffsetMs: t.offsetMs,
    };
    this.timeline.tracks.push(track);
    return track;
  }

  trackEnded(file: string, offsetMs: number): TimelineTrack | undefined {
    const t = this.timeline.tracks.find((x) => x.file === file);
    if (t && t.endedAt === undefined) {
      const end = Math.max(offsetMs, t.startOffsetMs);
      t.endedAt = this.at(end);
      t.endOffsetMs = end;
    }
    return t;
  }

  /** The recording ended: everyone still there leaves, every track still open ends, now. */
  finish(nowMs: number): void {
    const offsetMs = Math.max(0, Math.round(nowMs - this.startMs));
    this.setPresent([], nowMs);
    for (const t of this.timeline.tracks) if (t.endedAt === undefined) this.trackEnded(t.file, offsetMs);
    this.timeline.endedAt = this.at(offsetMs);
  }
}

/** Written whole (a temporary file renamed over it): a crash leaves the old or the new one. */
export function writeTimeline(dir: string, timeline: Timeline): void {
  const checked = timelineSchema.parse(timeline);
  const tmp = path.join(dir, `.${TIMELINE_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(checked, null, 2) + '\n', { mode: 0o640 });
  renameSync(tmp, path.join(dir, TIMELINE_FILE));
}
