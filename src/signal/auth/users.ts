// Accounts for the "accounts" access mode, in SQLite (Node's built-in node:sqlite) at <dataDir>/users.sqlite.
// Usernames are case-insensitive; passwords are kept only as salted scrypt hashes. The `tertulia users` command
// changes this file from another process while the server runs, so the server reads a user's current state
// (`stamp`) whenever a sign-in session is used, never a copy.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { DUMMY_HASH, hashPassword, verifyPassword } from './password-hash.ts';
import { QueueFullError } from './work-queue.ts';

export const usernameSchema = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string().min(1).max(64).regex(/^[\p{L}\p{N}_.@\-]+$/u, 'a username may contain letters, digits, "_", ".", "@" and "-"'));

export const MIN_PASSWORD_LENGTH = 8;
export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `a password needs at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(256);

export function usersDbPath(dataDir: string): string {
  return path.join(dataDir, 'users.sqlite');
}

export class UserError extends Error {}

/**
 * How a password check ended: `stamp` identifies the account's current password (see UserStore.stamp); `busy`
 * means too many checks were waiting, so this one was not made.
 */
export type CheckResult = { ok: true; username: string; stamp: string } | { ok: false; busy: boolean };

/** A digest of the stored hash: a new password (new salt), or a removed and re-added user, gives another one. */
function stampOf(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('base64url');
}

export class UserStore {
  private readonly db: DatabaseSync;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new DatabaseSync(file);
    try {
      chmodSync(file, 0o600); // password hashes: readable by the server's user only
    } catch {
      // a file owned by someone else: leave its mode alone
    }
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS users (
      username TEXT PRIMARY KEY COLLATE NOCASE,
      password_hash TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`);
  }

  private static name(username: string): string {
    const r = usernameSchema.safeParse(username);
    if (!r.success) throw new UserError(`bad username: ${r.error.issues[0]?.message}`);
    return r.data.normalize('NFC');
  }

  private static password(password: string): string {
    const r = passwordSchema.safeParse(password);
    if (!r.success) throw new UserError(r.error.issues[0]?.message ?? 'bad password');
    return r.data;
  }

  has(username: string): boolean {
    return this.db.prepare('SELECT 1 FROM users WHERE username = ?').get(UserStore.name(username)) !== undefined;
  }

  async add(username: string, password: string): Promise<void> {
    const name = UserStore.name(username);
    if (this.has(name)) throw new UserError(`user "${name}" already exists`);
    const hash = await hashPassword(UserStore.password(password));
    const now = new Date().toISOString();
    this.db.prepare('INSERT INTO users (username, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?)').run(name, hash, now, now);
  }

  async setPassword(username: string, password: string): Promise<void> {
    const name = UserStore.name(username);
    if (!this.has(name)) throw new UserError(`no user "${name}"`);
    const hash = await hashPassword(UserStore.password(password));
    this.db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?').run(hash, new Date().toISOString(), name);
  }

  remove(username: string): void {
    const name = UserStore.name(username);
    const r = this.db.prepare('DELETE FROM users WHERE username = ?').run(name);
    if (Number(r.changes) === 0) throw new UserError(`no user "${name}"`);
  }

  list(): { username: string; createdAt: string }[] {
    return this.db
      .prepare('SELECT username, created_at FROM users ORDER BY username COLLATE NOCASE')
      .all()
      .map((row) => ({ username: String(row.username), createdAt: String(row.created_at) }));
  }

  private row(username: string): { username: string; password_hash: string } | undefined {
    const parsed = usernameSchema.safeParse(username);
    if (!parsed.success) return undefined;
    return this.db.prepare('SELECT username, password_hash FROM users WHERE username = ?').get(parsed.data.normalize('NFC')) as
      | { username: string; password_hash: string }
      | undefined;
  }

  /**
   * The account's current password stamp, read from the file now; undefined when there is no such user. A sign-in
   * session carries the stamp it was made with and is void once they differ (password changed, user removed).
   */
  stamp(username: string): string | undefined {
    const row = this.row(username);
    return row ? stampOf(row.password_hash) : undefined;
  }

  /** The stored username (its own spelling) and stamp when the password matches. Same cost for unknown users. */
  async check(username: string, password: string): Promise<CheckResult> {
    const row = this.row(username);
    try {
      const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
      return ok && row ? { ok: true, username: row.username, stamp: stampOf(row.password_hash) } : { ok: false, busy: false };
    } catch (e) {
      if (e instanceof QueueFullError) return { ok: false, busy: true };
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }
}
