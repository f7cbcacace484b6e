// Recording and live streaming per room, as signal keeps them: a room has at most one job of each kind (a
// recording, a live stream), each on some recorder, started and stopped by a moderator (moderation.ts checks
// the role first). Recorders announce their free capacity on the bus (recorder/index.ts); a start goes to the
// one with the most room that announced itself lately, else the moderator is told none is free. A job's state
// goes to everyone when it changes and to each joiner (`recording` / `live-stream`, never the stream's
// address); the recorder is told the names to draw whenever people join, leave or rename. A room that empties
// stops its jobs; a job that fails on the recorder (`recorder.ended`) is cleared and announced; what happens
// meanwhile (`recorder.notice`: a new part, a stream live, interrupted or resumed) is passed on. A live stream
// is started once the recorder took it, but connecting until the recorder says the streaming server took data.
// The recordings kept on the recorders (list, download, delete) are recording-library.ts's.
// With several signal instances, a running job is also a shared room item (shared-room-items.ts, one per kind):
// a joiner on another instance is told the room is recorded or live, and a moderator there (or anywhere once
// the starting instance died) stops it on its recorder. The instance that started a job follows it (names,
// the recorder's notices, an emptied room); the item only says what runs and where.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Bus, Unsubscribe } from '../bus/bus.ts';
import { BusCallError } from '../bus/bus.ts';
import { callBus } from '../bus/typed-calls.ts';
import type { BridgeWarmUp } from '../bus/bridge-warm-up.ts';
import type { Logger } from '../log.ts';
import { FOCUS_ATTACH_TIMEOUT_MS, busCalls } from '../protocol/bus-calls.ts';
import {
  recorderAnnounceSchema,
  recorderEndedSchema,
  recorderNoticeSchema,
  recorderSubjects,
  recordingIdSchema,
  recordingLayoutSchema,
  recordingModeSchema,
  type RecordedParticipant,
  type RecordingLayout,
  type RecordingMode,
} from '../protocol/recorder-messages.ts';
import type { ServerMessage } from '../protocol/signal-messages.ts';
import { RecordingLibrary } from './recording-library.ts';
import { checkStreamUrl } from '../protocol/stream-url.ts';
import type { Member, Room, Session } from './rooms.ts';
import { localRoomItems, type SharedRoomItems } from './shared-room-items.ts';

/** A running job as every signal instance sees it (the item named after its kind). */
const sharedJobSchema = z.object({
  recordingId: recordingIdSchema,
  recorderId: z.string().min(1).max(128),
  by: z.string().max(1000),
  mode: recordingModeSchema.optional(),
  layout: recordingLayoutSchema.optional(),
  connecting: z.boolean().optional(),
  interrupted: z.boolean().optional(),
});
type SharedJob = z.infer<typeof sharedJobSchema>;

/** A recorder silent this long (three announcements) is not chosen. */
export const RECORDER_EXPIRY_MS = 15_000;
/** Starting a recording: its media process (the recorder gives it 15 s), then focus and the bridge. */
const START_TIMEOUT_MS = 15_000 + FOCUS_ATTACH_TIMEOUT_MS;
const STOP_TIMEOUT_MS = 20_000;

interface RecorderInfo {
  id: string;
  free: number;
  lastSeen: number;
}

export type JobKind = 'recording' | 'live-stream';

/** A job ran or ended, told to observers (webhooks.ts): `started` once the recorder confirmed it, `finished` once it stopped. */
export type JobChange =
  | { state: 'started'; kind: JobKind; room: Room; recordingId: string; by: string; mode?: RecordingMode }
  | { state: 'finished'; kind: JobKind; room: Room; recordingId: string; reason: 'stopped' | 'meeting-ended' | 'failed' | 'disk-full' };

interface RoomRecording {
  kind: JobKind;
  recordingId: string;
  recorderId: string;
  /** Until the recorder confirmed the start. */
  starting: boolean;
  by: string;
  /** A live stream the streaming server has not taken data of yet (the meeting is not live yet). */
  connecting?: boolean;
  /** A live stream whose connection the recorder is retrying. */
  interrupted?: boolean;
  /** As the recorder said when it started (and the moderators' layout switches since). */
  mode?: RecordingMode;
  layout?: RecordingLayout;
}

