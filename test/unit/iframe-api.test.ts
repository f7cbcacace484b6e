// Jitsi's IFrame API, the pure parts: the iframe's URL from the options (and the app reading it back), the
// postMessage checks on both sides (window, origin, API id, shape), the emitter, and the CSP that says who may frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cssSize, frameUrl } from '../../src/web/external-api/frame-url.ts';
import { EventEmitter } from '../../src/web/external-api/event-emitter.ts';
import { acceptPost, appMessageSchema, EMBED_NAMESPACE, hostMessageSchema, MAX_EMBED_ARGS } from '../../src/web/embed/embed-protocol.ts';
import { parentOriginAllowed } from '../../src/web/embed/embed-transport.ts';
import { embedApiId } from '../../src/web/embed/embedding.ts';
import { hashOption, overwriteUrlOptions, parseHashParams, parseUrlOptions } from '../../src/web/url-options.ts';
import { overwriteConfigArgs } from '../../src/web/embed/embed-commands.ts';
import { contentSecurityPolicy } from '../../src/signal/http.ts';

test('the iframe URL: room in the path, jwt and lang in the query, options as URL-encoded JSON in the hash', () => {
  const url = frameUrl('meet.example.org:8443', 3, {
    roomName: 'Sala Uno',
    jwt: 'a.b.c',
    lang: 'es',
    configOverwrite: { startWithAudioMuted: true, prejoinConfig: { enabled: false }, skip: undefined, fn: () => 1 },
    interfaceConfigOverwrite: { TOOLBAR_BUTTONS: ['microphone'] },
    userInfo: { displayName: 'Ana & "Ben"', email: 'ana@example.org' },
    devices: { audioInput: 'USB mic' },
  });
  const u = new URL(url);
  assert.equal(u.origin, 'https://meet.example.org:8443');
  assert.equal(u.pathname, '/Sala%20Uno');
  assert.equal(u.searchParams.get('jwt'), 'a.b.c');
  assert.equal(u.searchParams.get('lang'), 'es');
  const hash = parseHashParams(u.hash);
  assert.equal(hash.get('jitsi_meet_external_api_id'), 3);
  assert.equal(hash.get('config.startWithAudioMuted'), true);
  assert.deepEqual(hash.get('config.prejoinConfig'), { enabled: false });
  assert.equal(hash.has('config.skip'), false);
  assert.equal(hash.has('config.fn'), false);
  assert.deepEqual(hash.get('interfaceConfig.TOOLBAR_BUTTONS'), ['microphone']);
  assert.equal(hash.get('userInfo.displayName'), 'Ana & "Ben"');
  assert.equal(hash.get('devices.audioInput'), 'USB mic');
  assert.equal(u.hash.split('&')[0], '#jitsi_meet_external_api_id=3', 'the id comes first, as in Jitsi');

  // what the app makes of it: known keys used, nested objects read, unknown keys ignored
  const o = parseUrlOptions(u.hash);
  assert.equal(o.startWithAudioMuted, true);
  assert.equal(o.prejoinPageEnabled, false);
  assert.equal(o.displayName, 'Ana & "Ben"');
  assert.equal(embedApiId(u.hash), 3);
  assert.equal(hashOption(hash, 'config.prejoinConfig.enabled'), false);
  assert.equal(hashOption(hash, 'config.prejoinConfig.missing'), undefined);
  assert.equal(hashOption(parseHashParams('#config.a=1'), 'config.a.toString'), undefined, 'no inherited properties');

  assert.equal(new URL(frameUrl('127.0.0.1', 0)).pathname, '/');
  // a room name given already percent-encoded (Jitsi puts it into the path as is) is not encoded twice
  assert.equal(new URL(frameUrl('127.0.0.1', 0, { roomName: 'Reuni%C3%B3n%20de%20equipo' })).pathname, '/Reuni%C3%B3n%20de%20equipo');
  assert.equal(new URL(frameUrl('127.0.0.1', 0, { roomName: 'Reunión de equipo' })).pathname, '/Reuni%C3%B3n%20de%20equipo');
  assert.equal(new URL(frameUrl('[::1]:8443', 0, { roomName: 'x' })).host, '[::1]:8443');
  for (const bad of ['https://meet.example.org', 'meet.example.org/path', 'evil.org#', 'a b', '']) assert.throws(() => frameUrl(bad, 0), /domain/, bad);
});

