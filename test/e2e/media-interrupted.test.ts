// A participant whose audio and video stop while the page is still in the meeting (the network dropped, the
// bridge stopped answering) is told so on the meeting page, and the notice goes once the connection is back.
// The whole server is paused (SIGSTOP) for a while: the browser's connection to the bridge goes 'disconnected'.
// And the others: a participant whose browser stops answering the server's pings shows "Connection interrupted" on
// its tile for everyone until it is heard again (a WebSocket client that leaves pings unanswered stands in for a
// browser whose network dropped).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, waitUntil } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { WsClient } from '../helpers/signal-client.ts';

describe('audio and video interrupted', () => {
  const suite = useServerAndBrowser();

  test('the page says the connection is interrupted while the bridge does not answer, and stops saying it when it does', { timeout: 120_000 }, async () => {
    const ana = await newParticipant(suite.browser, 'Ana');
    await joinThroughUi(ana, suite.server.baseUrl, 'Interrumpida');
    const connected = () => ana.page.evaluate(() => (window as any).__tertulia?.pc?.connectionState ?? 'none');
    await waitUntil('Ana connected to the bridge', connected, (s) => s === 'connected', 30_000);
    const notice = ana.page.getByRole('status').filter({ hasText: 'Connection interrupted' });
    assert.equal(await notice.count(), 0, 'no notice while connected');
    const pid = suite.server.process.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await notice.waitFor({ timeout: 30_000 });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await notice.waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await connected(), 'connected');
    await ana.context.close();
  });

  test("a participant whose browser stops answering shows 'Connection interrupted' on its tile until it is heard again", { timeout: 120_000 }, async () => {
    const ana = await newParticipant(suite.browser, 'Ana');
    await joinThroughUi(ana, suite.server.baseUrl, 'Cortada');
    const sal = new WsClient(suite.server.httpsPort, { autoPong: false });
    try {
      await sal.join('Cortada', 'Sal');
      const tile = ana.page.getByRole('group', { name: 'Sal', exact: true });
      await tile.waitFor({ timeout: 20_000 });
      // silent for 4 s (INTERRUPTED_AFTER_MS): interrupted for the others, long before it would leave (20 s)
      const notice = tile.getByRole('status').filter({ hasText: 'Connection interrupted' });
      await notice.waitFor({ timeout: 15_000 });
      // it speaks again: no longer interrupted, and still there
      await sal.send({ type: 'chat', text: 'back' });
      await notice.waitFor({ state: 'detached', timeout: 10_000 });
      assert.equal(await tile.count(), 1);
    } finally {
      sal.close();
    }
    await ana.context.close();
  });
});
