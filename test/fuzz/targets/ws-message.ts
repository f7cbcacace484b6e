// WebSocket messages from browsers (src/signal/client-message.ts, the schemas of src/protocol/): a valid
// message of every client type, then edited as JSON (a key dropped, a value replaced by any JSON, an unknown
// or prototype-polluting key added, another type named, wrapped, nested deep) or as text (cut, a character
// put in), and JSON or text of any shape. Checked: parsing never throws; an accepted message is one of the
// known types, passes the schema again and parses to itself once more (the normalisation is stable); a valid
// message is accepted as the type it was; a refusal is a `bad-message` error with a short readable reason.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KNOWN_CLIENT_TYPES, parseClientText } from '../../../src/signal/client-message.ts';
import { REACTIONS } from '../../../src/protocol/meeting-messages.ts';
import { repeatedPollOption } from '../../../src/protocol/poll-messages.ts';
import { clientMessageSchema, MAX_TILE_PIXELS } from '../../../src/protocol/signal-messages.ts';
import { pureTarget } from '../harness.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export type Edit =
  | { drop: number }
  | { set: number; value: Json }
  | { add: string; value: Json }
  | { retype: string }
  | { wrap: 'array' | 'object' }
  | { nest: number };

export interface WsMessageInput {
  text:
    | { message: { [k: string]: Json }; edits: Edit[]; cut: number | null; insert: { at: number; text: string } | null }
    | { json: Json }
    | { raw: string };
}

const ROOM_CHARS = [...'abcxyzABCXYZ0129_.-ñÑéüçß中文한글كلمة'];
// ("." and ".." are path segments, never room names: the schema refuses them, so a valid join never has them)
const room = fc.string({ unit: fc.constantFrom(...ROOM_CHARS), minLength: 1, maxLength: 128 }).filter((r) => r !== '.' && r !== '..');
const name = fc.oneof(fc.string({ minLength: 1, maxLength: 64 }).filter((s) => s.trim().length > 0), fc.constantFrom('Ana', 'Zoë', '山田', 'محمد', '👩‍👩‍👧'));
/** Participant ids: '$other' and '$self' stand for real ones where a session has them (ws-session.ts). */
const id = fc.oneof(fc.constantFrom('$other', '$self'), fc.string({ minLength: 1, maxLength: 64 }));
const secret = fc.string({ minLength: 1, maxLength: 64 });
const text = (max: number) => fc.string({ minLength: 1, maxLength: max }).filter((s) => s.trim().length > 0);
const pollKey = fc.string({ unit: fc.constantFrom(...'abcXYZ019_-'), minLength: 16, maxLength: 64 });

