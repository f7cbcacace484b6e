// recorder: composed and multitrack recordings and live streams without a browser. Announces how many more jobs
// it can take (every 5 s, at once on `recorder.discover`, and after each start and stop), answers signal's
// start/stop/names/layout requests, and runs each job as a GStreamer child process (recording.ts: one composed
// file or a live stream; multitrack-recording.ts: a file per stream; the start's mode, else recordingMode) on
// its own four UDP ports of recorderPortMin..Max (port-range.ts). At most maxRecordingsPerRecorder jobs at once.
// A job that ends by itself is told to signal (`recorder.ended`), and so is what the room should hear meanwhile
// (`recorder.notice`). It owns the recordings on its disk (recording-library.ts): lists, reads and deletes them
// for signal, deletes those past recordingRetentionDays (at start and hourly), and starts none below
// recordingMinFreeMb (disk-space.ts).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { BusCallError, type Bus, type Unsubscribe } from '../bus/bus.ts';
import { serveBus } from '../bus/typed-calls.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { recorderSubjects, type RecorderEnded, type RecorderNotice } from '../protocol/recorder-messages.ts';
import { MultitrackRecording } from './multitrack-recording.ts';
import { PortRange, portSetFree, type PortSet } from './port-range.ts';
import { Recording } from './recording.ts';
import { deleteExpiredRecordings, deleteRecording, listRecordings, readRecordingChunk } from './recording-library.ts';
import { enoughSpace } from './disk-space.ts';
import { recordingsDir } from './recording-store.ts';

export const ANNOUNCE_INTERVAL_MS = 5000;
/** How often recordings past recordingRetentionDays are looked for. */
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

export interface RecorderPart {
  recorderId: string;
  /** The running recordings (tests: kill one's child). */
  readonly recordings: ReadonlyMap<string, Recording | MultitrackRecording>;
  close(): Promise<void>;
}

