// What the SIP gateway refuses, and what it says of it: the real gateway (startSip) on a UDP/TCP port with signal
// (over real HTTPS + WebSocket, focus answered by the test, a webhook receiver) on one in-memory bus, and raw SIP
// from the test. An INVITE whose SDP offer the gateway cannot take (no m-line, video only, a bad port, only
// G.729, an IPv6 garbage address) gets 488 with the reason before the meeting hears of it: no participant joins
// or leaves, no bridge endpoint is asked for, no room starts, no webhook fires (a good offer, for contrast, does
// all of that). A room name that is not one (`a%2Fb`, `..`) gets 404. Every refusal is an info line with the
// status, the reason and the caller's address. Malformed input over UDP and TCP (binary, no headers, a 60 KB
// header, no Via, TCP garbage, Content-Length 50000000) is counted by reason in
// tertulia_sip_malformed_messages_total, and a flood of it makes one warn line, not one per message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { configSchema } from '../../src/config/config.ts';
import { buildRegistry } from '../../src/metrics/prometheus-metrics.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { startSip, type SipPart } from '../../src/sip/index.ts';
import { parsePrometheusText } from '../helpers/prometheus-text.ts';
import { answerPlainAttach, startTestSignal, type TestSignal } from '../helpers/signal-client.ts';
import { callOnce, sdpOffer } from '../helpers/sip-caller.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

const UNUSABLE: Record<string, string> = {
  'no m-line': sdpOffer([]),
  'video only': sdpOffer(['m=video 40000 RTP/AVP 96', 'a=rtpmap:96 VP8/90000']),
  'port 99999999': sdpOffer(['m=audio 99999999 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']),
  'only G.729': sdpOffer(['m=audio 40000 RTP/AVP 18', 'a=rtpmap:18 G729/8000']),
  'an IPv6 garbage address': sdpOffer(['m=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'], 'c=IN IP6 zz::zz::'),
};
const GOOD = sdpOffer(['m=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']);