/** One valid message of each type a browser may send. */
export const validMessage: fc.Arbitrary<{ [k: string]: Json }> = fc.oneof(
  fc.record(
    {
      type: fc.constant('join'),
      room,
      displayName: name,
      audioMuted: fc.boolean(),
      videoMuted: fc.boolean(),
      jwt: fc.string({ minLength: 1, maxLength: 300 }),
      session: fc.string({ minLength: 1, maxLength: 128 }),
      password: secret,
    },
    { requiredKeys: ['type', 'room', 'displayName', 'audioMuted', 'videoMuted'] },
  ),
  fc.record({ type: fc.constant('answer'), sdp: fc.string({ minLength: 1, maxLength: 2000 }), version: fc.nat() }),
  fc.record({ type: fc.constant('mute'), kind: fc.constantFrom('audio', 'video'), muted: fc.boolean() }),
  fc.record({ type: fc.constantFrom('leave', 'mute-everyone', 'end-meeting', 'unlock-room') }),
  fc.record({
    type: fc.constant('receiver-video-constraints'),
    tiles: fc.uniqueArray(
      fc.record({ participantId: id, source: fc.constantFrom('camera', 'screen'), width: fc.nat({ max: MAX_TILE_PIXELS }), height: fc.nat({ max: MAX_TILE_PIXELS }) }),
      { maxLength: 64, selector: (t) => `${t.source}\n${t.participantId}` },
    ),
    maxHeight: fc.nat({ max: MAX_TILE_PIXELS }),
  }, { requiredKeys: ['type', 'tiles'] }),
  fc.record({ type: fc.constant('chat'), text: fc.string({ minLength: 1, maxLength: 2000 }).filter((s) => s.trim().length > 0), to: id }, { requiredKeys: ['type', 'text'] }),
  fc.record({ type: fc.constant('hand'), raised: fc.boolean() }),
  fc.record({ type: fc.constant('reaction'), reaction: fc.constantFrom(...REACTIONS) }),
  fc.record({ type: fc.constant('rename'), displayName: name }),
  fc.record({ type: fc.constant('screen-share'), sharing: fc.boolean() }),
  fc.record({ type: fc.constant('login'), username: id, password: fc.string({ minLength: 1, maxLength: 256 }) }),
  fc.record({ type: fc.constantFrom('mute-participant', 'ask-stop-camera', 'remove-participant', 'grant-moderator'), target: id }),
  fc.record({ type: fc.constant('lower-hand'), target: id }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('lock-room'), password: secret }),
  fc.record({ type: fc.constant('set-lobby'), enabled: fc.boolean() }),
  fc.record({ type: fc.constant('set-self-unmute'), allowed: fc.boolean() }),
  fc.record({ type: fc.constant('set-av-moderation'), kind: fc.constantFrom('audio', 'video'), enabled: fc.boolean() }),
  fc.record({ type: fc.constant('ask-to-unmute'), kind: fc.constantFrom('audio', 'video'), raised: fc.boolean() }, { requiredKeys: ['type', 'kind'] }),
  fc.record({ type: fc.constant('allow-unmute'), kind: fc.constantFrom('audio', 'video'), target: id }, { requiredKeys: ['type', 'kind'] }),
  fc.record({ type: fc.constant('dismiss-unmute-request'), kind: fc.constantFrom('audio', 'video'), target: id }),
  fc.record({ type: fc.constantFrom('lobby-admit', 'lobby-deny'), id }),
  fc.record({ type: fc.constant('set-subject'), subject: fc.string({ maxLength: 120 }) }),
  fc.record({ type: fc.constant('create-poll'), question: text(500), options: fc.array(text(200), { minLength: 2, maxLength: 10 }).filter((o) => repeatedPollOption(o) < 0), key: pollKey }),
  fc.record({ type: fc.constant('answer-poll'), pollId: id, option: fc.nat({ max: 9 }), key: pollKey }),
  fc.record({ type: fc.constant('close-poll'), pollId: id, key: pollKey }),
  fc.record(
    { type: fc.constant('set-follow-me'), enabled: fc.boolean(), layout: fc.record({ view: fc.constantFrom('tile', 'speaker'), pinned: fc.option(id, { nil: null }) }) },
    { requiredKeys: ['type', 'enabled'] },
  ),
  fc.record({ type: fc.constant('follow-me-layout'), layout: fc.record({ view: fc.constantFrom('tile', 'speaker'), pinned: fc.option(id, { nil: null }) }) }),
  fc.record({ type: fc.constant('speaker-stats') }),
) as fc.Arbitrary<{ [k: string]: Json }>;

/** null five times in six. */
const rarely = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: a, weight: 1 });

const anyJson = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ drop: fc.nat({ max: 10 }) }),
  fc.record({ set: fc.nat({ max: 10 }), value: anyJson }),
  fc.record({ add: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'type'), fc.string({ maxLength: 12 })), value: anyJson }),
  fc.record({ retype: fc.oneof(fc.constantFrom(...KNOWN_CLIENT_TYPES, '', 'JOIN', 'join ', 'hasOwnProperty'), fc.string({ maxLength: 60 })) }),
  fc.record({ wrap: fc.constantFrom('array' as const, 'object' as const) }),
  fc.record({ nest: fc.oneof(fc.nat({ max: 20 }), fc.constantFrom(1000, 20_000)) }),
);

/** Marks a value to be written as an array nested that many times. */
const NEST = '@nest@';

