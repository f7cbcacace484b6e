// Structured logs: one JSON line per event (pino). Never log per packet, never log secrets.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.TERTULIA_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ['*.pwd', '*.password', '*.token', '*.jwt', '*.key', '*.secret'], censor: '[secret]' },
  });
}