test("overwriteConfig: the keys Tertulia reads change, unknown keys and values of the wrong type change nothing", () => {
  const start = parseUrlOptions('#config.resolution=180&userInfo.displayName="Ana"&config.prejoinPageEnabled=false');
  const o = overwriteUrlOptions(start, {
    startWithAudioMuted: true,
    startWithVideoMuted: 'true',
    resolution: 360,
    defaultLanguage: 'es',
    toolbarButtons: ['microphone'],
    notifications: [],
    __proto__: { startWithAudioMuted: false },
  });
  assert.deepEqual(o, { ...start, startWithAudioMuted: true, startWithVideoMuted: true, resolution: 360, language: 'es' });
  assert.equal(o.displayName, 'Ana', 'userInfo is not config: overwriteConfig leaves it');
  assert.equal(overwriteUrlOptions(o, { prejoinConfig: { enabled: true } }).prejoinPageEnabled, true, 'nested as in config.js');
  const unchanged = overwriteUrlOptions(o, { resolution: 'big', startWithAudioMuted: 'maybe', defaultLanguage: 7, 'userInfo.displayName': 'Eve' });
  assert.deepEqual(unchanged, o);
  assert.deepEqual(overwriteUrlOptions(o, {}), o);

  // the command's argument: one object (extra arguments ignored); anything else is a bad argument
  assert.equal(overwriteConfigArgs.safeParse([{ a: 1 }, 'extra']).success, true);
  for (const bad of [[], ['x'], [null], [[1, 2]], [Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`k${i}`, i]))]]) {
    assert.equal(overwriteConfigArgs.safeParse(bad).success, false, JSON.stringify(bad).slice(0, 40));
  }
});

test('the API id from the hash: a whole number, else none', () => {
  assert.equal(embedApiId('#jitsi_meet_external_api_id=0&config.x=1'), 0);
  assert.equal(embedApiId('#jitsi_meet_external_api_id=%2212%22'), 12);
  for (const h of ['', '#config.x=1', '#jitsi_meet_external_api_id=-1', '#jitsi_meet_external_api_id=1.5', '#jitsi_meet_external_api_id=abc', '#jitsi_meet_external_api_id={}']) {
    assert.equal(embedApiId(h), undefined, h);
  }
});

test('iframe sizes: numbers are pixels, strings need a unit; anything else falls back', () => {
  assert.equal(cssSize(640), '640px');
  assert.equal(cssSize('100%'), '100%');
  assert.equal(cssSize('40.5em'), '40.5em');
  assert.equal(cssSize('50vh'), '50vh');
  for (const bad of ['640', '10px; background:red', -1, NaN, undefined, null, {}]) assert.equal(cssSize(bad), undefined, String(bad));
});

