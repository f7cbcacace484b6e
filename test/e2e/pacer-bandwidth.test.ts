// The pacer and temporal-layer thinning on shaped links (tc in network namespaces, as simulcast-bandwidth.test.ts):
//  - a receiver of a 720p camera limited to 300 kbit/s: the loss it sees before the bridge switches it down and in
//    the 10 s after (on the lower layer), with the pacer (default) and without (`pacer: false`), printed side by
//    side (figures, not thresholds: a loaded machine moves them);
//  - a receiver limited to a rate between the top layer's full rate and the next layer's: it keeps the top layer's
//    resolution at a reduced frame rate (about a half or a quarter of what an unlimited receiver decodes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { netnsUnavailable } from '../helpers/netns.ts';
import { startShapedMeeting, type ShapedMeeting } from '../helpers/shaped-meeting.ts';
import { outboundLayers, videoFrom, type InboundVideo } from '../helpers/video-stats.ts';

const skip = netnsUnavailable();

/** A receiver in a large window with Sol pinned on the stage: the top layer fits its tile. */
async function receiver(browser: Browser, baseUrl: string, room: string, name: string): Promise<Participant> {
  const p = await newParticipant(browser, name);
  await p.page.setViewportSize({ width: 1600, height: 1000 });
  await joinThroughUi(p, baseUrl, room, { stopCamera: true, muteMic: true });
  await p.page.getByRole('button', { name: 'Speaker view' }).click();
  await p.page.getByRole('group', { name: 'Sol', exact: true }).getByRole('button', { name: 'Pin' }).click();
  return p;
}

async function sender(browser: Browser, baseUrl: string, room: string): Promise<Participant> {
  const p = await newParticipant(browser, 'Sol');
  await joinThroughUi(p, baseUrl, room, { hash: '#config.resolution=720', muteMic: true });
  return p;
}

