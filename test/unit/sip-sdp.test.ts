// SDP offer/answer for phone calls (src/sip/media/sdp-offer-answer.ts): offers in the shapes real phones and
// tools send (baresip, sipp, Asterisk, a Cisco desk phone, a browser-like Opus offer over plain RTP) get the
// codec, telephone-event, address and direction expected; hold and unhold re-offers keep the session; SRTP-only,
// codec-less and garbage offers are refused with a clear SdpRefused (the call layer's 488); our own offer
// (dial-out) and the answers to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sdpTransform from 'sdp-transform';
import { PhoneSdp, SdpRefused } from '../../src/sip/media/sdp-offer-answer.ts';

const crlf = (lines: string[]) => lines.join('\r\n') + '\r\n';

const BARESIP = crlf([
  'v=0',
  'o=- 1908361553 3587402370 IN IP4 192.168.1.10',
  's=-',
  'c=IN IP4 192.168.1.10',
  't=0 0',
  'm=audio 10000 RTP/AVP 96 0 8 101',
  'b=AS:106',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:2410542011 cname:6cb8b4d8-c20d-4d1a-a5d3-5e7e2d0e3b1a',
  'a=rtcp-rsize',
  'a=ptime:20',
]);

const SIPP = crlf(['v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']);

const ASTERISK = crlf([
  'v=0',
  'o=- 1680000000 1680000000 IN IP4 203.0.113.5',
  's=Asterisk',
  'c=IN IP4 203.0.113.5',
  't=0 0',
  'm=audio 12000 RTP/AVP 8 0 3 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:3 GSM/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=maxptime:150',
  'a=sendrecv',
]);

// a Cisco desk phone: c= inside the m-line, G.729 and G.722 first (not ours), no a=rtpmap for nothing else
const CISCO = crlf([
  'v=0',
  'o=Cisco-SIPUA 7012 0 IN IP4 10.0.0.42',
  's=SIP Call',
  't=0 0',
  'm=audio 28734 RTP/AVP 18 9 8 0 101',
  'c=IN IP4 10.0.0.42',
  'b=TIAS:64000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=yes',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=sendrecv',
]);

// Opus as a browser describes it, over plain RTP/AVPF
const BROWSERISH = crlf([
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 50000 RTP/AVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 198.51.100.20',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ptime:20',
  'a=sendrecv',
]);

function answerOf(offer: string, port = 42002) {
  const sdp = new PhoneSdp('192.0.2.1');
  const { sdp: text, plan } = sdp.answer(offer, port);
  return { text, plan, parsed: sdpTransform.parse(text), sdp };
}

test('baresip: Opus 48000/2 preferred, its telephone-event/8000 kept, our address and port', () => {
  const { plan, parsed } = answerOf(BARESIP);
  assert.deepEqual(plan.codec, { name: 'opus', payloadType: 96, clockRate: 48000 });
  assert.equal(plan.dtmfPayloadType, 101);
  assert.equal(plan.remoteAddress, '192.168.1.10');
  assert.equal(plan.remotePort, 10000);
  assert.equal(plan.send, true);
  assert.equal(plan.receive, true);
  const m = parsed.media[0]!;
  assert.equal(m.port, 42002);
  assert.equal(m.protocol, 'RTP/AVP');
  assert.equal(m.payloads, '96 101');
  assert.deepEqual(m.rtp.map((r) => `${r.payload} ${r.codec}/${r.rate}${r.encoding ? '/' + r.encoding : ''}`), ['96 opus/48000/2', '101 telephone-event/8000']);
  assert.equal(m.ptime, 20);
  assert.equal(m.direction, 'sendrecv');
  assert.equal(parsed.connection?.ip, '192.0.2.1');
  assert.equal(parsed.origin.address, '192.0.2.1');
});

test('sipp: PCMU without telephone-event', () => {
  const { plan, parsed } = answerOf(SIPP);
  assert.deepEqual(plan.codec, { name: 'pcmu', payloadType: 0, clockRate: 8000 });
  assert.equal(plan.dtmfPayloadType, -1);
  assert.equal(String(parsed.media[0]!.payloads), '0');
  assert.equal(plan.remoteAddress, '127.0.0.1');
});

test('Asterisk: PCMU before PCMA whatever the offer order; GSM ignored', () => {
  const { plan, parsed } = answerOf(ASTERISK);
  assert.equal(plan.codec.name, 'pcmu');
  assert.equal(plan.dtmfPayloadType, 101);
  assert.equal(parsed.media[0]!.payloads, '0 101');
  assert.equal(parsed.media[0]!.fmtp[0]!.config, '0-16');
});

