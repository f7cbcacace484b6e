// A logger that keeps what it is told at `level` and above as JSON lines (`lines`), for a test to look into or to
// print when it fails.
import { pino } from 'pino';
import type { Logger } from '../../src/log.ts';

export function keptLog(level = 'warn'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(line) });
  return { log, lines };
}
