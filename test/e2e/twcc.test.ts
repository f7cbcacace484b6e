// Transport-wide congestion control towards the bridge: browsers send transport-wide sequence numbers, the
// bridge answers with transport-cc feedback, and Chrome's send-side estimate (availableOutgoingBitrate of the
// selected candidate pair) ramps up from its 300 kbit/s start, past 1 Mbit/s. The bridge sends such a sender
// no REMB; without the feedback (checked by turning it off once) the estimate stays near the start rate.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, remoteStats, selectedPair, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';

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

  test("each sender's bandwidth estimate rises above 1 Mbit/s", async () => {
    for (const p of people) {
      const bps = await waitUntil(`${p.name}'s availableOutgoingBitrate above 1 Mbit/s`, async () => (await selectedPair(p.page))?.availableOutgoingBitrate ?? 0, (v) => v > 1_000_000, 60_000);
      assert.ok(bps > 1_000_000, `${p.name}: ${bps}`);
    }
  });
});
