// SIP messages and header values (src/sip/message.ts, headers.ts): what phones and proxies really send parses
// (compact forms, folded lines, several Vias in one header, a body cut by Content-Length), what is malformed is
// refused with the reason and, when the headers a response copies were read, the means to answer 400.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCSeq, parseNameAddr, parseUri, parseVia } from '../../src/sip/headers.ts';
import { MAX_MESSAGE_BYTES, parseMessage, responseTo, serializeMessage, SipParseError, splitList } from '../../src/sip/message.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'latin1');

const invite = [
  'INVITE sip:1234@gw.example.org SIP/2.0',
  'v: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK776;rport, SIP/2.0/TCP proxy.example.org;branch=z9hG4bKp1',
  'Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK999',
  'f: "Ana, the caller" <sip:ana@example.org>;tag=abc',
  't: <sip:1234@gw.example.org>',
  'i: a84b4c76e66710',
  'CSeq: 314159 INVITE',
  'Subject: a folded',
  '  subject line',
  'X-Room-Name: Física 2ºB',
  'c: application/sdp',
  'l: 7',
  '',
  'v=0\r\nxy and what is beyond Content-Length',
];

test('a real-world INVITE: compact forms, a Via list, folding, the body cut by Content-Length', () => {
  const m = parseMessage(crlf(invite));
  assert.equal(m.kind, 'request');
  if (m.kind !== 'request') return;
  assert.equal(m.method, 'INVITE');
  assert.equal(m.uri, 'sip:1234@gw.example.org');
  assert.deepEqual(m.headers.getAll('via').length, 3, 'two values in one Via header, one in another');
  assert.equal(m.headers.get('from'), '"Ana, the caller" <sip:ana@example.org>;tag=abc');
  assert.equal(m.headers.get('Call-ID'), 'a84b4c76e66710');
  assert.equal(m.headers.get('subject'), 'a folded subject line');
  assert.equal(m.body.toString(), 'v=0\r\nxy');
  const back = parseMessage(serializeMessage(m));
  assert.deepEqual(back.headers.entries, m.headers.entries, 'written and read again: the same');
});

test('LF-only line ends and leading CRLFs are accepted; a UDP message without Content-Length has the rest as body', () => {
  const m = parseMessage(Buffer.from('\r\n\r\nOPTIONS sip:x@y SIP/2.0\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:x@y>\nCall-ID: 1\nCSeq: 1 OPTIONS\n\nbody'));
  assert.equal(m.kind, 'request');
  assert.equal(m.body.toString(), 'body');
});

test('malformed messages are refused with the reason; 400 is possible only when the reply headers were read', () => {
  const base = ['Via: SIP/2.0/UDP a;branch=z9hG4bK1', 'From: <sip:a@b>;tag=1', 'To: <sip:x@y>', 'Call-ID: 1'];
  const cases: [string, Buffer, RegExp, boolean][] = [
    ['no empty line', crlf(['OPTIONS sip:x@y SIP/2.0', ...base, 'CSeq: 1 OPTIONS']), /no empty line/, false],
    ['CSeq of another method', crlf(['OPTIONS sip:x@y SIP/2.0', ...base, 'CSeq: 1 INVITE', '', '']), /CSeq/, true],
    ['SIP/3.0', crlf(['OPTIONS sip:x@y SIP/3.0', ...base, 'CSeq: 1 OPTIONS', '', '']), /version/, true],
    ['Content-Length beyond the datagram', crlf(['OPTIONS sip:x@y SIP/2.0', ...base, 'CSeq: 1 OPTIONS', 'Content-Length: 50', '', 'short']), /shorter/, true],
    ['a negative Content-Length', crlf(['OPTIONS sip:x@y SIP/2.0', ...base, 'CSeq: 1 OPTIONS', 'Content-Length: -1', '', '']), /Content-Length/, true],
    ['a header without a colon', crlf(['OPTIONS sip:x@y SIP/2.0', ...base, 'CSeq: 1 OPTIONS', 'garbage', '', '']), /malformed header/, true],
    ['two Call-IDs', crlf(['OPTIONS sip:x@y SIP/2.0', ...base, 'Call-ID: 2', 'CSeq: 1 OPTIONS', '', '']), /more than one call-id/, false],
    ['no Call-ID', crlf(['OPTIONS sip:x@y SIP/2.0', ...base.slice(0, 3), 'CSeq: 1 OPTIONS', '', '']), /call-id/, false],
    ['a mangled status line', crlf(['SIP/2.0 2000 OK', ...base, 'CSeq: 1 OPTIONS', '', '']), /status line/, false],
    ['binary garbage', Buffer.from([0x80, 0, 1, 2, 13, 10, 13, 10]), /start line/, false],
  ];
  for (const [what, buf, reason, canReply] of cases) {
    assert.throws(
      () => parseMessage(buf),
      (e: unknown) => e instanceof SipParseError && reason.test(e.message) && e.canReply === canReply,
      what,
    );
  }
  assert.throws(() => parseMessage(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 65)), /larger than/);
  assert.throws(() => parseMessage(crlf(['OPTIONS sip:x@y SIP/2.0', ...base, 'CSeq: 1 OPTIONS', '', '']), true), /Content-Length/, 'TCP needs a Content-Length');
});

