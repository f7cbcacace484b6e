// Webhooks: each meeting event becomes one JSON document `{id, type, at, data}` POSTed, signed (signature.ts),
// to every URL of `webhookUrls`, each with its own queue (delivery.ts). Events come from the two places where
// things happen: Rooms' presence changes (a room starts with its first participant and finishes with its last)
// and Recordings' job changes. Emitting never waits: a slow or dead receiver cannot hold a meeting.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log.ts';
import type { RecordingEntry } from '../../protocol/recording-messages.ts';
import type { RecordingMode } from '../../protocol/recorder-messages.ts';
import type { JobChange, Recordings } from '../recording.ts';
import type { PresenceChange, Rooms } from '../rooms.ts';
import { DEFAULT_DELIVERY, WebhookDelivery, type DeliveryOptions } from './delivery.ts';

export { verifyWebhook, signWebhook, WEBHOOK_HEADERS } from './signature.ts';

type Files = RecordingEntry['files'];
type JobEnd = Extract<JobChange, { state: 'finished' }>['reason'];

/**
 * Every event and its `data` (README, "Webhooks and the admin API"). `room` is the room's name as first typed.
 * A breakout room is a room of its own here: its name, and `breakoutOf`, the name of its meeting's main room.
 */
export interface WebhookEvents {
  'room.started': { room: string; breakoutOf?: string };
  'room.finished': { room: string; startedAt: string; breakoutOf?: string };
  'participant.joined': { room: string; participantId: string; displayName: string; moderator: boolean; breakoutOf?: string };
  'participant.left': { room: string; participantId: string; displayName: string; breakoutOf?: string };
  'recording.started': { room: string; recordingId: string; by: string; mode?: RecordingMode };
  /** `files`: each with a download link relative to the server's address (valid one hour), as the Recordings dialog gives. */
  'recording.finished': { room: string; recordingId: string; reason: JobEnd; files: Files };
  'live-stream.started': { room: string; streamId: string; by: string };
  'live-stream.finished': { room: string; streamId: string; reason: JobEnd };
}

export type WebhookEventType = keyof WebhookEvents;

export interface WebhookEvent<T extends WebhookEventType = WebhookEventType> {
  id: string;
  type: T;
  /** When it happened (ISO 8601, UTC). */
  at: string;
  data: WebhookEvents[T];
}

export class Webhooks {
  private readonly deliveries: WebhookDelivery[];
  private readonly log: Logger;
  private readonly recordings: Recordings | undefined;

  constructor(opts: { urls: readonly string[]; secret: string; log: Logger; recordings?: Recordings; delivery?: DeliveryOptions }) {
    this.log = opts.log;
    this.recordings = opts.recordings;
    this.deliveries = opts.urls.map((url) => new WebhookDelivery(url, opts.secret, opts.log, opts.delivery ?? DEFAULT_DELIVERY));
    opts.log.info({ receivers: opts.urls.map((u) => new URL(u).origin) }, 'webhooks on');
  }

  emit<T extends WebhookEventType>(type: T, data: WebhookEvents[T]): void {
    const event: WebhookEvent<T> = { id: `evt_${randomBytes(12).toString('hex')}`, type, at: new Date().toISOString(), data };
    const body = JSON.stringify(event);
    for (const d of this.deliveries) d.enqueue({ id: event.id, type, body });
  }

  /** Rooms.onPresence. */
  presence(change: PresenceChange): void {
    const room = change.room.name;
    const of = change.room.breakout ? { breakoutOf: change.room.breakout.main.name } : {};
    const finished = () => this.emit('room.finished', { room, startedAt: new Date(change.room.startedAt).toISOString(), ...of });
    if (change.kind === 'finished') return finished();
    const m = change.member;
    if (change.kind === 'joined') {
      if (change.roomStarted) this.emit('room.started', { room, ...of });
      this.emit('participant.joined', { room, participantId: m.id, displayName: m.displayName, moderator: m.role === 'moderator', ...of });
      return;
    }
    this.emit('participant.left', { room, participantId: m.id, displayName: m.displayName, ...of });
    if (change.roomFinished) finished();
  }

  /** Recordings.onJob. A finished recording's event waits for its files' links (a list on the recorders). */
  job(change: JobChange): void {
    const room = change.room.name;
    if (change.kind === 'live-stream') {
      if (change.state === 'started') this.emit('live-stream.started', { room, streamId: change.recordingId, by: change.by });
      else this.emit('live-stream.finished', { room, streamId: change.recordingId, reason: change.reason });
      return;
    }
    if (change.state === 'started') {
      this.emit('recording.started', { room, recordingId: change.recordingId, by: change.by, ...(change.mode ? { mode: change.mode } : {}) });
      return;
    }
    const { recordingId, reason } = change;
    void this.filesOf(change.room.key, recordingId).then((files) => this.emit('recording.finished', { room, recordingId, reason, files }));
  }

  private async filesOf(conferenceId: string, recordingId: string): Promise<Files> {
    const library = this.recordings?.library;
    if (!library) return [];
    try {
      const found = (await library.list(conferenceId)).filter((r) => r.recordingId === recordingId);
      return library.entries(found)[0]?.files ?? [];
    } catch (e) {
      this.log.warn({ recording: recordingId, err: (e as Error).message }, 'listing a finished recording for its webhook failed');
      return [];
    }
  }

  /** Attaches to the places events happen. */
  watch(rooms: Rooms): void {
    rooms.onPresence = (change) => this.presence(change);
    if (this.recordings) this.recordings.onJob = (change) => this.job(change);
  }

  /** Gives each receiver up to `graceMs` for what is queued (the rooms closed at a stop), then stops. */
  async close(graceMs = 2000): Promise<void> {
    await Promise.all(this.deliveries.map((d) => d.close(graceMs)));
  }
}
