// The `tertulia` command's side of the control socket (signal/control.ts): connect to the server that runs
// with this data directory, send one request, read one reply line; the connection stays open for what it started
// (and the server may say more on it: `onEvent`).
import net from 'node:net';
import path from 'node:path';
import { CONTROL_SOCKET } from '../protocol/control-messages.ts';

export class ControlError extends Error {}

export interface ControlConnection {
  /** Sends one line and waits for the server's one-line answer; throws ControlError with the server's reason. */
  ask(request: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** A line the server says by itself after the reply (an event such as a player's `moved`), parsed. */
  onEvent: (event: Record<string, unknown>) => void;
  /** Resolves when the server closes the connection (what was started ended there). */
  closed: Promise<void>;
  close(): void;
}

export function connectControl(dataDir: string): Promise<ControlConnection> {
  const file = path.join(dataDir, CONTROL_SOCKET);
  return new Promise((resolve, reject) => {
    const sock = net.connect(file);
    sock.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no Tertulia server runs with it' : e.code === 'EACCES' ? 'it belongs to another user (run this as the server\'s user)' : e.message;
      reject(new ControlError(`cannot reach the server through ${file}: ${why}. Start it with ./tertulia start and the same --data-dir.`));
    });
    sock.once('connect', () => {
      sock.removeAllListeners('error');
      sock.on('error', () => sock.destroy());
      sock.setEncoding('utf8');
      let buffered = '';
      const waiting: ((line: string | null) => void)[] = [];
      const closed = new Promise<void>((r) =>
        sock.once('close', () => {
          for (const w of waiting.splice(0)) w(null);
          r();
        }),
      );
      const connection: ControlConnection = {
        onEvent: () => {},
        closed,
        close: () => sock.end(),
        ask(request) {
          return new Promise((res, rej) => {
            waiting.push((line) => {
              if (line === null) return rej(new ControlError('the server closed the connection'));
              let reply: Record<string, unknown>;
              try {
                reply = JSON.parse(line) as Record<string, unknown>;
              } catch {
                return rej(new ControlError('the server answered something that is not JSON'));
              }
              if (reply.ok !== true) return rej(new ControlError(String(reply.error ?? 'refused')));
              res(reply);
            });
            sock.write(JSON.stringify(request) + '\n');
          });
        },
      };
      sock.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          const answer = waiting.shift();
          if (answer) answer(line);
          else {
            try {
              connection.onEvent(JSON.parse(line) as Record<string, unknown>);
            } catch {
              // not JSON: nothing to do with it
            }
          }
        }
      });
      resolve(connection);
    });
  });
}
