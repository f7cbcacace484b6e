// End to end, peer-to-peer for two (src/signal/p2p.ts, src/web/media/p2p-switch.ts): two headless Chromium in a
// room move their media to a direct connection (the bridge gets none of it), a reload comes back to it, and a
// third participant moves everyone back to the bridge. The longest freeze the first two see across that switch
// is measured from the frames their tiles present, and reported (never asserted: the machine is shared).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { bridgeBytesSent, longestFrameGap, p2pMedia, pageNow, untilBackOnBridge, untilDirect, watchTileFrames } from '../helpers/p2p-stats.ts';

const ROOM = 'Dos en directo';

describe('peer-to-peer for two', () => {
  const suite = useServerAndBrowser({ TERTULIA_P2P: 'true' });
  const people: Participant[] = [];

  test('two participants go direct: the direct connection carries their media, the bridge none', async () => {
    // Beto's browser speaks Spanish
    for (const [name, lang] of [['Ana', 'en'], ['Beto', 'es']] as const) {
      const p = await newParticipant(suite.browser, name, lang === 'es' ? 'es-ES' : 'en-US');
      people.push(p);
      await joinThroughUi(p, suite.server.baseUrl, ROOM, { lang });
    }
    const [ana, beto] = people as [Participant, Participant];
    for (const p of people) await untilDirect(p);
    await ana.page.getByRole('status', { name: 'Direct connection' }).waitFor({ timeout: 10_000 });
    await beto.page.getByRole('status', { name: 'Conexión directa' }).waitFor({ timeout: 10_000 });
    for (const [p, other] of [[ana, beto], [beto, ana]] as const) {
      const media = await waitUntil(`${p.name} to decode ${other.name} over P2P`, () => p2pMedia(p.page), (m) => m.framesDecoded > 10 && m.audioPackets > 20, 30_000);
      // the selected pair is browser to browser: a host candidate of the other browser, not the bridge
      assert.equal(media.localCandidateType, 'host');
      assert.ok(media.pairBytesReceived > 0, `${p.name}'s selected P2P pair carries bytes`);
    }
    // the bridge gets nothing from either once both show the direct media (packets in flight drain first)
    await sleep(1500);
    const before = await Promise.all(people.map((p) => bridgeBytesSent(p.page)));
    const p2pBefore = await Promise.all(people.map((p) => p2pMedia(p.page)));
    const bridgeBefore = await remoteStats(ana.page);
    await sleep(3000);
    const after = await Promise.all(people.map((p) => bridgeBytesSent(p.page)));
    const p2pAfter = await Promise.all(people.map((p) => p2pMedia(p.page)));
    const bridgeAfter = await remoteStats(ana.page);
    for (const i of [0, 1]) {
      assert.equal(after[i]!.video, before[i]!.video, `${people[i]!.name} sends no video to the bridge`);
      assert.equal(after[i]!.audio, before[i]!.audio, `${people[i]!.name} sends no audio to the bridge`);
      assert.ok(p2pAfter[i]!.framesDecoded > p2pBefore[i]!.framesDecoded, `${people[i]!.name} keeps decoding over P2P`);
    }
    assert.equal(bridgeAfter.Beto?.framesDecoded ?? 0, bridgeBefore.Beto?.framesDecoded ?? 0, "Ana's bridge connection decodes nothing from Beto");
  });

  test('a reload comes back to the direct connection', async () => {
    const [ana, beto] = people as [Participant, Participant];
    await joinThroughUi(beto, suite.server.baseUrl, ROOM, { reload: true, lang: 'es' });
    for (const p of people) await untilDirect(p);
    for (const [p, other] of [[ana, beto], [beto, ana]] as const) {
      const start = (await p2pMedia(p.page)).framesDecoded;
      await waitUntil(`${p.name} to decode ${other.name} over P2P after the reload`, () => p2pMedia(p.page), (m) => m.framesDecoded > start + 10, 30_000);
    }
  });

  test('a third participant moves everyone to the bridge, and the first two keep decoding across the switch', async (t) => {
    const [ana, beto] = people as [Participant, Participant];
    await watchTileFrames(ana.page, 'Beto');
    await watchTileFrames(beto.page, 'Ana');
    await sleep(1500); // frames of the direct connection first
    const fromAna = await pageNow(ana.page);
    const fromBeto = await pageNow(beto.page);
    const carla = await newParticipant(suite.browser, 'Carla', 'es-ES');
    people.push(carla);
    // back on the bridge: the first two decode each other and Carla through it, their direct connections closed
    await untilBackOnBridge([ana, beto], carla, () => joinThroughUi(carla, suite.server.baseUrl, ROOM, { lang: 'es' }));
    await waitUntil('Carla to decode Ana and Beto', () => remoteStats(carla.page), (s) => ['Ana', 'Beto'].every((n) => (s[n]?.framesDecoded ?? 0) > 10 && (s[n]?.audioPackets ?? 0) > 20), 45_000);
    assert.equal(await ana.page.getByRole('status', { name: 'Direct connection' }).count(), 0);
    assert.equal(await beto.page.getByRole('status', { name: 'Conexión directa' }).count(), 0);
    await sleep(1000);
    const gapAna = await longestFrameGap(ana.page, 'Beto', fromAna);
    const gapBeto = await longestFrameGap(beto.page, 'Ana', fromBeto);
    // video kept being presented across the switch (a count, not a time)
    assert.ok(gapAna.frames > 20, `Ana's tile of Beto presented ${gapAna.frames} frames`);
    assert.ok(gapBeto.frames > 20, `Beto's tile of Ana presented ${gapBeto.frames} frames`);
    const report = `longest freeze across the switch to the bridge: Ana saw Beto ${gapAna.gapMs} ms (${gapAna.frames} frames), Beto saw Ana ${gapBeto.gapMs} ms (${gapBeto.frames} frames)`;
    t.diagnostic(report);
    console.log(`[p2p] ${report}`);
  });

  test('when the third leaves, the two go direct again, and keep decoding across that switch', async (t) => {
    const [ana, beto] = people as [Participant, Participant];
    const carla = people.pop()!;
    const fromAna = await pageNow(ana.page);
    const fromBeto = await pageNow(beto.page);
    await carla.context.close();
    for (const p of people) await untilDirect(p);
    await sleep(2000);
    const gapAna = await longestFrameGap(ana.page, 'Beto', fromAna);
    const gapBeto = await longestFrameGap(beto.page, 'Ana', fromBeto);
    assert.ok(gapAna.frames > 5 && gapBeto.frames > 5, `frames presented: ${gapAna.frames}, ${gapBeto.frames}`);
    const report = `longest freeze across the switch to direct: Ana saw Beto ${gapAna.gapMs} ms (${gapAna.frames} frames), Beto saw Ana ${gapBeto.gapMs} ms (${gapBeto.frames} frames)`;
    t.diagnostic(report);
    console.log(`[p2p] ${report}`);
    for (const p of people) await p.context.close();
  });
});
