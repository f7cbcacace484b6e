// One composed recording or live stream (a job), from start to stop: its GStreamer child
// (compositor-process.ts), its plain-RTP endpoint at focus (a receiver of the whole conference, SRTP keyed by
// SDES: the recorder may be on another machine than the bridge), and the two things it merges for the child:
// whose streams arrive (focus's `plain.<id>.sources`) and the names to draw (signal's start and
// `recorder.<id>.participants`). A recording's folder is <dataDir>/recordings/<recordingId>/, with its media
// files and recording.json (recording-store.ts); a live stream writes nothing (the child pushes RTMP and
// retries a failed connection itself, stream_output.py).
// Start order: the child binds its ports and plays -> attach at focus (deferred) -> the child gets the key
// -> focus starts sending. So the first packets (and the keyframe the bridge asks for) find the child ready.
// A child that dies is started again on the same ports (a recording goes on in a new file, <room>-<time>-partN),
// with the endpoint attached anew: the new child's SRTP contexts start fresh, and so must the bridge's (their
// rollover counters would not match after 65536 packets). After MAX_RESTARTS within RESTART_WINDOW_MS it ends.
// A child whose file stops growing for STALL_MS (a pipeline stuck, not dead) is killed and so started again.
// When the meeting's bridge dies or drains, focus makes the endpoint again on another bridge: the child gets the
// new keys (`crypto` again) and goes on in the SAME file on the same ports (a short gap, no new part).
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Bus } from '../bus/bus.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { ReceivedSource } from '../protocol/bus-messages.ts';
import type { RecordedParticipant } from '../protocol/recorder-messages.ts';
import { ComposerProcess, type ComposerCommand } from './compositor-process.ts';
import { ConferenceFeed } from '../plain-rtp/conference-feed.ts';
import { DISK_CHECK_MS, enoughSpace } from './disk-space.ts';
import { recordingFileName } from './file-name.ts';
import { beginOrUndo, timeout, type RecorderJob } from './job.ts';
import type { PortSet } from './port-range.ts';
import { StreamConnection } from './stream-connection.ts';
import { createRecordingDir, withoutEmptyFiles, writeRecordingMeta, type RecordingMeta } from './recording-store.ts';

/** How long the child may take to start its pipeline, and to finish the file when asked to stop. */
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 12_000;
/** A child that died this often within the window is not started again: the job ends as failed. */
export const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 5 * 60_000;
/** A file that has not grown for this long means a stuck child (a black, silent meeting still adds ~4 KB/s: a 64 KiB write each ~16 s). */
const STALL_MS = 60_000;
/** Test hook: a shorter stall (seconds), so a test of it does not wait a minute. */
function stallMs(): number {
  const hook = Number(process.env.TERTULIA_TEST_RECORDING_STALL_SECONDS);
  return Number.isFinite(hook) && hook > 0 ? hook * 1000 : STALL_MS;
}

export interface RecordingRequest {
  recordingId: string;
  conferenceId: string;
  room: string;
  participants: RecordedParticipant[];
  speaker?: string;
  /** A live stream to this RTMP(S) address (a secret) instead of a file. */
  stream?: { rtmpUrl: string };
}

/** What to cut out of the child's lines: the address, its path and its last part (the key). */
function secretsOf(rtmpUrl: string): string[] {
  const { pathname } = new URL(rtmpUrl);
  return [rtmpUrl, pathname, pathname.split('/').filter(Boolean).at(-1) ?? ''];
}

export class Recording implements RecorderJob {
  readonly id: string;
  readonly conferenceId: string;
  readonly ports: PortSet;
  /** A live stream's address (a secret: never logged), or undefined for a recording to files. */
  private readonly rtmpUrl: string | undefined;
  /** The recording's folder ('' for a live stream), and the media file being written in it. */
  readonly dir: string;
  file: string;
  private segment = 1;
  private readonly room: string;
  private readonly bus: Bus;
  private readonly config: Config;
  private readonly log: Logger;
  private composer: ComposerProcess;
  private feed: ConferenceFeed;
  private meta: RecordingMeta | null = null;
  private restarts: number[] = [];
  private restarting: Promise<void> | null = null;
  /** A live stream's connection, as the room is told it: connecting, live, interrupted (retried). */
  private readonly connection = new StreamConnection((notice) => this.onNotice(notice));
  private names: RecordedParticipant[];
  private speaker: string | undefined;
  private sources: readonly ReceivedSource[] = [];
  private stopping: Promise<string> | null = null;
  /** recordingMinFreeMb, and the timer that checks the free space while it runs. */
  private readonly minFreeMb: number;
  private diskTimer: NodeJS.Timeout | undefined;
  /** The file's size when last seen, and when it last grew (the stall watch). */
  private growth = { file: '', size: -1, at: 0 };
  /** Why the running child was killed by us (a stall), for the restart's message. */
  private killedFor: string | undefined;
  /**
   * Called once when the recording ended without stop(): its child died ('failed'), the meeting's media ended, or
   * the disk's free space fell below recordingMinFreeMb ('disk-full': the file was finished).
   */
  onEnded: (reason: 'failed' | 'meeting-ended' | 'disk-full', message: string) => void = () => {};
  /** Something the room is told while it runs: a new file after a restart, a live stream live, interrupted or resumed. */
  onNotice: RecorderJob['onNotice'] = () => {};