describe('loss before the switch down at 300 kbit/s, with and without the pacer', { skip: skip ?? false }, () => {
  const figures: string[] = [];
  for (const pacer of [true, false]) {
    test(`pacer ${pacer ? 'on' : 'off'}: the receiver switches down; its loss until then is printed`, async (t) => {
      const s = await startShapedMeeting(2, `${process.pid % 10000}${pacer ? 'p' : 'n'}`, { TERTULIA_PACER: String(pacer) });
      const { net } = s;
      try {
        await sender(s.browsers[0]!, s.server.baseUrl, 'pausado');
        const narrow = await receiver(s.browsers[1]!, s.server.baseUrl, 'pausado', 'Estrecho');
        await waitUntil('Estrecho to get the 1280-wide layer', () => videoFrom(narrow.page, 'Sol'), (v) => v?.width === 1280, 90_000);
        // a few seconds at the top layer, so the keyframes of the switch up are behind
        await new Promise((r) => setTimeout(r, 4000));
        const start = (await videoFrom(narrow.page, 'Sol'))!;
        const t0 = Date.now();
        net.limit(1, 300);
        const low = (await waitUntil('Estrecho to get a lower layer', () => videoFrom(narrow.page, 'Sol'), (v) => (v?.width ?? 0) > 0 && v!.width < 1280, 60_000))!;
        const lost = low.packetsLost - start.packetsLost;
        const received = low.packetsReceived - start.packetsReceived;
        assert.ok(received > 0, 'packets arrived until the switch');
        const switchS = (Date.now() - t0) / 1000;
        // then 10 s on the lower layer (its keyframes are the bursts there)
        await new Promise((r) => setTimeout(r, 10_000));
        const end = (await videoFrom(narrow.page, 'Sol'))!;
        const lostAfter = end.packetsLost - low.packetsLost;
        const receivedAfter = end.packetsReceived - low.packetsReceived;
        const pct = (l: number, r: number) => ((100 * l) / Math.max(1, l + r)).toFixed(1);
        const line =
          `pacer ${pacer ? 'on ' : 'off'}: switched down to ${low.width} after ${switchS.toFixed(1)} s; lost before the switch ${lost} of ${lost + received} packets (${pct(lost, received)} %); ` +
          `in the 10 s after it ${lostAfter} of ${lostAfter + receivedAfter} (${pct(lostAfter, receivedAfter)} %, ending at ${end.width} wide)`;
        figures.push(line);
        t.diagnostic(line);
        assert.ok(end.framesDecoded > low.framesDecoded + 30, 'it keeps decoding at the lower layer');
      } finally {
        await s.stop();
      }
    });
  }
  after(() => {
    if (figures.length > 0) console.log(`\n# loss before the switch down at 300 kbit/s\n${figures.map((f) => `#   ${f}`).join('\n')}`);
  });
});

describe('a receiver between two layers gets the larger one at a reduced frame rate', { skip: skip ?? false }, () => {
  let s: ShapedMeeting | undefined;
  let sol: Participant;
  let wide: Participant;
  let narrow: Participant;

  before(async () => {
    s = await startShapedMeeting(2, `${process.pid % 10000}t`);
  });
  after(() => s?.stop());

  test('limited below the top layer, it keeps 1280 wide at about a half or a quarter of the frame rate', async (t) => {
    sol = await sender(s!.browsers[0]!, s!.server.baseUrl, 'fotogramas');
    wide = await receiver(s!.browsers[0]!, s!.server.baseUrl, 'fotogramas', 'Ancho');
    narrow = await receiver(s!.browsers[1]!, s!.server.baseUrl, 'fotogramas', 'Estrecho');
    for (const p of [wide, narrow]) {
      await waitUntil(`${p.name} to get the 1280-wide layer`, () => videoFrom(p.page, 'Sol'), (v) => v?.width === 1280, 90_000);
    }
    // the top layer's rate as the sender sends it, over 4 s
    const top = async () => Object.values(await outboundLayers(sol.page)).sort((a, b) => b.width - a.width)[0]!;
    const a = await top();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 4000));
    const b = await top();
    const topKbps = ((b.bytes - a.bytes) * 8) / (Date.now() - t0);
    // between the top layer's TL0+TL1 (about 60 % of it with Chrome's L1T3) and its full rate
    const limitKbps = Math.round(topKbps * 0.8);
    t.diagnostic(`top layer ${topKbps.toFixed(0)} kbit/s; Estrecho limited to ${limitKbps} kbit/s`);
    s!.net.limit(1, limitKbps);
    // Chrome's framesPerSecond is a one-second average, and a loaded machine moves the estimate: the first reading
    // at the larger resolution and a half or a quarter of the frame rate (TL0+TL1, TL0) shows the choice
    const ratioOf = (n: InboundVideo | undefined, w: InboundVideo | undefined) =>
      n !== undefined && w !== undefined && w.framesPerSecond > 0 ? n.framesPerSecond / w.framesPerSecond : -1;
    const thinned = await waitUntil(
      'Estrecho to get the 1280 layer at a half or a quarter of the frame rate',
      async () => ({ n: await videoFrom(narrow.page, 'Sol'), w: await videoFrom(wide.page, 'Sol') }),
      ({ n, w }) => n?.width === 1280 && w?.width === 1280 && ratioOf(n, w) >= 0.15 && ratioOf(n, w) <= 0.65,
      90_000,
    );
    t.diagnostic(`Estrecho ${thinned.n!.width} wide at ${thinned.n!.framesPerSecond} fps; Ancho ${thinned.w!.width} wide at ${thinned.w!.framesPerSecond} fps`);
    assert.equal(thinned.n!.width, 1280, 'the larger resolution');
    // what follows, for the record (the estimate on a loaded machine may move it)
    const samples: string[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const n = await videoFrom(narrow.page, 'Sol');
      const w = await videoFrom(wide.page, 'Sol');
      samples.push(`${n?.width ?? 0}@${ratioOf(n, w).toFixed(2)}`);
    }
    t.diagnostic(`Estrecho over the next 5 s: ${samples.join(' ')} (width@frame-rate ratio to Ancho)`);
    s!.net.unlimit(1);
  });
});
