// What travels on NATS: JSON payloads (UTF-8), and for requests a reply envelope, {ok: true, reply} or
// {ok: false, error, name, code?}, validated on arrival. A handler's thrown Error reaches the requester with its
// message (BusTimeoutError / BusNoHandlerError keep their class, a BusCallError its code). See nats-bus.ts.
import { z } from 'zod';
import { BusCallError, BusNoHandlerError, BusTimeoutError } from './bus.ts';

const replyEnvelopeSchema = z.union([
  z.object({ ok: z.literal(true), reply: z.unknown().optional() }),
  z.object({ ok: z.literal(false), error: z.string(), name: z.string().optional(), code: z.string().max(64).optional() }),
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encode(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  return encoder.encode(text === undefined ? 'null' : text);
}

/** The message's JSON payload, or an Error saying why it is not one. */
export function decode(data: Uint8Array): unknown {
  if (data.length === 0) return undefined;
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    throw new Error('payload is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('payload is not JSON');
  }
}

/** The text of a thrown value that is not an Error (String() itself throws for some objects). */
function errorText(e: unknown): string {
  try {
    return String(e);
  } catch {
    return 'the handler failed with a value that has no text';
  }
}

/** The reply envelope for a handler's outcome: its reply, or the error it threw. Never throws. */
export function encodeReply(outcome: { reply: unknown } | { error: unknown }): Uint8Array {
  const envelope =
    'reply' in outcome
      ? { ok: true, reply: outcome.reply }
      : outcome.error instanceof BusCallError
        ? { ok: false, error: outcome.error.message, name: outcome.error.name, code: outcome.error.code }
        : outcome.error instanceof Error
        ? { ok: false, error: outcome.error.message, name: outcome.error.name }
        : { ok: false, error: errorText(outcome.error) };
  try {
    return encode(envelope);
  } catch (e) {
    return encode({ ok: false, error: `the reply could not be encoded: ${(e as Error).message}` });
  }
}

/** The reply carried by a reply envelope; throws the handler's error, or an Error for a malformed envelope. */
export function readReply(subject: string, timeoutMs: number, data: Uint8Array): unknown {
  let raw: unknown;
  try {
    raw = decode(data);
  } catch (e) {
    throw new Error(`malformed reply on ${subject}: ${(e as Error).message}`);
  }
  const envelope = replyEnvelopeSchema.safeParse(raw);
  if (!envelope.success) throw new Error(`malformed reply on ${subject}: not a bus reply envelope`);
  if (envelope.data.ok) return envelope.data.reply;
  const { error, name, code } = envelope.data;
  let err: Error;
  if (code !== undefined) err = new BusCallError(code, error);
  else if (name === 'BusTimeoutError') err = new BusTimeoutError(subject, timeoutMs);
  else if (name === 'BusNoHandlerError') err = new BusNoHandlerError(subject);
  else err = new Error(error);
  err.message = error;
  if (name && err.name === 'Error') err.name = name;
  throw err;
}
