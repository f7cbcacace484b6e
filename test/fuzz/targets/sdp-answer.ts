// A browser's SDP answer as focus reads it (src/focus/sdp.ts parseAnswer; it arrives in the WebSocket `answer`
// message): answers made the way Chrome answers focus's own offers (with other participants' m-lines, sending
// or not on mids 0/1/2, with simulcast), then edited line by line (dropped, repeated, moved, a value replaced,
// an odd line put in, LF line ends, cut short), and text of any shape. Checked: parseAnswer returns a reading
// that satisfies what focus relies on (credentials of a sane length, a known fingerprint algorithm and a
// well-formed value, at most one source per own mid with distinct 32-bit SSRCs) or throws an AnswerError with
// a reason; never another exception. An unedited answer gives back the SSRCs it was made with.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AnswerError, buildOffer, parseAnswer } from '../../../src/focus/sdp.ts';
import type { BridgeAllocateReply } from '../../../src/protocol/bus-messages.ts';
import { answerFor } from '../../helpers/sdp-answer.ts';
import { u32 } from '../bytes.ts';
import { pureTarget } from '../harness.ts';

export type LineEdit =
  | { drop: number }
  | { repeat: number }
  | { move: number; to: number }
  | { value: number; text: string }
  | { insert: number; line: string };

export interface SdpAnswerInput {
  answer:
    | {
        own: { audio: number | null; video: number | null; screen: number | null };
        remote: { kind: 'audio' | 'video'; ssrc: number; rtx: number | null; active: boolean }[];
        simulcast: boolean;
        edits: LineEdit[];
        lf: boolean;
        cut: number | null;
      }
    | { raw: string };
}

const TRANSPORT: BridgeAllocateReply = {
  ufrag: 'brg1',
  pwd: 'bridgePasswordOf24Chars!',
  fingerprint: { algorithm: 'sha-256', value: Array(32).fill('AB').join(':') },
  candidates: [{ foundation: '1', ip: '127.0.0.1', port: 10000, protocol: 'udp', priority: 2130706431, type: 'host' }],
};

const ODD_LINES = [
  'a=ssrc-group:FID 1 2',
  'a=ssrc-group:FID 4294967296 1',
  'a=ssrc-group:FID  ',
  'a=ssrc:99999999999 cname:x',
  'a=ssrc:-1 cname:x',
  'a=simulcast:send q;h;f',
  'a=simulcast:send ~q,h;;f',
  'a=simulcast:recv q send',
  'a=mid:0',
  'a=mid:1',
  'a=mid:',
  'm=video 0 UDP/TLS/RTP/SAVPF 96',
  'm=audio 9 UDP/TLS/RTP/SAVPF',
  'a=fingerprint:sha-1 AB:CD',
  'a=fingerprint:SHA-512 ' + Array(64).fill('0f').join(':'),
  'a=fingerprint:md5 ' + Array(16).fill('00').join(':'),
  'a=ice-ufrag:' + 'u'.repeat(300),
  'a=ice-pwd:',
  'a=sendrecv',
  'a=inactive',
  'v=1',
  'a=rid:q send',
  'a=extmap:999 x',
  'c=IN IP6 ::',
  '',
  '=',
  'a=',
];

export const lineEdit: fc.Arbitrary<LineEdit> = fc.oneof(
  fc.record({ drop: fc.nat({ max: 0xffff }) }),
  fc.record({ repeat: fc.nat({ max: 0xffff }) }),
  fc.record({ move: fc.nat({ max: 0xffff }), to: fc.nat({ max: 0xffff }) }),
  fc.record({ value: fc.nat({ max: 0xffff }), text: fc.oneof(fc.constantFrom('', '0', '-1', '4294967296', '1e3', 'NaN', ' ', ':'), fc.string({ maxLength: 20 })) }),
  fc.record({ insert: fc.nat({ max: 0xffff }), line: fc.oneof(fc.constantFrom(...ODD_LINES), fc.string({ maxLength: 60 })) }),
);

/** A browser's own SSRC (never 0: the answer helper takes 0 as not sending). */
const ssrc = fc.oneof(fc.constantFrom(1, 0x7fffffff, 0x80000000, 0xffffffff), fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: 20 }));

function render(a: Extract<SdpAnswerInput['answer'], { own: unknown }>): string {
  const offer = buildOffer({
    sessionId: '1',
    version: 1,
    transport: TRANSPORT,
    remote: a.remote.map((r, i) => ({
      mid: String(3 + i),
      participantId: `p${i}`,
      kind: r.kind,
      ...(r.kind === 'video' ? { role: 'video' as const } : {}),
      ssrc: r.ssrc,
      ...(r.kind === 'video' && r.rtx !== null ? { rtxSsrc: r.rtx } : {}),
      active: r.active,
    })),
  });
  const own = Object.fromEntries(Object.entries(a.own).filter(([, v]) => v !== null));
  let sdp = answerFor(offer, own);
  if (a.simulcast) sdp = sdp.replace(/(a=mid:1\r\n)/, '$1a=simulcast:send q;h;f\r\na=rid:q send\r\na=rid:h send\r\na=rid:f send\r\n');
  return editLines(sdp, a.edits, a.lf, a.cut);
}

