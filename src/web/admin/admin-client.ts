// The /recordings page's requests: one WebSocket per request (the server closes a socket that joins no meeting
// after a while, and an admin reads a page for longer), the answer being the first message of the wanted type or
// an error. The sign-in session (from `login-ok`) is kept in this tab's sessionStorage.
import type { ClientMessage, ServerMessage } from '../../protocol/signal-messages.ts';
import { encodeClientMessage, parseServerMessage, signalUrl } from '../media/server-messages.ts';

const SESSION_KEY = 'tertulia.admin-session';
const REQUEST_TIMEOUT_MS = 30_000;

export type AdminAnswer = ServerMessage | { type: 'error'; code: string; message: string };

export function storedAdminSession(): string | null {
  try {
    return window.sessionStorage.getItem(SESSION_KEY);
  } catch {
    return null;
  }
}

export function storeAdminSession(session: string | null): void {
  try {
    if (session) window.sessionStorage.setItem(SESSION_KEY, session);
    else window.sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // no storage: signed in for this page only
  }
}

/** Sends `message` on a new socket; resolves with the first answer whose type is in `types`, or an error. */
export function adminRequest(message: ClientMessage, types: readonly string[]): Promise<AdminAnswer> {
  return new Promise((resolve) => {
    const ws = new WebSocket(signalUrl(window.location));
    const done = (m: AdminAnswer) => {
      clearTimeout(timer);
      ws.onclose = null;
      ws.close();
      resolve(m);
    };
    const timer = setTimeout(() => done({ type: 'error', code: 'timeout', message: 'the server did not answer' }), REQUEST_TIMEOUT_MS);
    ws.onopen = () => ws.send(encodeClientMessage(message));
    ws.onmessage = (e) => {
      const m = parseServerMessage(e.data);
      if (m && (m.type === 'error' || types.includes(m.type))) done(m);
    };
    ws.onclose = () => done({ type: 'error', code: 'closed', message: 'the connection closed' });
  });
}