test('Cisco desk phone: c= in the m-line, G.729/G.722 skipped, PCMU taken', () => {
  const { plan } = answerOf(CISCO);
  assert.equal(plan.codec.name, 'pcmu');
  assert.equal(plan.remoteAddress, '10.0.0.42');
  assert.equal(plan.remotePort, 28734);
  assert.equal(plan.dtmfPayloadType, 101);
});

test('a browser-like Opus offer: Opus with telephone-event/48000, the AVPF profile kept', () => {
  const { plan, parsed } = answerOf(BROWSERISH);
  assert.deepEqual(plan.codec, { name: 'opus', payloadType: 111, clockRate: 48000 });
  assert.equal(plan.dtmfPayloadType, 110);
  assert.equal(plan.dtmfClockRate, 48000);
  assert.equal(parsed.media[0]!.protocol, 'RTP/AVPF');
  assert.match(parsed.media[0]!.fmtp.find((f) => f.payload === 111)!.config, /useinbandfec=1/);
});

test('a second, SRTP twin of the audio and a video m-line are refused with port 0, in their place', () => {
  const offer = crlf([
    'v=0',
    'o=- 1 1 IN IP4 10.0.0.9',
    's=-',
    'c=IN IP4 10.0.0.9',
    't=0 0',
    'm=audio 4000 RTP/SAVP 0',
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
    'm=audio 4002 RTP/AVP 0 8',
    'm=video 4004 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
  ]);
  const { plan, parsed } = answerOf(offer);
  assert.equal(plan.remotePort, 4002);
  assert.deepEqual(
    parsed.media.map((m) => [m.type, m.port, m.protocol]),
    [
      ['audio', 0, 'RTP/SAVP'],
      ['audio', 42002, 'RTP/AVP'],
      ['video', 0, 'RTP/AVP'],
    ],
  );
});

test('hold and unhold by re-offer: sendonly, c=0.0.0.0, inactive; the o= line keeps its id and counts changes', () => {
  const sdp = new PhoneSdp('192.0.2.1');
  const first = sdp.answer(ASTERISK, 42010);
  const origin = (text: string) => sdpTransform.parse(text).origin;
  const o1 = origin(first.sdp);

  const again = sdp.answer(ASTERISK, 42010);
  assert.equal(again.sdp, first.sdp, 'the same offer again: the same answer, version unchanged');

  const sendonly = sdp.answer(ASTERISK.replace('a=sendrecv', 'a=sendonly'), 42010);
  assert.equal(sendonly.plan.send, false, 'held: we stop sending');
  assert.equal(sendonly.plan.receive, true);
  assert.equal(sdpTransform.parse(sendonly.sdp).media[0]!.direction, 'recvonly');
  const o2 = origin(sendonly.sdp);
  assert.equal(o2.sessionId, o1.sessionId);
  assert.equal(o2.sessionVersion, o1.sessionVersion + 1);

  const zero = sdp.answer(ASTERISK.replace('c=IN IP4 203.0.113.5', 'c=IN IP4 0.0.0.0'), 42010);
  assert.equal(zero.plan.send, false, 'the old hold, c=0.0.0.0');
  assert.equal(sdpTransform.parse(zero.sdp).media[0]!.direction, 'recvonly');

  const inactive = sdp.answer(ASTERISK.replace('a=sendrecv', 'a=inactive'), 42010);
  assert.deepEqual([inactive.plan.send, inactive.plan.receive], [false, false]);
  assert.equal(sdpTransform.parse(inactive.sdp).media[0]!.direction, 'inactive');

  const recvonly = sdp.answer(ASTERISK.replace('a=sendrecv', 'a=recvonly'), 42010);
  assert.deepEqual([recvonly.plan.send, recvonly.plan.receive], [true, false]);
  assert.equal(sdpTransform.parse(recvonly.sdp).media[0]!.direction, 'sendonly');

  const unhold = sdp.answer(ASTERISK, 42010);
  assert.deepEqual([unhold.plan.send, unhold.plan.receive], [true, true]);
  assert.equal(origin(unhold.sdp).sessionId, o1.sessionId);
  assert.ok(origin(unhold.sdp).sessionVersion > o2.sessionVersion);
});

test('a re-offer keeps the codec in use when it still lists it, and moves when it does not', () => {
  const sdp = new PhoneSdp('192.0.2.1');
  assert.equal(sdp.answer(SIPP, 42020).plan.codec.name, 'pcmu');
  // now the phone also offers Opus: PCMU stays (no codec switch mid-call)
  assert.equal(sdp.answer(BARESIP, 42020).plan.codec.name, 'pcmu');
  // PCMA only: moves
  assert.equal(sdp.answer(SIPP.replace('RTP/AVP 0', 'RTP/AVP 8').replace('0 PCMU', '8 PCMA'), 42020).plan.codec.name, 'pcma');
});

