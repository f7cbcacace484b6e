// Simulcast end to end: a camera at 720p is sent as three rid layers (320, 640, 1280 wide); the bridge learns
// the layers' SSRCs from the rid extension and forwards each receiver one continuous stream out of the layer
// its bandwidth estimate and tile size justify. A receiver with a large tile ends on the top layer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

/** The sender's simulcast layers: rid -> frame width and bytes sent. */
async function outboundLayers(page: Page): Promise<Record<string, { width: number; bytes: number; limit: string }>> {
  return await page.evaluate(async () => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    const out: Record<string, { width: number; bytes: number; limit: string }> = {};
    if (!pc) return out;
    (await pc.getStats()).forEach((s: any) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid) out[s.rid] = { width: s.frameWidth ?? 0, bytes: s.bytesSent ?? 0, limit: s.qualityLimitationReason };
    });
    return out;
  });
}

/** The received video: frame width, frames decoded, freezes, of every remote video inbound-rtp with frames. */
async function inboundVideo(page: Page): Promise<{ width: number; frames: number; freezes: number; bps: number }[]> {
  return await page.evaluate(async () => {
    const pc: RTCPeerConnection | undefined = (window as any).__tertulia?.pc;
    const out: { width: number; frames: number; freezes: number; bps: number }[] = [];
    if (!pc) return out;
    let bps = 0;
    (await pc.getStats()).forEach((s: any) => {
      if (s.type === 'candidate-pair' && s.nominated) bps = s.availableIncomingBitrate ?? 0;
    });
    (await pc.getStats()).forEach((s: any) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video' && (s.framesDecoded ?? 0) > 0) {
        out.push({ width: s.frameWidth ?? 0, frames: s.framesDecoded, freezes: s.freezeCount ?? 0, bps });
      }
    });
    return out;
  });
}

describe('simulcast', () => {
  const suite = useServerAndBrowser({ TERTULIA_LOG_LEVEL: 'debug', TERTULIA_TRACE_LAYERS: '1' });
  let sender: Participant;
  let receiver: Participant;

  test('a 720p camera is sent as three layers', async () => {
    sender = await newParticipant(suite.browser, 'Sol');
    await joinThroughUi(sender, suite.server.baseUrl, 'layers', { hash: '#config.resolution=720' });
    receiver = await newParticipant(suite.browser, 'Rafa');
    await joinThroughUi(receiver, suite.server.baseUrl, 'layers', { stopCamera: true, muteMic: true });
    const layers = await waitUntil(
      'three layers with media',
      () => outboundLayers(sender.page),
      (l) => ['q', 'h', 'f'].every((r) => (l[r]?.bytes ?? 0) > 10_000),
      45_000,
    );
    console.log(JSON.stringify(layers));
  });

  test('the receiver gets the top layer', async () => {
    const v = await waitUntil('the 1280-wide layer', () => inboundVideo(receiver.page), (v) => v.some((x) => x.width >= 1280), 60_000);
    console.log(JSON.stringify(v), JSON.stringify(await outboundLayers(sender.page)));
    assert.ok(v.length === 1);
  });
  test('log', () => {
    console.log(suite.server.output().split('\n').filter((l) => /layer target|ALLOC/.test(l)).join('\n'));
  });
});
