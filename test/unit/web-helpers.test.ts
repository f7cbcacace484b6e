// The browser app's pure helpers: URL hash options, language choice, room names, initials, grid shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHashParams, parseUrlOptions, roomFromPath, videoConstraints } from '../../src/web/url-options.ts';
import { detectLanguage, dictionaries } from '../../src/web/i18n.ts';
import { randomRoomName, roomNameProblem } from '../../src/web/room-names.ts';
import { initials } from '../../src/web/display-names.ts';
import { gridShape, tileGridColumn } from '../../src/web/layout.ts';
import { serverErrorText } from '../../src/web/pages/error-text.ts';
import { formatElapsed } from '../../src/web/meeting/meeting-clock-store.ts';

test('hash options are parsed like Jitsi (URL-encoded JSON values)', () => {
  const o = parseUrlOptions(
    '#config.startWithAudioMuted=true&config.startWithVideoMuted=true&config.prejoinPageEnabled=false&userInfo.displayName=%22Ana%20Mar%C3%ADa%22&config.resolution=180&config.hideConferenceTimer=true',
  );
  assert.deepEqual(o, {
    startWithAudioMuted: true,
    startWithVideoMuted: true,
    prejoinPageEnabled: false,
    displayName: 'Ana María',
    resolution: 180,
    language: undefined,
    hideConferenceTimer: true,
  });
});

test('hash option defaults, bad values and plain strings', () => {
  const d = parseUrlOptions('');
  assert.equal(d.resolution, 720);
  assert.equal(d.prejoinPageEnabled, true);
  assert.equal(d.startWithAudioMuted, false);
  assert.equal(d.hideConferenceTimer, false);
  const o = parseUrlOptions('#config.resolution=abc&userInfo.displayName=Ben&config.startWithAudioMuted=nope&%E0%A4%A=1');
  assert.equal(o.resolution, 720);
  assert.equal(o.displayName, 'Ben');
  assert.equal(o.startWithAudioMuted, false);
  assert.equal(parseUrlOptions('#config.prejoinConfig.enabled=false').prejoinPageEnabled, false);
  assert.equal(parseHashParams('#__proto__=1').size, 0);
  assert.equal(Object.prototype.hasOwnProperty.call({}, 'polluted'), false);
});

test("the meeting timer reads as Jitsi's: m:ss, then h:mm:ss", () => {
  assert.equal(formatElapsed(0), '0:00');
  assert.equal(formatElapsed(-5000), '0:00', 'a clock a little ahead shows no negative time');
  assert.equal(formatElapsed(59_999), '0:59');
  assert.equal(formatElapsed(61_000), '1:01');
  assert.equal(formatElapsed(3_599_000), '59:59');
  assert.equal(formatElapsed(3_600_000), '1:00:00');
  assert.equal(formatElapsed(36_005_000), '10:00:05');
});

test('video constraints are 16:9 at most 30 fps', () => {
  const c = videoConstraints(180);
  assert.deepEqual(c.width, { ideal: 320 });
  assert.deepEqual(c.height, { ideal: 180 });
  assert.deepEqual(c.frameRate, { ideal: 30, max: 30 });
  assert.deepEqual(videoConstraints(720).width, { ideal: 1280 });
});

test('room from the path', () => {
  assert.equal(roomFromPath('/'), undefined);
  assert.equal(roomFromPath('/Sala-%C3%91and%C3%BA'), 'Sala-Ñandú');
  assert.equal(roomFromPath('/bad%E0%A4'), 'bad%E0%A4');
});

test('language: ?lang wins, then navigator.language', () => {
  assert.equal(detectLanguage('?lang=es', 'en-US'), 'es');
  assert.equal(detectLanguage('?lang=en', 'es-ES'), 'en');
  assert.equal(detectLanguage('', 'es-AR'), 'es');
  assert.equal(detectLanguage('', 'de-DE'), 'en');
  assert.equal(detectLanguage('', 'en-US', 'es'), 'es');
});

test('both dictionaries have every string, and the Spanish control names', () => {
  const { en, es } = dictionaries;
  assert.deepEqual(Object.keys(es).sort(), Object.keys(en).sort());
  for (const [k, v] of Object.entries(es)) assert.ok(v.length > 0, k);
  assert.equal(es.roomName, 'Nombre de la sala');
  assert.equal(es.startMeeting, 'Iniciar reunión');
  assert.equal(es.yourName, 'Tu nombre');
  assert.equal(es.joinMeeting, 'Unirse a la reunión');
  assert.equal(es.muteMicrophone, 'Silenciar micrófono');
  assert.equal(es.unmuteMicrophone, 'Activar micrófono');
  assert.equal(es.stopCamera, 'Detener cámara');
  assert.equal(es.startCamera, 'Iniciar cámara');
  assert.equal(es.leaveMeeting, 'Salir de la reunión');
  assert.equal(es.startRecording, 'Iniciar grabación');
  assert.equal(es.stopRecording, 'Detener grabación');
  assert.equal(es.recordingIndicator, 'Grabando');
  assert.equal(es.recordingStartedNotice('Ana'), 'Ana ha iniciado la grabación');
});

test('room names: suggestions are valid, rules match the protocol', () => {
  for (let i = 0; i < 50; i++) {
    const n = randomRoomName();
    assert.match(n, /^([A-Z][a-z]+){4}$/);
    assert.equal(roomNameProblem(n), undefined);
  }
  assert.equal(roomNameProblem(''), 'empty');
  assert.equal(roomNameProblem('Sala-Ñandú_1.2'), undefined);
  assert.equal(roomNameProblem('会议室'), undefined);
  assert.equal(roomNameProblem('a b'), undefined);
  assert.equal(roomNameProblem('../etc'), 'url-character');
  assert.equal(roomNameProblem('x'.repeat(129)), 'too-long');
});

test('initials and grid shape', () => {
  assert.equal(initials('Eva Luna'), 'EL');
  assert.equal(initials('Fer'), 'F');
  assert.equal(initials('ana maría lópez'), 'AL');
  assert.equal(initials('  '), '');
  assert.equal(initials('élodie'), 'É');
  assert.deepEqual(gridShape(1), { cols: 1, rows: 1 });
  assert.deepEqual(gridShape(2), { cols: 2, rows: 1 });
  assert.deepEqual(gridShape(3), { cols: 2, rows: 2 });
  assert.deepEqual(gridShape(5), { cols: 3, rows: 2 });
  assert.deepEqual(gridShape(10), { cols: 4, rows: 3 });
  // 3 tiles in 2 columns: the third is centred (starts at track 2 of 4).
  assert.deepEqual([0, 1, 2].map((i) => tileGridColumn(i, 3, 2)), ['span 2', 'span 2', '2 / span 2']);
  // 5 tiles in 3 columns: the last row (2 tiles) starts at track 2 of 6.
  assert.equal(tileGridColumn(3, 5, 3), '2 / span 2');
  assert.equal(tileGridColumn(4, 5, 3), 'span 2');
  assert.deepEqual([0, 1, 2, 3].map((i) => tileGridColumn(i, 4, 2)), ['span 2', 'span 2', 'span 2', 'span 2']);
});

test("the server's refusals are said in the page's language; an unknown one with the server's words", () => {
  const { en, es } = dictionaries;
  assert.equal(serverErrorText(es, { code: 'rate-limited', message: 'speaker stats asked for too often' }), es.errorRateLimited);
  assert.equal(serverErrorText(en, { code: 'poll-closed', message: 'x' }), en.errorPollClosed);
  assert.equal(serverErrorText(es, { code: 'something-new', message: 'what happened' }), `${es.errorGeneric}: what happened`);
});
