// The admin HTTP API of the real server, over HTTPS, with participants joined over the WebSocket: rooms and
// participants listed, a participant muted (audio, then video: they are told and everyone sees it), one removed
// (told "removed"), the meeting ended for everyone; a missing or wrong token is a 401 and changes nothing, and
// too many of them from one address are refused for a while even with the right token; bad input is a 400 with
// the reason; the token never reaches the log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminRequest, type AdminReply } from '../helpers/admin-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/signal-client.ts';

const TOKEN = 'admin-api-token-for-the-test-4567';

describe('the admin API', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ TERTULIA_ADMIN_API_TOKEN: TOKEN });
  });
  after(() => server?.stop());

  /** One request with the right token unless `token` says otherwise (null: no Authorization header). */
  const api = (method: string, path: string, opts: { token?: string | null; body?: unknown; contentType?: string; localAddress?: string } = {}) =>
    adminRequest(server.httpsPort, method, path, { ...opts, token: opts.token === undefined ? TOKEN : opts.token });

  async function meeting(room: string): Promise<{ mod: WsClient; ana: WsClient; ben: WsClient; ids: Record<'mod' | 'ana' | 'ben', string> }> {
    const mod = new WsClient(server.httpsPort);
    const ana = new WsClient(server.httpsPort);
    const ben = new WsClient(server.httpsPort);
    const m = await mod.join(room, 'Mod');
    const a = await ana.join(room, 'Ana');
    const b = await ben.join(room, 'Ben');
    return { mod, ana, ben, ids: { mod: m.selfId, ana: a.selfId, ben: b.selfId } };
  }

  test('lists rooms and a room’s participants', async () => {
    const { mod, ana, ben, ids } = await meeting('Admin-List');
    const other = new WsClient(server.httpsPort);
    await other.join('Admin-Other', 'Solo');
    const list = await api('GET', '/api/v1/rooms');
    assert.equal(list.status, 200);
    assert.equal(list.headers['content-type'], 'application/json; charset=utf-8');
    const byName = Object.fromEntries(list.body.rooms.map((r: any) => [r.name, r]));
    assert.equal(byName['Admin-List'].participants, 3);
    assert.equal(byName['Admin-Other'].participants, 1);
    assert.ok(Date.parse(byName['Admin-List'].startedAt) <= Date.now());

    await ben.send({ type: 'mute', kind: 'video', muted: true });
    await ana.next((m) => m.type === 'participant-updated' && m.participant.id === ids.ben);
    // names are case-insensitive, as in meeting links
    const room = await api('GET', '/api/v1/rooms/admin-list');
    assert.equal(room.status, 200);
    assert.equal(room.body.name, 'Admin-List');
    const people = room.body.participants.map(({ joinedAt, ...p }: any) => {
      assert.ok(Date.parse(joinedAt) >= Date.parse(room.body.startedAt));
      return p;
    });
    assert.deepEqual(people, [
      { id: ids.mod, displayName: 'Mod', moderator: true, audioMuted: false, videoMuted: false },
      { id: ids.ana, displayName: 'Ana', moderator: false, audioMuted: false, videoMuted: false },
      { id: ids.ben, displayName: 'Ben', moderator: false, audioMuted: false, videoMuted: true },
    ]);
    assert.equal((await api('GET', '/api/v1/rooms/No-Such-Room')).status, 404);
    for (const c of [mod, ana, ben, other]) c.close();
  });

  test('mutes a participant’s microphone, then camera: they are told, everyone sees it', async () => {
    const { mod, ana, ben, ids } = await meeting('Admin-Mute');
    const audio = await api('POST', `/api/v1/rooms/Admin-Mute/participants/${ids.ana}/mute`, { body: { kind: 'audio' } });
    assert.equal(audio.status, 200);
    assert.equal(audio.body.audioMuted, true);
    assert.deepEqual(await ana.nextOfType('force-muted'), { type: 'force-muted', by: 'Admin' });
    const seen = await ben.next((m) => m.type === 'participant-updated' && m.participant.id === ids.ana);
    assert.equal(seen.participant.audioMuted, true);

    const video = await api('POST', `/api/v1/rooms/Admin-Mute/participants/${ids.ana}/mute`, { body: { kind: 'video' } });
    assert.equal(video.status, 200);
    assert.deepEqual([video.body.audioMuted, video.body.videoMuted], [true, true]);
    assert.deepEqual(await ana.nextOfType('force-muted'), { type: 'force-muted', by: 'Admin', kind: 'video' });
    const seenVideo = await mod.next((m) => m.type === 'participant-updated' && m.participant.id === ids.ana && m.participant.videoMuted);
    assert.equal(seenVideo.participant.audioMuted, true);
    for (const c of [mod, ana, ben]) c.close();
  });

  test('removes a participant: they are told, the others see them leave', async () => {
    const { mod, ana, ben, ids } = await meeting('Admin-Remove');
    const r = await api('DELETE', `/api/v1/rooms/Admin-Remove/participants/${ids.ben}`);
    assert.deepEqual([r.status, r.body], [200, { removed: ids.ben }]);
    assert.deepEqual(await ben.nextOfType('removed'), { type: 'removed', by: 'Admin' });
    assert.deepEqual(await ana.nextOfType('participant-left'), { type: 'participant-left', id: ids.ben });
    const room = await api('GET', '/api/v1/rooms/Admin-Remove');
    assert.deepEqual(room.body.participants.map((p: any) => p.id), [ids.mod, ids.ana]);
    assert.equal((await api('DELETE', `/api/v1/rooms/Admin-Remove/participants/${ids.ben}`)).status, 404);
    for (const c of [mod, ana, ben]) c.close();
  });

  test('ends the meeting for everyone', async () => {
    const { mod, ana, ben } = await meeting('Admin-End');
    const r = await api('DELETE', '/api/v1/rooms/Admin-End');
    assert.deepEqual([r.status, r.body], [200, { ended: 'Admin-End', participants: 3 }]);
    for (const c of [mod, ana, ben]) assert.deepEqual(await c.nextOfType('meeting-ended'), { type: 'meeting-ended', by: 'Admin' });
    assert.equal((await api('GET', '/api/v1/rooms/Admin-End')).status, 404);
    assert.ok(!(await api('GET', '/api/v1/rooms')).body.rooms.some((x: any) => x.name === 'Admin-End'));
    for (const c of [mod, ana, ben]) c.close();
  });

  test('bad input: a 400 with the reason, and nothing done', async () => {
    const { mod, ana, ben, ids } = await meeting('Admin-Bad');
    const mute = `/api/v1/rooms/Admin-Bad/participants/${ids.ana}/mute`;
    const cases: [Promise<AdminReply>, number, RegExp][] = [
      [api('POST', mute, { body: { kind: 'screen' } }), 400, /body kind: /],
      [api('POST', mute, { body: { kind: 'audio', extra: 1 } }), 400, /body: /],
      [api('POST', mute, { body: '{"kind": ' }), 400, /not JSON/],
      [api('POST', mute, { body: 'kind=audio', contentType: 'application/x-www-form-urlencoded' }), 415, /application\/json/],
      [api('POST', mute, { body: { kind: 'audio', pad: 'x'.repeat(20_000) } }), 413, /at most 16384 bytes/],
      [api('POST', '/api/v1/rooms/bad%23room/participants/x/mute', { body: { kind: 'audio' } }), 400, /room name: /],
      [api('POST', '/api/v1/rooms/Admin-Bad/participants/no%20such/mute', { body: { kind: 'audio' } }), 400, /participant id: /],
      [api('GET', mute), 405, /use POST/],
      [api('PUT', '/api/v1/rooms'), 405, /use GET/],
      [api('GET', '/api/v2/rooms'), 404, /no such path/],
      [api('GET', '/api/v1/rooms/%E0%A4%A'), 400, /bad request path/],
      [api('GET', '/api/v1/rooms/a/../b'), 400, /bad request path/],
    ];
    for (const [reply, status, message] of cases) {
      const r = await reply;
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match(r.body.message, message);
      assert.equal(typeof r.body.error, 'string');
    }
    // nobody was muted or told anything
    assert.ok(await ana.nothingLike((m) => m.type === 'force-muted' || (m.type === 'participant-updated' && m.participant.audioMuted)));
    const room = await api('GET', '/api/v1/rooms/Admin-Bad');
    assert.ok(room.body.participants.every((p: any) => !p.audioMuted));
    for (const c of [mod, ana, ben]) c.close();
  });

  test('a missing or wrong token: 401, nothing done; too many from one address: 429 there even with the right token', async () => {
    const { mod, ana, ben, ids } = await meeting('Admin-Auth');
    const attempts: [string, string, string | null][] = [
      ['GET', '/api/v1/rooms', null],
      ['DELETE', '/api/v1/rooms/Admin-Auth', 'wrong-token-of-some-length'],
      ['DELETE', `/api/v1/rooms/Admin-Auth/participants/${ids.ana}`, TOKEN.slice(0, -1)],
      ['POST', `/api/v1/rooms/Admin-Auth/participants/${ids.ana}/mute`, `${TOKEN}x`],
    ];
    for (const [method, path, token] of attempts) {
      const r = await api(method, path, { token, body: method === 'POST' ? { kind: 'audio' } : undefined, localAddress: '127.0.0.3' });
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'unauthorized');
      assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    }
    for (const c of [mod, ana, ben]) assert.ok(await c.nothingLike((m) => ['meeting-ended', 'removed', 'force-muted', 'participant-left'].includes(m.type)));
    assert.equal((await api('GET', '/api/v1/rooms/Admin-Auth')).body.participants.length, 3);

    // ten failures a minute per address: the eleventh attempt waits, right token or not; other addresses do not
    for (let i = attempts.length; i < 10; i++) assert.equal((await api('GET', '/api/v1/rooms', { token: 'nope', localAddress: '127.0.0.3' })).status, 401);
    const limited = await api('GET', '/api/v1/rooms', { localAddress: '127.0.0.3' });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await api('GET', '/api/v1/rooms')).status, 200);

    assert.ok(!server.output().includes(TOKEN));
    assert.ok(server.alive());
    for (const c of [mod, ana, ben]) c.close();
  });
});
