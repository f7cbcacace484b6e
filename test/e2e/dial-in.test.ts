// End to end: dial-in by PIN on a real server with dial-in numbers configured. Jitsi's /phoneNumberList and
// /conferenceMapper answer as jitsi-meet expects (a room's PIN is stable, found back by id, bad input refused,
// strangers limited), and the invite dialog shows the numbers and the room's PIN, in English and Spanish.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { joinThroughUi, newParticipant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { MAX_PIN_MISSES_PER_MINUTE } from '../../src/signal/dial-in-http.ts';

const NUMBERS = { US: ['+1 555 0100', '+1 555 0101'], ES: ['+34 910 000 000'] };
const NEW_PINS_PER_MINUTE = 6;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** A request to the server's self-signed HTTPS port. */
function request(port: number, path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, method, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) });
        } catch (e) {
          reject(new Error(`${path}: not JSON (${(e as Error).message}): ${text}`));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dial-in by PIN: the Jitsi APIs and the invite dialog', () => {
  const suite = useServerAndBrowser({
    TERTULIA_SIP_DIAL_IN_NUMBERS: JSON.stringify(NUMBERS),
    TERTULIA_MAX_ROOMS_PER_ADDRESS_PER_MINUTE: String(NEW_PINS_PER_MINUTE),
  });
  const get = (path: string, method?: string) => request(suite.server.httpsPort, path, method);
  let physicsPin = 0;

  test('/phoneNumberList answers the configured numbers, same origin only', async () => {
    const r = await get('/phoneNumberList');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { message: 'Phone numbers available.', numbers: NUMBERS, numbersEnabled: true });
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  test('/conferenceMapper gives a room a stable 9-digit PIN, and the room back by its id', async () => {
    const first = await get('/conferenceMapper?conference=Physics@conference.meet.example.org');
    assert.equal(first.status, 200);
    assert.equal(first.body.message, 'Successfully retrieved conference mapping');
    assert.equal(first.body.conference, 'physics@conference.meet.example.org');
    assert.equal(typeof first.body.id, 'number');
    assert.match(String(first.body.id), /^[1-9]\d{8}$/);
    physicsPin = first.body.id;
    const again = await get(`/conferenceMapper?conference=${encodeURIComponent('PHYSICS@conference.meet.example.org')}`);
    assert.equal(again.body.id, physicsPin);
    const byId = await get(`/conferenceMapper?id=${physicsPin}`);
    assert.deepEqual(byId.body, { message: 'Successfully retrieved conference mapping', id: physicsPin, conference: 'physics@conference.127.0.0.1' });
    const unknown = physicsPin === 111111111 ? 222222222 : 111111111;
    assert.deepEqual((await get(`/conferenceMapper?id=${unknown}`)).body, { message: 'No conference mapping was found', id: unknown, conference: false });
  });

  test('bad requests get a clear JSON refusal and break nothing', async () => {
    const cases: [string, number, RegExp][] = [
      ['/conferenceMapper', 400, /No conference or id provided/],
      ['/conferenceMapper?conference=bad%2Froom@conference.x', 400, /valid room name/], // spaces are fine, "/" is not
      ['/conferenceMapper?conference=ok@bad%20host', 400, /conference must be/],
      ['/conferenceMapper?conference=line%0Abreak@conference.x', 400, /valid room name/],
      ['/conferenceMapper?id=12ab', 400, /id must be a number/],
      [`/conferenceMapper?conference=${'a'.repeat(2000)}`, 414, /too long/],
    ];
    for (const [path, status, message] of cases) {
      const r = await get(path);
      assert.equal(r.status, status, path);
      assert.match(r.body.message, message, path);
    }
    const post = await get('/phoneNumberList', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.ok(suite.server.alive());
    assert.equal((await get('/phoneNumberList')).status, 200);
  });

  test('the invite dialog shows the dial-in numbers and the room\'s PIN, in English and Spanish', async () => {
    const ana = await newParticipant(suite.browser, 'Ana');
    await joinThroughUi(ana, suite.server.baseUrl, 'Llamada');
    await ana.page.getByRole('toolbar').getByRole('button', { name: 'Invite people' }).click();
    const dialog = ana.page.getByRole('dialog', { name: 'Invite people' });
    const phone = dialog.getByRole('region', { name: 'Join by phone' });
    await phone.waitFor({ timeout: 15_000 });
    // the same PIN the API gives for this room
    const pin = String((await get('/conferenceMapper?conference=llamada@conference.127.0.0.1')).body.id);
    const grouped = `${pin.slice(0, 3)} ${pin.slice(3, 6)} ${pin.slice(6)}`;
    await phone.getByText(`Dial in: +1 555 0100, PIN ${grouped}#`, { exact: true }).waitFor();
    const list = phone.getByRole('definition');
    assert.deepEqual(await list.allTextContents(), ['+1 555 0100', '+1 555 0101', '+34 910 000 000']);
    assert.deepEqual(await phone.getByRole('term').allTextContents(), ['US', 'ES']);

    const bea = await newParticipant(suite.browser, 'Bea', 'es-ES');
    await bea.page.goto(`${suite.server.baseUrl}/Llamada?lang=es#config.prejoinPageEnabled=false&userInfo.displayName=%22Bea%22`);
    await bea.page.getByRole('toolbar').getByRole('button', { name: 'Invitar a otras personas' }).click();
    const dialogo = bea.page.getByRole('dialog', { name: 'Invitar a otras personas' });
    await dialogo.getByRole('region', { name: 'Entrar por teléfono' }).getByText(`Llama al +1 555 0100, PIN ${grouped}#`, { exact: true }).waitFor({ timeout: 15_000 });
    await ana.context.close();
    await bea.context.close();
  });

  test('strangers are limited: new PINs per minute, and ids that find nothing', async () => {
    // rooms given a PIN so far from this address: Physics and Llamada
    for (let i = 2; i < NEW_PINS_PER_MINUTE; i++) assert.equal((await get(`/conferenceMapper?conference=room-${i}@conference.x`)).status, 200);
    const refused = await get('/conferenceMapper?conference=one-too-many@conference.x');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) > 0);
    // a room that has its PIN is still answered
    assert.equal((await get('/conferenceMapper?conference=physics@conference.x')).body.id, physicsPin);

    let status = 200;
    let misses = 0;
    while (status === 200 && misses < 100) {
      const r = await get(`/conferenceMapper?id=${100000000 + misses}`);
      status = r.status;
      if (status === 200) {
        assert.equal(r.body.conference, false);
        misses++;
      }
    }
    assert.equal(status, 429);
    assert.equal(misses, MAX_PIN_MISSES_PER_MINUTE - 1); // one unknown id was asked above
  });
});