/** A message as JSON with the edits applied (JSON.parse makes `__proto__` an own key, as here). */
export function editedText(message: { [k: string]: Json }, edits: readonly Edit[]): string {
  let value: Json = structuredClone(message);
  for (const e of edits) {
    const keys = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
    const obj = value as { [k: string]: Json };
    if ('drop' in e && keys.length > 0) delete obj[keys[e.drop % keys.length]!];
    else if ('set' in e && keys.length > 0) obj[keys[e.set % keys.length]!] = e.value;
    else if ('add' in e && keys.length > 0) Object.defineProperty(obj, e.add, { value: e.value, enumerable: true, writable: true, configurable: true });
    else if ('retype' in e && keys.length > 0) obj.type = e.retype;
    else if ('wrap' in e) value = e.wrap === 'array' ? [value] : { message: value };
    else if ('nest' in e && keys.length > 0) {
      // one field holds a deep array (written into the text below: too deep for JSON.stringify)
      obj[keys[e.nest % keys.length]!] = `${NEST}${e.nest}`;
    }
  }
  return JSON.stringify(value).replace(new RegExp(`"${NEST}(\\d+)"`, 'g'), (_, n: string) => '['.repeat(Number(n)) + '0' + ']'.repeat(Number(n)));
}

/** The text a WebSocket frame carries: the edited message, then cut or with a character put in. */
function render(input: Extract<WsMessageInput['text'], { message: unknown }>): string {
  let text = editedText(input.message, input.edits);
  if (input.cut !== null) text = text.slice(0, Math.floor((input.cut * (text.length + 1)) / 0x10000));
  if (input.insert !== null) {
    const at = Math.floor((input.insert.at * (text.length + 1)) / 0x10000);
    text = text.slice(0, at) + input.insert.text + text.slice(at);
  }
  return text;
}

function textOf(t: WsMessageInput['text']): string {
  if ('message' in t) return render(t);
  if ('json' in t) return JSON.stringify(t.json);
  return t.raw;
}

export const wsMessageTarget = pureTarget<WsMessageInput>({
  name: 'ws-message',
  about: 'WebSocket message parsing by schema: valid messages accepted, edited ones refused clearly, never a throw',
  input: fc.record({
    text: fc.oneof(
      {
        arbitrary: fc.record({
          message: validMessage,
          edits: fc.oneof(fc.constant<Edit[]>([]), fc.array(edit, { minLength: 1, maxLength: 3 })),
          cut: rarely(fc.nat({ max: 0xffff })),
          insert: rarely(fc.record({ at: fc.nat({ max: 0xffff }), text: fc.oneof(fc.constantFrom('"', '\\', '{', ']', ',', '\u0000', '\ud800', 'null'), fc.string({ maxLength: 4 })) })),
        }),
        weight: 6,
      },
      { arbitrary: fc.record({ json: anyJson }), weight: 1 },
      { arbitrary: fc.record({ raw: fc.string({ maxLength: 200, unit: 'binary' }) }), weight: 1 },
    ),
  }),
  ciRuns: 1000,
  check({ text: t }) {
    const text = textOf(t);
    const r = parseClientText(text);
    if (r.ok) {
      assert.ok(KNOWN_CLIENT_TYPES.has(r.message.type), `accepted an unknown type ${r.message.type}`);
      assert.equal(clientMessageSchema.safeParse(r.message).success, true, 'an accepted message fails its schema');
      assert.deepEqual(parseClientText(JSON.stringify(r.message)), r, 'an accepted message parses differently a second time');
    } else {
      assert.equal(r.error.type, 'error');
      assert.equal(r.error.code, 'bad-message');
      assert.ok(r.error.message.length > 0 && r.error.message.length <= 520, `a refusal of ${r.error.message.length} characters`);
    }
    if ('message' in t && t.edits.length === 0 && t.cut === null && t.insert === null) {
      assert.ok(r.ok, `a valid ${String(t.message.type)} was refused: ${r.ok ? '' : r.error.message}`);
      assert.equal(r.message.type, t.message.type);
    }
  },
});
