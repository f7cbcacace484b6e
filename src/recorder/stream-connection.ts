// A live stream's connection to its streaming server as the room is told it (recording.ts): connecting until
// the server first takes data ('stream-live': only then is the meeting live), then each loss ('stream-interrupted':
// the child retries, or a dead child is started again) and each return ('stream-resumed'), each change told
// once. A failure before the first connection is told as an interruption too (the room sees "cannot connect
// yet"); the first success after it is still 'stream-live'.

export type StreamNotice = 'stream-live' | 'stream-interrupted' | 'stream-resumed';

export class StreamConnection {
  /** The server has taken data at least once. */
  private wasLive = false;
  private interrupted = false;
  private readonly tell: (notice: StreamNotice) => void;

  constructor(tell: (notice: StreamNotice) => void) {
    this.tell = tell;
  }

  /** The server takes data; true when that is news (the first time, or after an interruption). */
  connected(): boolean {
    const news = !this.wasLive || this.interrupted;
    if (!this.wasLive) this.tell('stream-live');
    else if (this.interrupted) this.tell('stream-resumed');
    this.wasLive = true;
    this.interrupted = false;
    return news;
  }

  /** The connection failed or dropped, or the child died: the stream is retried. */
  lost(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.tell('stream-interrupted');
  }
}
