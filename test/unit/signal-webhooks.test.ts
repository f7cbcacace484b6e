// Webhooks of recordings and live streams, from signal over real HTTPS + WebSocket with a fake recorder on the
// bus (as signal-recording.test.ts), to a real HTTP receiver: started once the recorder confirmed, finished when
// stopped, failed on the recorder, or the meeting emptied; a finished recording carries its files' download links,
// which work; a live stream's address and key are never in an event. And one receiver's queue on its own: full
// while the receiver is down, it drops the oldest events, logs the outage once and what was lost when it ends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { recorderSubjects } from '../../src/protocol/recorder-messages.ts';
import { WebhookDelivery } from '../../src/signal/webhooks/delivery.ts';
import { verifyWebhook } from '../../src/signal/webhooks/webhooks.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

const SECRET = 'unit-webhook-secret-0123456789';
const FILE = Buffer.from('not really a matroska file, but bytes to download');

describe('recording and live stream events', () => {
  let s: TestSignal;
  const receiver = new WebhookReceiver();
  const stopped = new Set<string>();

  before(async () => {
    await receiver.listen();
    s = await startTestSignal({ webhookUrls: [receiver.url], webhookSecret: SECRET });
    s.bus.handle(recorderSubjects.start('rec1'), () => ({ file: 'room.mkv' }));
    s.bus.handle(recorderSubjects.stop('rec1'), (p: any) => {
      stopped.add(p.recordingId);
      return { file: 'room.mkv' };
    });
    s.bus.handle(recorderSubjects.participants('rec1'), () => ({ ok: true }));
    s.bus.handle(recorderSubjects.list('rec1'), (p: any) => ({
      recordings: [...stopped].map((recordingId) => ({
        recordingId,
        recorderId: 'rec1',
        room: 'Hook-Rec',
        conferenceId: p.conferenceId ?? 'hook-rec',
        kind: 'composed',
        startedAt: new Date().toISOString(),
        running: false,
        files: [{ name: 'Hook-Rec-1.mkv', size: FILE.length }],
      })),
    }));
    s.bus.handle(recorderSubjects.read('rec1'), (p: any) => ({ data: FILE.subarray(p.offset, p.offset + p.length).toString('base64'), size: FILE.length }));
    s.bus.publish(recorderSubjects.announce, { recorderId: 'rec1', free: 4, max: 4, instance: 'i1' });
  });
  after(async () => {
    await s.stop();
    await receiver.close();
  });

  const events = (type: string) => receiver.accepted().map((h) => h.event).filter((e) => e.type === type);

  test('started, stopped, failed on the recorder, ended with the meeting; files with working links', async () => {
    const mod = s.client();
    await mod.join('Hook-Rec', 'Mod');
    const ana = s.client();
    await ana.join('Hook-Rec', 'Ana');

    await mod.send({ type: 'start-recording' });
    await receiver.waitFor('recording.started', () => events('recording.started').length === 1);
    const started = events('recording.started')[0];
    assert.deepEqual(Object.keys(started.data).sort(), ['by', 'recordingId', 'room']);
    assert.equal(started.data.by, 'Mod');
    assert.equal(started.data.room, 'Hook-Rec');

    const key = 'secret-stream-key-42';
    await mod.send({ type: 'start-live-stream', url: 'rtmp://127.0.0.1:1935/live2', key });
    await receiver.waitFor('live-stream.started', () => events('live-stream.started').length === 1);
    const live = events('live-stream.started')[0];
    assert.deepEqual(live.data, { room: 'Hook-Rec', streamId: live.data.streamId, by: 'Mod' });
    // the recorder gives up on the stream by itself
    s.bus.publish(recorderSubjects.ended, { recorderId: 'rec1', recordingId: live.data.streamId, conferenceId: 'hook-rec', reason: 'failed', message: 'rtmp refused' });
    await receiver.waitFor('live-stream.finished', () => events('live-stream.finished').length === 1);
    assert.deepEqual(events('live-stream.finished')[0].data, { room: 'Hook-Rec', streamId: live.data.streamId, reason: 'failed' });

    await mod.send({ type: 'stop-recording' });
    await receiver.waitFor('recording.finished', () => events('recording.finished').length === 1);
    const finished = events('recording.finished')[0];
    assert.equal(finished.data.recordingId, started.data.recordingId);
    assert.equal(finished.data.reason, 'stopped');
    assert.equal(finished.data.files.length, 1);
    const file = finished.data.files[0];
    assert.deepEqual([file.name, file.size], ['Hook-Rec-1.mkv', FILE.length]);
    assert.match(file.url, new RegExp(`^/recordings/${started.data.recordingId}/Hook-Rec-1\\.mkv\\?t=`));
    const download = await get(s.server.httpsPort, file.url);
    assert.equal(download.status, 200);
    assert.deepEqual(download.body, FILE);

    // recording again, and everyone leaves: it finishes with the meeting
    await mod.send({ type: 'start-recording' });
    await receiver.waitFor('the second recording.started', () => events('recording.started').length === 2);
    ana.close();
    mod.close();
    await receiver.waitFor('the second recording.finished', () => events('recording.finished').length === 2);
    assert.equal(events('recording.finished')[1].data.reason, 'meeting-ended');
    assert.equal(events('recording.finished')[1].data.recordingId, events('recording.started')[1].data.recordingId);
    await receiver.waitFor('room.finished', () => events('room.finished').length === 1);

    for (const h of receiver.accepted()) {
      assert.equal(verifyWebhook(SECRET, h.headers, h.body).ok, true);
      assert.ok(!h.body.includes(key) && !h.body.includes('rtmp'), 'no stream address or key in an event');
    }
    assert.equal(new Set(receiver.accepted().map((h) => h.event.id)).size, receiver.accepted().length, 'each event once');
    assert.ok(!s.logs().includes(SECRET));
  });
});

