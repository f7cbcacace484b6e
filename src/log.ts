// Structured logs: one JSON line per event (pino). Never log per packet, never log secrets.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Field names that hold secrets; hidden at the top level of a log line and one level down. */
const SECRET_FIELDS = ['pwd', 'password', 'pass', 'token', 'jwt', 'key', 'secret', 'session', 'natsPassword', 'natsToken', 'jwtSecret'];

export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]);

export function createLogger(level: string = process.env.TERTULIA_LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = { level, base: undefined, redact: { paths: REDACT_PATHS, censor: '[secret]' } };
  return destination ? pino(options, destination) : pino(options);
}
