// SIGHUP on a running server (every part in one process): the configuration file read again; access (the mode,
// guests, the JWT secret), the log level and lastN change live, who is in a meeting stays in, a setting that
// needs a restart is named as such; a bad file changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/signal-client.ts';
import { waitUntil } from '../helpers/browser.ts';

const SECRET = 'a-reloaded-shared-secret-of-32-chars';

async function token(secret = SECRET): Promise<string> {
  const claims = { iss: 'my-app', aud: 'jitsi', sub: 'meet.example.org', room: '*', exp: Math.floor(Date.now() / 1000) + 3600, context: { user: { name: 'Token Tess' } } };
  return await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

describe('settings reloaded on SIGHUP', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-reload-'));
  const file = path.join(dir, 'tertulia.json');
  const write = (settings: Record<string, unknown>) => writeFileSync(file, JSON.stringify(settings));
  let server: RunningServer;
  const clients: WsClient[] = [];
  const client = () => {
    const c = new WsClient(server.httpsPort);
    clients.push(c);
    return c;
  };
  /** Sends SIGHUP and waits for the server's answer line (the n-th of its kind). */
  const hup = async (kind: RegExp, n: number) => {
    server.process.kill('SIGHUP');
    return await waitUntil(`the reload answer ${kind}`, async () => server.output().split('\n').filter((l) => kind.test(l)), (lines) => lines.length >= n, 20_000);
  };

  before(async () => {
    write({ authMode: 'open', logLevel: 'info' });
    server = await startServer({ TERTULIA_CONFIG: file, TERTULIA_LOG_LEVEL: '' });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('open -> token mode, debug logs, lastN: applied; maxRooms needs a restart; Ana stays in', async () => {
    const ana = client();
    await ana.join('Reloaded', 'Ana');
    assert.ok(!server.output().includes('"level":20'), 'info level: no debug lines yet');

    write({ authMode: 'token', allowGuests: false, jwtAppId: 'my-app', jwtSecret: SECRET, logLevel: 'debug', lastN: 4, maxRooms: 7 });
    const [line] = await hup(/"msg":"settings reloaded; some need a restart"/, 1);
    const said = JSON.parse(line!);
    assert.deepEqual([...said.applied].sort(), ['allowGuests', 'authMode', 'jwtAppId', 'jwtSecret', 'lastN', 'logLevel']);
    assert.deepEqual(said.needRestart, ['maxRooms']);
    assert.ok(!line!.includes(SECRET), 'the secret is not in the log');

    // a guest is refused now, a token holder gets in, Ana was never dropped
    const guest = await client().tryJoin('Reloaded', 'Guest');
    assert.equal(guest.code, 'token-required');
    const tess = await client().tryJoin('Reloaded', 'Tess', { jwt: await token() });
    assert.equal(tess.type, 'joined', JSON.stringify(tess));
    assert.ok(tess.participants.some((p: { displayName: string }) => p.displayName === 'Ana'), 'Ana is still in the meeting');
    assert.ok(server.output().includes('"level":20'), 'debug lines now');
  });

  test('a bad file (token mode without a secret) or broken JSON: not reloaded, nothing changes', async () => {
    write({ authMode: 'token', allowGuests: false, jwtAppId: 'my-app', logLevel: 'debug' });
    await hup(/"msg":"settings not reloaded \(nothing changed\)"/, 1);
    writeFileSync(file, '{ not json');
    const lines = await hup(/"msg":"settings not reloaded \(nothing changed\)"/, 2);
    assert.match(lines[0]!, /needs jwtSecret/);
    // the secret in effect is still the reloaded one
    const tess = await client().tryJoin('Reloaded', 'Tess again', { jwt: await token() });
    assert.equal(tess.type, 'joined', JSON.stringify(tess));
    assert.equal((await client().tryJoin('Reloaded', 'Guest')).code, 'token-required');

    // and back to open: guests are in again
    write({ authMode: 'open', logLevel: 'info', lastN: 4, maxRooms: 7 });
    await hup(/"msg":"settings reloaded/, 2);
    assert.equal((await client().tryJoin('Reloaded', 'Guest')).type, 'joined');
  });
});
