// End to end: token mode. The server is started the way an admin configures it (TERTULIA_AUTH_MODE=token, an
// HS256 secret); tokens are minted here with a real JWT library (jose). A good token joins (with the token's
// name and moderator right); every bad one gets a refusal page and never a join.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { newParticipant, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { inMeeting, startJoin } from '../helpers/access-ui.ts';

const SECRET = 'e2e-shared-secret-for-hs256-tokens';
const now = () => Math.floor(Date.now() / 1000);

async function token(extra: Record<string, unknown> = {}, secret = SECRET): Promise<string> {
  const claims = {
    iss: 'tertulia-e2e',
    aud: 'jitsi',
    sub: 'meet.example.org',
    room: '*',
    exp: now() + 3600,
    context: { user: { id: 'u1', name: 'Ana Token', email: 'ana@example.org', moderator: true } },
    ...extra,
  };
  return await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('token mode', () => {
  const suite = useServerAndBrowser({ TERTULIA_AUTH_MODE: 'token', TERTULIA_JWT_APP_ID: 'tertulia-e2e', TERTULIA_JWT_SECRET: SECRET });
  let probe: Participant;

  before(async () => {
    probe = await newParticipant(suite.browser, 'Mallory');
  });

  const bad: [string, () => Promise<string>, RegExp][] = [
    ['wrong signature', () => token({}, 'some-other-secret-entirely'), /signature does not match/],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: 'tertulia-e2e', aud: 'jitsi', room: '*', exp: now() + 3600 })}.`, /alg "none"/],
    ['expired', () => token({ exp: now() - 60 }), /expired/],
    ['not yet valid', () => token({ nbf: now() + 3600 }), /not valid yet/],
    ['wrong audience', () => token({ aud: 'another-service' }), /audience/],
    ['wrong room', () => token({ room: 'another-room' }), /another room/],
  ];
  for (const [what, make, reason] of bad) {
    test(`a token with ${what} gets a refusal page`, async () => {
      await startJoin(probe, suite.server.baseUrl, 'TokenRoom', `?jwt=${await make()}`);
      await probe.page.getByRole('heading', { name: 'Your access link was refused' }).waitFor({ timeout: 20_000 });
      await probe.page.getByText(reason).waitFor();
      assert.equal(await probe.page.getByRole('group', { name: 'Mallory (you)' }).count(), 0);
    });
  }

  test('no token and nobody in the room: a guest waits for the host (no sign-in form: hosts come with their link)', async () => {
    await startJoin(probe, suite.server.baseUrl, 'TokenRoom');
    await probe.page.getByRole('heading', { name: 'Waiting for the host' }).waitFor({ timeout: 20_000 });
    assert.equal(await probe.page.getByRole('textbox', { name: 'Username' }).count(), 0);
    await probe.page.getByRole('button', { name: 'Cancel' }).click();
    await probe.page.getByRole('heading', { name: 'Waiting for the host' }).waitFor({ state: 'detached', timeout: 10_000 });
  });

  test("a good Jitsi token joins with the token's name and moderator rights; a guest then joins", async () => {
    const ana = await newParticipant(suite.browser, 'typed name');
    await startJoin(ana, suite.server.baseUrl, 'TokenRoom', `?jwt=${await token({ room: 'tokenroom' })}`);
    await inMeeting(ana, 'Ana Token');
    await ana.page.getByRole('button', { name: 'Moderator tools', exact: true }).waitFor();
    const guest = await newParticipant(suite.browser, 'Guest');
    await startJoin(guest, suite.server.baseUrl, 'TokenRoom');
    await inMeeting(guest);
    assert.equal(await guest.page.getByRole('button', { name: 'Moderator tools' }).count(), 0);
    await ana.context.close();
    await guest.context.close();
  });
});
