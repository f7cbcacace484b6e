// focus/sdp.ts: the offer exactly as docs/ARCHITECTURE.md describes it, and reading a Chrome answer; focus/mlines.ts:
// how receive m-lines follow the remote sources (inactive ones recycled, a cap per session).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sdpTransform from 'sdp-transform';
import { freeAnsweredInactive, updateMlines, type WantedSource } from '../../src/focus/mlines.ts';
import { AnswerError, buildOffer, parseAnswer, type RemoteMline } from '../../src/focus/sdp.ts';
import type { BridgeAllocateReply } from '../../src/protocol/bus-messages.ts';
import { CAMERA_LAYERS_BPS, CAMERA_START_KBPS } from '../../src/protocol/media-profile.ts';

const FP = '7B:2C:91:0E:4A:5D:33:C8:19:F0:6E:A2:58:D7:0B:94:E1:3F:76:CA:25:8B:D0:41:9E:6A:F3:02:BC:57:18:E9';

const transport: BridgeAllocateReply = {
  ufrag: 'brg1Xq',
  pwd: 'bridgePasswordOf24Chars!',
  fingerprint: { algorithm: 'sha-256', value: FP },
  candidates: [
    { foundation: '1', ip: '192.0.2.10', port: 10000, protocol: 'udp', priority: 2130706431, type: 'host' },
    { foundation: '2', ip: '127.0.0.1', port: 10000, protocol: 'udp', priority: 2130706175, type: 'host' },
    { foundation: '3', ip: '192.0.2.10', port: 4443, protocol: 'tcp', priority: 1694498815, type: 'host', tcpType: 'passive' },
  ],
};

// What Chrome (Unified Plan) answers to an offer with mids 0 (audio recvonly), 1 (video recvonly), 2 (screen
// video recvonly) and 3 (a remote participant's audio, sendonly): it sends on 0 and 1, not on 2 (not sharing),
// and receives on 3.
export const CHROME_ANSWER = [
  'v=0',
  'o=- 6602139426937532516 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2 3',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 9d2c1bd4-5d0e-4f6a-9a43-61b2d6a1c0e7',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Wd7t',
  'a=ice-pwd:J1pVq6nJ8mC4r5S3uY0xZ2aB',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 4E:19:A7:C2:5B:88:0F:D3:6A:E1:92:7C:B4:3D:05:F8:21:9A:6C:E7:B0:44:18:DF:73:2E:C9:5A:86:01:BD:3F',
  'a=setup:active',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=sendonly',
  'a=msid:9d2c1bd4-5d0e-4f6a-9a43-61b2d6a1c0e7 0b8f2f3e-7c61-4a9e-8d8e-2f3a6c1b9d40',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=ssrc:3170862961 cname:Qk1XhUJ7rYvQ2mEa',
  'a=ssrc:3170862961 msid:9d2c1bd4-5d0e-4f6a-9a43-61b2d6a1c0e7 0b8f2f3e-7c61-4a9e-8d8e-2f3a6c1b9d40',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Wd7t',
  'a=ice-pwd:J1pVq6nJ8mC4r5S3uY0xZ2aB',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 4E:19:A7:C2:5B:88:0F:D3:6A:E1:92:7C:B4:3D:05:F8:21:9A:6C:E7:B0:44:18:DF:73:2E:C9:5A:86:01:BD:3F',
  'a=setup:active',
  'a=mid:1',
  'a=sendonly',
  'a=msid:9d2c1bd4-5d0e-4f6a-9a43-61b2d6a1c0e7 e5a7c3d1-2b4f-4e6a-8c9d-0f1e2d3c4b5a',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtcp-fb:96 ccm fir',
  'a=ssrc:1490352288 cname:Qk1XhUJ7rYvQ2mEa',
  'a=ssrc:1490352288 msid:9d2c1bd4-5d0e-4f6a-9a43-61b2d6a1c0e7 e5a7c3d1-2b4f-4e6a-8c9d-0f1e2d3c4b5a',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Wd7t',
  'a=ice-pwd:J1pVq6nJ8mC4r5S3uY0xZ2aB',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 4E:19:A7:C2:5B:88:0F:D3:6A:E1:92:7C:B4:3D:05:F8:21:9A:6C:E7:B0:44:18:DF:73:2E:C9:5A:86:01:BD:3F',
  'a=setup:active',
  'a=mid:2',
  'a=inactive',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Wd7t',
  'a=ice-pwd:J1pVq6nJ8mC4r5S3uY0xZ2aB',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 4E:19:A7:C2:5B:88:0F:D3:6A:E1:92:7C:B4:3D:05:F8:21:9A:6C:E7:B0:44:18:DF:73:2E:C9:5A:86:01:BD:3F',
  'a=setup:active',
  'a=mid:3',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  '',
].join('\r\n');

