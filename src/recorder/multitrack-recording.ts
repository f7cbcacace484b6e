// One multitrack recording, from start to finished files: each participant's audio and video saved as they
// arrived (VP8/Opus in WebM, never decoded) by one light GStreamer child (multitrack-process.ts), fed by the
// same whole-conference plain-RTP endpoint as a composed recording (conference-feed.ts). Beside the files in
// its folder: recording.json (every file, whose and when) and timeline.json (who was in when, each file's
// offsets; timeline.ts), both rewritten whole on each change so a crash leaves them true up to then.
// Start order as for a composed recording: the child binds its ports -> attach at focus (deferred) -> the
// child gets the key -> focus starts sending.
import path from 'node:path';
import type { Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { ReceivedSource } from '../protocol/bus-messages.ts';
import type { RecordedParticipant } from '../protocol/recorder-messages.ts';
import { ConferenceFeed } from '../plain-rtp/conference-feed.ts';
import { DISK_CHECK_MS, enoughSpace } from './disk-space.ts';
import { MultitrackProcess, type MultitrackCommand, type MultitrackEvent } from './multitrack-process.ts';
import { beginOrUndo, timeout, type RecorderJob } from './job.ts';
import type { PortSet } from './port-range.ts';
import type { RecordingRequest } from './recording.ts';
import { createRecordingDir, writeRecordingMeta, type RecordingMeta } from './recording-store.ts';
import { TIMELINE_FILE, TimelineBuilder, writeTimeline } from './timeline.ts';

const READY_TIMEOUT_MS = 15_000;
/** The child finishes its files within 5 s of a stop (multitrack.py END_WAIT_S). */
const STOP_TIMEOUT_MS = 12_000;

export class MultitrackRecording implements RecorderJob {
  readonly id: string;
  readonly conferenceId: string;
  readonly dir: string;
  /** Its timeline.json: what says where everything else is. */
  readonly file: string;
  private readonly room: string;
  private readonly log: Logger;
  private readonly child: MultitrackProcess;
  private readonly feed: ConferenceFeed;
  private meta: RecordingMeta;
  private timeline: TimelineBuilder | null = null;
  private names: RecordedParticipant[];
  private sources: readonly ReceivedSource[] = [];
  private stopping: Promise<string> | null = null;
  onEnded: (reason: 'failed' | 'meeting-ended' | 'disk-full', message: string) => void = () => {};
  /** A multitrack recording does not restart its child (a crash ends it) and is no stream: nothing to tell. */
  onNotice: RecorderJob['onNotice'] = () => {};
  readonly isStream = false;
  readonly ports: PortSet;
  /** recordingMinFreeMb, and the timer that checks the free space while it runs. */
  private readonly minFreeMb: number;
  private diskTimer: NodeJS.Timeout | undefined;

  private constructor(req: RecordingRequest, bus: Bus, config: Config, log: Logger, ports: PortSet) {
    this.ports = ports;
    this.minFreeMb = config.recordingMinFreeMb;
    this.id = req.recordingId;
    this.conferenceId = req.conferenceId;
    this.room = req.room;
    this.names = req.participants;
    this.log = log.child({ recording: req.recordingId, conference: req.conferenceId, mode: 'multitrack' });
    this.feed = new ConferenceFeed(bus, this.log, req.conferenceId, req.recordingId);
    this.dir = createRecordingDir(config.dataDir, req.recordingId);
    this.file = path.join(this.dir, TIMELINE_FILE);
    const now = new Date().toISOString();
    this.meta = {
      version: 1,
      recordingId: req.recordingId,
      room: req.room,
      conferenceId: req.conferenceId,
      kind: 'multitrack',
      startedAt: now,
      files: [{ name: TIMELINE_FILE, startedAt: now, kind: 'timeline' }],
    };
    writeRecordingMeta(this.dir, this.meta);
    this.child = new MultitrackProcess({ dir: this.dir, bindAddress: config.recorderAddress, srtp: true, ports }, this.log);
    this.child.onTrack = (e) => this.onTrack(e);
  }

  static async start(req: RecordingRequest, bus: Bus, config: Config, log: Logger, ports: PortSet): Promise<MultitrackRecording> {
    const r = new MultitrackRecording(req, bus, config, log, ports);
    await beginOrUndo(
      () => r.begin(config.recorderAddress),
      async () => {
        r.child.kill();
        await r.feed.detach();
        r.finish('failed to start');
      },
    );
    return r;
  }

  private async begin(address: string): Promise<void> {
    const ports = await timeout(this.child.ready, READY_TIMEOUT_MS, 'starting the media process');
    this.feed.onSources = (sources) => {
      this.sources = sources;
      this.push();
    };
    this.feed.onEnded = () => {
      if (this.stopping) return;
      void this.stop('the meeting ended').then(() => this.onEnded('meeting-ended', 'the meeting ended'));
    };
    this.feed.onMoved = (moved) => this.child.rekey({ cmd: 'crypto', ...moved }, READY_TIMEOUT_MS);
    const keys = await this.feed.attach(address, ports);
    this.child.send({ cmd: 'crypto', ...keys });
    const startMs = await timeout(this.child.keyed, READY_TIMEOUT_MS, 'setting the SRTP key');
    this.timeline = new TimelineBuilder(this.id, this.room, startMs);
    this.timeline.setPresent(this.names, Date.now());
    this.writeTimeline();
    this.sources = this.feed.sources;
    this.push();
    await this.feed.start();
    this.child.exited.then(
      ({ clean, code, signal }) => {
        if (this.stopping) return;
        clearInterval(this.diskTimer);
        this.stopping = Promise.resolve(this.file);
        void this.feed.detach();
        const message = clean ? 'the media process ended' : `the media process ended unexpectedly (${signal ?? code})`;
        this.finish(message);
        this.onEnded('failed', message);
      },
      () => {},
    );
    // below recordingMinFreeMb the files are finished while there is room for their ends
    this.diskTimer = setInterval(() => {
      if (this.stopping) return;
      let space: { ok: boolean; freeMb: number };
      try {
        space = enoughSpace(this.dir, this.minFreeMb);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'could not read the free disk space');
        return;
      }
      if (space.ok) return;
      const message = `disk-full: ${Math.floor(space.freeMb)} MiB free, below recordingMinFreeMb (${this.minFreeMb})`;
      this.log.warn({ freeMb: Math.floor(space.freeMb), minFreeMb: this.minFreeMb }, 'the disk is nearly full: the recording stops');
      void this.stop(message).then(() => this.onEnded('disk-full', message));
    }, DISK_CHECK_MS);
    this.diskTimer.unref();
    this.log.info({ pid: this.child.pid }, 'recording started');
  }

  /** Names from signal: who is in the meeting (the timeline's joins and leaves) and the files' names. */
  setParticipants(participants: RecordedParticipant[], _speaker?: string): void {
    this.names = participants;
    if (this.timeline && !this.stopping) {
      this.timeline.setPresent(participants, Date.now());
      this.writeTimeline();
    }
    this.push();
  }

  /** Finishes every file (or kills a child that does not) and leaves the conference; resolves with timeline.json. */
  stop(reason?: string): Promise<string> {
    this.stopping ??= (async () => {
      clearInterval(this.diskTimer);
      this.child.send({ cmd: 'stop' });
      try {
        await timeout(this.child.exited, STOP_TIMEOUT_MS, 'finishing the files');
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'the media process did not finish: killed (its files play up to their last cluster)');
        this.child.kill();
      }
      await this.feed.detach();
      this.finish(reason);
      this.log.info({ files: this.meta.files.length - 1 }, 'recording stopped');
      return this.file;
    })();
    return this.stopping;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private onTrack(e: Extract<MultitrackEvent, { event: 'track' | 'track-ended' }>): void {
    if (!this.timeline) return;
    if (e.event === 'track') {
      const t = this.timeline.trackStarted(e);
      this.meta.files.push({ name: e.file, startedAt: t.startedAt, kind: e.kind, ...(e.participantId !== null ? { participantId: e.participantId } : {}) });
    } else {
      const t = this.timeline.trackEnded(e.file, e.offsetMs);
      const f = this.meta.files.find((x) => x.name === e.file);
      if (f && t?.endedAt) f.endedAt = t.endedAt;
    }
    this.writeMeta();
    this.writeTimeline();
  }

  /** The end: recording.json and timeline.json closed (every open file and stay ends now). */
  private finish(endReason?: string): void {
    const endedAt = new Date().toISOString();
    if (this.timeline) {
      this.timeline.finish(Date.now());
      this.writeTimeline();
    }
    this.meta = { ...this.meta, endedAt, ...(endReason ? { endReason } : {}), files: this.meta.files.map((f) => ({ ...f, endedAt: f.endedAt ?? endedAt })) };
    this.writeMeta();
  }

  private writeMeta(): void {
    try {
      writeRecordingMeta(this.dir, this.meta);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not write recording.json');
    }
  }

  private writeTimeline(): void {
    if (!this.timeline) return;
    try {
      writeTimeline(this.dir, this.timeline.timeline);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not write timeline.json');
    }
  }

  /** Tells the child whose streams arrive (files are named after their owners; a stream gone is finished). */
  private push(): void {
    const byId = new Map<string, Extract<MultitrackCommand, { cmd: 'participants' }>['participants'][number]>();
    for (const p of this.names) byId.set(p.participantId, { id: p.participantId, name: p.name, sources: [] });
    for (const s of this.sources) {
      let p = byId.get(s.participantId);
      if (!p) byId.set(s.participantId, (p = { id: s.participantId, name: '', sources: [] }));
      p.sources.push(s.role ? { ssrc: s.ssrc, kind: s.kind, role: s.role } : { ssrc: s.ssrc, kind: s.kind });
    }
    this.child.send({ cmd: 'participants', participants: [...byId.values()] });
  }
}
