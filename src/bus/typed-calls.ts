// Bus requests typed end to end: a call is a subject with its request schema, its reply schema and the error
// codes it may fail with (the table is src/protocol/bus-calls.ts). `callBus` checks what it sends and what comes
// back; `serveBus` checks what arrives and what its handler answers, so a malformed message is refused at
// whichever side made it. Errors a handler means the requester to act on are BusCallErrors with one of the
// call's codes; anything else it throws reaches the requester as code 'internal'.
import type { z } from 'zod';
import { BusCallError, BusNoHandlerError, BusTimeoutError, type Bus, type Json, type Unsubscribe } from './bus.ts';

export interface BusCallSpec<Req extends z.ZodType = z.ZodType, Rep extends z.ZodType = z.ZodType, Code extends string = string> {
  /** The subject; a bridge's calls carry its id (`bridge.<id>.allocate`). */
  subject: (target: string) => string;
  request: Req;
  reply: Rep;
  errors: readonly Code[];
}

/** Every call may fail with these: its request did not pass the handler's check, or something unexpected broke. */
export type BaseCode = 'bad-request' | 'internal';
type CodeOf<C> = C extends BusCallSpec<z.ZodType, z.ZodType, infer K> ? K | BaseCode : never;

/** The first problem zod found, as "path: message". */
export function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  return i ? `${i.path.map(String).join('.') || '(payload)'}: ${i.message}` : 'invalid';
}

/** The error a call's requester sees: BusCallError (a code of the call, or 'internal'), BusTimeoutError, BusNoHandlerError. */
function asCallError(spec: BusCallSpec, subject: string, e: unknown): Error {
  if (e instanceof BusTimeoutError || e instanceof BusNoHandlerError) return e;
  if (e instanceof BusCallError) return e.code === 'bad-request' || spec.errors.includes(e.code) ? e : new BusCallError('internal', e.message);
  return new BusCallError('internal', `${subject}: ${(e as Error)?.message ?? String(e)}`);
}

/** Sends a request of `spec` (to `target`, for calls addressed to one bridge) and returns its checked reply. */
export async function callBus<C extends BusCallSpec>(bus: Bus, spec: C, target: string, payload: z.input<C['request']>, timeoutMs?: number): Promise<z.output<C['reply']>> {
  const subject = spec.subject(target);
  const req = spec.request.safeParse(payload);
  if (!req.success) throw new BusCallError('internal', `${subject}: this side built a bad request: ${firstIssue(req.error)}`);
  let raw: unknown;
  try {
    raw = await bus.request(subject, req.data as Json, timeoutMs);
  } catch (e) {
    throw asCallError(spec, subject, e);
  }
  const rep = spec.reply.safeParse(raw);
  if (!rep.success) throw new BusCallError('internal', `${subject}: malformed reply: ${firstIssue(rep.error)}`);
  return rep.data as z.output<C['reply']>;
}

/** Answers requests of `spec`; the handler gets a checked request and its reply is checked before it leaves. */
export function serveBus<C extends BusCallSpec>(
  bus: Bus,
  spec: C,
  target: string,
  handler: (req: z.output<C['request']>) => Promise<z.input<C['reply']>> | z.input<C['reply']>,
): Unsubscribe {
  const subject = spec.subject(target);
  return bus.handle(subject, async (payload) => {
    const req = spec.request.safeParse(payload);
    if (!req.success) throw new BusCallError('bad-request', `bad ${subject} request: ${firstIssue(req.error)}`);
    let reply: unknown;
    try {
      reply = await handler(req.data as z.output<C['request']>);
    } catch (e) {
      throw asCallError(spec, subject, e);
    }
    const rep = spec.reply.safeParse(reply);
    if (!rep.success) throw new BusCallError('internal', `${subject}: the handler built a bad reply: ${firstIssue(rep.error)}`);
    return rep.data as Json;
  });
}

/** True when `e` is a BusCallError with `code` (typed by the call, so a misspelt code does not compile). */
export function failedWith<C extends BusCallSpec>(_spec: C, e: unknown, code: CodeOf<C>): boolean {
  return e instanceof BusCallError && e.code === code;
}