/** What a moderator is told, per kind. */
const TEXT = {
  recording: { already: 'this meeting is being recorded already', none: 'this meeting is not being recorded', unavailable: 'recording-unavailable', failed: 'recording-failed', what: 'record' },
  'live-stream': { already: 'this meeting is live already', none: 'this meeting is not live', unavailable: 'live-stream-unavailable', failed: 'live-stream-failed', what: 'stream' },
} as const;

export class Recordings {
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly recorders = new Map<string, RecorderInfo>();
  private readonly jobs: Record<JobKind, Map<Room, RoomRecording>> = { recording: new Map(), 'live-stream': new Map() };
  private readonly unsubscribes: Unsubscribe[];
  /** The recordings the recorders keep: listed, downloaded and deleted through signal. */
  readonly library: RecordingLibrary;

  /** The recorders heard lately, with their free places. */
  liveRecorders(): { id: string; free: number }[] {
    const now = Date.now();
    return [...this.recorders.values()].filter((r) => now - r.lastSeen <= RECORDER_EXPIRY_MS).map((r) => ({ id: r.id, free: r.free }));
  }

  /** What runs in a room (started here or, as the shared item says, through another signal instance). */
  running(room: Room): JobKind[] {
    return (['recording', 'live-stream'] as const).filter((k) => this.jobs[k].has(room) || this.items.get<SharedJob>(room, k) !== undefined);
  }

  private readonly items: SharedRoomItems;

  /** Asks idle bridges to start their media workers: the recorder joins like a participant. */
  private readonly warmUp: BridgeWarmUp | undefined;

  constructor(bus: Bus, log: Logger, items: SharedRoomItems = localRoomItems(log), warmUp?: BridgeWarmUp) {
    this.bus = bus;
    this.warmUp = warmUp;
    this.log = log;
    this.items = items;
    for (const kind of ['recording', 'live-stream'] as const) {
      items.define({
        name: kind,
        schema: sharedJobSchema,
        // stopped through another signal instance (it told everyone): this one no longer follows the job
        loaded: (room, shared: SharedJob | undefined) => {
          // what keeps a room on the bridge (peer-to-peer) and refuses E2EE follows jobs of every instance
          this.runningChanged(room);
          const rec = this.jobs[kind].get(room);
          if (!rec || rec.starting || shared?.recordingId === rec.recordingId) return;
          this.jobs[kind].delete(room);
          this.log.info({ room: room.key, recording: rec.recordingId, kind }, 'job stopped through another signal instance');
        },
        // a joiner that missed another instance's news: the job as it is (a running one here stays as told)
        tell: (member, shared: SharedJob | undefined) => {
          if (!this.jobs[kind].has(member.room)) member.session.send(sharedAsItIs(kind, shared));
        },
      });
    }
    this.library = new RecordingLibrary(bus, log, () => this.liveRecorders().map((r) => r.id));
    this.unsubscribes = [
      bus.subscribe(recorderSubjects.announce, (payload) => {
        const r = recorderAnnounceSchema.safeParse(payload);
        if (!r.success) return;
        this.recorders.set(r.data.recorderId, { id: r.data.recorderId, free: r.data.free, lastSeen: Date.now() });
      }),
      bus.subscribe(recorderSubjects.ended, (payload) => {
        const r = recorderEndedSchema.safeParse(payload);
        if (!r.success) return;
        const found = this.find(r.data.recordingId);
        if (!found) return;
        const [room, rec] = found;
        this.jobs[rec.kind].delete(room);
        this.runningChanged(room);
        this.log.warn({ room: room.key, recording: rec.recordingId, kind: rec.kind, err: r.data.message }, 'recording ended by itself');
        if (!rec.starting) this.tellJob({ state: 'finished', kind: rec.kind, room, recordingId: rec.recordingId, reason: r.data.reason });
        if (rec.kind === 'recording') this.broadcast(room, { type: 'recording', active: false, reason: r.data.reason === 'disk-full' ? 'disk-full' : 'failed' });
        else this.broadcast(room, { type: 'live-stream', active: false, reason: 'failed' });
      }),
      bus.subscribe(recorderSubjects.notice, (payload) => {
        const r = recorderNoticeSchema.safeParse(payload);
        const found = r.success ? this.find(r.data.recordingId) : undefined;
        if (!r.success || !found) return;
        const [room, rec] = found;
        const kind = r.data.kind;
        if (rec.kind === 'live-stream' && kind !== 'segment') {
          rec.interrupted = kind === 'stream-interrupted';
          if (kind !== 'stream-interrupted') rec.connecting = false;
        }
        // the stream may connect (or fail to) before the start's reply: the start says how it is
        if (rec.starting) return;
        this.log.info({ room: room.key, recording: rec.recordingId, notice: kind, segment: r.data.segment }, 'recorder notice');
        if (kind === 'segment' && rec.kind === 'recording') this.broadcast(room, { type: 'recording', active: true, by: rec.by, continued: true });
        if (kind !== 'segment' && rec.kind === 'live-stream') {
          const change = kind === 'stream-live' ? 'connected' : kind === 'stream-interrupted' ? 'interrupted' : 'resumed';
          this.broadcast(room, { type: 'live-stream', active: true, by: rec.by, ...streamState(rec), change });
        }
      }),
    ];
    bus.publish(recorderSubjects.discover, {});
  }