/** This recorder's id on the bus: the recorderId setting, else <short hostname>-<random>. */
export function effectiveRecorderId(config: Config, hostname: string = os.hostname()): string {
  if (config.recorderId) return config.recorderId;
  const host = (hostname.split('.')[0] ?? '').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'recorder';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

export function startRecorder(opts: { bus: Bus; config: Config; log: Logger; recorderId?: string }): RecorderPart {
  const { bus, config } = opts;
  const recorderId = opts.recorderId ?? effectiveRecorderId(config);
  const log = opts.log.child({ part: 'recorder', recorder: recorderId });
  const instance = randomBytes(6).toString('hex');
  const recordings = new Map<string, Recording | MultitrackRecording>();
  /** Starts under way count against the cap too. */
  let starting = 0;
  let closed = false;
  const max = config.maxRecordingsPerRecorder;
  const free = () => Math.max(0, max - recordings.size - starting);
  const portRange = new PortRange(config.recorderPortMin, config.recorderPortMax);
  /** A free set of four ports, checked bindable (another program may hold some of the range). */
  const takePorts = async (): Promise<PortSet | null> => {
    for (let i = 0; i < portRange.size; i++) {
      const set = portRange.take();
      if (!set) return null;
      if (await portSetFree(config.recorderAddress, set)) return set;
      log.warn({ ports: set }, 'recorder ports held by another program: skipped');
      portRange.release(set, true);
    }
    return null;
  };

  const announce = () => {
    if (closed) return;
    try {
      bus.publish(recorderSubjects.announce, { recorderId, free: free(), max, instance });
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'could not announce the recorder');
    }
  };

  const unsubscribes: Unsubscribe[] = [
    bus.subscribe(recorderSubjects.discover, () => announce()),
    serveBus(bus, busCalls.recorderStart, recorderId, async (req) => {
      if (closed) throw new BusCallError('unavailable', 'the recorder is stopping');
      if (recordings.has(req.recordingId)) throw new BusCallError('conflict', `recording ${req.recordingId} runs already`);
      if (free() === 0) throw new BusCallError('no-capacity', `this recorder runs its ${max} recordings already`);
      // a live stream writes nothing here
      const space = req.stream ? { ok: true, freeMb: 0 } : enoughSpace(recordingsDir(config.dataDir), config.recordingMinFreeMb);
      if (!space.ok) {
        log.warn({ freeMb: Math.floor(space.freeMb), minFreeMb: config.recordingMinFreeMb }, 'recording refused: not enough disk space');
        throw new BusCallError('no-space', `not enough disk space on the recorder: ${Math.floor(space.freeMb)} MiB free, recordingMinFreeMb is ${config.recordingMinFreeMb}`);
      }
      starting++;
      announce();
      let ports: PortSet | null = null;
      try {
        ports = await takePorts();
        if (!ports) throw new BusCallError('no-capacity', `no free set of four UDP ports in ${config.recorderPortMin}-${config.recorderPortMax} on ${config.recorderAddress}`);
        const mode = req.mode ?? config.recordingMode;
        const rec: Recording | MultitrackRecording =
          mode === 'multitrack' && !req.stream ? await MultitrackRecording.start(req, bus, config, log, ports) : await Recording.start(req, bus, config, log, ports);
        if (closed) {
          // the recorder stopped while this one started: finish it rather than leave its child running
          await rec.stop('the recorder stopped');
          throw new BusCallError('unavailable', 'the recorder is stopping');
        }
        ports = null; // the recording holds them now
        recordings.set(rec.id, rec);
        rec.onNotice = (kind, segment) => {
          const notice: RecorderNotice = { recorderId, recordingId: rec.id, kind, ...(segment ? { segment } : {}) };
          bus.publish(recorderSubjects.notice, notice);
        };
        rec.onEnded = (reason, message) => {
          recordings.delete(rec.id);
          portRange.release(rec.ports);
          const ended: RecorderEnded = { recorderId, recordingId: rec.id, conferenceId: rec.conferenceId, reason, message };
          log.warn({ recording: rec.id, err: message }, 'recording ended by itself');
          bus.publish(recorderSubjects.ended, ended);
          announce();
        };
        const file = rec.file.split('/').pop()!;
        return rec instanceof Recording ? { file, mode: 'composed' as const, layout: config.recordingLayout } : { file, mode: 'multitrack' as const };
      } finally {
        if (ports) portRange.release(ports);
        starting--;
        announce();
      }
    }),
    serveBus(bus, busCalls.recorderStop, recorderId, async ({ recordingId }) => {
      const rec = recordings.get(recordingId);
      if (!rec) throw new BusCallError('not-found', `no recording ${recordingId} here`);
      recordings.delete(recordingId);
      try {
        const file = await rec.stop('stopped');
        return { file: file.split('/').pop()! };
      } finally {
        portRange.release(rec.ports);
        announce();
      }
    }),
    serveBus(bus, busCalls.recorderParticipants, recorderId, ({ recordingId, participants, speaker }) => {
      const rec = recordings.get(recordingId);
      if (!rec) throw new BusCallError('not-found', `no recording ${recordingId} here`);
      rec.setParticipants(participants, speaker);
      return { ok: true } as const;
    }),
    serveBus(bus, busCalls.recorderList, recorderId, ({ conferenceId }) => ({
      recordings: listRecordings(config.dataDir, recorderId, new Set(recordings.keys()), conferenceId),
    })),
    serveBus(bus, busCalls.recorderRead, recorderId, ({ recordingId, file, offset, length }) => {
      const { data, size } = readRecordingChunk(config.dataDir, recordingId, file, offset, length);
      return { data: data.toString('base64'), size };
    }),
    serveBus(bus, busCalls.recorderDelete, recorderId, ({ recordingId }) => {
      if (recordings.has(recordingId)) throw new BusCallError('conflict', `recording ${recordingId} is running; stop it first`);
      deleteRecording(config.dataDir, recordingId);
      log.info({ recording: recordingId }, 'recording deleted');
      return { ok: true } as const;
    }),
    serveBus(bus, busCalls.recorderLayout, recorderId, ({ recordingId, layout }) => {
      const rec = recordings.get(recordingId);
      if (!rec) throw new BusCallError('not-found', `no recording ${recordingId} here`);
      if (!(rec instanceof Recording)) throw new BusCallError('conflict', 'a multitrack recording has no layout');
      rec.setLayout(layout);
      return { ok: true } as const;
    }),
  ];
  const expire = () => {
    try {
      const deleted = deleteExpiredRecordings(config.dataDir, config.recordingRetentionDays, new Set(recordings.keys()));
      if (deleted.length > 0) log.info({ deleted, retentionDays: config.recordingRetentionDays }, 'old recordings deleted');
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'deleting old recordings failed');
    }
  };
  const timer = setInterval(announce, ANNOUNCE_INTERVAL_MS);
  timer.unref();
  const retentionTimer = setInterval(expire, RETENTION_INTERVAL_MS);
  retentionTimer.unref();
  expire();
  announce();
  log.info({ max }, 'recorder started');

  return {
    recorderId,
    recordings,
    async close() {
      if (closed) return;
      announce(); // last word: unchanged; signal forgets a recorder that stops announcing
      closed = true;
      clearInterval(timer);
      clearInterval(retentionTimer);
      for (const u of unsubscribes) u();
      // every running recording is finished, so its file is whole
      await Promise.allSettled([...recordings.values()].map((r) => r.stop('the recorder stopped')));
      recordings.clear();
      log.info('recorder stopped');
    },
  };
}
