// The WebSocket refuses pages of other sites: a browser always says which page opens the socket (Origin).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { sameOrigin } from '../../src/signal/ws.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';

let s: TestSignal;
before(async () => {
  s = await startTestSignal();
});
after(() => s.stop());

function open(origin: string | undefined): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${s.server.httpsPort}/ws`, { rejectUnauthorized: false, ...(origin ? { origin } : {}) });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', () => {});
  });
}

test('a page of this server, or a client without Origin, may open the socket', async () => {
  assert.equal(await open(`https://127.0.0.1:${s.server.httpsPort}`), 'open');
  assert.equal(await open(undefined), 'open');
});

test('a page of another site may not', async () => {
  assert.equal(await open('https://evil.example'), 403);
  assert.equal(await open(`https://127.0.0.1:${s.server.httpsPort + 1}`), 403);
  assert.equal(await open('null'), 403);
});

test('sameOrigin compares scheme-less host and port', () => {
  assert.equal(sameOrigin('https://Meet.Example.org', 'meet.example.org:443'), true);
  assert.equal(sameOrigin('https://meet.example.org:8443', 'meet.example.org:8443'), true);
  assert.equal(sameOrigin('https://meet.example.org', 'meet.example.org:8443'), false);
  assert.equal(sameOrigin('file://x', 'x'), false);
  assert.equal(sameOrigin('https://a', undefined), false);
});
