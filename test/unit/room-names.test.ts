// Room names as people type them (src/protocol/room-name.ts): the canonical key (as jitsi-meet's
// getBackendSafeRoomName maps them), what is refused and why, names from a URL path, the recording file
// name, and the server putting "Team standup" and "team  STANDUP" in one room (the admin API and Jitsi's
// conferenceMapper find it by any spelling).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { jitsiRoomName, roomKey, roomKeyOfJitsiName, roomNameRefusal, roomNameSchema } from '../../src/protocol/room-name.ts';
import { roomFromPath } from '../../src/web/url-options.ts';
import { roomNameProblem, visibleRoomName } from '../../src/web/room-names.ts';
import { safeRoomName } from '../../src/recorder/file-name.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';
import { adminRequest } from '../helpers/admin-api.ts';

/** jitsi-meet's getBackendSafeRoomName (decode, NFKC, lower-case, encode, lower-case), for comparison. */
function jitsiBackendSafe(room: string): string {
  let r = room;
  try {
    r = decodeURIComponent(r);
  } catch {
    // as Jitsi: go on with the text as is
  }
  return encodeURIComponent(r.normalize('NFKC').toLowerCase()).toLowerCase();
}

describe('room name keys', () => {
  test("as Jitsi maps them: the path's encoding, NFKC, case", () => {
    const cases: [string, string][] = [
      ['Team standup', 'team standup'],
      ['Reunión de equipo', 'reunión de equipo'],
      ['REUNIÓN DE EQUIPO', 'reunión de equipo'],
      ['Reunio\u0301n de equipo', 'reunión de equipo'], // a combining accent: NFKC composes it
      ['ＴＥＡＭ ｓｔａｎｄｕｐ', 'team standup'], // full-width
      ['ﬁnance', 'finance'], // a ligature
      ['会议室', '会议室'],
      ['Straße', 'straße'],
      ['ΟΔΥΣΣΕΥΣ', 'οδυσσευς'], // a final sigma
    ];
    for (const [typed, key] of cases) {
      assert.equal(roomKey(typed), key, typed);
      assert.equal(jitsiRoomName(roomKey(typed)), jitsiBackendSafe(typed), `${typed}: Jitsi's form`);
      assert.equal(roomNameRefusal(typed), undefined, typed);
    }
    assert.equal(jitsiRoomName(roomKey('Reunión de equipo')), 'reuni%c3%b3n%20de%20equipo');
  });

  test('spaces: runs count as one, none at the ends; other spaces are spaces', () => {
    assert.equal(roomKey('  Team   standup '), 'team standup');
    assert.equal(roomKey('Team\u00A0standup'), 'team standup'); // no-break space
    assert.equal(roomKey('Team\u3000standup'), 'team standup'); // ideographic space
  });

  test('old names keep their rooms: the key of a name the old rules took is its old key', () => {
    for (const old of ['BraveOwlsSingLoudly', 'Sala-Ñandú_1.2', 'v1.2', 'Physics', '会议室', 'Ärzte-Treff']) {
      assert.equal(roomKey(old), old.normalize('NFC').toLocaleLowerCase('und'), old);
      assert.equal(roomNameRefusal(old), undefined, old);
    }
  });

  test('a key is a valid name whose key is itself', () => {
    for (const typed of ['Team standup', 'Reunión de equipo', 'ＴＥＡＭ', '  a  b  ']) {
      const key = roomKey(typed);
      assert.equal(roomNameRefusal(key), undefined, typed);
      assert.equal(roomKey(key), key, typed);
    }
  });

  test("a token's or a Jitsi client's spelling: percent-encoded or not", () => {
    assert.equal(roomKeyOfJitsiName('team%20standup'), 'team standup');
    assert.equal(roomKeyOfJitsiName('reuni%c3%b3n%20de%20equipo'), 'reunión de equipo');
    assert.equal(roomKeyOfJitsiName('Team Standup'), 'team standup');
    assert.equal(roomKeyOfJitsiName('bad%E0%A4'), 'bad%e0%a4'); // not decodable: as is
  });
});