test('a message is accepted only from the expected window and origin, with our API id and a known shape', () => {
  const frame = { name: 'the meeting frame' };
  const other = { name: 'another window' };
  const origin = 'https://meet.example.org';
  const expected = { source: frame, origin, apiId: 2 };
  const event = { ns: EMBED_NAMESPACE, apiId: 2, kind: 'event', name: 'videoConferenceJoined', data: { id: 'p1' } };
  assert.deepEqual(acceptPost(appMessageSchema, { origin, source: frame, data: event }, expected), event);
  assert.equal(acceptPost(appMessageSchema, { origin, source: other, data: event }, expected), undefined, 'another window');
  assert.equal(acceptPost(appMessageSchema, { origin: 'https://evil.example', source: frame, data: event }, expected), undefined, 'another origin');
  assert.equal(acceptPost(appMessageSchema, { origin, source: frame, data: { ...event, apiId: 3 } }, expected), undefined, 'another API');
  assert.equal(acceptPost(appMessageSchema, { origin, source: frame, data: { ...event, ns: 'jitsi' } }, expected), undefined, 'another namespace');
  assert.equal(acceptPost(appMessageSchema, { origin, source: frame, data: 'videoConferenceJoined' }, expected), undefined, 'not an object');
  assert.equal(acceptPost(appMessageSchema, { origin, source: frame, data: { ...event, kind: 'command' } }, expected), undefined, 'a host message');
  assert.equal(acceptPost(appMessageSchema, { origin, source: null, data: event }, { ...expected, source: null }), undefined, 'no source');

  // the app before the hello: any origin but an opaque one, still only from the parent
  const parent = { name: 'parent' };
  const hello = { ns: EMBED_NAMESPACE, apiId: 0, kind: 'hello' };
  const beforeHello = { source: parent, origin: null, apiId: 0 };
  assert.deepEqual(acceptPost(hostMessageSchema, { origin: 'https://intranet.example.org', source: parent, data: hello }, beforeHello), hello);
  assert.equal(acceptPost(hostMessageSchema, { origin: 'null', source: parent, data: hello }, beforeHello), undefined, 'a sandboxed page');
  assert.equal(acceptPost(hostMessageSchema, { origin: 'https://intranet.example.org', source: other, data: hello }, beforeHello), undefined);
  const command = (args: unknown[]) => ({ ns: EMBED_NAMESPACE, apiId: 0, kind: 'command', name: 'toggleAudio', args });
  const afterHello = { ...beforeHello, origin: 'https://intranet.example.org' };
  assert.ok(acceptPost(hostMessageSchema, { origin: 'https://intranet.example.org', source: parent, data: command([]) }, afterHello));
  assert.equal(acceptPost(hostMessageSchema, { origin: 'https://other.example.org', source: parent, data: command([]) }, afterHello), undefined);
  assert.equal(acceptPost(hostMessageSchema, { origin: 'https://intranet.example.org', source: parent, data: command(new Array(MAX_EMBED_ARGS + 1).fill(1)) }, afterHello), undefined);
  const long = { ...command([]), name: 'x'.repeat(65) };
  assert.equal(acceptPost(hostMessageSchema, { origin: 'https://intranet.example.org', source: parent, data: long }, afterHello), undefined);
});

test("the parent's origin: the browser's ancestorOrigins decide when it gives them", () => {
  assert.equal(parentOriginAllowed('https://intranet.example.org', undefined), true);
  assert.equal(parentOriginAllowed('https://intranet.example.org', []), true);
  assert.equal(parentOriginAllowed('https://intranet.example.org', ['https://intranet.example.org', 'https://top.example.org']), true);
  assert.equal(parentOriginAllowed('https://evil.example', ['https://intranet.example.org']), false);
  assert.equal(parentOriginAllowed('null', undefined), false);
});

test("the emitter: Jitsi's addListener/on, once, removeListener/off, a throwing listener does not stop the others", () => {
  const e = new EventEmitter();
  const seen: string[] = [];
  const a = (x: unknown) => seen.push(`a${String(x)}`);
  const b = (x: unknown) => seen.push(`b${String(x)}`);
  e.addListener('x', a).on('x', () => {
    throw new Error('listener bug');
  });
  e.once('x', b);
  const error = console.error;
  console.error = () => {};
  try {
    assert.equal(e.emit('x', 1), true);
    e.emit('x', 2);
  } finally {
    console.error = error;
  }
  assert.deepEqual(seen, ['a1', 'b1', 'a2']);
  e.off('x', a);
  assert.equal(e.listenerCount('x'), 1);
  e.once('y', b);
  e.removeListener('y', b);
  assert.equal(e.emit('y', 3), false);
  e.removeAllListeners();
  assert.equal(e.listenerCount('x'), 0);
  assert.throws(() => e.on('x', 'not a function' as never), TypeError);
});

test("CSP frame-ancestors: 'none' by default, else exactly the allowed origins", () => {
  assert.match(contentSecurityPolicy('meet.example.org'), /frame-ancestors 'none'$/);
  assert.match(contentSecurityPolicy('meet.example.org', ['https://intranet.example.org', 'https://*.example.net']), /frame-ancestors https:\/\/intranet\.example\.org https:\/\/\*\.example\.net$/);
  assert.match(contentSecurityPolicy(undefined, ['*']), /frame-ancestors \*$/);
});
