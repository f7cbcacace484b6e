// End to end: Firefox through the bridge. Three people (two headless Chromiums and Debian's Firefox), so no
// peer-to-peer: every stream goes through the bridge, whose native routes (nativeForward, on by default) forward
// the everyday packet of each camera, Firefox's simulcast included, in C. Each browser decodes the others, and
// goes on decoding while the bridge's native_forwarded_total grows (read on /metrics).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page as FirefoxPage } from 'puppeteer-core';
import { joinThroughUi, newParticipant, waitUntil } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { joinInFirefox, launchFirefox } from '../helpers/firefox.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { scrapeLocalMetrics } from '../helpers/prometheus-text.ts';
import { videoFrom } from '../helpers/video-stats.ts';

const metricsPort = await freeTcpPort();

/** The bridge's received RTP packets its native module forwarded, from /metrics (summed over bridges). */
async function nativeForwarded(): Promise<number> {
  return (await scrapeLocalMetrics(metricsPort))
    .series('tertulia_bridge_native_forwarded_total')
    .reduce((sum, s) => sum + s.value, 0);
}

/** Zoe's Firefox: video frames decoded (every remote camera) and what her camera sends, by simulcast layer. */
async function firefoxVideo(page: FirefoxPage): Promise<{ framesDecoded: number; cameras: number; layers: Record<string, { width: number; bytes: number }> }> {
  return await page.evaluate(async () => {
    const pc = (window as any).__tertulia?.pc as RTCPeerConnection | null;
    let framesDecoded = 0;
    let cameras = 0;
    const layers: Record<string, { width: number; bytes: number }> = {};
    if (pc) {
      (await pc.getStats()).forEach((s: any) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && (s.framesDecoded ?? 0) > 0) {
          framesDecoded += s.framesDecoded;
          cameras++;
        }
        if (s.type === 'outbound-rtp' && s.kind === 'video') layers[s.rid ?? '-'] = { width: s.frameWidth ?? 0, bytes: s.bytesSent ?? 0 };
      });
    }
    return { framesDecoded, cameras, layers };
  });
}

describe('Firefox through the bridge (three people: no peer-to-peer), forwarded natively', () => {
  const suite = useServerAndBrowser({ TERTULIA_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
  let firefox: Browser | undefined;

  test('two Chromiums and a Firefox each decode the others, and keep decoding while the routes forward', { timeout: 180_000 }, async (t) => {
    firefox = await launchFirefox();
    try {
      const ana = await newParticipant(suite.browser, 'Ana');
      const ben = await newParticipant(suite.browser, 'Ben');
      await joinThroughUi(ana, suite.server.baseUrl, 'Vulpes');
      await joinThroughUi(ben, suite.server.baseUrl, 'Vulpes');
      const zoe = await joinInFirefox(firefox, suite.server.baseUrl, 'Vulpes', 'Zoe', 720);
      const z = await waitUntil('Zoe to decode Ana and Ben', () => firefoxVideo(zoe), (v) => v.cameras === 2 && v.framesDecoded > 60, 60_000);
      t.diagnostic(`Zoe's camera layers (rid: width, bytes): ${JSON.stringify(z.layers)}`);
      for (const p of [ana, ben]) {
        await waitUntil(`${p.name} to decode Zoe`, () => videoFrom(p.page, 'Zoe'), (v) => (v?.framesDecoded ?? 0) > 20, 60_000);
      }
      // and on, with the routes forwarding (their count grows while everyone's pictures move)
      const forwarded = await nativeForwarded();
      const before = { zoe: z.framesDecoded, ana: (await videoFrom(ana.page, 'Zoe'))!.framesDecoded, ben: (await videoFrom(ben.page, 'Ana'))!.framesDecoded };
      await waitUntil('Zoe to keep decoding', () => firefoxVideo(zoe), (v) => v.framesDecoded > before.zoe + 60, 30_000);
      await waitUntil('Ana to keep decoding Zoe', () => videoFrom(ana.page, 'Zoe'), (v) => (v?.framesDecoded ?? 0) > before.ana + 30, 30_000);
      await waitUntil('Ben to keep decoding Ana', () => videoFrom(ben.page, 'Ana'), (v) => (v?.framesDecoded ?? 0) > before.ben + 30, 30_000);
      const now = await nativeForwarded();
      assert.ok(now > forwarded + 100, `the native routes forwarded meanwhile: ${forwarded} -> ${now}`);
      t.diagnostic(`Zoe's camera layers at the end: ${JSON.stringify((await firefoxVideo(zoe)).layers)}`);
      await zoe.close();
      await ana.context.close();
      await ben.context.close();
    } finally {
      await firefox.close();
    }
  });
});
