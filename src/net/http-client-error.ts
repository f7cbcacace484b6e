// What an HTTP(S) server of ours answers a request it cannot parse (Node's 'clientError'): headers past Node's
// limit (16 KiB) get 431, a request not complete in Node's time 408, anything else malformed 400, and the
// connection is closed; a connection already
// written to or gone (a reset, a TLS client that left) is only closed. Nothing is logged: a stranger's garbage
// is not an event.
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

const HEADER_OVERFLOW = 'HPE_HEADER_OVERFLOW';

/** The raw answer to a request that could not be parsed (`code` is the parser's error code). */
export function clientErrorResponse(code: string | undefined): string {
  const status = code === HEADER_OVERFLOW ? '431 Request Header Fields Too Large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

/** Answers unparsable requests on `server` as above. */
export function answerClientErrors(server: HttpServer | HttpsServer): void {
  server.on('clientError', (e: NodeJS.ErrnoException, socket: Duplex) => {
    // a response of ours already under way on this connection: nothing more can be said on it
    const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (e.code === 'ECONNRESET' || !socket.writable || answering) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(e.code));
    // a client that never reads its answer does not hold the connection
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}