/** An SDP with its lines edited, LF line ends if asked, cut at a fraction of its length if asked. */
export function editLines(sdp: string, edits: readonly LineEdit[], lf = false, cut: number | null = null): string {
  const lines = sdp.split('\r\n');
  const at = (f: number, n = lines.length) => Math.floor((f * n) / 0x10000);
  for (const e of edits) {
    if ('drop' in e) lines.splice(at(e.drop), 1);
    else if ('repeat' in e && lines.length > 0) lines.splice(at(e.repeat), 0, lines[at(e.repeat)]!);
    else if ('move' in e && lines.length > 0) lines.splice(at(e.to), 0, ...lines.splice(at(e.move), 1));
    else if ('value' in e && lines.length > 0) {
      const i = at(e.value);
      const l = lines[i]!;
      const c = Math.max(l.indexOf(':'), l.indexOf('=')) + 1;
      lines[i] = l.slice(0, c) + e.text;
    } else if ('insert' in e) lines.splice(at(e.insert, lines.length + 1), 0, e.line);
  }
  const text = lines.join(lf ? '\n' : '\r\n');
  return cut === null ? text : text.slice(0, Math.floor((cut * (text.length + 1)) / 0x10000));
}

/** The SSRCs an unedited answer sends on mids 0/1/2 (the camera's is focus's own with simulcast); null when edited. */
function sentSsrcs(answer: SdpAnswerInput['answer'], simulcastSsrc: number): number[] | null {
  if (!('own' in answer) || answer.edits.length > 0 || answer.cut !== null) return null;
  const { audio, video, screen } = answer.own;
  return [audio, answer.simulcast && video !== null ? simulcastSsrc : video, screen].filter((x) => x !== null);
}

const FINGERPRINT = /^[0-9A-F]{2}(:[0-9A-F]{2}){15,63}$/;

export const sdpAnswerTarget = pureTarget<SdpAnswerInput>({
  name: 'sdp-answer',
  about: "focus's reading of a browser's SDP answer: what focus relies on holds, or an AnswerError; never another error",
  input: fc.record({
    answer: fc.oneof(
      {
        arbitrary: fc.record({
          own: fc.record({ audio: fc.option(ssrc), video: fc.option(ssrc), screen: fc.option(ssrc) }),
          remote: fc.array(fc.record({ kind: fc.constantFrom('audio' as const, 'video' as const), ssrc: u32, rtx: fc.option(u32), active: fc.boolean() }), { maxLength: 4 }),
          simulcast: fc.boolean(),
          edits: fc.oneof(fc.constant<LineEdit[]>([]), fc.array(lineEdit, { minLength: 1, maxLength: 4 })),
          lf: fc.boolean(),
          cut: fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: fc.nat({ max: 0xffff }), weight: 1 }),
        }),
        weight: 8,
      },
      { arbitrary: fc.record({ raw: fc.string({ maxLength: 300, unit: 'binary' }) }), weight: 1 },
    ),
  }),
  ciRuns: 600,
  check({ answer }) {
    const text = 'raw' in answer ? answer.raw : render(answer);
    let parsed: ReturnType<typeof parseAnswer>;
    const simulcastSsrcs = { ssrc: 0x5000, rtxSsrc: 0x5001 };
    try {
      parsed = parseAnswer(text, simulcastSsrcs);
    } catch (e) {
      assert.ok(e instanceof AnswerError, `parseAnswer threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      assert.ok(e.message.length > 0 && e.message.length < 300);
      // the only refusal of an unedited answer: one SSRC sent on two m-lines
      const want = sentSsrcs(answer, simulcastSsrcs.ssrc);
      if (want !== null) assert.ok(new Set(want).size < want.length, `an unedited answer was refused: ${e.message}`);
      return;
    }
    for (const c of [parsed.ufrag, parsed.pwd]) assert.ok(typeof c === 'string' && c.length > 0 && c.length <= 256, `ICE credential ${JSON.stringify(c)}`);
    assert.ok(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512'].includes(parsed.fingerprint.algorithm));
    assert.match(parsed.fingerprint.value, FINGERPRINT);
    assert.ok(parsed.sources.length <= 3);
    const ssrcs = parsed.sources.flatMap((s) => (s.rtxSsrc !== undefined ? [s.ssrc, s.rtxSsrc] : [s.ssrc]));
    for (const x of ssrcs) assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffffffff, `ssrc ${x}`);
    assert.equal(new Set(parsed.sources.map((s) => s.ssrc)).size, parsed.sources.length, 'one SSRC for two sources');
    for (const s of parsed.sources) {
      assert.ok(s.kind === 'audio' || s.kind === 'video');
      if (s.rtxSsrc !== undefined) assert.notEqual(s.rtxSsrc, s.ssrc);
    }
    assert.ok(parsed.mids.every((m) => typeof m === 'string'));
    const want = sentSsrcs(answer, simulcastSsrcs.ssrc);
    if (want !== null) assert.deepEqual(parsed.sources.map((s) => s.ssrc), want);
  },
});
