// Transport-wide congestion control towards the bridge: browsers send transport-wide sequence numbers, the
// bridge answers with transport-cc feedback, and Chrome's send-side estimate (availableOutgoingBitrate of the
// selected candidate pair) rises from where focus's offer starts it (x-google-start-bitrate: CAMERA_START_KBPS),
// past it by a tenth. The bridge sends such a sender no REMB; without the feedback (checked by turning it off once)
// the estimate never passes the start (it fell to 72 kbit/s).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, remoteStats, selectedPair, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { CAMERA_START_KBPS } from '../../src/protocol/media-profile.ts';

describe('transport-cc feedback to senders', () => {
  const suite = useServerAndBrowser();
  const people: Participant[] = [];

  test('two participants exchange media', async () => {
    for (const name of ['Uma', 'Vera']) {
      const p = await newParticipant(suite.browser, name);
      people.push(p);
      await joinThroughUi(p, suite.server.baseUrl, 'estimate', { hash: '#config.resolution=720' });
    }
    for (const p of people) {
      const other = people.find((o) => o !== p)!.name;
      await waitUntil(`${p.name} to decode ${other}`, () => remoteStats(p.page), (s) => (s[other]?.framesDecoded ?? 0) > 5, 45_000);
    }
  });

  test("each sender's bandwidth estimate rises above its start", async () => {
    const above = CAMERA_START_KBPS * 1000 * 1.1;
    for (const p of people) {
      const bps = await waitUntil(`${p.name}'s availableOutgoingBitrate above ${above} bit/s`, async () => (await selectedPair(p.page))?.availableOutgoingBitrate ?? 0, (v) => v > above, 60_000);
      assert.ok(bps > above, `${p.name}: ${bps}`);
    }
  });
});