  private constructor(req: RecordingRequest, bus: Bus, config: Config, log: Logger, ports: PortSet) {
    this.id = req.recordingId;
    this.conferenceId = req.conferenceId;
    this.room = req.room;
    this.bus = bus;
    this.config = config;
    this.ports = ports;
    this.rtmpUrl = req.stream?.rtmpUrl;
    this.names = req.participants;
    this.speaker = req.speaker;
    this.minFreeMb = config.recordingMinFreeMb;
    this.log = log.child({ recording: req.recordingId, conference: req.conferenceId, ...(this.rtmpUrl ? { job: 'live-stream' } : {}) });
    this.feed = new ConferenceFeed(bus, this.log, req.conferenceId, req.recordingId);
    const now = new Date();
    if (this.rtmpUrl) {
      this.dir = '';
      this.file = '';
    } else {
      this.dir = createRecordingDir(config.dataDir, req.recordingId);
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
    }
    this.composer = this.newComposer();
  }

  /** A live stream rather than a recording to files. */
  get isStream(): boolean {
    return this.rtmpUrl !== undefined;
  }

  private newComposer(): ComposerProcess {
    const c = this.config;
    const composer = new ComposerProcess(
      {
        output: this.rtmpUrl ? null : this.file,
        ...(this.rtmpUrl ? { stream: true } : {}),
        ports: this.ports,
        width: c.recordingWidth,
        height: c.recordingHeight,
        fps: c.recordingFps,
        videoBitrate: c.recordingVideoBitrate,
        layout: c.recordingLayout,
        bindAddress: c.recorderAddress,
        srtp: true,
      },
      this.log,
      undefined,
      this.rtmpUrl ? secretsOf(this.rtmpUrl) : [],
    );
    composer.onStream = (state, message) => this.streamState(state, message);
    return composer;
  }

  /** Starts it; throws a BusCallError (unavailable, not-found, ...) with what went wrong, leaving nothing behind. */
  static async start(req: RecordingRequest, bus: Bus, config: Config, log: Logger, ports: PortSet): Promise<Recording> {
    const r = new Recording(req, bus, config, log, ports);
    await beginOrUndo(
      () => r.begin(config.recorderAddress),
      async () => {
        r.composer.kill();
        await r.feed.detach();
        r.finishMeta('failed to start');
      },
    );
    return r;
  }

  private async begin(address: string): Promise<void> {
    const ports = await timeout(this.composer.ready, READY_TIMEOUT_MS, 'starting the media process');
    this.feed.onSources = (sources) => {
      this.sources = sources;
      this.push();
    };
    this.feed.onEnded = () => this.endByItself('meeting-ended', 'the meeting ended');
    this.feed.onMoved = (moved) => this.composer.rekey({ cmd: 'crypto', ...moved }, READY_TIMEOUT_MS);
    this.composer.onLayout = (videos) => this.feed.setVideoSizes(videos);
    const keys = await this.feed.attach(address, ports);
    // the first packets (and the keyframes the bridge asks for) must find the key set, or they are lost
    this.composer.send({ cmd: 'crypto', ...keys });
    await timeout(this.composer.keyed, READY_TIMEOUT_MS, 'setting the SRTP key');
    this.sources = this.feed.sources;
    this.push();
    await this.feed.start();
    if (this.rtmpUrl) this.composer.send({ cmd: 'stream', url: this.rtmpUrl });
    const composer = this.composer;
    composer.exited.then(
      ({ clean, code, signal }) => {
        if (this.stopping || composer !== this.composer) return;
        const why = this.killedFor ?? (clean ? 'the media process ended' : `the media process ended unexpectedly (${signal ?? code})`);
        this.killedFor = undefined;
        this.childDied(why);
      },
      () => {},
    );
    if (!this.rtmpUrl && this.diskTimer === undefined) {
      this.diskTimer = setInterval(() => {
        this.checkDisk();
        this.checkGrowth();
      }, DISK_CHECK_MS);
      this.diskTimer.unref();
    }
    this.log.info({ file: path.basename(this.file), pid: this.composer.pid, segment: this.segment }, this.rtmpUrl ? 'live stream started' : 'recording started');
  }

