// Display names cannot carry invisible or reordering characters: a right-to-left override, zero-width spaces and
// bidirectional isolates are taken out of names at join, rename and from a token, over a real signal server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { displayNameSchema, stripInvisible, visibleDisplayName } from '../../src/protocol/display-name.ts';
import { parseUrlOptions } from '../../src/web/url-options.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

const RLO = '\u202E';
const ZWSP = '\u200B';
const LRI = '\u2066';
const PDI = '\u2069';

test('the page keeps what the server keeps of a name: one of invisible characters only is no name (Join stays off)', () => {
  for (const name of [ZWSP, '\u00AD', `${RLO}${ZWSP}`, ` ${ZWSP} `, '\u3164', '\u115F\u1160', '\u034F', '\uFFA0']) assert.equal(visibleDisplayName(name), '', JSON.stringify(name));
  // emoji keep their variation selector and their joiners; Korean stays
  assert.equal(visibleDisplayName('❤\uFE0F Ana 👩\u200D💻 한국'), '❤\uFE0F Ana 👩\u200D💻 한국');
  for (const name of ['Ana', ` ${ZWSP}Ana${RLO} `, 'x'.repeat(80)]) {
    const r = displayNameSchema.safeParse(visibleDisplayName(name));
    assert.ok(r.success && r.data === visibleDisplayName(name), JSON.stringify(name));
  }
  // a name in the link (#userInfo.displayName) made only of invisible characters is no name either
  assert.equal(parseUrlOptions('#userInfo.displayName=%22%E2%80%8B%22').displayName, parseUrlOptions('').displayName);
});

test('control and format characters are stripped; emoji sequences and letters of every script stay', () => {
  assert.equal(stripInvisible(`Ana${RLO}gnp.exe`), 'Anagnp.exe');
  assert.equal(stripInvisible(`A${ZWSP}d\u2060m\uFEFFi\u00ADn`), 'Admin');
  assert.equal(stripInvisible(`${LRI}Bob${PDI}\u202A\u202B\u202C\u202D\u200E\u200F\u061C`), 'Bob');
  assert.equal(stripInvisible('a\u0000b\u0007c\u001Bd\u007Fe\u0085f\u2028g\u2029h'), 'abcdefgh');
  assert.equal(stripInvisible('x\u{E0041}\u{E007F}y'), 'xy', 'tag characters');
  // a zero-width joiner between two emoji makes one emoji: kept; anywhere else: out
  const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}';
  assert.equal(stripInvisible(family), family);
  assert.equal(stripInvisible('\u{1F469}\u{1F3FD}\u200D\u{1F4BB}'), '\u{1F469}\u{1F3FD}\u200D\u{1F4BB}');
  assert.equal(stripInvisible('Ana\u200DMaría\u200D'), 'AnaMaría');
  assert.equal(stripInvisible('José Ñúñez 李小龍 محمد'), 'José Ñúñez 李小龍 محمد');
  assert.equal(stripInvisible('\u200D'.repeat(100_000)), '', 'linear on a long run');
});

test('a name of only invisible characters is refused', () => {
  assert.equal(displayNameSchema.safeParse(`${ZWSP}${RLO} ${LRI}`).success, false);
  assert.equal(displayNameSchema.parse(`  ${RLO}Eve  `), 'Eve');
  assert.equal(displayNameSchema.safeParse('x'.repeat(64) + ZWSP.repeat(10)).success, true, 'invisible characters do not count');
});

describe('over the WebSocket', () => {
  const SECRET = 'display-names-test-secret-0123456789';
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal({ authMode: 'token', jwtAppId: 'app', jwtSecret: SECRET, allowGuests: true });
  });
  after(() => s.stop());

  test('join, rename and a token name: the others see the name without the override', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const jwt = await new SignJWT({ room: '*', context: { user: { name: `${RLO}Host${ZWSP}`, moderator: true } } })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('app')
      .setAudience('jitsi')
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(SECRET));
    const host = s.client();
    await host.join('names', 'typed', { jwt });
    const guest = s.client();
    const joined = await guest.join('names', `Mallory${RLO}txt.exe`);
    assert.deepEqual(joined.participants.map((p: any) => p.displayName), ['Host']);
    assert.equal((await host.nextOfType('participant-joined')).participant.displayName, 'Mallorytxt.exe');

    await guest.send({ type: 'rename', displayName: `${LRI}Host${PDI}${ZWSP}` });
    assert.equal((await host.nextOfType('participant-updated')).participant.displayName, 'Host');
    const empty = await guest.expectError({ type: 'rename', displayName: `${ZWSP}${RLO}` });
    assert.equal(empty.code, 'bad-message');
    const refused = await s.client().tryJoin('names', `${ZWSP}`);
    assert.equal(refused.code, 'bad-message');
  });
});