const lines = (sdp: string) => sdp.split('\r\n');

/** The a= lines of each m-section, keyed by mid. */
function sections(sdp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const l of lines(sdp)) {
    if (l.startsWith('m=')) out.set(`pending${out.size}`, (current = [l]));
    else if (current) current.push(l);
  }
  const byMid = new Map<string, string[]>();
  for (const sec of out.values()) byMid.set(sec.find((l) => l.startsWith('a=mid:'))!.slice(6), sec);
  return byMid;
}

test('the offer: session level', () => {
  const sdp = buildOffer({ sessionId: '123456789', version: 1, transport, remote: [] });
  const l = lines(sdp);
  assert.equal(l[0], 'v=0');
  assert.equal(l[1], 'o=- 123456789 1 IN IP4 0.0.0.0');
  assert.ok(l.includes('a=ice-lite'));
  assert.ok(l.includes('a=group:BUNDLE 0 1 2'));
  assert.ok(sdp.endsWith('\r\n'));
  // session-level attributes come before the first m-line
  const firstM = l.findIndex((x) => x.startsWith('m='));
  assert.ok(l.indexOf('a=ice-lite') < firstM);
  const parsed = sdpTransform.parse(sdp);
  assert.equal(parsed.media.length, 3);
  assert.deepEqual(parsed.media.map((m) => [String(m.mid), m.type, m.direction]), [
    ['0', 'audio', 'recvonly'],
    ['1', 'video', 'recvonly'],
    ['2', 'video', 'recvonly'],
  ]);
});

