// A participant's network drops for 10 s and comes back (every packet both ways dropped in its network namespace,
// as when a laptop's Wi-Fi goes): the others see "Connection interrupted" on its tile after a few seconds, never see
// it leave (participantTimeout is 20 s by default: its connection to the server survives the gap), and get its
// camera again once the network is back; it is still in the meeting, on the same connection.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { netnsUnavailable, nftUnavailable } from '../helpers/netns.ts';
import { startShapedMeeting } from '../helpers/shaped-meeting.ts';
import { videoFrom } from '../helpers/video-stats.ts';

// (the network is cut with nftables rules in the namespaces)
const skip = netnsUnavailable() ?? nftUnavailable();

describe('a network gap shorter than the participant timeout', { skip: skip ?? false }, () => {
  test('the others see the connection interrupted, never a leave, and its camera again after', { timeout: 240_000 }, async (t) => {
    const m = await startShapedMeeting(3, `${process.pid % 10000}g`);
    try {
      const people: Participant[] = [];
      for (const [i, name] of ['Ana', 'Ben', 'Cy'].entries()) {
        const p = await newParticipant(m.browsers[i]!, name);
        await joinThroughUi(p, m.server.baseUrl, 'corte', { muteMic: true });
        people.push(p);
      }
      const [ana, , cy] = people as [Participant, Participant, Participant];
      const cyAtAna = async () => (await videoFrom(ana.page, 'Cy'))?.framesDecoded ?? 0;
      await waitUntil('Ana to decode Cy', cyAtAna, (n) => n > 20, 60_000);
      const tile = ana.page.getByRole('group', { name: 'Cy', exact: true });
      const notice = tile.getByRole('status').filter({ hasText: 'Connection interrupted' });
      const joinedAt = await cy.page.evaluate(() => (window as any).__tertulia?.selfId);

      // the gap: Cy's tile is sampled at Ana's every half second, from the cut until its camera is back
      const presence: boolean[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          presence.push((await tile.count()) === 1);
          await new Promise((r) => setTimeout(r, 500));
        }
      })();
      m.net.cut(2, true);
      const cutAt = Date.now();
      await notice.waitFor({ timeout: 15_000 });
      t.diagnostic(`"Connection interrupted" on Cy's tile ${((Date.now() - cutAt) / 1000).toFixed(1)} s after the cut`);
      await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - cutAt))));
      m.net.cut(2, false);
      const backAt = Date.now();
      await notice.waitFor({ state: 'detached', timeout: 30_000 });
      const framesBack = await cyAtAna();
      await waitUntil("Ana to decode Cy's camera again", cyAtAna, (n) => n > framesBack + 20, 60_000);
      t.diagnostic(`notice gone and Cy's camera back ${((Date.now() - backAt) / 1000).toFixed(1)} s after the network`);
      sampling = false;
      await sampler;
      assert.ok(presence.length > 10 && presence.every(Boolean), `Cy's tile stayed at Ana's throughout (${presence.filter((p) => !p).length} samples without it)`);
      // Cy is still in the meeting as the same participant
      assert.equal(await cy.page.evaluate(() => (window as any).__tertulia?.selfId), joinedAt);
      await cy.page.getByRole('group', { name: 'Ana', exact: true }).waitFor({ timeout: 5000 });
    } finally {
      await m.stop();
    }
  });
});
