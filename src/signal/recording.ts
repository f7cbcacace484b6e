// Recording per room, as signal keeps it: which recorder records which room, started and stopped by a
// moderator (moderation.ts checks the role first). Recorders announce their free capacity on the bus
// (recorder/index.ts); a start goes to the one with the most room that announced itself lately, else the
// moderator is told none is free. The room's state goes to everyone when it changes and to each joiner;
// the recorder is told the names to draw whenever people join, leave or rename. A room that empties stops
// its recording; a recording that fails on the recorder (`recorder.ended`) is cleared and announced.
import { randomBytes } from 'node:crypto';
import type { Bus, Unsubscribe } from '../bus/bus.ts';
import { BusCallError } from '../bus/bus.ts';
import { callBus } from '../bus/typed-calls.ts';
import type { Logger } from '../log.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import {
  recorderAnnounceSchema,
  recorderEndedSchema,
  recorderSubjects,
  type RecordedParticipant,
  type RecordingLayout,
  type RecordingMode,
} from '../protocol/recorder-messages.ts';
import type { ServerMessage } from '../protocol/signal-messages.ts';
import type { Member, Room, Session } from './rooms.ts';

/** A recorder silent this long (three announcements) is not chosen. */
export const RECORDER_EXPIRY_MS = 15_000;
/** Starting a recording: its media process, then focus and the bridge. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

interface RecorderInfo {
  id: string;
  free: number;
  lastSeen: number;
}

interface RoomRecording {
  recordingId: string;
  recorderId: string;
  /** Until the recorder confirmed the start. */
  starting: boolean;
  by: string;
  /** As the recorder said when it started (and the moderators' layout switches since). */
  mode?: RecordingMode;
  layout?: RecordingLayout;
}

export class Recordings {
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly recorders = new Map<string, RecorderInfo>();
  private readonly byRoom = new Map<Room, RoomRecording>();
  private readonly unsubscribes: Unsubscribe[];

  constructor(bus: Bus, log: Logger) {
    this.bus = bus;
    this.log = log;
    this.unsubscribes = [
      bus.subscribe(recorderSubjects.announce, (payload) => {
        const r = recorderAnnounceSchema.safeParse(payload);
        if (!r.success) return;
        this.recorders.set(r.data.recorderId, { id: r.data.recorderId, free: r.data.free, lastSeen: Date.now() });
      }),
      bus.subscribe(recorderSubjects.ended, (payload) => {
        const r = recorderEndedSchema.safeParse(payload);
        if (!r.success) return;
        for (const [room, rec] of this.byRoom) {
          if (rec.recordingId !== r.data.recordingId) continue;
          this.byRoom.delete(room);
          this.log.warn({ room: room.key, recording: rec.recordingId, err: r.data.message }, 'recording ended by itself');
          this.broadcast(room, { type: 'recording', active: false, reason: 'failed' });
        }
      }),
    ];
    bus.publish(recorderSubjects.discover, {});
  }

  /** What a joiner is told (nothing while the room is not recorded). */
  afterJoin(session: Session): void {
    const room = session.member?.room;
    if (!room) return;
    const rec = this.byRoom.get(room);
    if (rec && !rec.starting) session.send({ type: 'recording', active: true, by: rec.by, current: true, ...modeOf(rec) });
    this.membersChanged(room);
  }

  /** A moderator asks to record the room (the role is checked by the caller). */
  start(actor: Member, mode?: RecordingMode): void {
    const room = actor.room;
    if (this.byRoom.has(room)) {
      actor.session.send({ type: 'error', code: 'not-allowed', message: 'this meeting is being recorded already' });
      return;
    }
    const recorder = this.pick();
    if (!recorder) {
      this.log.warn({ room: room.key }, 'recording refused: no recorder is free');
      actor.session.send({ type: 'error', code: 'recording-unavailable', message: 'no recorder is free to record this meeting; try again later' });
      return;
    }
    recorder.free--; // until its next announcement
    const rec: RoomRecording = { recordingId: `rec-${randomBytes(8).toString('hex')}`, recorderId: recorder.id, starting: true, by: actor.displayName };
    this.byRoom.set(room, rec);
    this.log.info({ room: room.key, recording: rec.recordingId, recorder: recorder.id, participant: actor.id }, 'recording requested');
    callBus(this.bus, busCalls.recorderStart, recorder.id, { recordingId: rec.recordingId, conferenceId: room.key, room: room.name, ...participantsOf(room), ...(mode ? { mode } : {}) }, START_TIMEOUT_MS)
      .then(({ file, mode: runs, layout }) => {
        if (this.byRoom.get(room) !== rec) {
          // stopped (or the room emptied) while it started
          this.stopOnRecorder(rec);
          return;
        }
        rec.starting = false;
        if (runs) rec.mode = runs;
        if (layout) rec.layout = layout;
        this.log.info({ room: room.key, recording: rec.recordingId, file }, 'recording started');
        this.broadcast(room, { type: 'recording', active: true, by: rec.by, ...modeOf(rec) });
        this.membersChanged(room);
      })
      .catch((e: unknown) => {
        if (this.byRoom.get(room) === rec) this.byRoom.delete(room);
        const busy = e instanceof BusCallError && e.code === 'no-capacity';
        this.log.warn({ room: room.key, recording: rec.recordingId, err: (e as Error).message }, 'recording did not start');
        if (room.members.get(actor.id) === actor) {
          actor.session.send(
            busy
              ? { type: 'error', code: 'recording-unavailable', message: 'no recorder is free to record this meeting; try again later' }
              : { type: 'error', code: 'recording-failed', message: (e as Error).message.slice(0, 300) },
          );
        }
      });
  }

