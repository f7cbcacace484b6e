// SIGHUP on a running server (every part in one process): the configuration file read again; access (the mode,
// guests, the JWT secret), the log level and lastN change live, who is in a meeting stays in, a setting that
// needs a restart is named as such; a bad file changes nothing; a new TURN secret reaches coturn and the browsers.
// Phone callers (a raw SIP INVITE to the gateway) follow the reloaded access mode both ways, as browsers do.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/signal-client.ts';
import { waitUntil } from '../helpers/browser.ts';
import { callOnce, sdpOffer } from '../helpers/sip-caller.ts';
import { findTurnserver } from '../../src/turn/turn-service.ts';

const SECRET = 'a-reloaded-shared-secret-of-32-chars';
const OFFER = sdpOffer(['m=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']);

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

  /** A phone's INVITE to `room` at the server's SIP gateway: its final status and reason. */
  const phone = (room: string) => callOnce(server.sipPort!, { uri: `sip:${room}@127.0.0.1`, sdp: OFFER });

  test('open -> token mode, debug logs, lastN: applied; maxRooms needs a restart; Ana stays in', async () => {
    assert.ok(server.sipPort, 'the SIP gateway runs');
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
    // a phone caller too: no guests now (not even into Ana's meeting), and no meeting started by phone
    for (const room of ['NotStarted3', 'Reloaded']) {
      const call = await phone(room);
      assert.deepEqual([call.status, call.reason], [403, 'this server admits only signed-in hosts and invited guests'], room);
    }
    assert.match(server.output(), /"status":403,"reason":"the meeting could not be joined: this server admits only signed-in hosts/);
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
    assert.equal((await phone('NotStarted3')).status, 403);

    // and back to open: guests are in again, and a phone caller may start a meeting
    write({ authMode: 'open', logLevel: 'info', lastN: 4, maxRooms: 7 });
    await hup(/"msg":"settings reloaded/, 2);
    assert.equal((await client().tryJoin('Reloaded', 'Guest')).type, 'joined');
    const call = await phone('NotStarted3');
    assert.equal(call.status, 200, `${call.status} ${call.reason}`);
    // a reload that quiets the log still says that it happened
    write({ authMode: 'open', logLevel: 'warn', lastN: 4, maxRooms: 7 });
    const [quiet] = await hup(/"msg":"settings reloaded/, 3).then((lines) => lines.slice(2));
    assert.match(quiet!, /"applied":\["logLevel"\]/);
  });
});

describe('the TURN secret reloaded on SIGHUP', { skip: findTurnserver() ? false : 'coturn (turnserver) is not installed' }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-reload-turn-'));
  const file = path.join(dir, 'tertulia.json');
  const first = 'the-first-turn-secret-0123456789';
  const second = 'the-second-turn-secret-987654321';
  const write = (turnSecret: string) =>
    // turnPort 0: coturn on a free loopback port only (3478 is one port for the whole machine)
    writeFileSync(file, JSON.stringify({ turn: 'on', turnPort: 0, turnRelayPortMin: 46000, turnRelayPortMax: 46099, turnSecret, logLevel: 'info' }));
  let server: RunningServer;
  const clients: WsClient[] = [];
  const iceServer = async (name: string) => {
    const c = new WsClient(server.httpsPort);
    clients.push(c);
    const joined = await c.join('Turn-Reload', name);
    return joined.iceServers[0] as { urls: string[]; username: string; credential: string };
  };
  const hmac = (secret: string, username: string) => createHmac('sha1', secret).update(username).digest('base64');

  before(async () => {
    write(first);
    server = await startServer({ TERTULIA_CONFIG: file, TERTULIA_TURN: '', TERTULIA_LOG_LEVEL: '' });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('browsers get credentials of the new secret, coturn restarts with it, neither secret is logged', async () => {
    const before = await iceServer('Ana');
    assert.deepEqual(before.urls, [`turns:127.0.0.1:${server.httpsPort}?transport=tcp`]);
    assert.equal(before.credential, hmac(first, before.username));
    await waitUntil('coturn up', async () => server.output().split('\n').filter((l) => l.includes('TURN server (coturn) running')).length, (n) => n >= 1, 20_000);

    write(second);
    server.process.kill('SIGHUP');
    const [line] = await waitUntil('the reload answer', async () => server.output().split('\n').filter((l) => l.includes('"msg":"settings reloaded"')), (l) => l.length >= 1, 20_000);
    assert.deepEqual(JSON.parse(line!).applied, ['turnSecret']);
    await waitUntil('coturn up again', async () => server.output().split('\n').filter((l) => l.includes('TURN server (coturn) running')).length, (n) => n >= 2, 20_000);
    const after = await iceServer('Bea');
    assert.equal(after.credential, hmac(second, after.username));
    assert.ok(!server.output().includes(first) && !server.output().includes(second), 'no TURN secret in the log');
  });
});
