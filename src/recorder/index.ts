// recorder: composed and multitrack recordings without a browser. Announces how many more recordings it can
// take (every 5 s, at once on `recorder.discover`, and after each start and stop), answers signal's
// start/stop/names/layout requests, and runs each recording as a GStreamer child process (recording.ts: one
// composed file; multitrack-recording.ts: a file per stream; the start's mode, else recordingMode). At most
// maxRecordingsPerRecorder at once. A recording that ends by itself is told to signal (`recorder.ended`).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { BusCallError, type Bus, type Unsubscribe } from '../bus/bus.ts';
import { serveBus } from '../bus/typed-calls.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { busCalls } from '../protocol/bus-calls.ts';
import { recorderSubjects, type RecorderEnded } from '../protocol/recorder-messages.ts';
import { MultitrackRecording } from './multitrack-recording.ts';
import { Recording } from './recording.ts';

export const ANNOUNCE_INTERVAL_MS = 5000;

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
      starting++;
      announce();
      try {
        const mode = req.mode ?? config.recordingMode;
        const rec = mode === 'multitrack' ? await MultitrackRecording.start(req, bus, config, log) : await Recording.start(req, bus, config, log);
        if (closed) {
          // the recorder stopped while this one started: finish it rather than leave its child running
          await rec.stop();
          throw new BusCallError('unavailable', 'the recorder is stopping');
        }
        recordings.set(rec.id, rec);
        rec.onEnded = (reason, message) => {
          recordings.delete(rec.id);
          const ended: RecorderEnded = { recorderId, recordingId: rec.id, conferenceId: rec.conferenceId, reason, message };
          log.warn({ recording: rec.id, err: message }, 'recording ended by itself');
          bus.publish(recorderSubjects.ended, ended);
          announce();
        };
        const file = rec.file.split('/').pop()!;
        return rec instanceof Recording ? { file, mode: 'composed' as const, layout: config.recordingLayout } : { file, mode: 'multitrack' as const };
      } finally {
        starting--;
        announce();
      }
    }),
    serveBus(bus, busCalls.recorderStop, recorderId, async ({ recordingId }) => {
      const rec = recordings.get(recordingId);
      if (!rec) throw new BusCallError('not-found', `no recording ${recordingId} here`);
      recordings.delete(recordingId);
      try {
        const file = await rec.stop();
        return { file: file.split('/').pop()! };
      } finally {
        announce();
      }
    }),
    serveBus(bus, busCalls.recorderParticipants, recorderId, ({ recordingId, participants, speaker }) => {
      const rec = recordings.get(recordingId);
      if (!rec) throw new BusCallError('not-found', `no recording ${recordingId} here`);
      rec.setParticipants(participants, speaker);
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
  const timer = setInterval(announce, ANNOUNCE_INTERVAL_MS);
  timer.unref();
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
      for (const u of unsubscribes) u();
      // every running recording is finished, so its file is whole
      await Promise.allSettled([...recordings.values()].map((r) => r.stop()));
      recordings.clear();
      log.info('recorder stopped');
    },
  };
}
