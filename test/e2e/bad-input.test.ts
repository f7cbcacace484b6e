// Bad input during a live meeting: malformed WebSocket messages and garbage UDP datagrams are refused or
// dropped, the server never crashes, and the meeting in progress keeps flowing.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import type { RunningServer } from '../helpers/server.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

function openWs(server: RunningServer): Promise<{ ws: WebSocket; messages: any[]; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.httpsPort}/ws`, { rejectUnauthorized: false });
    const messages: any[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d) => {
      try {
        messages.push(JSON.parse(d.toString()));
      } catch {
        messages.push({ unparsable: d.toString() });
      }
    });
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('error', reject);
  });
}

async function nextMessage(messages: any[], count: number, timeoutMs = 5000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  while (messages.length < count) {
    if (Date.now() > deadline) throw new Error(`no reply (have ${messages.length} messages)`);
    await sleep(20);
  }
  return messages[count - 1];
}

function stunHeader(type: number, length: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(length, 2);
  b.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(b, 8);
  return b;
}

describe('bad input during a live meeting', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;
  let ben: Participant;

  before(async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Robust');
    await joinThroughUi(ben, suite.server.baseUrl, 'Robust');
    await waitUntil('media to flow', () => remoteStats(ben.page), (s) => (s.Ana?.framesDecoded ?? 0) > 5, 45_000);
  });

  test('malformed WebSocket messages get an error reply and leave the connection usable', async () => {
    const { ws, messages } = await openWs(suite.server);
    const bad: (string | Buffer)[] = [
      'not json at all',
      '{"type":',
      '[]',
      '42',
      'null',
      '{"type":"no-such-type"}',
      '{"type":"join","room":123,"displayName":"x","audioMuted":false,"videoMuted":false}',
      '{"type":"join","room":"ok","displayName":"","audioMuted":false,"videoMuted":false}',
      '{"type":"join","room":"../../etc","displayName":"x","audioMuted":false,"videoMuted":false}',
      '{"type":"answer","sdp":"v=0","version":0}',
      '{"type":"mute","kind":"smell","muted":true}',
      '['.repeat(5000) + ']'.repeat(5000),
      '{"__proto__":{"polluted":true},"type":"leave"}',
    ];
    let n = 0;
    for (const m of bad) {
      ws.send(m);
      const reply = await nextMessage(messages, ++n);
      assert.equal(reply.type, 'error', `error reply for ${String(m).slice(0, 40)}`);
      assert.equal(typeof reply.message, 'string');
    }
    ws.send(Buffer.from([1, 2, 3, 255]), { binary: true });
    const reply = await nextMessage(messages, ++n);
    assert.equal(reply.type, 'error');
    // The same connection can still join properly afterwards.
    ws.send(JSON.stringify({ type: 'join', room: 'Robust-Other', displayName: '<b>Mallory</b>', audioMuted: true, videoMuted: true }));
    const joined = await nextMessage(messages, ++n);
    assert.equal(joined.type, 'joined');
    ws.close();
  });

  test('an oversized WebSocket message closes that connection cleanly', async () => {
    const { ws, closed } = await openWs(suite.server);
    ws.send('x'.repeat(2 * 1024 * 1024));
    const code = await closed;
    assert.equal(code, 1009);
  });

  test('garbage datagrams to the media port are dropped', async () => {
    const sock = dgram.createSocket('udp4');
    const send = (b: Buffer) => new Promise<void>((r) => sock.send(b, suite.server.mediaPort, '127.0.0.1', () => r()));
    const rtp = (len: number) => {
      const b = randomBytes(len);
      b[0] = 0x80 | (b[0]! & 0x3f);
      return b;
    };
    for (let i = 0; i < 300; i++) {
      await send(randomBytes(1 + (i % 1400))); // random bytes
      await send(stunHeader(0x0001, 4000)); // STUN length beyond the datagram
      const s = Buffer.concat([stunHeader(0x0001, 8), Buffer.from([0x00, 0x06, 0x00, 0xff, 1, 2, 3, 4])]); // attribute overruns
      await send(s);
      const u = Buffer.concat([stunHeader(0x0001, 12), Buffer.from([0x00, 0x06, 0x00, 0x08]), Buffer.from('abcd:efg')]);
      await send(u); // username for no endpoint, no integrity
      await send(rtp(1 + (i % 11))); // truncated RTP
      await send(rtp(12 + (i % 1200))); // RTP from an unknown address
      const rtcp = rtp(4 + (i % 8));
      rtcp[1] = 200 + (i % 7); // truncated RTCP
      await send(rtcp);
      const dtls = randomBytes(13 + (i % 200));
      dtls[0] = 20 + (i % 4); // DTLS garbage
      await send(dtls);
    }
    sock.close();
    await sleep(1000);
    assert.ok(suite.server.alive(), 'server still running');
  });

  test('the meeting keeps flowing after all that', async () => {
    const res = await fetch(`http://127.0.0.1:${suite.server.httpPort}/healthz`, { redirect: 'manual' });
    assert.equal(res.status, 301);
    const before = await remoteStats(ben.page);
    const beforeAna = await remoteStats(ana.page);
    await waitUntil(
      'video and audio to keep flowing both ways',
      async () => [await remoteStats(ben.page), await remoteStats(ana.page)] as const,
      ([b, a]) =>
        b.Ana!.framesDecoded > before.Ana!.framesDecoded + 20 &&
        b.Ana!.audioPackets > before.Ana!.audioPackets + 50 &&
        a.Ben!.framesDecoded > beforeAna.Ben!.framesDecoded + 20,
      20_000,
    );
    assert.ok(suite.server.alive());
  });
});
