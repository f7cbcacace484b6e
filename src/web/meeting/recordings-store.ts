// The Recordings dialog's data (moderators): this room's recordings as the server last listed them, each file
// with its download link. Asked for when the dialog opens and after a delete; the server checks the role.
import type { RecordingEntry } from '../../protocol/recording-messages.ts';
import type { Conference } from '../media/conference.ts';
import { Store } from '../media/store.ts';
import { perConference } from './per-conference.ts';

export interface RecordingsState {
  /** null until the first answer. */
  entries: readonly RecordingEntry[] | null;
}

export class RecordingsStore extends Store<RecordingsState> {
  readonly #conference: Conference;
  readonly dispose: () => void;

  constructor(conference: Conference) {
    super({ entries: null });
    this.#conference = conference;
    this.dispose = conference.onMessage((m) => {
      if (m.type === 'recordings') this.update({ entries: m.recordings });
      else if (m.type === 'recording-deleted') this.update({ entries: (this.state.entries ?? []).filter((e) => e.recordingId !== m.recordingId) });
    });
  }

  refresh(): void {
    this.#conference.sendMessage({ type: 'list-recordings' });
  }

  remove(recordingId: string): void {
    this.#conference.sendMessage({ type: 'delete-recording', recordingId });
  }
}

export const recordingsFor = perConference((conference) => new RecordingsStore(conference));
