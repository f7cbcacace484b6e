// A camera held back by an uplink estimate under its layers' caps gets Chrome to probe again (the web app's
// send-probe.ts): the page re-applies the last offer with a higher b=AS on its camera's m-line. The client is in its own
// network namespace with its uplink limited by tc (a token bucket on its side of the link) from the start: the
// page asks, the probes find no more room and the estimate stays under the limit (a slow link is not misjudged);
// the limit lifted, the page asks again at its next moment and the estimate then covers the layers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { joinThroughUi, newParticipant, selectedPair, waitUntil, type Participant } from '../helpers/browser.ts';
import { netnsUnavailable } from '../helpers/netns.ts';
import { startShapedMeeting, type ShapedMeeting } from '../helpers/shaped-meeting.ts';

const skip = netnsUnavailable();
/** The client's uplink while limited, kbit/s: far under the 720p camera's three layers (1.85 Mbit/s together). */
const LIMIT_KBIT = 600;

/**
 * The page's estimate of its uplink (bit/s), whether its camera is held back by bandwidth, the probes it applied,
 * and the b=AS its connection now has on the camera's m-line (0: none) with its signalling state.
 */
async function uplink(page: Page): Promise<{ estimate: number; limited: boolean; probes: number; cameraAs: number; signaling: string }> {
  const estimate = (await selectedPair(page))?.availableOutgoingBitrate ?? 0;
  return await page.evaluate(async (e) => {
    const w = window as any;
    const pc: RTCPeerConnection | undefined = w.__tertulia?.pc;
    let limited = false;
    if (pc) (await pc.getStats()).forEach((s: any) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && s.qualityLimitationReason === 'bandwidth') limited = true;
    });
    const camera = (pc?.remoteDescription?.sdp ?? '').split(/(?=^m=)/m).find((m) => /^a=mid:1\r?$/m.test(m)) ?? '';
    return {
      estimate: e,
      limited,
      probes: typeof w.__tertulia?.sendProbes === 'function' ? w.__tertulia.sendProbes() : 0,
      cameraAs: Number(/^b=AS:(\d+)/m.exec(camera)?.[1] ?? 0),
      signaling: pc?.signalingState ?? 'none',
    };
  }, estimate);
}

describe('a camera held back by a low uplink estimate', { skip: skip ?? false }, () => {
  let m: ShapedMeeting | undefined;
  let sol: Participant;

  before(async () => {
    m = await startShapedMeeting(1);
  });
  after(() => m?.stop());

  test('on a slow uplink the page asks for a probe, and the estimate stays under the link', async () => {
    m!.net.limit(0, LIMIT_KBIT, 'up');
    sol = await newParticipant(m!.browsers[0]!, 'Sol');
    await joinThroughUi(sol, m!.server.baseUrl, 'subida', { hash: '#config.resolution=720', muteMic: true });
    await waitUntil('Sol’s camera held back by its uplink', () => uplink(sol.page), (u) => u.limited && u.estimate > 0, 45_000);
    const asked = await waitUntil('the page to ask for a probe', () => uplink(sol.page), (u) => u.probes >= 1, 30_000);
    // applied: the connection has the offer again with the probe's b=AS on the camera's m-line, and is stable
    assert.ok(asked.cameraAs >= 10_000 && asked.signaling === 'stable', JSON.stringify(asked));
    // the probe went out and found the limit: the estimate is no higher than the link (with the token bucket's slack)
    await new Promise((r) => setTimeout(r, 2000));
    const now = await uplink(sol.page);
    assert.ok(now.estimate < LIMIT_KBIT * 1000 * 1.5, `estimate ${now.estimate} bit/s on a ${LIMIT_KBIT} kbit/s uplink (at the probe: ${asked.estimate})`);
    assert.ok(now.limited, 'still held back by bandwidth');
  });

  test('the limit lifted, the page asks again and the estimate then covers the camera’s layers', async (t) => {
    const limited = await uplink(sol.page);
    m!.net.unlimit(0, 'up');
    const again = await waitUntil('the page to ask again', () => uplink(sol.page), (u) => u.probes > limited.probes, 60_000);
    assert.ok(again.cameraAs > limited.cameraAs, `each probe's b=AS above the one before: ${limited.cameraAs} -> ${again.cameraAs}`);
    // a probe's measure (twice the layers' caps, ~3.7 Mbit/s), not Chrome's own growth of ~8 % a second from ~0.6
    const covered = await waitUntil('the estimate to pass the three layers', () => uplink(sol.page), (u) => u.estimate >= 3_000_000, 30_000);
    t.diagnostic(`estimate ${limited.estimate} -> ${again.estimate} at probe ${again.probes} -> ${covered.estimate} bit/s`);
    // once it covers them the page asks no more (probes are at least 4 s apart: 6 s would see the next one)
    await new Promise((r) => setTimeout(r, 6000));
    const later = await uplink(sol.page);
    assert.equal(later.probes, covered.probes, 'no probe asked once the layers are covered');
  });
});