  /** The child died by itself: started again (a recording in a new file), unless it died too often lately. */
  private childDied(message: string): void {
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (this.restarts.length >= MAX_RESTARTS) {
      this.fail(`${message}; it failed ${this.restarts.length + 1} times in ${RESTART_WINDOW_MS / 60_000} minutes`);
      return;
    }
    this.restarts.push(now);
    this.log.warn({ err: message, restart: this.restarts.length }, 'the media process ended unexpectedly: starting it again');
    if (this.rtmpUrl) this.connection.lost();
    this.restarting = (async () => {
      await this.feed.detach();
      if (this.meta) {
        const at = new Date();
        this.segment++;
        this.file = path.join(this.dir, recordingFileName(this.room, at, this.segment));
        // a segment whose process died before writing anything is no file (deleted, not listed)
        const files = withoutEmptyFiles(this.dir, this.meta.files).map((f) => ({ ...f, endedAt: f.endedAt ?? at.toISOString() }));
        this.meta = { ...this.meta, files: [...files, { name: path.basename(this.file), startedAt: at.toISOString(), kind: 'composed' }] };
        writeRecordingMeta(this.dir, this.meta);
      }
      this.feed = new ConferenceFeed(this.bus, this.log, this.conferenceId, this.id);
      this.composer = this.newComposer();
      await this.begin(this.config.recorderAddress);
      if (this.meta) this.onNotice('segment', this.segment);
    })().then(
      () => {
        this.restarting = null;
      },
      (e: unknown) => {
        this.restarting = null;
        this.composer.kill();
        this.fail(`${message}; starting it again failed: ${(e as Error).message}`);
      },
    );
  }

  /** Ends it as failed (the files play up to then) and says so once. */
  private fail(message: string): void {
    if (this.stopping) return;
    clearInterval(this.diskTimer);
    this.stopping = Promise.resolve(this.file);
    void this.feed.detach();
    this.finishMeta(message);
    this.onEnded('failed', message);
  }

  /** A live stream's connection: live (the server takes data) or interrupted (retried by the child); each change told once. */
  private streamState(state: 'live' | 'interrupted', message: string): void {
    if (state === 'interrupted') {
      this.log.warn({ err: message }, 'live stream interrupted: retrying');
      this.connection.lost();
      return;
    }
    if (this.connection.connected()) this.log.info('live stream connected');
  }

  /** Below recordingMinFreeMb: the file is finished now, while there is room for its end (duration, cues). */
  private checkDisk(): void {
    if (this.stopping) return;
    let space: { ok: boolean; freeMb: number };
    try {
      space = enoughSpace(this.dir, this.minFreeMb);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not read the free disk space');
      return;
    }
    if (space.ok) return;
    this.log.warn({ freeMb: Math.floor(space.freeMb), minFreeMb: this.minFreeMb }, 'the disk is nearly full: the recording stops');
    this.endByItself('disk-full', `disk-full: ${Math.floor(space.freeMb)} MiB free, below recordingMinFreeMb (${this.minFreeMb})`);
  }

  /** A child whose file has not grown for STALL_MS is stuck: killed, so it is started again into a new part. */
  private checkGrowth(): void {
    if (this.stopping || this.restarting || this.killedFor) return;
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      size = 0; // not written yet
    }
    const now = Date.now();
    if (this.growth.file !== this.file || size !== this.growth.size) {
      this.growth = { file: this.file, size, at: now };
      return;
    }
    const stall = stallMs();
    if (now - this.growth.at < stall) return;
    this.killedFor = `the media process stalled (its file did not grow for ${stall / 1000} s)`;
    this.log.warn({ file: path.basename(this.file), pid: this.composer.pid }, 'the media process stalled: killing it');
    this.composer.kill('SIGKILL');
  }

  /** Finishes the file because the conference is gone (focus expired our endpoint) or the disk is full, then says so once. */
  private endByItself(reason: 'meeting-ended' | 'disk-full', message: string): void {
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
      await this.restarting?.catch(() => {});
      clearInterval(this.diskTimer);
      this.composer.send({ cmd: 'stop' });
      try {
        await timeout(this.composer.exited, STOP_TIMEOUT_MS, 'finishing the file');
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'the media process did not finish: killed (the file plays up to its last cluster)');
        this.composer.kill();
      }
      await this.feed.detach();
      this.finishMeta(reason);
      this.log.info({ file: path.basename(this.file) }, this.rtmpUrl ? 'live stream stopped' : 'recording stopped');
      return this.file;
    })();
    return this.stopping;
  }

  /** Kills the child at once (tests: what a crash leaves). */
  kill(): void {
    this.composer.kill('SIGKILL');
  }

  /** Writes the end time, and why it ended, into recording.json. */
  private finishMeta(endReason?: string): void {
    if (!this.meta) return;
    const endedAt = new Date().toISOString();
    const files = withoutEmptyFiles(this.dir, this.meta.files).map((f) => ({ ...f, endedAt: f.endedAt ?? endedAt }));
    this.meta = { ...this.meta, endedAt, ...(endReason ? { endReason } : {}), files };
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
