// A live stream outside signal (signal-recording.test.ts has it with a fake recorder): the address check the
// page and the server share, each refusal with a problem the page words in English and Spanish; the moderator's
// dialog as the access client keeps it (open with the refusal, the page's or the server's, until the stream
// runs; not the meeting's error banner); the states everyone is told (connecting until the streaming server
// took it, then live, interrupted and resumed) as the recorder tells them and as the page's notices say them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkStreamUrl, isRtmpUrl } from '../../src/protocol/stream-url.ts';
import type { ServerMessage } from '../../src/protocol/signal-messages.ts';
import { StreamConnection, type StreamNotice } from '../../src/recorder/stream-connection.ts';
import { AccessClient } from '../../src/web/access/access-client.ts';
import { dictionaries } from '../../src/web/i18n.ts';
import type { Conference } from '../../src/web/media/conference.ts';
import { NotificationsStore } from '../../src/web/meeting/notifications.ts';
import { liveStreamRefusalText } from '../../src/web/pages/error-text.ts';
import { fakeConference } from '../helpers/fake-conference.ts';

test('the address check: the page and the server refuse alike, each with a problem worded in both languages', () => {
  const cases: [string, string, string][] = [
    ['', 'k', 'no-url'],
    ['http://example.com/live2', 'k', 'not-rtmp'],
    ['https://a.rtmp.youtube.com/live2', 'k', 'not-rtmp'],
    ['rtmp:/a.rtmp.youtube.com/live2', 'k', 'not-rtmp'],
    ['youtube', 'k', 'not-url'],
    ['rtmp://host:99999/live', 'k', 'not-url'],
    ['rtmp:///live2', 'k', 'no-host'],
    ['rtmp://a.rtmp.youtube.com', 'k', 'no-path'],
    ['rtmp://a.rtmp.youtube.com/', 'k', 'no-path'],
    ['rtmp://me:pw@host/live', 'k', 'credentials'],
    ['rtmp://host/live#x', 'k', 'hash'],
    ['rtmp://host/live', 'a key', 'spaces'],
    ['rtmp://host/' + 'a'.repeat(1100), 'k', 'url-too-long'],
    ['rtmp://host/live', 'k'.repeat(513), 'key-too-long'],
  ];
  for (const [url, key, problem] of cases) {
    const c = checkStreamUrl(url, key);
    assert.equal(c.ok ? 'ok' : c.problem, problem, url);
    if (c.ok) continue;
    for (const t of Object.values(dictionaries)) {
      const text: string = liveStreamRefusalText(t, c.problem, null) ?? '';
      assert.ok(text.startsWith(`${t.liveUrlInvalid}: `) && text.length > t.liveUrlInvalid.length + 5, text);
    }
  }
  assert.match(liveStreamRefusalText(dictionaries.es, 'not-rtmp', null)!, /^La dirección de la emisión no es válida: debe empezar por rtmp:\/\/ o rtmps:\/\/$/);
  for (const [url, key, joined] of [
    ['rtmp://a.rtmp.youtube.com/live2', 'abcd-1234', 'rtmp://a.rtmp.youtube.com/live2/abcd-1234'],
    [' rtmps://live.example.com:443/app/ ', '/key', 'rtmps://live.example.com:443/app/key'],
    ['rtmp://[::1]:1935/live', '', 'rtmp://[::1]:1935/live'],
    ['RTMP://Host/Live', 'k', 'RTMP://Host/Live/k'],
  ]) {
    const c = checkStreamUrl(url!, key!);
    assert.deepEqual(c, { ok: true, rtmpUrl: joined }, url);
    assert.ok(isRtmpUrl(joined!), 'the recorder takes what signal joined');
  }
});