test('the offer: own audio and video receive m-lines with the fixed codecs', () => {
  const sdp = buildOffer({ sessionId: '1', version: 7, transport, remote: [] });
  const s = sections(sdp);
  const audio = s.get('0')!;
  assert.equal(audio[0], 'm=audio 9 UDP/TLS/RTP/SAVPF 111');
  for (const want of [
    'c=IN IP4 0.0.0.0',
    'a=recvonly',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=rtcp-fb:111 transport-cc',
    'a=rtcp-mux',
    'a=setup:actpass',
    'a=ice-ufrag:brg1Xq',
    'a=ice-pwd:bridgePasswordOf24Chars!',
    `a=fingerprint:sha-256 ${FP}`,
    'a=candidate:1 1 udp 2130706431 192.0.2.10 10000 typ host',
    'a=candidate:2 1 udp 2130706175 127.0.0.1 10000 typ host',
    'a=candidate:3 1 tcp 1694498815 192.0.2.10 4443 typ host tcptype passive',
    'a=end-of-candidates',
  ]) {
    assert.ok(audio.includes(want), `audio has ${want}`);
  }
  assert.ok(!audio.some((l) => l.startsWith('a=ssrc')), 'no ssrc lines on a receive m-line');
  const video = s.get('1')!;
  assert.equal(video[0], 'm=video 9 UDP/TLS/RTP/SAVPF 96 97');
  for (const want of [
    'a=recvonly',
    'a=rtpmap:96 VP8/90000',
    'a=rtcp-fb:96 nack',
    'a=rtcp-fb:96 nack pli',
    'a=rtcp-fb:96 ccm fir',
    'a=rtcp-fb:96 goog-remb',
    'a=rtcp-fb:96 transport-cc',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=rtcp-mux',
    'a=setup:actpass',
  ]) {
    assert.ok(video.includes(want), `video has ${want}`);
  }
  assert.ok(video.includes('a=rtpmap:97 rtx/90000') && video.includes('a=fmtp:97 apt=96'), 'RTX on video');
  assert.deepEqual(video.filter((l) => l.startsWith('a=extmap')), [
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=extmap:5 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
    'a=extmap:6 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  ]);
  // the camera is received as three rid simulcast layers, lowest first
  assert.deepEqual(video.filter((l) => /^a=(rid|simulcast)/.test(l)), ['a=rid:q recv', 'a=rid:h recv', 'a=rid:f recv', 'a=simulcast:recv q;h;f']);
  // where the browser's estimate of its uplink starts: on the camera's m-line only (a remote source's m-line added
  // later would restart a running estimate)
  assert.deepEqual(video.filter((l) => l.startsWith('a=fmtp:96')), [`a=fmtp:96 x-google-start-bitrate=${CAMERA_START_KBPS}`]);
  assert.ok(CAMERA_START_KBPS * 1000 >= CAMERA_LAYERS_BPS, 'the layers all on from the start');
  const withRemote = sections(
    buildOffer({
      sessionId: '1',
      version: 8,
      transport,
      remote: [
        { mid: '3', participantId: 'ab12cd34', kind: 'video', role: 'video', ssrc: 1111, rtxSsrc: 1112, active: true },
        { mid: '4', participantId: 'ab12cd34', kind: 'video', role: 'screen', ssrc: 2222, active: true },
        { mid: '5', participantId: 'ef56ab78', kind: 'audio', ssrc: 3333, active: true },
      ],
    }),
  );
  assert.deepEqual(
    [...withRemote.entries()].filter(([, lines]) => lines.some((l) => l.includes('x-google-start-bitrate'))).map(([mid]) => mid),
    ['1'],
    'no other m-line: not the screen, not a remote source',
  );
  assert.ok(!s.get('2')!.some((l) => /^a=(rid|simulcast)/.test(l)), 'the screen is one stream');
  assert.deepEqual(s.get('2')!.filter((l) => /transport-cc|extmap/.test(l)).sort(), [
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=rtcp-fb:96 transport-cc',
  ], 'the screen m-line too');
});

test('the offer: remote sources are sendonly with msid and ssrc lines; gone ones are inactive', () => {
  const sdp = buildOffer({
    sessionId: '1',
    version: 3,
    transport,
    remote: [
      { mid: '3', participantId: 'ab12cd34', kind: 'audio', ssrc: 111111, active: true },
      { mid: '4', participantId: 'ab12cd34', kind: 'video', role: 'video', ssrc: 222222, active: true },
      { mid: '5', participantId: 'ee55ff66', kind: 'video', ssrc: 333333, active: false },
      { mid: '6', participantId: 'ab12cd34', kind: 'video', role: 'screen', ssrc: 444444, rtxSsrc: 555555, active: true },
    ],
  });
  assert.ok(lines(sdp).includes('a=group:BUNDLE 0 1 2 3 4 5 6'));
  assert.ok(lines(sdp).includes('o=- 1 3 IN IP4 0.0.0.0'));
  const s = sections(sdp);
  const a = s.get('3')!;
  assert.equal(a[0], 'm=audio 9 UDP/TLS/RTP/SAVPF 111');
  assert.ok(a.includes('a=sendonly'));
  assert.ok(a.includes('a=msid:ab12cd34 ab12cd34-audio'));
  assert.ok(a.includes('a=ssrc:111111 cname:ab12cd34'));
  assert.ok(a.includes('a=ssrc:111111 msid:ab12cd34 ab12cd34-audio'));
  assert.ok(a.includes('a=rtpmap:111 opus/48000/2'));
  const v = s.get('4')!;
  assert.equal(v[0], 'm=video 9 UDP/TLS/RTP/SAVPF 96 97');
  assert.ok(v.includes('a=msid:ab12cd34 ab12cd34-video'));
  assert.ok(v.includes('a=ssrc:222222 msid:ab12cd34 ab12cd34-video'));
  assert.ok(v.includes('a=rtcp-fb:96 nack pli'));
  // the bridge numbers what it forwards: the receiver sends transport-cc feedback for its estimate
  for (const m of [a, v]) {
    assert.ok(m.includes('a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'));
    assert.ok(m.some((l) => /^a=rtcp-fb:(96|111) transport-cc$/.test(l)));
  }
  assert.ok(!v.some((l) => l.startsWith('a=ssrc-group')), 'no RTX SSRC given: no FID group');
  const screen = s.get('6')!;
  assert.ok(screen.includes('a=sendonly'));
  assert.ok(screen.includes('a=msid:ab12cd34 ab12cd34-screen'));
  assert.ok(screen.includes('a=ssrc:444444 msid:ab12cd34 ab12cd34-screen'));
  assert.ok(screen.includes('a=ssrc-group:FID 444444 555555'), 'retransmissions come as RTX');
  assert.ok(screen.includes('a=ssrc:555555 msid:ab12cd34 ab12cd34-screen'));
  const gone = s.get('5')!;
  assert.equal(gone[0], 'm=video 9 UDP/TLS/RTP/SAVPF 96 97', 'the m-line stays, port 9');
  assert.ok(gone.includes('a=inactive'));
  assert.ok(!gone.some((l) => l.startsWith('a=ssrc') || l.startsWith('a=msid')));
  // every m-line port 9 (bundled)
  for (const sec of s.values()) assert.match(sec[0]!, /^m=\w+ 9 /);
});

test("parses Chrome's answer: ICE, fingerprint, the sending SSRCs of mids 0, 1 (and 2 when sharing)", () => {
  const a = parseAnswer(CHROME_ANSWER);
  assert.equal(a.ufrag, 'Wd7t');
  assert.equal(a.pwd, 'J1pVq6nJ8mC4r5S3uY0xZ2aB');
  assert.deepEqual(a.fingerprint, {
    algorithm: 'sha-256',
    value: '4E:19:A7:C2:5B:88:0F:D3:6A:E1:92:7C:B4:3D:05:F8:21:9A:6C:E7:B0:44:18:DF:73:2E:C9:5A:86:01:BD:3F',
  });
  assert.deepEqual(a.sources, [
    { ssrc: 3170862961, kind: 'audio' },
    { ssrc: 1490352288, kind: 'video', role: 'video' },
  ]);
  assert.deepEqual(a.mids, ['0', '1', '2', '3']);
  const sharing = CHROME_ANSWER.replace(
    'a=mid:2\r\na=inactive',
    'a=mid:2\r\na=sendonly\r\na=ssrc:777 cname:Qk1XhUJ7rYvQ2mEa',
  );
  assert.notEqual(sharing, CHROME_ANSWER);
  assert.deepEqual(parseAnswer(sharing).sources[2], { ssrc: 777, kind: 'video', role: 'screen' });
  // an answer without the screen m-line (to an offer that had none) is still fine
  assert.equal(parseAnswer(CHROME_ANSWER.replace('a=mid:2', 'a=mid:9')).sources.length, 2);
  assert.throws(() => parseAnswer(sharing.replace('a=ssrc:777', 'a=ssrc:1490352288')), /twice/);
});

test('an FID ssrc-group: first is media, second RTX', () => {
  const sdp = CHROME_ANSWER.replace(
    'a=ssrc:1490352288 cname:Qk1XhUJ7rYvQ2mEa',
    'a=ssrc-group:FID 1490352288 2841906373\r\na=ssrc:1490352288 cname:Qk1XhUJ7rYvQ2mEa\r\na=ssrc:2841906373 cname:Qk1XhUJ7rYvQ2mEa',
  );
  assert.deepEqual(parseAnswer(sdp).sources[1], { ssrc: 1490352288, kind: 'video', rtxSsrc: 2841906373, role: 'video' });
});

test('no ssrc, or recvonly/inactive on mid 0/1, means no source of that kind', () => {
  const noVideo = CHROME_ANSWER.replace(/a=ssrc:1490352288[^\r]*\r\n/g, '');
  assert.deepEqual(parseAnswer(noVideo).sources, [{ ssrc: 3170862961, kind: 'audio' }]);
  const inactiveAudio = CHROME_ANSWER.replace('a=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=sendonly', 'a=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=inactive');
  assert.notEqual(inactiveAudio, CHROME_ANSWER);
  assert.deepEqual(parseAnswer(inactiveAudio).sources, [{ ssrc: 1490352288, kind: 'video', role: 'video' }]);
});

test('session-level ICE credentials and fingerprint are accepted too', () => {
  let sdp = CHROME_ANSWER.replace(/a=ice-ufrag:Wd7t\r\n|a=ice-pwd:J1pVq6nJ8mC4r5S3uY0xZ2aB\r\n|a=fingerprint:[^\r]*\r\n/g, '');
  sdp = sdp.replace('t=0 0\r\n', `t=0 0\r\na=ice-ufrag:SeSs\r\na=ice-pwd:sessionLevelPassword1234\r\na=fingerprint:SHA-256 ${FP.toLowerCase()}\r\n`);
  const a = parseAnswer(sdp);
  assert.equal(a.ufrag, 'SeSs');
  assert.equal(a.pwd, 'sessionLevelPassword1234');
  assert.deepEqual(a.fingerprint, { algorithm: 'sha-256', value: FP });
});

test('ICE credentials that read as numbers stay the text they are (any browser may pick an all-digit ufrag)', () => {
  const sdp = CHROME_ANSWER.replace(/a=ice-ufrag:Wd7t/g, 'a=ice-ufrag:20250113').replace(/a=ice-pwd:[^\r]*/g, 'a=ice-pwd:1234567890123456789012');
  const a = parseAnswer(sdp);
  assert.equal(a.ufrag, '20250113');
  assert.equal(a.pwd, '1234567890123456789012');
  // an algorithm or ssrc-group that reads as a number is refused or ignored, not a TypeError
  assert.throws(() => parseAnswer(CHROME_ANSWER.replace(/a=fingerprint:sha-256/g, 'a=fingerprint:256')), AnswerError);
  const group = CHROME_ANSWER.replace('a=ssrc:1490352288 cname:Qk1XhUJ7rYvQ2mEa', 'a=ssrc-group:FID 1490352288\r\na=ssrc:1490352288 cname:Qk1XhUJ7rYvQ2mEa');
  assert.deepEqual(parseAnswer(group).sources[1], { ssrc: 1490352288, kind: 'video', role: 'video' });
});

test('bad answers are refused with a clear error', () => {
  assert.throws(() => parseAnswer('hello'), AnswerError);
  assert.throws(() => parseAnswer(''), /not a session description/);
  assert.throws(() => parseAnswer('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'), /media sections/);
  assert.throws(() => parseAnswer(CHROME_ANSWER.replace(/a=ice-ufrag:[^\r]*\r\n/g, '')), /no ICE credentials/);
  assert.throws(() => parseAnswer(CHROME_ANSWER.replace(/a=ice-pwd:[^\r]*\r\n/g, '')), /no ICE credentials/);
  assert.throws(() => parseAnswer(CHROME_ANSWER.replace(/a=fingerprint:[^\r]*\r\n/g, '')), /no DTLS fingerprint/);
  assert.throws(() => parseAnswer(CHROME_ANSWER.replace(/a=fingerprint:sha-256 [^\r]*/g, 'a=fingerprint:sha-256 zz')), /fingerprint is malformed/);
  assert.throws(() => parseAnswer(CHROME_ANSWER.replace('a=mid:1', 'a=mid:7')), /no m-line with mid 1/);
  assert.throws(() => parseAnswer(CHROME_ANSWER.replace('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'm=video 9 UDP/TLS/RTP/SAVPF 96')), /mid 0 is video/);
});

test('an offer written by buildOffer parses back with sdp-transform to the same structure', () => {
  const sdp = buildOffer({
    sessionId: '42',
    version: 2,
    transport,
    remote: [{ mid: '3', participantId: 'p1', kind: 'audio', ssrc: 5, active: true }],
  });
  const p = sdpTransform.parse(sdp);
  assert.equal(p.icelite, 'ice-lite');
  assert.deepEqual(
    p.media.map((m) => [String(m.mid), m.type, m.direction, m.port]),
    [
      ['0', 'audio', 'recvonly', 9],
      ['1', 'video', 'recvonly', 9],
      ['2', 'video', 'recvonly', 9],
      ['3', 'audio', 'sendonly', 9],
    ],
  );
  assert.equal(p.media[3]!.ssrcs![0]!.id, 5);
});

test('a simulcast answer: the camera gets the SSRCs focus chose and its rids, lowest first', () => {
  const simulcast = CHROME_ANSWER.replace(
    "a=ssrc:1490352288 cname:Qk1XhUJ7rYvQ2mEa\r\na=ssrc:1490352288 msid:9d2c1bd4-5d0e-4f6a-9a43-61b2d6a1c0e7 e5a7c3d1-2b4f-4e6a-8c9d-0f1e2d3c4b5a",
    'a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f',
  );
  assert.notEqual(simulcast, CHROME_ANSWER);
  const a = parseAnswer(simulcast, { ssrc: 4242, rtxSsrc: 4343 });
  assert.deepEqual(a.sources[1], { ssrc: 4242, kind: 'video', role: 'video', rtxSsrc: 4343, rids: ['q', 'h', 'f'] });
  // fewer layers (a small camera), paused ones, or alternatives still name offered rids only
  const two = parseAnswer(simulcast.replace('a=simulcast:send q;h;f', 'a=simulcast:send ~q;h,zz'), { ssrc: 1, rtxSsrc: 2 });
  assert.deepEqual(two.sources[1]!.rids, ['q', 'h']);
  const none = parseAnswer(simulcast.replace('a=simulcast:send q;h;f', 'a=simulcast:send x;y'), { ssrc: 1, rtxSsrc: 2 });
  assert.equal(none.sources.length, 1, 'no known layer: no camera source');
  // without simulcast SSRCs from focus (or a browser answering with plain SSRCs) nothing changes
  assert.deepEqual(parseAnswer(CHROME_ANSWER, { ssrc: 1, rtxSsrc: 2 }).sources[1], { ssrc: 1490352288, kind: 'video', role: 'video' });
});

const wantedOf = (...list: [string, 'audio' | 'video', ('video' | 'screen')?, number?][]): WantedSource[] =>
  list.map(([participantId, kind, role, ssrc]) => ({ participantId, kind, ssrc: ssrc ?? 0, ...(role ? { role } : {}) }));

const view = (mlines: RemoteMline[]) => mlines.map((m) => `${m.mid}:${m.active ? `${m.participantId}-${m.role ?? m.kind}` : 'inactive'}`);

test('receive m-lines: a gone source leaves its m-line inactive; it is recycled only once answered inactive', () => {
  const mlines: RemoteMline[] = [];
  const free = new Set<string>();
  let r = updateMlines(mlines, wantedOf(['A', 'audio', undefined, 1], ['A', 'video', 'video', 2], ['A', 'video', 'screen', 3]), { free, nextMid: 3, maxMlines: 100 });
  assert.deepEqual(view(mlines), ['3:A-audio', '4:A-video', '5:A-screen']);
  assert.equal(r.nextMid, 6);
  // A stops sharing: mid 5 goes inactive; B's screen, before the browser answered that, needs a new m-line
  r = updateMlines(mlines, wantedOf(['A', 'audio', undefined, 1], ['A', 'video', 'video', 2]), { free, nextMid: r.nextMid, maxMlines: 100 });
  assert.deepEqual(r, { deactivated: 1, recycled: 0, added: 0, unplaced: 0, nextMid: 6 });
  const offered = mlines.map((m) => ({ ...m }));
  freeAnsweredInactive(mlines, offered, free);
  assert.deepEqual([...free], ['5']);
  // now B's screen takes mid 5 (video), its SSRCs and role; A's audio and camera keep theirs
  r = updateMlines(mlines, wantedOf(['A', 'audio', undefined, 1], ['A', 'video', 'video', 2], ['B', 'video', 'screen', 7]), { free, nextMid: r.nextMid, maxMlines: 100 });
  assert.deepEqual(r, { deactivated: 0, recycled: 1, added: 0, unplaced: 0, nextMid: 6 });
  assert.deepEqual(view(mlines), ['3:A-audio', '4:A-video', '5:B-screen']);
  assert.equal(mlines[2]!.ssrc, 7);
  assert.equal(free.size, 0);
});

test('receive m-lines: recycling keeps the kind, prefers the same track back on its old mid, else the lowest mid', () => {
  const mlines: RemoteMline[] = [
    { mid: '3', participantId: 'A', kind: 'audio', ssrc: 1, active: false },
    { mid: '4', participantId: 'A', kind: 'video', role: 'video', ssrc: 2, rtxSsrc: 12, active: false },
    { mid: '5', participantId: 'B', kind: 'video', role: 'screen', ssrc: 3, active: false },
  ];
  const free = new Set(['3', '4', '5']);
  // B shares again: back on mid 5, although mid 4 is a free video m-line too
  updateMlines(mlines, wantedOf(['B', 'video', 'screen', 9]), { free, nextMid: 6, maxMlines: 100 });
  assert.deepEqual(view(mlines), ['3:inactive', '4:inactive', '5:B-screen']);
  // C's camera (video, no RTX) takes mid 4; C's audio takes mid 3; D's audio finds no free m-line: a new one
  const r = updateMlines(
    mlines,
    [...wantedOf(['B', 'video', 'screen', 9], ['C', 'video', 'video', 20], ['C', 'audio', undefined, 21]), { participantId: 'D', kind: 'audio', ssrc: 30 }],
    { free, nextMid: 6, maxMlines: 100 },
  );
  assert.deepEqual(view(mlines), ['3:C-audio', '4:C-video', '5:B-screen', '6:D-audio']);
  assert.deepEqual(r, { deactivated: 0, recycled: 2, added: 1, unplaced: 0, nextMid: 7 });
  assert.equal(mlines[1]!.rtxSsrc, undefined, "C's camera has no RTX: the old one is gone");
  assert.equal(mlines[2]!.kind, 'video');
});

test('receive m-lines: a session never grows past its cap; audio, then screens, get the last places', () => {
  const mlines: RemoteMline[] = [];
  const free = new Set<string>();
  const r = updateMlines(
    mlines,
    wantedOf(['A', 'video', 'video', 1], ['A', 'video', 'screen', 2], ['A', 'audio', undefined, 3], ['B', 'audio', undefined, 4]),
    { free, nextMid: 3, maxMlines: 6 },
  );
  assert.deepEqual(view(mlines), ['3:A-audio', '4:B-audio', '5:A-screen']);
  assert.equal(r.unplaced, 1);
  // the camera gets an m-line once one of its kind is free
  mlines[2]!.active = false;
  free.add('5');
  const r2 = updateMlines(mlines, wantedOf(['A', 'video', 'video', 1], ['A', 'audio', undefined, 3], ['B', 'audio', undefined, 4]), { free, nextMid: r.nextMid, maxMlines: 6 });
  assert.deepEqual(view(mlines), ['3:A-audio', '4:B-audio', '5:A-video']);
  assert.equal(r2.unplaced, 0);
});

test('the offer: a recycled m-line carries its new source only (msid, ssrc lines), under its old mid and kind', () => {
  const sdp = buildOffer({
    sessionId: '1',
    version: 3,
    transport,
    remote: [
      { mid: '3', participantId: 'carol', kind: 'audio', ssrc: 31, active: true },
      { mid: '4', participantId: 'carol', kind: 'video', role: 'screen', ssrc: 32, rtxSsrc: 33, active: true },
    ],
  });
  const media = sdpTransform.parse(sdp).media;
  const m4 = media.find((m) => String(m.mid) === '4')!;
  assert.equal(m4.type, 'video');
  assert.equal(m4.direction, 'sendonly');
  assert.deepEqual(m4.msid, [{ id: 'carol', appdata: 'carol-screen' }]);
  assert.deepEqual([...new Set(m4.ssrcs!.map((x) => Number(x.id)))], [32, 33]);
  assert.equal(sdp.match(/a=mid:4\r\n/g)?.length, 1);
});