describe('calls the SIP gateway refuses', () => {
  let s: TestSignal;
  let sip: SipPart;
  let receiver: WebhookReceiver;
  /** The sip part's log lines. */
  const lines: any[] = [];
  /** Bridge endpoints (plain-RTP transports) signal asked focus for. */
  let attaches = 0;

  before(async () => {
    receiver = await new WebhookReceiver().listen();
    s = await startTestSignal({ webhookUrls: [receiver.url], webhookSecret: 'sip-refusals-webhook-secret-0123456789' });
    answerPlainAttach(s, () => attaches++);
    // the rest of a phone's way into the conference, as focus answers it
    for (const subject of [subjects.focusStartPlain, subjects.focusDetachPlain]) s.bus.handle(subject, () => ({ ok: true }));
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    const config = configSchema.parse({ sipAddress: '127.0.0.1', sipPort: 0, sipTlsPort: 0, sipMediaAddress: '127.0.0.1' });
    sip = await startSip({ bus: s.bus, config, log: pino({ level: 'info', base: undefined }, sink), pinMenu: async () => null });
  });
  after(async () => {
    await sip?.close();
    await s?.stop();
    await receiver?.close();
  });

  const refusals = (status: number) => lines.filter((l) => l.msg === 'call refused' && l.status === status);

  test('a room name that is not one: 404, logged with the reason and the address', { timeout: 30_000 }, async () => {
    for (const uri of ['sip:a%2Fb@127.0.0.1', 'sip:..@127.0.0.1']) {
      const r = await callOnce(sip.port, { uri, sdp: GOOD });
      assert.equal(r.status, 404, uri);
      assert.match(r.reason, /no such meeting/);
    }
    const logged = refusals(404);
    assert.equal(logged.length, 2, JSON.stringify(lines));
    for (const l of logged) {
      assert.equal(l.level, 30, 'info');
      assert.equal(l.from, '127.0.0.1');
      assert.equal(l.transport, 'udp');
      assert.match(l.reason, /no such meeting/);
      assert.ok(typeof l.call === 'string' && l.call.length > 0, 'the Call-ID to find the call by');
    }
    assert.equal(attaches, 0);
  });

  test('an unusable offer: 488 with the reason, and the meeting never hears of the call', { timeout: 120_000 }, async () => {
    const mod = s.client();
    await mod.join('Sala', 'Mod');
    const rooms = s.server.resourceCounts()['signal.rooms'];
    for (const [what, sdp] of Object.entries(UNUSABLE)) {
      // a meeting under way, and a room nobody is in (the caller would have started it)
      for (const room of ['Sala', 'Vacia']) {
        const r = await callOnce(sip.port, { uri: `sip:${room}@127.0.0.1`, sdp });
        assert.equal(r.status, 488, `${what} to ${room}: ${r.status} ${r.reason}`);
        assert.match(r.reason, /^Not Acceptable Here \(.+\)$/);
        assert.ok(!r.provisional.includes(180), `${what}: no ringing before the 488`);
      }
    }
    assert.equal(attaches, 0, 'no bridge endpoint was asked for');
    assert.equal(s.server.resourceCounts()['signal.rooms'], rooms, 'no room was made');
    assert.equal(s.server.resourceCounts()['signal.phones'], 0);
    assert.ok(!mod.received.some((m) => m.type === 'participant-joined' || m.type === 'participant-left'), JSON.stringify(mod.received));
    assert.ok(!s.logs().includes('a phone caller joined'));
    const logged = refusals(488);
    assert.equal(logged.length, 2 * Object.keys(UNUSABLE).length);
    // and counted in /metrics by status
    const scrape = parsePrometheusText(await buildRegistry({ parts: ['sip'], bus: s.bus, sip, maxRecordings: 0 }).metrics());
    assert.equal(scrape.value('tertulia_sip_refused_calls_total', { gateway: sip.gatewayId, status: '488' }), 2 * Object.keys(UNUSABLE).length);
    assert.equal(scrape.value('tertulia_sip_refused_calls_total', { gateway: sip.gatewayId, status: '404' }), 2, 'the test before: two calls to no meeting');
    assert.ok(logged.some((l) => /the offer: the offer has no m-line/.test(l.reason) && l.room === 'Sala'), JSON.stringify(logged));
    assert.ok(logged.every((l) => l.from === '127.0.0.1' && l.level === 30));

    // for contrast, a good offer: the caller joins and leaves (it hangs up at once), and the webhooks say so
    const good = await callOnce(sip.port, { uri: 'sip:Sala@127.0.0.1', sdp: GOOD });
    assert.equal(good.status, 200, `${good.status} ${good.reason}: ${JSON.stringify(lines.slice(-3))}`);
    const joined = await mod.next((m) => m.type === 'participant-joined');
    assert.equal(joined.participant.displayName, 'Phone …9888');
    await mod.next((m) => m.type === 'participant-left' && m.id === joined.participant.id);
    assert.ok(attaches > 0, 'bridge endpoints for the call (its voice, the room it hears)');
    const events = () => receiver.accepted().map((h) => `${h.event.type} ${h.event.data.room}`);
    await receiver.waitFor('the caller to leave', () => events().filter((e) => e.startsWith('participant.left')).length === 1);
    assert.deepEqual(events(), ['room.started Sala', 'participant.joined Sala', 'participant.joined Sala', 'participant.left Sala']);
    mod.close();
  });

  test('malformed input over UDP and TCP: counted by reason in /metrics, one warn line for a flood from one address', { timeout: 60_000 }, async () => {
    const metric = async () => {
      const scrape = parsePrometheusText(await buildRegistry({ parts: ['sip'], bus: s.bus, sip, maxRecordings: 0 }).metrics());
      return (reason: string) => scrape.value('tertulia_sip_malformed_messages_total', { gateway: sip.gatewayId, reason });
    };
    const before = await metric();
    assert.deepEqual([before('unparsable'), before('oversized'), before('badVia')], [0, 0, 0]);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString('latin1').split('\r\n', 1)[0]!));
    const send = (b: Buffer | string) => new Promise<void>((r) => sock.send(typeof b === 'string' ? Buffer.from(b, 'latin1') : b, sip.port, '127.0.0.1', () => r()));
    const headers = (n: number, via = `Via: SIP/2.0/UDP 127.0.0.1:${sock.address().port};branch=z9hG4bKflood${n}`) =>
      [via, 'From: <sip:a@127.0.0.1>;tag=1', 'To: <sip:x@127.0.0.1>', `Call-ID: flood-${n}`, `CSeq: ${n + 1} OPTIONS`, 'Content-Length: 0'].join('\r\n');
    const unparsable = [
      Buffer.from([0x13, 0x37, 0xff, 0x00, 0x80, 0x81, 13, 10, 13, 10]), // binary
      'INVITE\r\n\r\n', // no headers
      `OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nX-Big: ${'a'.repeat(60_000)}\r\n\r\n`, // a 60 KB header
    ];
    const ROUNDS = 100;
    const taken = () => Object.values(sip.malformedMessages()).reduce((a, b) => a + b, 0);
    for (let n = 0; n < ROUNDS; n++) {
      for (const u of unparsable) await send(u);
      await send(`OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n${headers(n, 'Via: not a via')}\r\n\r\n`); // an unreadable Via
      // one round at a time: 60 KB datagrams sent faster than read would overflow the socket's receive buffer
      for (let i = 0; i < 200 && taken() < 4 * (n + 1); i++) await new Promise((r) => setTimeout(r, 5));
    }
    // TCP: garbage with no end of headers, a 50 MB Content-Length, an HTTP request
    const overTcp = async (data: Buffer | string) => {
      const c = net.connect(sip.port, '127.0.0.1');
      c.on('error', () => {});
      const closed = new Promise<void>((r) => c.on('close', () => r()));
      c.write(data);
      if (typeof data === 'string' && data.startsWith('GET')) setTimeout(() => c.end(), 300);
      await closed;
    };
    await overTcp(Buffer.alloc(70_000, 0x42));
    await overTcp(`INVITE sip:Sala@127.0.0.1 SIP/2.0\r\n${headers(1).replace('Content-Length: 0', 'Content-Length: 50000000')}\r\n\r\n`);
    await overTcp('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    // the gateway still answers
    await send(`OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n${headers(ROUNDS)}\r\nMax-Forwards: 70\r\n\r\n`);
    for (let i = 0; i < 100 && !replies.includes('SIP/2.0 200 OK'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(replies.includes('SIP/2.0 200 OK'), replies.join(' | '));
    sock.close();

    const after = await metric();
    assert.equal(after('unparsable'), unparsable.length * ROUNDS + 1, 'each UDP one and the HTTP request');
    assert.equal(after('oversized'), 2, 'the TCP garbage and the 50 MB Content-Length');
    assert.equal(after('badVia'), ROUNDS);
    const warned = lines.filter((l) => l.msg === 'malformed SIP message dropped');
    assert.equal(warned.length, 1, `one line for ${4 * ROUNDS + 3} malformed messages from one address within a minute: ${JSON.stringify(warned)}`);
    assert.equal(warned[0].level, 40, 'warn');
    assert.equal(warned[0].from, '127.0.0.1');
    assert.equal(warned[0].kind, 'unparsable');
    assert.match(warned[0].reason, /./);
    assert.ok(lines.length < 40, `the log stays small: ${lines.length} lines`);
  });
});
