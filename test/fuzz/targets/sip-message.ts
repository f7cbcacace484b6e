// SIP messages (src/sip/message.ts, headers.ts): requests and responses built from parts (methods, compact and
// long header names, folded lines, Via lists, bodies with right and wrong Content-Lengths), then damaged.
// Checked: parsing either succeeds or throws a SipParseError (never anything else); a parsed message written
// back parses to the same headers and body; a request's 400 (when the error allows one) is itself a valid
// response; header value parsers return a value or null, never throw; a digest challenge (a trunk's 401/407) is
// read or refused, and answering it never throws.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DigestClient, pickChallenge } from '../../../src/sip/digest.ts';
import { parseCSeq, parseNameAddr, parseUri, parseVia } from '../../../src/sip/headers.ts';
import { parseMessage, responseTo, serializeMessage, SipParseError } from '../../../src/sip/message.ts';
import { mutate, mutations, type Mutation } from '../bytes.ts';
import { pureTarget } from '../harness.ts';

export interface SipInput {
  start: string;
  headers: [string, string][];
  body: string;
  contentLength: 'right' | 'none' | number;
  lf: boolean;
  stream: boolean;
  ops: Mutation[];
}

const text = fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' '));
const names = fc.constantFrom('Via', 'v', 'From', 'f', 'To', 't', 'Call-ID', 'i', 'CSeq', 'Contact', 'm', 'Max-Forwards', 'Require', 'X-Room-Name', 'Content-Type', 'Route', 'Subject', 'WWW-Authenticate', 'Proxy-Authenticate');
const values = fc.oneof(
  text,
  fc.constantFrom(
    'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport',
    'SIP/2.0/TCP a.example;branch=z9hG4bKx, SIP/2.0/UDP b;branch=z9hG4bKy',
    '"A, B" <sip:a@b;transport=tcp>;tag=1',
    '<sip:%41@host:99999>',
    'sip:x@y;tag=',
    '1 INVITE',
    '4294967296 OPTIONS',
    'tel:+34-600',
    'folded\r\n continuation',
    'Digest realm="r", nonce="n", qop="auth,auth-int", algorithm=SHA-256, stale=TRUE',
    'Digest realm="a\\"b", nonce=x, opaque="", qop=auth-int',
    'Digest nonce="n", realm=, algorithm=MD5-sess',
  ),
);
const starts = fc.oneof(
  fc.constantFrom('INVITE sip:room@gw SIP/2.0', 'OPTIONS sip:x@y SIP/2.0', 'BYE sip:x@y SIP/2.0', 'SIP/2.0 200 OK', 'SIP/2.0 180 Ringing', 'ACK sip:x SIP/2.0', 'INVITE sip:x SIP/3.0'),
  text,
);

export const sipMessageTarget = pureTarget<SipInput>({
  name: 'sip-message',
  about: 'SIP message parser and header values: SipParseError or a message that round-trips; 400s are valid',
  ciRuns: 300,
  input: fc.record({
    start: starts,
    headers: fc.array(fc.tuple(names, values), { maxLength: 12 }),
    body: fc.string({ maxLength: 200 }),
    contentLength: fc.oneof(fc.constant<'right'>('right'), fc.constant<'none'>('none'), fc.integer({ min: -5, max: 100_000 })),
    lf: fc.boolean(),
    stream: fc.boolean(),
    ops: mutations,
  }),
  check(input) {
    const eol = input.lf ? '\n' : '\r\n';
    const body = Buffer.from(input.body, 'utf8');
    const lines = [input.start, ...input.headers.map(([n, v]) => `${n}: ${v}`)];
    if (input.contentLength === 'right') lines.push(`Content-Length: ${body.length}`);
    else if (input.contentLength !== 'none') lines.push(`Content-Length: ${input.contentLength}`);
    const buf = mutate(Buffer.concat([Buffer.from(lines.join(eol) + eol + eol, 'latin1'), body]), input.ops);
    let parsed;
    try {
      parsed = parseMessage(buf, input.stream);
    } catch (e) {
      assert.ok(e instanceof SipParseError, `only SipParseError may come out: ${(e as Error).stack}`);
      if (e.canReply) {
        const res = parseMessage(serializeMessage(responseTo({ headers: e.headers! }, 400, 'x')), true);
        assert.equal(res.kind, 'response');
      }
      return;
    }
    const again = parseMessage(serializeMessage(parsed), true);
    // the same headers (Content-Length is always written, from the body)
    const noLength = (e: [string, string][]) => e.filter(([n]) => n !== 'content-length');
    assert.deepEqual(noLength(again.headers.entries), noLength(parsed.headers.entries));
    assert.ok(again.body.equals(parsed.body));
    for (const [name, value] of parsed.headers.entries) {
      if (name === 'via') parseVia(value);
      if (name === 'from' || name === 'to' || name === 'contact') {
        const na = parseNameAddr(value);
        if (na) parseUri(na.uri);
      }
      if (name === 'cseq') parseCSeq(value);
      if (name === 'www-authenticate' || name === 'proxy-authenticate') {
        const c = pickChallenge([value], name === 'proxy-authenticate');
        if (c) assert.match(new DigestClient({ user: 'u', password: 'p' }).authorize(c, 'INVITE', 'sip:x@y', parsed.body).value, /^Digest .*response="[0-9a-f]{32,64}"/);
      }
    }
  },
});
