// Structured logs: one JSON line per event (pino). Never log per packet, never log secrets.
// Logging never holds the process: lines go to stdout without blocking, and when nobody reads them (the reader
// of a pipe ended, e.g. `tertulia start | tee log` after tee stopped, or stopped reading so the pipe is full)
// they are dropped and counted, not waited for. Nothing is flushed synchronously at exit (pino's own stdout
// destination does that, and on a full pipe it waited forever); a stopping server waits a bounded time with
// flushLogs().
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Field names that hold secrets; hidden at the top level of a log line and one level down. */
const SECRET_FIELDS = ['pwd', 'password', 'pass', 'token', 'jwt', 'key', 'secret', 'session', 'natsPassword', 'natsToken', 'jwtSecret', 'rtmpUrl', 'streamKey', 'metricsToken', 'accountKey', 'webhookSecret', 'adminApiToken', 'sipTrunkPassword', 'turnSecret', 'credential'];

export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]);

/** Bytes of log lines that may wait for a slow reader; lines beyond are dropped. */
export const MAX_PENDING_LOG_BYTES = 4 * 1024 * 1024;

/** The part of a Node writable stream the console destination uses (process.stdout, or a test's stream). */
export interface ConsoleStream {
  write(chunk: string): boolean;
  readonly writableLength: number;
  on(event: 'error', listener: (e: Error) => void): unknown;
}

/** Writes log lines to a stream that may stop being read, or break, without ever waiting for it. */
export class ConsoleDestination implements DestinationStream {
  private readonly stream: ConsoleStream;
  private broken = false;
  /** Lines dropped because the reader was gone or too slow. */
  dropped = 0;

  constructor(stream: ConsoleStream) {
    this.stream = stream;
    // EPIPE (the reader ended) and the like: a console error must not crash the server, nor be retried
    stream.on('error', () => {
      this.broken = true;
    });
  }

  write(line: string): void {
    if (this.broken || this.stream.writableLength > MAX_PENDING_LOG_BYTES) {
      this.dropped++;
      return;
    }
    try {
      this.stream.write(line);
    } catch {
      this.broken = true;
      this.dropped++;
    }
  }

  /** Resolves when every line written so far has left, the stream broke, or after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    // polled: 'drain' comes only after a write that filled the stream's buffer
    const deadline = Date.now() + timeoutMs;
    while (!this.broken && this.stream.writableLength > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20).unref());
    }
  }
}

let stdoutDestination: ConsoleDestination | undefined;

/** The one destination of this thread's stdout (made on first use). */
function stdout(): ConsoleDestination {
  stdoutDestination ??= new ConsoleDestination(process.stdout);
  return stdoutDestination;
}

/** Waits (at most `timeoutMs`) for the log lines written to stdout to leave; never longer, whoever reads them. */
export function flushLogs(timeoutMs: number): Promise<void> {
  return stdoutDestination ? stdoutDestination.flush(timeoutMs) : Promise.resolve();
}

export function createLogger(level: string = process.env.TERTULIA_LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = { level, base: undefined, redact: { paths: REDACT_PATHS, censor: '[secret]' } };
  return pino(options, destination ?? stdout());
}
