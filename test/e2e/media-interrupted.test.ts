// A participant whose audio and video stop while the page is still in the meeting (the network dropped, the
// bridge stopped answering) is told so on the meeting page, and the notice goes once the connection is back.
// The whole server is paused (SIGSTOP) for a while: the browser's connection to the bridge goes 'disconnected'.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, waitUntil } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

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
});
