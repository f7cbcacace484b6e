// Token mode over real HTTPS + WebSocket, with tokens minted by the test with a real JWT library (jose):
// Jitsi's claims work unchanged (HS256, RS256, ES256); every bad token gets `bad-token` with a reason and
// never a join.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { dropConnection, startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

const SECRET = 'a-long-shared-secret-for-hs256-tokens';
const keysDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-keys-'));
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
writeFileSync(path.join(keysDir, 'rsa-key.pem'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
writeFileSync(path.join(keysDir, 'ec-key.pem'), ec.publicKey.export({ type: 'spki', format: 'pem' }));

const now = () => Math.floor(Date.now() / 1000);

/** A token as a Jitsi integration makes it. */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: 'my-app',
    aud: 'jitsi',
    sub: 'meet.example.org',
    room: '*',
    exp: now() + 3600,
    context: { user: { id: 'u-1', name: 'Token Ana', email: 'ana@example.org', avatar: 'https://example.org/a.png' } },
    ...extra,
  };
}

async function hs256(c: Record<string, unknown>, secret = SECRET): Promise<string> {
  return await new SignJWT(c).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

let s: TestSignal;
before(async () => {
  s = await startTestSignal({
    authMode: 'token',
    jwtAppId: 'my-app',
    jwtSecret: SECRET,
    jwtPublicKeys: [path.join(keysDir, 'rsa-key.pem'), path.join(keysDir, 'ec-key.pem')],
    allowGuests: true,
  });
});
after(async () => {
  await s.stop();
  rmSync(keysDir, { recursive: true, force: true });
});

let n = 0;
const newRoom = () => `tok-room-${++n}`;

describe('good tokens', () => {
  test('an HS256 Jitsi token with context.user.moderator joins as moderator with the token name', async () => {
    const room = newRoom();
    const c = s.client();
    const j = await c.join(room, 'typed name', { jwt: await hs256(claims({ context: { user: { name: 'Token Ana', moderator: true } } })) });
    assert.equal(j.role, 'moderator');
    const other = s.client();
    const j2 = await other.join(room, 'Ben', { jwt: await hs256(claims({ moderator: false, room })) });
    assert.equal(j2.role, 'participant', 'moderator: false is honoured even for a later joiner');
    assert.equal(j2.participants[0].displayName, 'Token Ana');
    assert.equal(j2.participants[0].role, 'moderator');
  });

  test('moderator "true" as a string (top-level claim) and room names compared case-insensitively', async () => {
    const room = newRoom();
    const first = s.client();
    await first.join(room, 'A', { jwt: await hs256(claims({ moderator: false, room })) });
    const c = s.client();
    const j = await c.join(room, 'B', { jwt: await hs256(claims({ moderator: 'true', room: room.toUpperCase() })) });
    assert.equal(j.role, 'moderator');
  });

  test('a room typed with spaces: the claim as typed, as its key or percent-encoded as Jitsi writes it', async () => {
    const room = `Team Standup ${++n}`;
    for (const claim of [room, room.toLowerCase(), encodeURIComponent(room.toLowerCase()), `  ${room.toUpperCase()} `]) {
      const c = s.client();
      assert.equal((await c.join(room, 'A', { jwt: await hs256(claims({ room: claim })) })).type, 'joined', claim);
      c.close();
    }
    const other = await s.client().tryJoin(room, 'B', { jwt: await hs256(claims({ room: `${room}s` })) });
    assert.deepEqual([other.type, other.code, other.message], ['error', 'bad-token', 'the token is for another room']);
  });

  test('without a moderator claim the first in the room moderates', async () => {
    const room = newRoom();
    const a = s.client();
    assert.equal((await a.join(room, 'A', { jwt: await hs256(claims()) })).role, 'moderator');
    const b = s.client();
    assert.equal((await b.join(room, 'B', { jwt: await hs256(claims()) })).role, 'participant');
  });

  test('several joining an empty room at the same moment: exactly one becomes moderator', async () => {
    for (let round = 0; round < 5; round++) {
      const room = newRoom();
      const jwt = await hs256(claims());
      const clients = [s.client(), s.client(), s.client()];
      // token checks are asynchronous: the three may all be verified while the room is still empty
      const joined = await Promise.all(clients.map((c, i) => c.join(room, `P${i}`, { jwt })));
      assert.deepEqual(joined.map((j) => j.role).sort(), ['moderator', 'participant', 'participant']);
    }
  });

  test('RS256 and ES256 tokens verify with the configured public keys', async () => {
    const rs = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    assert.equal((await s.client().join(newRoom(), 'R', { jwt: rs })).type, 'joined');
    const es = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'ec-key' }).sign(ec.privateKey);
    assert.equal((await s.client().join(newRoom(), 'E', { jwt: es })).type, 'joined');
  });

  test('a room whose people dropped: a token without a moderator claim meets its kept lock; a moderator token passes', async () => {
    const room = newRoom();
    const host = s.client();
    await host.join(room, 'Host', { jwt: await hs256(claims({ room })) });
    await host.send({ type: 'lock-room', password: 'kept-pw' });
    await host.next((m) => m.type === 'room-state' && m.locked);
    await dropConnection(s, host);
    // with no claim the first in a room moderates: here that must not open the kept lock
    const plain = await s.client().tryJoin(room, 'Plain', { jwt: await hs256(claims({ room })) });
    assert.equal(plain.code, 'password-required', JSON.stringify(plain));
    const moderator = await s.client().tryJoin(room, 'Boss', { jwt: await hs256(claims({ room, context: { user: { name: 'Boss', moderator: true } } })) });
    assert.equal(moderator.type, 'joined', JSON.stringify(moderator));
  });

  test('guests (no token) join a started room, not an empty one', async () => {
    const room = newRoom();
    const guest = s.client();
    const waiting = await guest.tryJoin(room, 'Guest');
    assert.deepEqual(waiting, { type: 'host-wait', room, signIn: false }, 'a guest before the host waits for them');
    await s.client().join(room, 'Host', { jwt: await hs256(claims()) });
    const j = await guest.join(room, 'Guest');
    assert.equal(j.role, 'participant');
  });
});

