// The admin API with adminApiJwt (token mode, no adminApiToken): signal over real HTTPS + WebSocket; a token
// minted by the test with jose, like a meeting token but with room "*" and context.user.admin true, lists and
// ends rooms; a meeting token (no admin claim), an admin claim for one room, another secret, an expired token or
// `alg: none` get a 401 and change nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { adminRequest } from '../helpers/admin-api.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

const SECRET = 'a-long-shared-secret-for-hs256-tokens';
const now = () => Math.floor(Date.now() / 1000);

function claims(user: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: 'my-app', aud: 'jitsi', sub: 'meet.example.org', room: '*', exp: now() + 3600, context: { user: { id: 'ops-1', ...user } }, ...extra };
}

const sign = (c: Record<string, unknown>, secret = SECRET) => new SignJWT(c).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('admin API with an admin JWT', () => {
  let s: TestSignal;
  before(async () => {
    s = await startTestSignal({ authMode: 'token', jwtAppId: 'my-app', jwtSecret: SECRET, adminApiJwt: true });
  });
  after(() => s.stop());

  test('an admin token works; any other token is a 401 and nothing is done', async () => {
    const host = s.client();
    await host.join('Jwt-Room', 'Host', { jwt: await sign(claims({ name: 'Host', moderator: true })) });
    const api = (method: string, path: string, token: string | null) => adminRequest(s.server.httpsPort, method, path, { token });

    const refused = [
      ['no token', null],
      ['a meeting token', await sign(claims({ moderator: true }))],
      ['an admin claim for one room', await sign(claims({ admin: true }, { room: 'Jwt-Room' }))],
      ['another secret', await sign(claims({ admin: true }), 'another-secret-of-the-same-length!!')],
      ['expired', await sign(claims({ admin: true }, { exp: now() - 3600 }))],
      ['another issuer', await sign(claims({ admin: true }, { iss: 'other-app' }))],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims({ admin: true }))}.`],
    ] as const;
    for (const [what, token] of refused) {
      const r = await api('DELETE', '/api/v1/rooms/Jwt-Room', token);
      assert.equal(r.status, 401, what);
      assert.equal(r.body.error, 'unauthorized', what);
    }
    assert.ok(await host.nothingLike((m) => m.type === 'meeting-ended'));

    const admin = await sign(claims({ admin: true }));
    const list = await api('GET', '/api/v1/rooms', admin);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.rooms.map((r: any) => [r.name, r.participants]), [['Jwt-Room', 1]]);
    // a top-level admin claim works too
    const ended = await api('DELETE', '/api/v1/rooms/Jwt-Room', await sign({ ...claims({}), admin: true }));
    assert.deepEqual([ended.status, ended.body], [200, { ended: 'Jwt-Room', participants: 1 }]);
    assert.deepEqual(await host.nextOfType('meeting-ended'), { type: 'meeting-ended', by: 'Admin' });
    assert.ok(!s.logs().includes(admin));
  });
});
