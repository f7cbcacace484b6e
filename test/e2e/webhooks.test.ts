// Webhooks from the real server: a meeting's events (room started, participants joined and left, room finished)
// reach every receiver once each, in order, signed (checked with the exported verifyWebhook and by recomputing
// the HMAC here); a wrong secret, a changed body or an old timestamp fail the check; a receiver answering 503 at
// first, and one not listening at first, get the events on retry, each logged once per outage; a receiver that
// never answers does not hold up joining; no secret reaches the log. Without adminApiToken, /api is a 404.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { verifyWebhook, WEBHOOK_HEADERS } from '../../src/signal/webhooks/webhooks.ts';
import { adminRequest } from '../helpers/admin-api.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { WsClient } from '../helpers/signal-client.ts';
import { WebhookReceiver, type ReceivedHook } from '../helpers/webhook-receiver.ts';

const SECRET = 'webhook-secret-for-the-test-0123';
const MEETING = ['room.started', 'participant.joined', 'participant.joined', 'participant.left', 'participant.left', 'room.finished'];

describe('webhooks', () => {
  let server: RunningServer;
  const good = new WebhookReceiver();
  const flaky = new WebhookReceiver((n) => (n <= 2 ? 503 : 200));
  const slow = new WebhookReceiver(() => 'hang');
  const late = new WebhookReceiver();
  let latePort = 0;
  let ids: { ana: string; ben: string };

  before(async () => {
    await Promise.all([good.listen(), flaky.listen(), slow.listen()]);
    latePort = await freeTcpPort();
    server = await startServer({
      TERTULIA_WEBHOOK_URLS: [good.url, flaky.url, slow.url, `http://127.0.0.1:${latePort}/late`].join(','),
      TERTULIA_WEBHOOK_SECRET: SECRET,
    });
  });
  after(async () => {
    await server?.stop();
    await Promise.all([good.close(), flaky.close(), slow.close(), late.close()]);
  });

  const meetingEvents = (hooks: ReceivedHook[]) => hooks.map((h) => h.event).filter((e) => e.data.room === 'Hooks-Room');

  test('a meeting: every event once, in order, while a receiver that never answers holds its first one', async () => {
    const ana = new WsClient(server.httpsPort);
    const anaJoined = await ana.join('Hooks-Room', 'Ana <i>');
    // the slow receiver holds its first request, unanswered, from here on
    await slow.waitFor('the slow receiver to get a request', () => slow.received.length >= 1);
    const ben = new WsClient(server.httpsPort);
    const benJoined = await ben.join('hooks-room', 'Ben');
    assert.equal(slow.received.length, 1, 'the slow receiver still holds its first event');
    ids = { ana: anaJoined.selfId, ben: benJoined.selfId };
    await good.waitFor('both joins', () => meetingEvents(good.accepted()).length >= 3);
    await ben.send({ type: 'leave' });
    await ana.next((m) => m.type === 'participant-left' && m.id === ids.ben);
    await ana.send({ type: 'leave' });
    await good.waitFor('the room to finish', () => meetingEvents(good.accepted()).some((e) => e.type === 'room.finished'));
    ana.close();
    ben.close();

    const events = meetingEvents(good.accepted());
    assert.deepEqual(events.map((e) => e.type), MEETING);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'each event once');
    assert.deepEqual(events[0].data, { room: 'Hooks-Room' });
    assert.deepEqual(events[1].data, { room: 'Hooks-Room', participantId: ids.ana, displayName: 'Ana <i>', moderator: true });
    assert.deepEqual(events[2].data, { room: 'Hooks-Room', participantId: ids.ben, displayName: 'Ben', moderator: false });
    assert.deepEqual(events[3].data, { room: 'Hooks-Room', participantId: ids.ben, displayName: 'Ben' });
    assert.deepEqual(events[4].data, { room: 'Hooks-Room', participantId: ids.ana, displayName: 'Ana <i>' });
    assert.equal(events[5].data.room, 'Hooks-Room');
    assert.ok(Date.parse(events[5].data.startedAt) <= Date.parse(events[5].at));
    for (const e of events) assert.match(e.id, /^evt_[0-9a-f]{24}$/);
    for (let i = 1; i < events.length; i++) assert.ok(Date.parse(events[i].at) >= Date.parse(events[i - 1].at));
  });

  test('each request is signed: verifyWebhook and the HMAC recomputed here agree; a wrong secret, a changed body or an old timestamp fail', () => {
    const hooks = good.accepted();
    assert.ok(hooks.length >= MEETING.length);
    for (const h of hooks) {
      assert.equal(h.headers['content-type'], 'application/json');
      assert.equal(h.headers[WEBHOOK_HEADERS.id], h.event.id);
      const ts = String(h.headers[WEBHOOK_HEADERS.timestamp]);
      const mac = createHmac('sha256', SECRET).update(`${ts}.${h.body}`).digest('hex');
      assert.equal(h.headers[WEBHOOK_HEADERS.signature], `v1=${mac}`);
      const check = verifyWebhook(SECRET, h.headers, h.body, 300);
      assert.deepEqual(check, { ok: true, id: h.event.id, timestamp: Number(ts) });
      assert.deepEqual(verifyWebhook('another-secret-entirely', h.headers, h.body, 300), { ok: false, reason: 'bad-signature' });
      assert.deepEqual(verifyWebhook(SECRET, h.headers, h.body.replace('Hooks-Room', 'Hooks-Roon'), 300), { ok: false, reason: 'bad-signature' });
      // replayed ten minutes later
      assert.deepEqual(verifyWebhook(SECRET, h.headers, h.body, 300, Date.now() + 600_000), { ok: false, reason: 'too-old' });
      const { [WEBHOOK_HEADERS.signature]: _, ...unsigned } = h.headers;
      assert.deepEqual(verifyWebhook(SECRET, unsigned, h.body, 300), { ok: false, reason: 'missing-headers' });
    }
  });

  test('a receiver answering 503 at first gets the same events on retry, in the same order, each accepted once', async () => {
    await flaky.waitFor('the meeting at the flaky receiver', () => meetingEvents(flaky.accepted()).length >= MEETING.length);
    const first = flaky.received.slice(0, 3);
    assert.deepEqual(first.map((h) => h.answered), [503, 503, 200]);
    assert.equal(new Set(first.map((h) => h.event.id)).size, 1, 'the first event tried three times');
    const events = meetingEvents(flaky.accepted());
    assert.deepEqual(events.map((e) => e.type), MEETING);
    assert.deepEqual(events.map((e) => e.id), meetingEvents(good.accepted()).map((e) => e.id));
    for (const h of flaky.accepted()) assert.equal(verifyWebhook(SECRET, h.headers, h.body, 300).ok, true);
  });

  test('a receiver that was not listening gets the events once it listens; each outage is logged once', async () => {
    assert.equal(late.received.length, 0);
    await late.listen(latePort);
    await late.waitFor('the meeting at the late receiver', () => meetingEvents(late.accepted()).length >= MEETING.length, 90_000);
    const events = meetingEvents(late.accepted());
    assert.deepEqual(events.map((e) => e.type), MEETING);
    assert.deepEqual(events.map((e) => e.id), meetingEvents(good.accepted()).map((e) => e.id));
    const warnings = (origin: string) => server.output().split('\n').filter((l) => l.includes('webhook receiver does not accept events') && l.includes(origin)).length;
    assert.equal(warnings(`http://127.0.0.1:${latePort}`), 1);
    assert.equal(warnings(`http://127.0.0.1:${flaky.port}`), 1);
    assert.equal(warnings(`http://127.0.0.1:${good.port}`), 0);
  });

  test('no secret or receiver path in the log; the server still runs', () => {
    assert.ok(server.alive());
    assert.ok(!server.output().includes(SECRET));
    assert.ok(!server.output().includes('receiver-token'));
  });

  test('without adminApiToken the admin API is closed: 404, with or without a token', async () => {
    for (const token of [null, SECRET]) {
      const r = await adminRequest(server.httpsPort, 'GET', '/api/v1/rooms', { token });
      assert.equal(r.status, 404);
      assert.equal(r.body.error, 'not-found');
    }
  });
});
