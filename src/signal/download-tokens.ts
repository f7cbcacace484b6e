// Download links of recordings: `<expiry seconds>.<recorderId>.<mac>`, the mac an HMAC-SHA256 of the recording's
// id, the file, the recorder that holds it and the expiry, with a key made when signal starts and never written
// anywhere. Unguessable, bound to one file, void after DOWNLOAD_LINK_SECONDS or a restart of signal; checked in
// constant time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { recorderIdSchema } from '../protocol/recorder-messages.ts';

/** How long a download link works. */
export const DOWNLOAD_LINK_SECONDS = 60 * 60;

export type TokenCheck = { ok: true; recorderId: string } | { ok: false; reason: 'missing' | 'malformed' | 'forged' | 'expired' };

export class DownloadTokens {
  private readonly key: Buffer;
  constructor(key: Buffer = randomBytes(32)) {
    this.key = key;
  }

  private mac(recordingId: string, file: string, recorderId: string, expiry: number): string {
    return createHmac('sha256', this.key).update(`${recordingId}\n${file}\n${recorderId}\n${expiry}`).digest('base64url');
  }

  /** `<expiry seconds>.<recorderId>.<mac>`. */
  make(recordingId: string, file: string, recorderId: string, nowMs = Date.now()): string {
    const expiry = Math.floor(nowMs / 1000) + DOWNLOAD_LINK_SECONDS;
    return `${expiry}.${recorderId}.${this.mac(recordingId, file, recorderId, expiry)}`;
  }

  check(token: string | null | undefined, recordingId: string, file: string, nowMs = Date.now()): TokenCheck {
    if (!token) return { ok: false, reason: 'missing' };
    const parts = token.split('.');
    if (parts.length !== 3 || !/^\d{1,12}$/.test(parts[0]!) || !recorderIdSchema.safeParse(parts[1]).success) return { ok: false, reason: 'malformed' };
    const expiry = Number(parts[0]);
    const want = Buffer.from(this.mac(recordingId, file, parts[1]!, expiry));
    const got = Buffer.from(parts[2]!);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'forged' };
    if (expiry * 1000 <= nowMs) return { ok: false, reason: 'expired' };
    return { ok: true, recorderId: parts[1]! };
  }
}