  /** What a joiner is told (nothing while the room is not recorded). */
  afterJoin(session: Session): void {
    const room = session.member?.room;
    if (!room) return;
    const rec = this.jobs.recording.get(room);
    if (rec && !rec.starting) session.send({ type: 'recording', active: true, by: rec.by, current: true, ...modeOf(rec) });
    const live = this.jobs['live-stream'].get(room);
    if (live && !live.starting) session.send({ type: 'live-stream', active: true, by: live.by, ...streamState(live), current: true });
    const member = session.member;
    // started through another signal instance: told from the shared item (read from the store for a new room)
    this.items.whenLoaded(room, () => {
      if (session.member !== member) return;
      for (const kind of ['recording', 'live-stream'] as const) {
        const shared = this.sharedJob(room, kind);
        if (shared) session.send(sharedAsItIs(kind, shared));
      }
    });
    this.membersChanged(room);
  }

  /** A moderator asks to record the room (the role is checked by the caller); `mode` absent: the recorder's setting. */
  start(actor: Member, mode?: RecordingMode): void {
    this.startJob('recording', actor, { mode });
  }

  /** A moderator stops the room's recording. */
  stop(actor: Member): void {
    this.stopJob('recording', actor);
  }

  /** A moderator asks to stream the room live to an RTMP(S) server; a bad address is refused with why. */
  startStream(actor: Member, url: string, key: string): void {
    const checked = checkStreamUrl(url, key);
    if (!checked.ok) {
      this.log.info({ room: actor.room.key, participant: actor.id }, 'live stream refused: bad address');
      actor.session.send({ type: 'error', code: 'live-stream-bad-url', message: checked.message });
      return;
    }
    this.startJob('live-stream', actor, { rtmpUrl: checked.rtmpUrl });
  }

  stopStream(actor: Member): void {
    this.stopJob('live-stream', actor);
  }

