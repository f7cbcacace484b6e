// Last-N (lastN=1): each participant receives the video of only the most recent speaker. Ana and Ben have a
// speech-like fake microphone (a tone 0.7 s of every second); Caro only watches. While Ben talks Caro decodes
// Ben's video and none of Ana's; when Ben stops and Ana talks, it is the other way round. Run with the bridge
// on one thread and with two media workers (the speaker order is then computed by one worker for all).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser, useTalkingBrowser } from '../helpers/e2e.ts';

for (const workers of [1, 2]) {
  describe(`last-N = 1: only the most recent speaker is received (media workers: ${workers})`, () => {
    const suite = useServerAndBrowser({ TERTULIA_LAST_N: '1', TERTULIA_MEDIA_WORKERS: String(workers) });
    const talkers = useTalkingBrowser();
    let ana: Participant, ben: Participant, caro: Participant;

    /** How many frames Caro decodes from Ana and from Ben over 3 s. */
    async function growth(): Promise<{ Ana: number; Ben: number }> {
      const a = await remoteStats(caro.page);
      await sleep(3000);
      const b = await remoteStats(caro.page);
      return {
        Ana: (b.Ana?.framesDecoded ?? 0) - (a.Ana?.framesDecoded ?? 0),
        Ben: (b.Ben?.framesDecoded ?? 0) - (a.Ben?.framesDecoded ?? 0),
      };
    }

    test('the speaker is received, the silent one is not; and the other way round', async () => {
      ana = await newParticipant(talkers.browser, 'Ana');
      ben = await newParticipant(talkers.browser, 'Ben');
      caro = await newParticipant(suite.browser, 'Caro');
      await joinThroughUi(ana, suite.server.baseUrl, 'ultimos-n', { muteMic: true });
      await joinThroughUi(ben, suite.server.baseUrl, 'ultimos-n');
      await joinThroughUi(caro, suite.server.baseUrl, 'ultimos-n', { muteMic: true });

      let g = await waitUntil('Caro to get only Ben', growth, (v) => v.Ben > 10 && v.Ana === 0, 60_000);
      assert.ok(g.Ben > 10 && g.Ana === 0, JSON.stringify(g));

      await ben.page.getByRole('button', { name: 'Mute microphone' }).click();
      await ana.page.getByRole('button', { name: 'Unmute microphone' }).click();
      g = await waitUntil('Caro to get only Ana', growth, (v) => v.Ana > 10 && v.Ben === 0, 60_000);
      assert.ok(g.Ana > 10 && g.Ben === 0, JSON.stringify(g));
    });
  });
}