describe('one receiver’s queue', () => {
  test('full while the receiver is down: the oldest are dropped, the rest arrive in order, the outage logged once', async () => {
    let logText = '';
    const log = pino({ level: 'debug', base: undefined }, new Writable({ write: (c, _e, cb) => ((logText += c.toString()), cb()) }));
    const port = await freeTcpPort();
    const d = new WebhookDelivery(`http://127.0.0.1:${port}/h`, SECRET, log, { maxQueue: 3, attempts: 1000, firstDelayMs: 10, maxDelayMs: 50, timeoutMs: 10_000 });
    const body = (n: number) => JSON.stringify({ id: `evt_${n}`, type: 'room.started', data: { n } });
    // e1 is tried at once; e2..e4 wait; e5 and e6 push out e2 and e3
    for (let n = 1; n <= 6; n++) d.enqueue({ id: `evt_${n}`, type: 'room.started', body: body(n) });
    const receiver = new WebhookReceiver();
    try {
      await receiver.waitFor('a few failed attempts', () => (logText.match(/webhook attempt failed/g) ?? []).length >= 3);
      await receiver.listen(port);
      await receiver.waitFor('the queue to drain', () => receiver.accepted().length === 4 && d.pending === 0);
      assert.deepEqual(receiver.accepted().map((h) => h.event.id), ['evt_1', 'evt_4', 'evt_5', 'evt_6']);
      const lines = logText.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.filter((l) => l.msg === 'webhook receiver does not accept events; retrying with backoff').length, 1);
      assert.equal(lines.filter((l) => l.msg.startsWith('webhook queue full')).length, 1);
      const back = lines.filter((l) => l.msg === 'webhook receiver answers again');
      assert.deepEqual(back.map((l) => [l.lost, l.receiver]), [[2, `http://127.0.0.1:${port}`]]);
      assert.ok(!logText.includes(SECRET) && !logText.includes('/h"'));
    } finally {
      await d.close(0);
      await receiver.close();
    }
  });
});

function get(port: number, urlPath: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: urlPath, rejectUnauthorized: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}
