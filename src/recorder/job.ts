// What the recorder part (index.ts) knows of any job it runs: a composed recording or a live stream
// (recording.ts) or a multitrack recording (multitrack-recording.ts); and what their starts share.
import { BusCallError } from '../bus/bus.ts';
import type { RecordedParticipant, RecorderNotice } from '../protocol/recorder-messages.ts';
import type { PortSet } from './port-range.ts';

export interface RecorderJob {
  readonly id: string;
  readonly conferenceId: string;
  /** Its (first) file: the composed file, or a multitrack recording's timeline. */
  readonly file: string;
  readonly isStream: boolean;
  /** The four UDP ports of recorderPortMin..Max it holds until it ends. */
  readonly ports: PortSet;
  /** Called once when it ended without stop(): its child died, the meeting's media ended, or the disk filled. */
  onEnded: (reason: 'failed' | 'meeting-ended' | 'disk-full', message: string) => void;
  /** What the room is told while it runs: a new file after a restart, a live stream live, interrupted or resumed. */
  onNotice: (kind: RecorderNotice['kind'], segment?: number) => void;
  setParticipants(participants: RecordedParticipant[], speaker: string | undefined): void;
  /** Finishes its files and leaves the conference; resolves with its (first) file. */
  stop(reason?: string): Promise<string>;
  /** Kills its media process at once (tests: what a crash leaves). */
  kill(): void;
}

/** `p`, or an error naming `what` after `ms`. */
export function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * A job's start: `begin`, and when it fails `undo` (kill the child, leave the conference, close the metadata)
 * and a BusCallError with what went wrong (`unavailable` unless begin threw a BusCallError itself).
 */
export async function beginOrUndo(begin: () => Promise<void>, undo: () => Promise<void>): Promise<void> {
  try {
    await begin();
  } catch (e) {
    await undo();
    if (e instanceof BusCallError) throw e;
    throw new BusCallError('unavailable', (e as Error).message);
  }
}
