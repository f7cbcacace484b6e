// Salted scrypt password hashes, stored as `scrypt$N$r$p$<salt base64>$<hash base64>`. Each hash takes 16 MiB
// (128 * N * r bytes) and tens of milliseconds of a thread-pool thread, so every hash of the process goes
// through one bounded queue: a flood of sign-ins waits or is refused (QueueFullError) instead of piling up.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { WorkQueue } from './work-queue.ts';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const SALT_BYTES = 16;

/** Hashes at once (16 MiB each), and hashes that may wait for a turn; more are refused. */
export const PASSWORD_HASH_LIMITS = { concurrency: 2, maxWaiting: 16 };
export const passwordHashQueue = new WorkQueue(PASSWORD_HASH_LIMITS);

/** One scrypt, in its turn on the queue; rejects with QueueFullError when too many wait already. */
function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return passwordHashQueue.run(
    () =>
      new Promise((resolve, reject) => {
        scrypt(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
      }),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(password.normalize('NFC'), salt, KEY_LENGTH, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * True when `password` matches `stored`; false for a wrong password or a stored value it cannot read. Rejects with
 * QueueFullError when too many checks are waiting (nothing was checked).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 1 << 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || expected.length < 16) return false;
  const actual = await scryptAsync(password.normalize('NFC'), salt, expected.length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}

/** A hash of a random password: verifying against it costs the same as a real one (unknown usernames). */
export const DUMMY_HASH = await hashPassword(randomBytes(16).toString('hex'));