describe('a resume re-checks the token', () => {
  test('back with a valid token: itself again; with its token expired: a new join, refused', async () => {
    const room = newRoom();
    const a = s.client();
    const ja = await a.join(room, 'A', { jwt: await hs256(claims({ moderator: true })) });
    const keep = s.client();
    await keep.join(room, 'K', { jwt: await hs256(claims({ moderator: false })) });
    a.ws.terminate();
    const expired = await s.client().tryJoin(room, 'A', { resume: ja.resumeToken, jwt: await hs256(claims({ moderator: true, exp: now() - 3600 })) });
    assert.equal(expired.code, 'bad-token', 'the expired token is checked as for a new join');
    assert.match(s.logs(), /resume refused: its credentials no longer hold/);
    // the refused resume spent the resume token: a valid token now joins as a new participant
    const again = await s.client().join(room, 'A', { resume: ja.resumeToken, jwt: await hs256(claims({ moderator: true })) });
    assert.notEqual(again.selfId, ja.selfId);
    const b = s.client();
    const jb = await b.join(room, 'B', { jwt: await hs256(claims({ moderator: false })) });
    b.ws.terminate();
    assert.equal((await s.client().join(room, 'B', { resume: jb.resumeToken, jwt: await hs256(claims({ moderator: false })) })).selfId, jb.selfId);
  });
});

describe('bad tokens are refused with a reason, never joined', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['wrong signature (other secret)', () => hs256(claims(), 'not-the-secret-at-all'), /signature does not match/],
    [
      'alg none',
      async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims({ moderator: true }))}.`,
      /alg "none"/,
    ],
    ['expired', () => hs256(claims({ exp: now() - 3600 })), /expired/],
    ['not yet valid', () => hs256(claims({ nbf: now() + 3600 })), /not valid yet/],
    ['wrong audience', () => hs256(claims({ aud: 'someone-else' })), /audience/],
    ['wrong issuer', () => hs256(claims({ iss: 'other-app' })), /another application/],
    ['wrong room', () => hs256(claims({ room: 'another-room' })), /another room/],
    ['no room claim', () => hs256(claims({ room: undefined })), /no room claim/],
    ['no expiry', () => hs256(claims({ exp: undefined })), /exp/],
    ['RS256 signed by an unknown key', () => new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(otherRsa.privateKey), /signature does not match/],
    ['HS256 signed with the RSA public key (algorithm confusion)', () => hs256(claims(), rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString()), /signature does not match/],
    ['garbage', async () => 'not.a.token', /malformed/],
    ['tampered payload', async () => {
      const t = await hs256(claims({ moderator: false }));
      const [h, , sig] = t.split('.');
      return `${h}.${b64(claims({ moderator: true }))}.${sig}`;
    }, /signature does not match/],
  ];

  for (const [what, make, reason] of cases) {
    test(what, async () => {
      const room = newRoom();
      const c = s.client();
      const token = await make();
      const r = await c.tryJoin(room, 'Mallory', { jwt: token });
      assert.equal(r.type, 'error', JSON.stringify(r));
      assert.equal(r.code, 'bad-token');
      assert.match(r.message, reason);
      // never joined: the room does not exist for the next person (a guest waits for a host)
      assert.equal((await s.client().tryJoin(room, 'Guest')).type, 'host-wait');
      assert.ok(!s.logs().includes(token), 'tokens never reach the logs');
    });
  }
});

describe('token mode settings', () => {
  test('without guests, a token is required even in a started room', async () => {
    const strict = await startTestSignal({ authMode: 'token', jwtAppId: 'my-app', jwtSecret: SECRET, allowGuests: false });
    try {
      const room = 'strict-room';
      await strict.client().join(room, 'Host', { jwt: await hs256(claims()) });
      const g = await strict.client().tryJoin(room, 'Guest');
      assert.equal(g.code, 'token-required');
      assert.match(g.message, /access token/);
    } finally {
      await strict.stop();
    }
  });

  test('token mode without an app id or key refuses to start, naming the setting', async () => {
    await assert.rejects(startTestSignal({ authMode: 'token', jwtSecret: SECRET }), /jwtAppId/);
    await assert.rejects(startTestSignal({ authMode: 'token', jwtAppId: 'my-app' }), /jwtSecret .* or jwtPublicKeys/);
    await assert.rejects(startTestSignal({ authMode: 'token', jwtAppId: 'x', jwtPublicKeys: [path.join(keysDir, 'missing.pem')] }), /cannot read/);
  });

  test('accepted issuers and audience "*"', async () => {
    const loose = await startTestSignal({ authMode: 'token', jwtAppId: 'my-app', jwtAcceptedIssuers: ['partner'], jwtAudience: ['*'], jwtSecret: SECRET });
    try {
      const j = await loose.client().join('loose', 'P', { jwt: await hs256(claims({ iss: 'partner', aud: 'anything' })) });
      assert.equal(j.type, 'joined');
    } finally {
      await loose.stop();
    }
  });
});
