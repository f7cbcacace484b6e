// One composed recording, from start to a finished file: its GStreamer child (compositor-process.ts), its
// plain-RTP endpoint at focus (a receiver of the whole conference, SRTP keyed by SDES: the recorder may be
// on another machine than the bridge), and the two things it merges for the child: whose streams arrive
// (focus's `plain.<id>.sources`) and the names to draw (signal's start and `recorder.<id>.participants`).
// Start order: the child binds its ports and plays -> attach at focus (deferred) -> the child gets the key
// -> focus starts sending. So the first packets (and the keyframe the bridge asks for) find the child ready.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BusCallError, type Bus, type Unsubscribe } from '../bus/bus.ts';
import { callBus } from '../bus/typed-calls.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { plainSourcesSchema, subjects, type ReceivedSource } from '../protocol/bus-messages.ts';
import type { RecordedParticipant } from '../protocol/recorder-messages.ts';
import { ComposerProcess, type ComposerCommand } from './compositor-process.ts';
import { recordingFileName, recordingsDir } from './file-name.ts';

/** How long the child may take to start its pipeline, and to finish the file when asked to stop. */
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 12_000;
const FOCUS_TIMEOUT_MS = 10_000;

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
  readonly file: string;
  private readonly bus: Bus;
  private readonly log: Logger;
  private readonly composer: ComposerProcess;
  private names: RecordedParticipant[];
  private speaker: string | undefined;
  private sources: ReceivedSource[] = [];
  private heardFromFocus = false;
  private unsubscribe: Unsubscribe = () => {};
  private stopping: Promise<string> | null = null;
  /** Called once when the recording ended without stop(): its child died ('failed'), or the meeting's media ended. */
  onEnded: (reason: 'failed' | 'meeting-ended', message: string) => void = () => {};

  private constructor(req: RecordingRequest, bus: Bus, config: Config, log: Logger) {
    this.id = req.recordingId;
    this.conferenceId = req.conferenceId;
    this.names = req.participants;
    this.speaker = req.speaker;
    this.bus = bus;
    this.log = log.child({ recording: req.recordingId, conference: req.conferenceId });
    const dir = recordingsDir(config.dataDir);
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    this.file = path.join(dir, recordingFileName(req.room));
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
      r.unsubscribe();
      await r.detach();
      if (e instanceof BusCallError) throw e;
      throw new BusCallError('unavailable', (e as Error).message);
    }
    return r;
  }

  private async begin(address: string): Promise<void> {
    const ports = await timeout(this.composer.ready, READY_TIMEOUT_MS, 'starting the media process');
    this.unsubscribe = this.bus.subscribe(subjects.plainSources(this.id), (payload) => {
      const r = plainSourcesSchema.safeParse(payload);
      if (!r.success || r.data.endpointId !== this.id) return;
      this.heardFromFocus = true;
      if (r.data.ended) {
        this.endByItself('meeting-ended', 'the meeting ended');
        return;
      }
      this.sources = r.data.sources;
      this.push();
    });
    const reply = await callBus(
      this.bus,
      busCalls.focusAttachPlain,
      '',
      {
        conferenceId: this.conferenceId,
        endpointId: this.id,
        legs: [
          { kind: 'audio', address, port: ports.audioPort },
          { kind: 'video', address, port: ports.videoPort },
        ],
        rtcpMux: false,
        comedia: false,
        srtp: true,
        sources: [],
        receiveAll: { deferred: true },
      },
      FOCUS_TIMEOUT_MS,
    );
    if (!reply.srtp) throw new BusCallError('unavailable', 'the bridge gave no SRTP key');
    // the first packets (and the keyframes the bridge asks for) must find the key set, or they are lost
    const videoLeg = reply.legs.find((l) => l.kind === 'video');
    if (!videoLeg) throw new BusCallError('unavailable', 'the bridge opened no video leg');
    this.composer.send({ cmd: 'crypto', key: reply.srtp.localKey, sendKey: reply.srtp.remoteKey, bridge: { address: reply.address, videoRtcpPort: videoLeg.rtcpPort } });
    await timeout(this.composer.keyed, READY_TIMEOUT_MS, 'setting the SRTP key');
    if (!this.heardFromFocus) {
      this.sources = reply.receives.flatMap((s) => (s.participantId === undefined ? [] : [{ ...s, participantId: s.participantId }]));
    }
    this.push();
    await callBus(this.bus, busCalls.focusStartPlain, '', { conferenceId: this.conferenceId, endpointId: this.id }, FOCUS_TIMEOUT_MS);
    this.composer.exited.then(
      ({ clean, code, signal }) => {
        if (this.stopping) return;
        this.stopping = Promise.resolve(this.file);
        this.unsubscribe();
        void this.detach();
        this.onEnded('failed', clean ? 'the media process ended' : `the media process ended unexpectedly (${signal ?? code})`);
      },
      () => {},
    );
    this.log.info({ file: path.basename(this.file), pid: this.composer.pid }, 'recording started');
  }

  /** Finishes the file because the conference is gone (focus expired our endpoint), then says so once. */
  private endByItself(reason: 'meeting-ended', message: string): void {
    if (this.stopping) return;
    void this.stop().then(() => this.onEnded(reason, message));
  }

  /** The names to draw, in the room's order (signal's whole list each time), and who speaks. */
  setParticipants(participants: RecordedParticipant[], speaker: string | undefined): void {
    this.names = participants;
    this.speaker = speaker;
    this.push();
  }

  /** Finishes the file (or kills a child that does not) and leaves the conference; resolves with the file. */
  stop(): Promise<string> {
    this.stopping ??= (async () => {
      this.unsubscribe();
      this.composer.send({ cmd: 'stop' });
      try {
        await timeout(this.composer.exited, STOP_TIMEOUT_MS, 'finishing the file');
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'the media process did not finish: killed (the file plays up to its last cluster)');
        this.composer.kill();
      }
      await this.detach();
      this.log.info({ file: path.basename(this.file) }, 'recording stopped');
      return this.file;
    })();
    return this.stopping;
  }

  /** Kills the child at once (tests: what a crash leaves). */
  kill(): void {
    this.composer.kill('SIGKILL');
  }

  private async detach(): Promise<void> {
    try {
      await callBus(this.bus, busCalls.focusDetachPlain, '', { conferenceId: this.conferenceId, endpointId: this.id }, FOCUS_TIMEOUT_MS);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'leaving the conference failed');
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
