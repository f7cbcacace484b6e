// The postMessage protocol between a host page's JitsiMeetExternalAPI (external-api/) and the app in its iframe
// (embed/). Every message carries the namespace and the API instance's id (Jitsi's `jitsi_meet_external_api_id`,
// from the iframe's URL hash); each side accepts a message only from the one window it talks to, from that
// window's origin, with its own id, in one of these shapes. Both sides import this file and nothing else of
// each other.
//
//   host -> app: hello (once the iframe loaded; the app answers ready and talks to that origin only),
//                command (executeCommand), request (a function that answers: isAudioMuted, getRoomsInfo...)
//   app -> host: ready, event (Jitsi's event names and payloads), response (to one request)
// zod/mini: the host page's script stays small (its schemas tree-shake), and the app parses the same way
import { z } from 'zod/mini';

export const EMBED_NAMESPACE = 'tertulia-iframe-api';
/** Arguments one command or request may carry (Jitsi's take at most three). */
export const MAX_EMBED_ARGS = 8;
/** Commands and requests held while the other side is not ready yet; more are dropped. */
export const MAX_EMBED_QUEUE = 100;

const apiIdSchema = z.int().check(z.minimum(0), z.maximum(1_000_000_000));
const nameSchema = z.string().check(z.minLength(1), z.maxLength(64));
const requestIdSchema = z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));
const base = { ns: z.literal(EMBED_NAMESPACE), apiId: apiIdSchema };
const argsSchema = z.array(z.unknown()).check(z.maxLength(MAX_EMBED_ARGS));

export const hostMessageSchema = z.discriminatedUnion('kind', [
  z.object({ ...base, kind: z.literal('hello') }),
  z.object({ ...base, kind: z.literal('command'), name: nameSchema, args: argsSchema }),
  z.object({ ...base, kind: z.literal('request'), requestId: requestIdSchema, name: nameSchema, args: argsSchema }),
]);
export type HostMessage = z.infer<typeof hostMessageSchema>;

export const appMessageSchema = z.discriminatedUnion('kind', [
  z.object({ ...base, kind: z.literal('ready') }),
  z.object({ ...base, kind: z.literal('event'), name: nameSchema, data: z.record(z.string(), z.unknown()) }),
  z.object({
    ...base,
    kind: z.literal('response'),
    requestId: requestIdSchema,
    ok: z.boolean(),
    result: z.optional(z.unknown()),
    error: z.optional(z.string().check(z.maxLength(1000))),
  }),
]);
export type AppMessage = z.infer<typeof appMessageSchema>;

/** What a `message` event says about where it came from (the fields of MessageEvent that matter). */
export interface IncomingPost {
  origin: string;
  source: unknown;
  data: unknown;
}

/** Who may talk to us: one window, from one origin (null: not known yet, any origin), with one API id. */
export interface ExpectedSender {
  source: unknown;
  origin: string | null;
  apiId: number;
}

/**
 * The message when it comes from the expected window and origin, carries our id and has a known shape;
 * undefined otherwise (other scripts on the page post messages too: those are ignored, not errors).
 */
export function acceptPost<S extends typeof hostMessageSchema | typeof appMessageSchema>(
  schema: S,
  post: IncomingPost,
  expected: ExpectedSender,
): z.infer<S> | undefined {
  if (post.source === null || post.source !== expected.source) return undefined;
  if (expected.origin !== null && post.origin !== expected.origin) return undefined;
  if (post.origin === 'null' || !post.origin) return undefined; // opaque origins (sandboxed, file:) never
  const r = schema.safeParse(post.data);
  if (!r.success || r.data.apiId !== expected.apiId) return undefined;
  return r.data as z.infer<S>;
}
