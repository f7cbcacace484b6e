// POST /media/warm-up (src/signal/media-warm-up.ts): answered 204 and passed on to the bridges over the bus at most
// once a second however often it is asked; other methods and paths are not its own (they fall through to the web
// app). Over a real HTTP server, with the in-memory bus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { BridgeWarmUp } from '../../src/bus/bridge-warm-up.ts';
import { MediaWarmUp, WARM_UP_PATH } from '../../src/signal/media-warm-up.ts';

test('warm-ups are answered at once and reach the bus at most once a second', async () => {
  const bus = new MemoryBus();
  let heard = 0;
  bus.subscribe('bridge.warm', () => heard++);
  let clock = 0;
  const bridgeWarmUp = new BridgeWarmUp(bus, () => clock);
  const warmUp = new MediaWarmUp(bridgeWarmUp);
  const server = http.createServer((req, res) => {
    if (!warmUp.handle(req, res)) {
      res.writeHead(404);
      res.end('not ours');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (let i = 0; i < 5; i++) {
      const r = await fetch(base + WARM_UP_PATH, { method: 'POST' });
      assert.equal(r.status, 204);
      assert.equal(await r.text(), '');
    }
    assert.equal(bridgeWarmUp.published, 1, 'five asks within the second: one warm-up');
    clock += 1000;
    assert.equal((await fetch(base + WARM_UP_PATH + '?x=1', { method: 'POST', body: 'ignored' })).status, 204);
    assert.equal(bridgeWarmUp.published, 2, 'a second later: the next one');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(heard, 2, 'the bridges heard each one passed on');
    assert.equal((await fetch(base + WARM_UP_PATH)).status, 404, 'GET is not a warm-up (the web app answers it)');
    assert.equal((await fetch(base + '/media/warm-up-other', { method: 'POST' })).status, 404);
    assert.equal(bridgeWarmUp.published, 2);
    bridgeWarmUp.request();
    assert.equal(bridgeWarmUp.published, 2, 'another asker of the same instance (a recording starting) shares the cap');
  } finally {
    server.close();
  }
});
