// What arrives on NATS between machines (src/bus/nats-wire.ts and the schemas of src/protocol/bus-messages.ts):
// JSON of any shape, reply envelopes (valid, then edited), text that is not JSON, bytes that are not UTF-8.
// Checked: decode gives the JSON value or throws an Error saying which of the two it is not; readReply returns
// the reply of an ok envelope and throws an Error carrying the handler's message otherwise (never a TypeError
// from a malformed envelope); encodeReply never throws; every bus schema refuses or accepts without throwing,
// and what it accepts passes it again.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { z } from 'zod';
import { decode, encodeReply, readReply } from '../../../src/bus/nats-wire.ts';
import * as messages from '../../../src/protocol/bus-messages.ts';
import { bytes, hexBytesMostlyShort } from '../bytes.ts';
import { pureTarget } from '../harness.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface BusWireInput {
  payload: { json: Json } | { envelope: { [k: string]: Json } } | { text: string } | { raw: string };
}

const SCHEMAS = (Object.entries(messages) as [string, unknown][]).filter((e): e is [string, z.ZodType] => e[1] instanceof z.ZodType);

const anyJson = fc.jsonValue({ maxDepth: 5 }) as fc.Arbitrary<Json>;
const id = fc.oneof(fc.constantFrom('conf', 'ep-1', 'bridge-a', ''), fc.string({ maxLength: 140 }));

/** Payloads shaped like the bus's own messages, so the schemas get past their first field. */
const busLike: fc.Arbitrary<Json> = fc.record(
  {
    conferenceId: id,
    participantId: id,
    endpointId: id,
    bridgeId: id,
    kind: fc.constantFrom('audio', 'video', 'all', 'screen'),
    muted: fc.boolean(),
    sdp: fc.string({ maxLength: 100 }),
    version: fc.oneof(fc.nat(), fc.double()),
    ssrcs: fc.array(fc.oneof(fc.nat({ max: 0xffffffff }), fc.integer()), { maxLength: 4 }),
    legs: fc.array(fc.record({ kind: fc.constantFrom('audio', 'video', 'all'), address: fc.constantFrom('127.0.0.1', '::1', 'x'), port: fc.integer({ min: -1, max: 70000 }) }), { maxLength: 3 }),
    sources: fc.array(fc.record({ ssrc: fc.nat({ max: 0xffffffff }), kind: fc.constantFrom('audio', 'video') }), { maxLength: 3 }),
    tiles: fc.array(anyJson, { maxLength: 3 }),
    ok: fc.boolean(),
    error: fc.string(),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Json>;

const envelope = fc.oneof(
  fc.record({ ok: fc.constant(true), reply: anyJson }, { requiredKeys: ['ok'] }),
  fc.record({ ok: fc.constant(false), error: fc.string(), name: fc.constantFrom('Error', 'BusTimeoutError', 'BusNoHandlerError', 'TypeError', '') }, { requiredKeys: ['ok', 'error'] }),
  fc.record({ ok: anyJson, reply: anyJson, error: anyJson, name: anyJson }, { requiredKeys: [] }),
) as fc.Arbitrary<{ [k: string]: Json }>;

function payloadBytes(p: BusWireInput['payload']): Buffer {
  if ('json' in p) return Buffer.from(JSON.stringify(p.json));
  if ('envelope' in p) return Buffer.from(JSON.stringify(p.envelope));
  if ('text' in p) return Buffer.from(p.text, 'utf8');
  return bytes(p.raw);
}

export const busWireTarget = pureTarget<BusWireInput>({
  name: 'bus-wire',
  about: 'NATS payloads and reply envelopes, every bus schema: the value or a clear Error, never a TypeError',
  input: fc.record({
    payload: fc.oneof(
      fc.record({ json: fc.oneof(anyJson, busLike) }),
      fc.record({ envelope }),
      fc.record({ text: fc.string({ maxLength: 80, unit: 'binary' }) }),
      fc.record({ raw: hexBytesMostlyShort(80) }),
    ),
  }),
  ciRuns: 1000,
  check({ payload }) {
    const data = payloadBytes(payload);
    let value: unknown;
    let decoded = false;
    try {
      value = decode(data);
      decoded = true;
    } catch (e) {
      assert.ok(e instanceof Error && /^payload is not (valid UTF-8|JSON)$/.test(e.message), `decode threw ${String(e)}`);
    }
    if ('json' in payload || 'envelope' in payload) {
      assert.equal(decoded, true, 'JSON did not decode');
      assert.deepEqual(value, JSON.parse(data.toString()));
    }
    for (const [name, schema] of SCHEMAS) {
      const r = schema.safeParse(value);
      if (r.success) assert.equal(schema.safeParse(r.data).success, true, `${name} accepts what it gave back`);
    }
    let reply: unknown;
    let error: unknown = null;
    try {
      reply = readReply('fuzz.subject', 1000, data);
    } catch (e) {
      error = e;
    }
    if (error !== null) {
      // the handler's error (its name and message as sent), else "malformed reply": nothing of readReply's own
      assert.ok(error instanceof Error, `readReply threw ${String(error)}`);
      const env = value as { ok?: unknown; error?: unknown; name?: unknown } | null;
      const errorEnvelope = env !== null && typeof env === 'object' && env.ok === false && typeof env.error === 'string' && (env.name === undefined || typeof env.name === 'string');
      if (decoded && errorEnvelope) {
        assert.equal(error.message, env.error, "the handler's error message was not kept");
      } else assert.match(error.message, /^malformed reply on fuzz\.subject: /);
    } else {
      const env = value as { ok?: unknown; reply?: unknown };
      assert.equal(env.ok, true, 'readReply accepted a reply that is not ok');
      assert.deepEqual(reply, env.reply);
    }
    for (const outcome of [{ reply: value }, { error: value }, { error: new Error(JSON.stringify(value) ?? 'nothing') }, { reply: { n: 1n } }]) {
      const out = encodeReply(outcome);
      assert.ok(out instanceof Uint8Array && out.length > 0);
    }
  },
});