test('refused offers: SRTP only, no common codec, no audio, IPv6, garbage: SdpRefused with the reason', () => {
  const refused: [string, string, RegExp][] = [
    ['SRTP only', SIPP.replace('RTP/AVP', 'RTP/SAVP'), /RTP\/SAVP.*plain RTP/],
    ['WebRTC (DTLS-SRTP)', BROWSERISH.replace('RTP/AVPF', 'UDP/TLS/RTP/SAVPF'), /SAVPF/],
    ['no common codec', SIPP.replace('RTP/AVP 0', 'RTP/AVP 18').replace('0 PCMU', '18 G729'), /no codec in common/],
    ['video only', SIPP.replace('m=audio 6000 RTP/AVP 0', 'm=video 6000 RTP/AVP 96'), /no audio m-line/],
    ['no m-line', crlf(['v=0', 'o=- 1 1 IN IP4 1.2.3.4', 's=-', 't=0 0']), /no m-line/],
    ['IPv6', SIPP.replace('c=IN IP4 127.0.0.1', 'c=IN IP6 ::1'), /IPv4/],
    ['a host name', SIPP.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 phone.example.org'), /IPv4/],
    ['no c=', SIPP.replace('c=IN IP4 127.0.0.1\r\n', ''), /no c= address/],
    ['empty', '', /no SDP/],
    ['not SDP', 'hello, I am a phone', /not SDP/],
    ['binary', String.fromCharCode(...Array.from({ length: 200 }, (_, i) => (i * 37) % 256)), /not SDP/],
    ['huge', 'v=0\r\n' + 'a=x\r\n'.repeat(5000), /larger than/],
    ['too many m-lines', 'v=0\r\nc=IN IP4 1.2.3.4\r\n' + 'm=audio 1 RTP/AVP 0\r\n'.repeat(17), /more than 16 m-lines/],
  ];
  for (const [what, offer, reason] of refused) {
    assert.throws(
      () => new PhoneSdp('192.0.2.1').answer(offer, 42002),
      (e: unknown) => e instanceof SdpRefused && e.status === 488 && reason.test(e.message),
      what,
    );
    assert.throws(() => PhoneSdp.check(offer), SdpRefused, what);
  }
  // what the offer says is shown in the reason as printable ASCII only (it may end up in a SIP reason phrase)
  assert.throws(
    () => PhoneSdp.check(SIPP.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 \u0000\u001b[31mévil')),
    (e: unknown) => e instanceof SdpRefused && /^[\x20-\x7e]+$/.test(e.message) && e.message.includes('??[31m?vil'),
  );
  // a port that is no port: sdp-transform does not match the m-line, so there is no audio
  assert.throws(() => PhoneSdp.check(SIPP.replace('m=audio 6000', 'm=audio 99999999999')), SdpRefused);
});

test('our offer (dial-out) and the answers to it', () => {
  const sdp = new PhoneSdp('192.0.2.1');
  const offer = sdpTransform.parse(sdp.offer(42030));
  const m = offer.media[0]!;
  assert.equal(m.port, 42030);
  assert.deepEqual(
    m.rtp.map((r) => `${r.codec}/${r.rate}`),
    ['opus/48000', 'PCMU/8000', 'PCMA/8000', 'telephone-event/48000', 'telephone-event/8000'],
  );
  assert.equal(m.ptime, 20);

  // a trunk answers PCMA and telephone-event/8000
  const plan = sdp.acceptAnswer(crlf(['v=0', 'o=- 2 2 IN IP4 203.0.113.9', 's=-', 'c=IN IP4 203.0.113.9', 't=0 0', 'm=audio 30000 RTP/AVP 8 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv']));
  assert.deepEqual(plan.codec, { name: 'pcma', payloadType: 8, clockRate: 8000 });
  assert.equal(plan.dtmfPayloadType, 101);
  assert.equal(plan.remotePort, 30000);

  // a G.711-only offer
  const g711 = sdpTransform.parse(new PhoneSdp('192.0.2.1').offer(42032, ['pcmu', 'pcma']));
  assert.deepEqual(g711.media[0]!.rtp.map((r) => r.codec), ['PCMU', 'PCMA', 'telephone-event']);

  assert.throws(() => sdp.acceptAnswer(SIPP.replace('RTP/AVP 0', 'RTP/AVP 0').replace('m=audio 6000', 'm=audio 0')), /port 0/);
  assert.throws(() => sdp.acceptAnswer('not an answer'), SdpRefused);
});
