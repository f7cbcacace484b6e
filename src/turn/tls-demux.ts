// TURN over TLS on the HTTPS port. The HTTPS listener ends TLS (with the certificate it already has, so it works
// by IP address and with the self-signed certificate too, no SNI needed) and looks at the first decrypted byte:
// an HTTP request starts with a method's capital letter, a STUN/TURN message (RFC 5389: the two top bits of the
// message type are zero) with a byte below 0x40. TURN connections are piped, as plaintext, to coturn's TCP
// listener on the loopback address; everything else goes to the HTTP server as if nothing had looked.
// A connection that says nothing for PEEK_TIMEOUT_MS is closed (HTTP's own timeouts start after this).
import net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from '../log.ts';

const PEEK_TIMEOUT_MS = 30_000;

/** True when a decrypted stream that begins with this byte is STUN/TURN (never HTTP). */
export function isStunFirstByte(byte: number): boolean {
  return byte < 0x40;
}

export interface TurnTlsCounters {
  /** TURN connections piped to coturn since the start. */
  piped: number;
  /** Open now. */
  open: number;
}

/**
 * From now on, `server`'s TLS connections whose first bytes are STUN go to `target()` (coturn's loopback TCP
 * port; undefined while TURN is off or down: those connections are closed), the others to the listeners it had.
 */
export function demuxTurnOverTls(server: tls.Server, target: () => number | undefined, log: Logger): TurnTlsCounters {
  const counters: TurnTlsCounters = { piped: 0, open: 0 };
  const original = server.listeners('secureConnection') as ((socket: tls.TLSSocket) => void)[];
  server.removeAllListeners('secureConnection');
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const timer = setTimeout(() => socket.destroy(), PEEK_TIMEOUT_MS);
    const onError = () => clearTimeout(timer);
    socket.once('error', onError);
    socket.once('close', onError);
    const onReadable = () => {
      const first = socket.read() as Buffer | null;
      if (first === null) {
        socket.once('readable', onReadable);
        return;
      }
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onError);
      if (first.length > 0 && isStunFirstByte(first[0]!)) {
        pipeToCoturn(socket, first, target(), counters, log);
        return;
      }
      socket.unshift(first);
      for (const listener of original) listener.call(server, socket);
    };
    socket.once('readable', onReadable);
  });
  return counters;
}

function pipeToCoturn(socket: tls.TLSSocket, first: Buffer, port: number | undefined, counters: TurnTlsCounters, log: Logger): void {
  socket.on('error', () => {});
  if (port === undefined) {
    socket.destroy();
    return;
  }
  const upstream = net.connect(port, '127.0.0.1');
  counters.piped++;
  counters.open++;
  upstream.setNoDelay(true);
  upstream.write(first);
  socket.pipe(upstream);
  upstream.pipe(socket);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    counters.open--;
    socket.destroy();
    upstream.destroy();
  };
  upstream.once('error', (e) => {
    log.debug({ err: e.message }, 'TURN over TLS: coturn connection failed');
    close();
  });
  upstream.once('close', close);
  socket.once('close', close);
}