test('the dialog: open with the refusal (the meeting has no error banner for it) until the stream runs; closed, a refusal is the banner again', () => {
  const c = fakeConference();
  const access = new AccessClient(c as unknown as Conference, '');
  const banner = (): string | undefined => c.state.error?.code;
  c.receive({ type: 'joined', role: 'moderator' } as ServerMessage);
  access.openLiveStreamDialog();
  assert.deepEqual(access.state.liveStreamDialog, { state: 'editing' });

  // the server refuses (here: no recorder free): the dialog says why, with the fields as they were
  access.sendLiveStreamDialog('rtmp://a.rtmp.youtube.com/live2', 'key-1');
  assert.deepEqual(c.sent.at(-1), { type: 'start-live-stream', url: 'rtmp://a.rtmp.youtube.com/live2', key: 'key-1' });
  assert.deepEqual(access.state.liveStreamDialog, { state: 'sending' });
  c.receive({ type: 'error', code: 'live-stream-unavailable', message: 'no recorder is free to stream this meeting; try again later' });
  const refused = access.state.liveStreamDialog;
  assert.deepEqual(refused, { state: 'refused', code: 'live-stream-unavailable', message: 'no recorder is free to stream this meeting; try again later' });
  assert.equal(banner(), undefined, 'not the meeting error banner as well');
  assert.equal(liveStreamRefusalText(dictionaries.en, null, refused.state === 'refused' ? refused : null), dictionaries.en.errorLiveStreamUnavailable);
  // a bad address the server refused: its reason after the page's own lead
  access.sendLiveStreamDialog('rtmp://host/live', 'k');
  c.receive({ type: 'error', code: 'live-stream-bad-url', message: 'the server address needs its application path (e.g. /live2)' });
  const bad = access.state.liveStreamDialog!;
  assert.equal(
    liveStreamRefusalText(dictionaries.en, null, bad.state === 'refused' ? bad : null),
    'The live stream address is not valid: the server address needs its application path (e.g. /live2)',
  );
  // an error of something else while editing is the meeting's
  c.receive({ type: 'error', code: 'poll-closed', message: 'closed' });
  assert.equal(banner(), 'poll-closed');
  assert.equal(access.state.liveStreamDialog?.state, 'refused');

  // sent again: it runs (connecting) and the dialog closes
  access.sendLiveStreamDialog('rtmp://a.rtmp.youtube.com/live2', 'key-1');
  c.receive({ type: 'live-stream', active: true, by: 'Me', connecting: true, interrupted: false });
  assert.equal(access.state.liveStreamDialog, null);
  assert.deepEqual(access.state.liveStream, { by: 'Me', connecting: true, interrupted: false });
  c.receive({ type: 'live-stream', active: true, by: 'Me', interrupted: false, change: 'connected' });
  assert.deepEqual(access.state.liveStream, { by: 'Me', connecting: false, interrupted: false });
  c.receive({ type: 'live-stream', active: false, by: 'Me' });
  assert.equal(access.state.liveStream, null);

  // closed while its start was under way: the refusal goes to the banner
  access.openLiveStreamDialog();
  access.sendLiveStreamDialog('rtmp://a.rtmp.youtube.com/live2', 'key-1');
  access.closeLiveStreamDialog();
  c.receive({ type: 'error', code: 'live-stream-failed', message: 'starting the media process took too long' });
  assert.equal(access.state.liveStreamDialog, null);
  assert.equal(banner(), 'live-stream-failed');
  // the embed API's start (no dialog): its refusal is the banner
  c.dismissError();
  access.startLiveStream('http://x/y', 'k');
  c.receive({ type: 'error', code: 'live-stream-bad-url', message: 'the server address must start with rtmp:// or rtmps://' });
  assert.equal(banner(), 'live-stream-bad-url');
  access.dispose();
});

test('the recorder tells each change of the connection once: live only once the server took data', () => {
  const told: StreamNotice[] = [];
  const link = new StreamConnection((n) => told.push(n));
  // an unreachable server: retried, told once
  link.lost();
  link.lost();
  assert.deepEqual(told, ['stream-interrupted']);
  assert.equal(link.connected(), true, 'news: connected');
  assert.equal(link.connected(), false, 'no news');
  assert.deepEqual(told, ['stream-interrupted', 'stream-live'], 'the first connection is live, not resumed');
  link.lost();
  link.lost();
  assert.equal(link.connected(), true);
  assert.deepEqual(told, ['stream-interrupted', 'stream-live', 'stream-interrupted', 'stream-resumed']);
  const direct: StreamNotice[] = [];
  new StreamConnection((n) => direct.push(n)).connected();
  assert.deepEqual(direct, ['stream-live']);
});

test('the notices: started when the recorder took it, on air once connected; a failure before that is no interruption', () => {
  const c = fakeConference();
  const notices = new NotificationsStore(c as unknown as Conference);
  const kinds = () => notices.state.notices.map((n) => n.kind);
  c.receive({ type: 'live-stream', active: true, by: 'Ana', connecting: true, interrupted: false, current: true });
  assert.deepEqual(kinds(), [], 'a joiner is told the state, not news');
  c.receive({ type: 'live-stream', active: true, by: 'Ana', connecting: true, interrupted: false });
  c.receive({ type: 'live-stream', active: true, by: 'Ana', connecting: true, interrupted: true, change: 'interrupted' });
  c.receive({ type: 'live-stream', active: true, by: 'Ana', interrupted: false, change: 'connected' });
  c.receive({ type: 'live-stream', active: true, by: 'Ana', interrupted: true, change: 'interrupted' });
  c.receive({ type: 'live-stream', active: true, by: 'Ana', interrupted: false, change: 'resumed' });
  c.receive({ type: 'live-stream', active: false, by: 'Ana' });
  assert.deepEqual(kinds(), ['live-started', 'live-connect-failed', 'live-connected', 'live-interrupted', 'live-resumed', 'live-stopped']);
  notices.dispose();
});