test('a response copies Via, From, Call-ID, CSeq, tags To, and no value can break a line', () => {
  const m = parseMessage(crlf(invite));
  if (m.kind !== 'request') throw new Error('a request');
  const res = responseTo(m, 486, 'gw1');
  res.headers.add('warning', 'evil\r\nInjected: yes');
  const text = serializeMessage(res).toString('latin1');
  assert.match(text, /^SIP\/2\.0 486 Busy Here\r\n/);
  assert.match(text, /\r\nTo: <sip:1234@gw\.example\.org>;tag=gw1\r\n/);
  assert.equal((text.match(/\r\nVia: /g) ?? []).length, 3);
  assert.doesNotMatch(text, /\r\nInjected/);
  assert.match(text, /\r\nContent-Length: 0\r\n\r\n$/);
});

test('header values: Via, name-addr, URIs, CSeq, lists', () => {
  const via = parseVia('SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK776;rport');
  assert.deepEqual({ t: via?.transport, h: via?.host, p: via?.port, b: via?.params.get('branch'), r: via?.params.get('rport') }, { t: 'UDP', h: '10.0.0.2', p: 5062, b: 'z9hG4bK776', r: '' });
  assert.equal(parseVia('SIP/2.0/UDP bad host'), null);
  const na = parseNameAddr('"Ana \\"A\\"" <sip:ana@example.org;transport=tcp>;tag=xyz');
  assert.deepEqual({ d: na?.display, u: na?.uri, t: na?.params.get('tag') }, { d: 'Ana "A"', u: 'sip:ana@example.org;transport=tcp', t: 'xyz' });
  assert.equal(parseNameAddr('sip:bob@example.org;tag=1')?.params.get('tag'), '1');
  assert.equal(parseNameAddr('"unterminated <sip:x@y>'), null);
  const uri = parseUri('sip:%2B34600111222@gw.example.org:5080;user=phone');
  assert.deepEqual({ u: uri?.user, h: uri?.host, p: uri?.port, up: uri?.params.get('user') }, { u: '+34600111222', h: 'gw.example.org', p: 5080, up: 'phone' });
  assert.equal(parseUri('tel:+34-600-111-222')?.user, '+34-600-111-222');
  assert.equal(parseUri('http://x'), null);
  assert.equal(parseUri('sip:x@y:99999'), null);
  assert.equal(parseUri('sip:%zz@y'), null);
  assert.deepEqual(parseCSeq('42 INVITE'), { seq: 42, method: 'INVITE' });
  assert.equal(parseCSeq('99999999999 INVITE'), null);
  assert.deepEqual(splitList('"a, b" <sip:x@y>, <sip:z@w;p=1,2>, sip:q@r'), ['"a, b" <sip:x@y>', '<sip:z@w;p=1,2>', 'sip:q@r']);
});