  /** A moderator stops the room's recording. */
  stop(actor: Member): void {
    const room = actor.room;
    const rec = this.byRoom.get(room);
    if (!rec) {
      actor.session.send({ type: 'error', code: 'not-allowed', message: 'this meeting is not being recorded' });
      return;
    }
    this.byRoom.delete(room);
    this.broadcast(room, { type: 'recording', active: false, by: actor.displayName });
    if (!rec.starting) this.stopOnRecorder(rec);
  }

  /** A moderator switches the layout of the room's composed recording (the role is checked by the caller). */
  setLayout(actor: Member, layout: RecordingLayout): void {
    const room = actor.room;
    const rec = this.byRoom.get(room);
    if (!rec || rec.starting) {
      actor.session.send({ type: 'error', code: 'not-allowed', message: 'this meeting is not being recorded' });
      return;
    }
    if (rec.mode === 'multitrack') {
      actor.session.send({ type: 'error', code: 'not-allowed', message: 'a multitrack recording has no layout' });
      return;
    }
    callBus(this.bus, busCalls.recorderLayout, rec.recorderId, { recordingId: rec.recordingId, layout }).then(
      () => {
        if (this.byRoom.get(room) !== rec) return;
        rec.layout = layout;
        this.log.info({ room: room.key, recording: rec.recordingId, layout, participant: actor.id }, 'recording layout switched');
        this.broadcast(room, { type: 'recording', active: true, by: rec.by, current: true, ...modeOf(rec) });
      },
      (e: unknown) => {
        this.log.warn({ room: room.key, recording: rec.recordingId, err: (e as Error).message }, 'switching the recording layout failed');
        if (room.members.get(actor.id) === actor) actor.session.send({ type: 'error', code: 'not-allowed', message: (e as Error).message.slice(0, 300) });
      },
    );
  }

  /**
   * People joined, left or were renamed, or another one speaks: the recorder draws the new names and follows the
   * speaker; an empty room stops recording.
   */
  membersChanged(room: Room): void {
    const rec = this.byRoom.get(room);
    if (!rec) return;
    if (room.members.size === 0) {
      this.byRoom.delete(room);
      if (!rec.starting) this.stopOnRecorder(rec);
      return;
    }
    if (rec.starting) return; // the start carries the names; they are sent again once it runs
    callBus(this.bus, busCalls.recorderParticipants, rec.recorderId, { recordingId: rec.recordingId, ...participantsOf(room) }).catch((e: unknown) =>
      this.log.warn({ room: room.key, recording: rec.recordingId, err: (e as Error).message }, 'telling the recorder the names failed'),
    );
  }

  close(): void {
    for (const u of this.unsubscribes) u();
  }

  private stopOnRecorder(rec: RoomRecording): void {
    callBus(this.bus, busCalls.recorderStop, rec.recorderId, { recordingId: rec.recordingId }, STOP_TIMEOUT_MS).then(
      ({ file }) => this.log.info({ recording: rec.recordingId, file }, 'recording stopped'),
      (e: unknown) => this.log.warn({ recording: rec.recordingId, err: (e as Error).message }, 'stopping the recording failed'),
    );
  }

  /** The recorder with the most free places among those heard from lately. */
  private pick(): RecorderInfo | undefined {
    const now = Date.now();
    let best: RecorderInfo | undefined;
    for (const r of this.recorders.values()) {
      if (now - r.lastSeen > RECORDER_EXPIRY_MS || r.free <= 0) continue;
      if (!best || r.free > best.free) best = r;
    }
    return best;
  }

  private broadcast(room: Room, message: ServerMessage): void {
    for (const m of room.members.values()) m.session.send(message);
  }
}

function modeOf(rec: RoomRecording): { mode?: RecordingMode; layout?: RecordingLayout } {
  return { ...(rec.mode ? { mode: rec.mode } : {}), ...(rec.layout && rec.mode !== 'multitrack' ? { layout: rec.layout } : {}) };
}

/** Who is in the room, by name, and who speaks. */
function participantsOf(room: Room): { participants: RecordedParticipant[]; speaker?: string } {
  const participants = [...room.members.values()].map((m) => ({ participantId: m.id, name: m.displayName, audioMuted: m.audioMuted, videoMuted: m.videoMuted }));
  return room.dominantSpeaker !== undefined && room.members.has(room.dominantSpeaker) ? { participants, speaker: room.dominantSpeaker } : { participants };
}