  private startJob(kind: JobKind, actor: Member, options: { rtmpUrl?: string; mode?: RecordingMode | undefined }): void {
    const { rtmpUrl, mode } = options;
    const room = actor.room;
    const text = TEXT[kind];
    if (this.jobs[kind].has(room) || this.sharedJob(room, kind)) {
      actor.session.send({ type: 'error', code: 'not-allowed', message: text.already });
      return;
    }
    const unavailable = { type: 'error', code: text.unavailable, message: `no recorder is free to ${text.what} this meeting; try again later` } as const;
    const recorder = this.pick();
    if (!recorder) {
      this.log.warn({ room: room.key, kind }, 'recording refused: no recorder is free');
      actor.session.send(unavailable);
      return;
    }
    recorder.free--; // until its next announcement
    // a meeting whose media goes peer to peer may have left the bridge idle: its workers start while the recorder does
    this.warmUp?.request();
    const rec: RoomRecording = { kind, recordingId: `rec-${randomBytes(8).toString('hex')}`, recorderId: recorder.id, starting: true, by: actor.displayName };
    if (kind === 'live-stream') rec.connecting = true;
    this.jobs[kind].set(room, rec);
    this.runningChanged(room);
    this.log.info({ room: room.key, recording: rec.recordingId, kind, recorder: recorder.id, participant: actor.id }, 'recording requested');
    const request = { recordingId: rec.recordingId, conferenceId: room.key, room: room.name, ...participantsOf(room), ...(rtmpUrl ? { stream: { rtmpUrl } } : {}), ...(mode ? { mode } : {}) };
    callBus(this.bus, busCalls.recorderStart, recorder.id, request, START_TIMEOUT_MS)
      .then(({ file, mode: runs, layout }) => {
        if (this.jobs[kind].get(room) !== rec) {
          // stopped (or the room emptied) while it started
          this.stopOnRecorder(rec);
          return;
        }
        rec.starting = false;
        if (runs) rec.mode = runs;
        if (layout) rec.layout = layout;
        this.log.info({ room: room.key, recording: rec.recordingId, kind, file }, 'recording started');
        this.tellJob({ state: 'started', kind, room, recordingId: rec.recordingId, by: rec.by, ...(rec.mode ? { mode: rec.mode } : {}) });
        if (kind === 'recording') this.broadcast(room, { type: 'recording', active: true, by: rec.by, ...modeOf(rec) });
        else this.broadcast(room, { type: 'live-stream', active: true, by: rec.by, ...streamState(rec) });
        this.membersChanged(room);
      })
      .catch((e: unknown) => {
        if (this.jobs[kind].get(room) === rec) {
          this.jobs[kind].delete(room);
          this.runningChanged(room);
        }
        const busy = e instanceof BusCallError && e.code === 'no-capacity';
        this.log.warn({ room: room.key, recording: rec.recordingId, kind, err: (e as Error).message }, 'recording did not start');
        if (room.members.get(actor.id) === actor) {
          const noSpace = e instanceof BusCallError && e.code === 'no-space';
          actor.session.send(
            busy
              ? unavailable
              : noSpace && kind === 'recording'
                ? { type: 'error', code: 'recording-no-space', message: 'not enough disk space on the recorder' }
                : { type: 'error', code: text.failed, message: (e as Error).message.slice(0, 300) },
          );
        }
      });
  }

  private stopJob(kind: JobKind, actor: Member): void {
    const room = actor.room;
    const rec = this.jobs[kind].get(room);
    const shared = this.sharedJob(room, kind);
    if (!rec && shared) {
      // started through another signal instance: stopped on its recorder from here
      this.log.info({ room: room.key, recording: shared.recordingId, kind, participant: actor.id }, 'stopping a job started through another signal instance');
      for (const m of room.members.values()) m.session.send({ type: kind, active: false, by: actor.displayName });
      void this.items.change<SharedJob>(room, kind, () => undefined);
      const stopping: RoomRecording = { kind, recordingId: shared.recordingId, recorderId: shared.recorderId, starting: false, by: shared.by };
      this.stopOnRecorder(stopping, () => this.tellJob({ state: 'finished', kind, room, recordingId: shared.recordingId, reason: 'stopped' }));
      return;
    }
    if (!rec) {
      actor.session.send({ type: 'error', code: 'not-allowed', message: TEXT[kind].none });
      return;
    }
    this.jobs[kind].delete(room);
    this.runningChanged(room);
    this.broadcast(room, { type: kind, active: false, by: actor.displayName });
    if (!rec.starting) this.stopOnRecorder(rec, () => this.tellJob({ state: 'finished', kind, room, recordingId: rec.recordingId, reason: 'stopped' }));
  }

  /** The room and job of a recording id. */
  private find(recordingId: string): [Room, RoomRecording] | undefined {
    for (const jobs of Object.values(this.jobs)) for (const [room, rec] of jobs) if (rec.recordingId === recordingId) return [room, rec];
    return undefined;
  }

  /** A moderator switches the layout of the room's composed recording (the role is checked by the caller). */
  setLayout(actor: Member, layout: RecordingLayout): void {
    const room = actor.room;
    const rec = this.jobs.recording.get(room);
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
        if (this.jobs.recording.get(room) !== rec) return;
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
    for (const jobs of Object.values(this.jobs)) {
      const rec = jobs.get(room);
      if (!rec) continue;
      if (room.members.size === 0) {
        jobs.delete(room);
        this.share(room, rec.kind);
        this.runningChanged(room);
        if (!rec.starting) this.stopOnRecorder(rec, () => this.tellJob({ state: 'finished', kind: rec.kind, room, recordingId: rec.recordingId, reason: 'meeting-ended' }));
        continue;
      }
      if (rec.starting) continue; // the start carries the names; they are sent again once it runs
      callBus(this.bus, busCalls.recorderParticipants, rec.recorderId, { recordingId: rec.recordingId, ...participantsOf(room) }).catch((e: unknown) =>
        this.log.warn({ room: room.key, recording: rec.recordingId, err: (e as Error).message }, 'telling the recorder the names failed'),
      );
    }
  }

