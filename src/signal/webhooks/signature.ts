// The webhook signature, for the sender (delivery.ts) and for receivers (verifyWebhook, exported for them and
// for tests). Each POST carries
//   X-Tertulia-Event-Id:  the event's id (also `id` in the body; the same on every retry: deduplicate by it)
//   X-Tertulia-Timestamp: Unix seconds when this attempt was signed
//   X-Tertulia-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
// The body is signed byte for byte as sent: a receiver checks the raw body before parsing it. An attempt older
// (or newer) than the tolerance is refused, so a captured request cannot be replayed later.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_HEADERS = {
  id: 'x-tertulia-event-id',
  timestamp: 'x-tertulia-timestamp',
  signature: 'x-tertulia-signature',
} as const;

/** How far a signed timestamp may be from the receiver's clock by default (seconds). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** `v1=<hex>`: the signature of `body` signed at `timestamp` (Unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `v1=${mac}`;
}

/** Headers as Node gives them (lower-case names) or a fetch `Headers`. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export type WebhookCheck =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: 'missing-headers' | 'bad-timestamp' | 'too-old' | 'bad-signature' | 'id-mismatch' };

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const rec = headers as Record<string, string | string[] | undefined>;
  const v = rec[name] ?? Object.entries(rec).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Checks a received webhook: the signature over the raw `body` with `secret`, and a timestamp within
 * `toleranceSeconds` of now. Several `v1=` signatures (comma-separated) are accepted, any one matching.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Buffer,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  nowMs = Date.now(),
): WebhookCheck {
  const id = header(headers, WEBHOOK_HEADERS.id);
  const ts = header(headers, WEBHOOK_HEADERS.timestamp);
  const sig = header(headers, WEBHOOK_HEADERS.signature);
  if (!id || !ts || !sig) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'bad-timestamp' };
  const timestamp = Number(ts);
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return { ok: false, reason: 'too-old' };
  const want = Buffer.from(signWebhook(secret, timestamp, body).slice(3), 'hex');
  const matches = sig
    .split(/[,\s]+/)
    .filter((s) => /^v1=[0-9a-f]{64}$/i.test(s))
    .some((s) => timingSafeEqual(Buffer.from(s.slice(3), 'hex'), want));
  if (!matches) return { ok: false, reason: 'bad-signature' };
  // the header is a convenience; the signed body's id is the one that counts
  let bodyId: unknown;
  try {
    bodyId = (JSON.parse(body.toString()) as { id?: unknown }).id;
  } catch {
    bodyId = undefined;
  }
  if (bodyId !== id) return { ok: false, reason: 'id-mismatch' };
  return { ok: true, id, timestamp };
}
