// Media workers on demand (the default) and the room page (src/signal/media-warm-up.ts, src/web/media/warm-up.ts):
// a person who opens a room's join screen makes an idle bridge start its media workers then, not when they click
// Join, so the join does not wait for them; the join that follows gets its media. A page that skips the join screen
// (`config.prejoinPageEnabled=false`, as embeddings do) sends the warm-up before its socket opens. Real Chromium,
// the real server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { joinThroughUi, launchBrowser, newParticipant } from '../helpers/browser.ts';
import { cpuCgroup, cpuCgroupsAvailable } from '../helpers/cpu-cgroup.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer;
let browser: Browser;

before(async () => {
  server = await startServer({ TERTULIA_LOG_LEVEL: 'info', TERTULIA_MEDIA_WORKERS_ON_DEMAND: 'true' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('opening the join screen starts the idle media workers before Join; the join then connects', { timeout: 120_000 }, async () => {
  assert.doesNotMatch(server.output(), /media workers started/, 'an idle bridge runs no worker');
  const p = await newParticipant(browser, 'Early');
  await p.page.goto(`${server.baseUrl}/WarmRoom#config.resolution=180`);
  await p.page.getByRole('textbox', { name: 'Your name' }).waitFor();
  for (let i = 0; i < 600 && !/media workers started/.test(server.output()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(server.output(), /media workers started/, 'the join screen started them');
  await joinThroughUi(p, server.baseUrl, 'WarmRoom', { reload: false });
  const connected = await p.page.waitForFunction(() => (window as any).__tertulia?.pc?.connectionState === 'connected', null, { timeout: 60_000 });
  assert.ok(await connected.jsonValue());
  assert.equal((server.output().match(/media workers started/g) ?? []).length, 1, 'the join used the workers the warm-up started');
});

test('a room page that skips the join screen warms the workers up before its socket opens, and connects', { timeout: 120_000 }, async () => {
  const quiet = await startServer({ TERTULIA_LOG_LEVEL: 'info' }); // the default: workers on demand
  try {
    assert.doesNotMatch(quiet.output(), /media workers started/, 'by default an idle bridge runs no worker');
    const p = await newParticipant(browser, 'Direct');
    const seen: string[] = [];
    p.page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/media/warm-up') seen.push('warm-up');
    });
    p.page.on('websocket', () => seen.push('socket'));
    await p.page.goto(`${quiet.baseUrl}/SkipRoom#config.prejoinPageEnabled=false&userInfo.displayName=%22Direct%22&config.resolution=180`);
    const connected = await p.page.waitForFunction(() => (window as any).__tertulia?.pc?.connectionState === 'connected', null, { timeout: 60_000 });
    assert.ok(await connected.jsonValue());
    assert.equal(seen[0], 'warm-up', `the warm-up went out first (${seen.join(', ')})`);
    assert.ok(seen.includes('socket'));
    assert.equal((quiet.output().match(/media workers started/g) ?? []).length, 1, 'the warm-up and the join share one start');
    await p.context.close();
  } finally {
    await quiet.stop();
  }
});

test(
  'a join that waits seconds for the workers (the server held to 15 % of a core) still connects',
  { timeout: 180_000, skip: cpuCgroupsAvailable() ? false : 'no writable CPU cgroup (v1, root) here' },
  async () => {
    // a busy machine for this server alone: the workers take ~4-6 s to start, past the 5 s a bridge call used to get
    const group = cpuCgroup('tertulia-warm-up-test', 15);
    const slow = await startServer({ TERTULIA_LOG_LEVEL: 'info' }, { wrap: group.wrap });
    try {
      const p = await newParticipant(browser, 'Patient');
      await p.page.route('**/media/warm-up', (r) => r.abort()); // the join alone starts them
      await p.page.goto(`${slow.baseUrl}/SlowRoom#config.prejoinPageEnabled=false&userInfo.displayName=%22Patient%22&config.resolution=180`);
      const connected = await p.page.waitForFunction(() => (window as any).__tertulia?.pc?.connectionState === 'connected', null, { timeout: 90_000 });
      assert.ok(await connected.jsonValue());
      const line = slow.output().split('\n').find((l) => l.includes('media workers started')) ?? '';
      assert.match(line, /"ms":\d+/, 'the join started the workers');
      assert.doesNotMatch(slow.output(), /focus join failed/);
      await p.context.close();
    } finally {
      await slow.stop();
      group.remove();
    }
  },
);
