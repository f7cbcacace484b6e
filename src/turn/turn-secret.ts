// The TURN shared secret: the turnSecret setting, or one made at the first start and kept in
// <dataDir>/turn/secret (mode 0600) so that credentials handed out before a restart stay valid after it.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function turnDir(dataDir: string): string {
  return path.join(dataDir, 'turn');
}

/** The configured secret, else the kept one, else a new one (written 0600 before it is used). */
export function loadOrCreateTurnSecret(configured: string, dataDir: string): string {
  if (configured) return configured;
  const dir = turnDir(dataDir);
  const file = path.join(dir, 'secret');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 16) return kept;
  } catch {
    // none yet
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, secret + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return secret;
}