  close(): void {
    for (const u of this.unsubscribes) u();
  }

  /** Called when a job is asked for or is over (peer-to-peer keeps a room with a job on the bridge). */
  onRunningChanged?: (room: Room) => void;

  private runningChanged(room: Room): void {
    try {
      this.onRunningChanged?.(room);
    } catch (e) {
      this.log.error({ room: room.key, err: (e as Error).message }, 'recording observer failed');
    }
  }

  /** Called when a job starts or ends (webhooks). */
  onJob?: (change: JobChange) => void;

  private tellJob(change: JobChange): void {
    try {
      this.onJob?.(change);
    } catch (e) {
      this.log.error({ recording: change.recordingId, err: (e as Error).message }, 'recording observer failed');
    }
  }

  /** `stopped`: once the recorder answered (its files are closed), or failed to. */
  private stopOnRecorder(rec: RoomRecording, stopped?: () => void): void {
    callBus(this.bus, busCalls.recorderStop, rec.recorderId, { recordingId: rec.recordingId }, STOP_TIMEOUT_MS)
      .then(
        ({ file }) => this.log.info({ recording: rec.recordingId, file }, 'recording stopped'),
        (e: unknown) => this.log.warn({ recording: rec.recordingId, err: (e as Error).message }, 'stopping the recording failed'),
      )
      .finally(() => stopped?.());
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
    if (message.type === 'recording' || message.type === 'live-stream') this.share(room, message.type);
  }

  /** The room's job of `kind` as the other signal instances see it (none: cleared). */
  private share(room: Room, kind: JobKind): void {
    const rec = this.jobs[kind].get(room);
    const job: SharedJob | undefined = rec && !rec.starting ? { recordingId: rec.recordingId, recorderId: rec.recorderId, by: rec.by, ...modeOf(rec), ...(rec.connecting ? { connecting: true } : {}), ...(rec.interrupted ? { interrupted: true } : {}) } : undefined;
    void this.items.change<SharedJob>(room, kind, () => job);
  }

  /** A job of `kind` started on another signal instance (or one that died), as the shared item says. */
  private sharedJob(room: Room, kind: JobKind): SharedJob | undefined {
    return this.jobs[kind].has(room) ? undefined : this.items.get<SharedJob>(room, kind);
  }
}

/** A job of another signal instance (its shared item; none: not running), as a joiner is told it. */
function sharedAsItIs(kind: JobKind, shared: SharedJob | undefined): ServerMessage {
  if (kind === 'recording') {
    return shared
      ? { type: 'recording', active: true, by: shared.by, current: true, ...(shared.mode ? { mode: shared.mode } : {}), ...(shared.layout ? { layout: shared.layout } : {}) }
      : { type: 'recording', active: false, current: true };
  }
  return shared ? { type: 'live-stream', active: true, by: shared.by, ...streamState(shared), current: true } : { type: 'live-stream', active: false, current: true };
}

/** A live stream's connection as told: `connecting` until the streaming server took data, `interrupted` while retried. */
function streamState(job: { connecting?: boolean | undefined; interrupted?: boolean | undefined }): { connecting?: true; interrupted: boolean } {
  return { ...(job.connecting ? { connecting: true } : {}), interrupted: job.interrupted ?? false };
}

function modeOf(rec: RoomRecording): { mode?: RecordingMode; layout?: RecordingLayout } {
  return { ...(rec.mode ? { mode: rec.mode } : {}), ...(rec.layout && rec.mode !== 'multitrack' ? { layout: rec.layout } : {}) };
}

/** Who is in the room, by name, and who speaks. */
function participantsOf(room: Room): { participants: RecordedParticipant[]; speaker?: string } {
  const participants = [...room.members.values()].map((m) => ({ participantId: m.id, name: m.displayName, audioMuted: m.audioMuted, videoMuted: m.videoMuted }));
  return room.dominantSpeaker !== undefined && room.members.has(room.dominantSpeaker) ? { participants, speaker: room.dominantSpeaker } : { participants };
}
