// Sign-in sessions: after a good `login` the browser gets a random token it sends with `join` (so a rejoin or a
// reconnect needs no password). Kept in memory only; a restart signs everyone out.
import { randomBytes } from 'node:crypto';

export const LOGIN_SESSION_SECONDS = 12 * 60 * 60;
const MAX_SESSIONS = 10_000;

export class LoginSessions {
  private readonly sessions = new Map<string, { username: string; expires: number }>();

  create(username: string, now = Date.now()): string {
    if (this.sessions.size >= MAX_SESSIONS) this.prune(now);
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const token = randomBytes(24).toString('base64url');
    this.sessions.set(token, { username, expires: now + LOGIN_SESSION_SECONDS * 1000 });
    return token;
  }

  /** The signed-in username, or undefined for an unknown or expired token. */
  get(token: string, now = Date.now()): string | undefined {
    const s = this.sessions.get(token);
    if (!s) return undefined;
    if (s.expires <= now) {
      this.sessions.delete(token);
      return undefined;
    }
    return s.username;
  }

  /** Signs a user out everywhere (the account was removed or its password changed). */
  revokeUser(username: string): void {
    for (const [t, s] of this.sessions) if (s.username.toLowerCase() === username.toLowerCase()) this.sessions.delete(t);
  }

  private prune(now: number): void {
    for (const [t, s] of this.sessions) if (s.expires <= now) this.sessions.delete(t);
  }
}
