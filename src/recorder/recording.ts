// One composed recording, from start to a finished file: its GStreamer child (compositor-process.ts), its
// plain-RTP endpoint at focus (a receiver of the whole conference, SRTP keyed by SDES: the recorder may be
// on another machine than the bridge), and the two things it merges for the child: whose streams arrive
// (focus's `plain.<id>.sources`) and the names to draw (signal's start and `recorder.<id>.participants`).
// Its folder is <dataDir>/recordings/<recordingId>/, with the media file and recording.json (recording-store.ts).
// Start order: the child binds its ports and plays -> attach at focus (deferred) -> the child gets the key
// -> focus starts sending. So the first packets (and the keyframe the bridge asks for) find the child ready.
import path from 'node:path';
import { BusCallError, type Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { ReceivedSource } from '../protocol/bus-messages.ts';
import type { RecordedParticipant } from '../protocol/recorder-messages.ts';
import { ComposerProcess, type ComposerCommand } from './compositor-process.ts';
import { ConferenceFeed } from './conference-feed.ts';
import { recordingFileName } from './file-name.ts';
import { createRecordingDir, writeRecordingMeta, type RecordingMeta } from './recording-store.ts';

/** How long the child may take to start its pipeline, and to finish the file when asked to stop. */
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 12_000;

export interface RecordingRequest {
  recordingId: string;
  conferenceId: string;
  room: string;
  participants: RecordedParticipant[];
  speaker?: string;
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

export class Recording {
  readonly id: string;
  readonly conferenceId: string;
  /** The recording's folder, and its (first) media file in it. */
  readonly dir: string;
  readonly file: string;
  private readonly log: Logger;
  private readonly composer: ComposerProcess;
  private readonly feed: ConferenceFeed;
  private meta: RecordingMeta;
  private names: RecordedParticipant[];
  private speaker: string | undefined;
  private sources: readonly ReceivedSource[] = [];
  private stopping: Promise<string> | null = null;
  /** Called once when the recording ended without stop(): its child died ('failed'), or the meeting's media ended. */
  onEnded: (reason: 'failed' | 'meeting-ended', message: string) => void = () => {};

  private constructor(req: RecordingRequest, bus: Bus, config: Config, log: Logger) {
    this.id = req.recordingId;
    this.conferenceId = req.conferenceId;
    this.names = req.participants;
    this.speaker = req.speaker;
    this.log = log.child({ recording: req.recordingId, conference: req.conferenceId });
    this.feed = new ConferenceFeed(bus, this.log, req.conferenceId, req.recordingId);
    this.dir = createRecordingDir(config.dataDir, req.recordingId);
    const now = new Date();
    this.file = path.join(this.dir, recordingFileName(req.room, now));
    this.meta = {
      version: 1,
      recordingId: req.recordingId,
      room: req.room,
      conferenceId: req.conferenceId,
      kind: 'composed',
      startedAt: now.toISOString(),
      files: [{ name: path.basename(this.file), startedAt: now.toISOString(), kind: 'composed' }],
    };
    writeRecordingMeta(this.dir, this.meta);
    this.composer = new ComposerProcess(
      {
        output: this.file,
        width: config.recordingWidth,
        height: config.recordingHeight,
        fps: config.recordingFps,
        videoBitrate: config.recordingVideoBitrate,
        layout: config.recordingLayout,
        bindAddress: config.recorderAddress,
        srtp: true,
      },
      this.log,
    );
  }

  /** Starts it; throws a BusCallError (unavailable, not-found, ...) with what went wrong, leaving nothing behind. */
  static async start(req: RecordingRequest, bus: Bus, config: Config, log: Logger): Promise<Recording> {
    const r = new Recording(req, bus, config, log);
    try {
      await r.begin(config.recorderAddress);
    } catch (e) {
      r.composer.kill();
      await r.feed.detach();
      r.finishMeta('failed to start');
      if (e instanceof BusCallError) throw e;
      throw new BusCallError('unavailable', (e as Error).message);
    }
    return r;
  }

  private async begin(address: string): Promise<void> {
    const ports = await timeout(this.composer.ready, READY_TIMEOUT_MS, 'starting the media process');
    this.feed.onSources = (sources) => {
      this.sources = sources;
      this.push();
    };
    this.feed.onEnded = () => this.endByItself('meeting-ended', 'the meeting ended');
    this.composer.onLayout = (videos) => this.feed.setVideoSizes(videos);
    const keys = await this.feed.attach(address, ports);
    // the first packets (and the keyframes the bridge asks for) must find the key set, or they are lost
    this.composer.send({ cmd: 'crypto', ...keys });
    await timeout(this.composer.keyed, READY_TIMEOUT_MS, 'setting the SRTP key');
    this.sources = this.feed.sources;
    this.push();
    await this.feed.start();
    this.composer.exited.then(
      ({ clean, code, signal }) => {
        if (this.stopping) return;
        this.stopping = Promise.resolve(this.file);
        void this.feed.detach();
        const message = clean ? 'the media process ended' : `the media process ended unexpectedly (${signal ?? code})`;
        this.finishMeta(message);
        this.onEnded('failed', message);
      },
      () => {},
    );
    this.log.info({ file: path.basename(this.file), pid: this.composer.pid }, 'recording started');
  }

  /** Finishes the file because the conference is gone (focus expired our endpoint), then says so once. */
  private endByItself(reason: 'meeting-ended', message: string): void {
    if (this.stopping) return;
    void this.stop(message).then(() => this.onEnded(reason, message));
  }

  /** The names to draw, in the room's order (signal's whole list each time), and who speaks. */
  setParticipants(participants: RecordedParticipant[], speaker: string | undefined): void {
    this.names = participants;
    this.speaker = speaker;
    this.push();
  }

  /** A moderator's switch (grid or speaker), live. */
  setLayout(layout: 'grid' | 'speaker'): void {
    this.composer.send({ cmd: 'layout', layout });
  }

  /** Finishes the file (or kills a child that does not) and leaves the conference; resolves with the file. */
  stop(reason?: string): Promise<string> {
    this.stopping ??= (async () => {
      this.composer.send({ cmd: 'stop' });
      try {
        await timeout(this.composer.exited, STOP_TIMEOUT_MS, 'finishing the file');
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'the media process did not finish: killed (the file plays up to its last cluster)');
        this.composer.kill();
      }
      await this.feed.detach();
      this.finishMeta(reason);
      this.log.info({ file: path.basename(this.file) }, 'recording stopped');
      return this.file;
    })();
    return this.stopping;
  }

  /** Kills the child at once (tests: what a crash leaves). */
  kill(): void {
    this.composer.kill('SIGKILL');
  }

  /** Writes the end time (and why, when it did not end by a stop) into recording.json. */
  private finishMeta(endReason?: string): void {
    const endedAt = new Date().toISOString();
    this.meta = { ...this.meta, endedAt, ...(endReason ? { endReason } : {}), files: this.meta.files.map((f) => ({ ...f, endedAt: f.endedAt ?? endedAt })) };
    try {
      writeRecordingMeta(this.dir, this.meta);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not write recording.json');
    }
  }

  /** Tells the child who is in, by name, with the streams each one sends. */
  private push(): void {
    const byId = new Map<string, Extract<ComposerCommand, { cmd: 'participants' }>['participants'][number]>();
    for (const p of this.names) byId.set(p.participantId, { id: p.participantId, name: p.name, sources: [] });
    for (const s of this.sources) {
      let p = byId.get(s.participantId);
      if (!p) byId.set(s.participantId, (p = { id: s.participantId, name: '', sources: [] }));
      p.sources.push(s.role ? { ssrc: s.ssrc, kind: s.kind, role: s.role } : { ssrc: s.ssrc, kind: s.kind });
    }
    this.composer.send(this.speaker === undefined ? { cmd: 'participants', participants: [...byId.values()] } : { cmd: 'participants', participants: [...byId.values()], speaker: this.speaker });
  }
}