describe('room names refused, with the reason', () => {
  const refused: [string, RegExp][] = [
    ['', /empty/],
    ['x'.repeat(129), /at most 128 characters/],
    ['\u3392'.repeat(50), /at most 128 characters \(once normalised too\)/], // ㎒ -> MHz: 50 typed, 150 as a key
    ['\uFDFA'.repeat(8), /once normalised/], // one character, 18 once normalised
    ['a/b', /"\/"/],
    ['../etc', /"\/"/],
    ['a\\b', /"\/"/],
    ['what?', /"\?"/],
    ['room#1', /"#"/],
    ['100%', /"%"/],
    ['a\uFF0Fb', /"\/"/], // a full-width solidus: "/" once normalised
    ['line\nbreak', /control/],
    ['tab\there', /control/],
    ['nul\u0000', /control/],
    ['evil\u202Egnp.exe', /control/], // right-to-left override
    ['zero\u200Bwidth', /control/],
    ['lone\uD800', /control/],
    ['   ', /more than spaces/],
    ['\u3000', /more than spaces/],
    ['.', /not room names/],
    ['..', /not room names/],
  ];
  test('each with its reason, the same in the schema', () => {
    for (const [name, reason] of refused) {
      const r = roomNameRefusal(name);
      assert.ok(r && reason.test(r), `${JSON.stringify(name)}: ${r}`);
      const parsed = roomNameSchema.safeParse(name);
      assert.equal(parsed.success, false, name);
      assert.equal(parsed.error?.issues[0]?.message, r);
    }
  });

  test('allowed: emoji (with their joiners), marks, punctuation that is no part of a URL path', () => {
    for (const ok of ['👨‍👩‍👧 family', 'Café ☕', 'Q&A: 2026', 'a.b', '...', "O'Brien's (1)", 'x'.repeat(128), 'नमस्ते']) {
      assert.equal(roomNameRefusal(ok), undefined, ok);
    }
  });

  test('the start page and the room page use the same rules', () => {
    assert.equal(roomNameProblem(''), 'empty');
    assert.equal(roomNameProblem('   '), 'empty');
    assert.equal(roomNameProblem('Team standup'), undefined);
    assert.equal(roomNameProblem('Reunión de equipo'), undefined);
    assert.equal(roomNameProblem('a/b'), 'url-character');
    assert.equal(roomNameProblem('..'), 'dots');
    assert.equal(roomNameProblem('a\u200Bb'), 'invisible');
    assert.equal(roomNameProblem('x'.repeat(129)), 'too-long');
  });

  test('a refused name is shown with its invisible characters written out (no bidi override reorders the page)', () => {
    assert.equal(visibleRoomName('x\u202Ey.exe'), 'x⟨U+202E⟩y.exe');
    assert.equal(visibleRoomName('a\u200Bb'), 'a⟨U+200B⟩b');
    assert.equal(visibleRoomName('tab\there\n'), 'tab⟨U+0009⟩here⟨U+000A⟩');
    assert.equal(visibleRoomName('Sales/Q3'), 'Sales/Q3');
    assert.equal(visibleRoomName('👨‍👩‍👧'), '👨⟨U+200D⟩👩⟨U+200D⟩👧', 'a valid name is never shown this way; a refused one shows every joiner');
  });
});

test('a URL path to the name as typed', () => {
  assert.equal(roomFromPath('/Team%20standup'), 'Team standup');
  assert.equal(roomFromPath('/Reuni%C3%B3n%20de%20equipo'), 'Reunión de equipo');
  assert.equal(roomFromPath('/a%2Fb'), 'a/b'); // then refused
  assert.equal(roomNameRefusal(roomFromPath('/a/b')!), 'a room name may not contain "/", "\\", "?", "#" or "%"');
});

test('recording file names: ASCII, accents dropped, nothing outside the folder', () => {
  assert.equal(safeRoomName('Reunión de equipo'), 'Reunion_de_equipo');
  assert.equal(safeRoomName('Team standup'), 'Team_standup');
  assert.equal(safeRoomName('..'), 'room');
  assert.equal(safeRoomName('会议室'), 'room');
});

const ADMIN_TOKEN = 'an-admin-token-for-room-names';

describe('the server: one room per key, each joins with the name typed', () => {
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal({ adminApiToken: ADMIN_TOKEN });
  });
  after(async () => {
    await s.stop();
  });

  test('"Team standup" and "team  STANDUP" meet; a refused name gets the reason', async () => {
    const a = s.client();
    const b = s.client();
    const ja = await a.join('Team standup', 'Ana');
    const jb = await b.join('team  STANDUP ', 'Ben');
    assert.equal(ja.room, 'Team standup');
    assert.deepEqual(jb.participants.map((p: { displayName: string }) => p.displayName), ['Ana']);
    const c = s.client();
    const refused = await c.tryJoin('a/b', 'Caro');
    assert.equal(refused.type, 'error');
    assert.match(refused.message, /may not contain "\/"/);

    // the admin API: the room by any spelling; its name as first typed
    const api = (path: string) => adminRequest(s.server.httpsPort, 'GET', path, { token: ADMIN_TOKEN });
    for (const spelling of ['Team%20standup', 'TEAM%20%20Standup', '%EF%BC%B4eam%20standup']) {
      const r = await api(`/api/v1/rooms/${spelling}`);
      assert.equal(r.status, 200, spelling);
      assert.deepEqual([r.body.name, r.body.participants.length], ['Team standup', 2]);
    }
    // a "/" decodes into another path segment: no such path, never another room
    assert.equal((await api('/api/v1/rooms/Team%2Fstandup')).status, 404);

    // Jitsi's conferenceMapper: the name as typed or percent-encoded as jitsi-meet sends it, one PIN, Jitsi's form back
    const map = async (conference: string) =>
      (await adminRequest(s.server.httpsPort, 'GET', `/conferenceMapper?conference=${encodeURIComponent(conference)}`, { token: null })).body;
    const typed = await map('Team standup@conference.example.org');
    const encoded = await map('team%20standup@conference.example.org');
    assert.equal(typed.conference, 'team%20standup@conference.example.org');
    assert.deepEqual(encoded, typed);
    assert.equal((await map('a%2Fb@conference.example.org')).id, false);
    for (const x of [a, b, c]) x.close();
  });
});
