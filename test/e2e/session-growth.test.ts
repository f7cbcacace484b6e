// The "sessions grow without bound" attack (issue 13, item 2) against the real server, without a browser: an
// attacker on a WebSocket answers every offer with new SSRCs (also with a new ICE ufrag each time, which focus
// must take as a restart) and toggles screen sharing in a loop; a victim that answers honestly must keep a small
// session (inactive m-lines recycled, the attacker's renegotiations rate-limited), and the attacker's answers that
// rename known sources without a restart are refused with a clear error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import sdpTransform from 'sdp-transform';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { sleep, waitFor } from '../helpers/fake-browser.ts';
import { answerFor, type OwnSsrcs } from '../helpers/sdp-answer.ts';
import { WsClient } from '../helpers/signal-client.ts';

const ROOM = 'crecer';

/** Answers every offer it gets with `own()` (called per offer) and `ufrag()`; keeps what the offers looked like. */
function autoAnswer(c: WsClient, own: () => OwnSsrcs, ufrag: () => string = () => 'brwsr') {
  const seen = { offers: 0, maxMlines: 0, maxBytes: 0, lastMlines: 0, lastSources: [] as any[], errors: [] as string[] };
  c.ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'error') seen.errors.push(`${m.code}: ${m.message}`);
    if (m.type !== 'offer') return;
    const mlines = sdpTransform.parse(m.sdp).media.length;
    seen.offers++;
    seen.lastMlines = mlines;
    seen.lastSources = m.sources;
    seen.maxMlines = Math.max(seen.maxMlines, mlines);
    seen.maxBytes = Math.max(seen.maxBytes, Buffer.byteLength(m.sdp));
    void c.send({ type: 'answer', sdp: answerFor(m.sdp, own(), ufrag()), version: m.version });
  });
  return seen;
}

describe('session growth under attack', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('new SSRCs in every answer and a screen toggled in a loop: the victim’s session stays small', async () => {
    const victim = new WsClient(server.httpsPort);
    const witness = new WsClient(server.httpsPort);
    const attacker = new WsClient(server.httpsPort);
    try {
      await victim.join(ROOM, 'Victima');
      const v = autoAnswer(victim, () => ({ audio: 1001, video: 1002 }));
      await witness.join(ROOM, 'Testigo');
      const w = autoAnswer(witness, () => ({ audio: 2001, video: 2002 }));
      await attacker.join(ROOM, 'Atacante');
      let sharing = false;
      // phase 1: a new ufrag and new SSRCs in every answer (taken: each is an ICE restart); phase 2: the same ufrag
      // with new SSRCs (refused: SSRCs are fixed; the attacker gets no further offer before a correct answer)
      let restart = true;
      let restarts = 0;
      const a = autoAnswer(
        attacker,
        () => ({ audio: randomInt(1, 2 ** 31), video: randomInt(1, 2 ** 31), ...(sharing ? { screen: randomInt(1, 2 ** 31) } : {}) }),
        () => (restart ? `r${++restarts}` : `r${restarts}`),
      );
      await waitFor('the victim to get the attacker’s first sources', () => v.lastSources.length >= 4, 10_000);
      const end = Date.now() + 6000;
      let toggles = 0;
      while (Date.now() < end) {
        if (Date.now() > end - 2000) restart = false;
        sharing = !sharing;
        toggles++;
        await attacker.send({ type: 'screen-share', sharing });
        await sleep(60); // about 16 toggles a second: within the WebSocket's message rate, far beyond a person's
      }
      sharing = false;
      await attacker.send({ type: 'screen-share', sharing });
      // the victim's session settles (what waited was sent, nothing dropped): the witness's two sources and the
      // attacker's audio, camera and maybe a screen (whatever its last accepted answer had)
      let settled = { offers: -1, at: Date.now() };
      await waitFor(
        'the victim to settle',
        () => {
          if (v.offers !== settled.offers) settled = { offers: v.offers, at: Date.now() };
          return Date.now() - settled.at > 1500;
        },
        15_000,
        100,
      );
      assert.deepEqual(
        v.lastSources.filter((s: any) => s.role !== 'screen').map((s: any) => s.kind).sort(),
        ['audio', 'audio', 'video', 'video'],
      );
      const report = { toggles, victimOffers: v.offers, maxMlines: v.maxMlines, maxBytes: v.maxBytes, attackerOffers: a.offers, witnessOffers: w.offers };
      // 3 own + at most 3 sources of each other participant, twice for the attacker's (the m-lines of SSRCs that
      // went away in the same update as new ones came can only be recycled in the next one)
      assert.ok(v.maxMlines <= 3 + 2 + 2 * 3, `victim session grew: ${JSON.stringify(report)}`);
      assert.ok(w.maxMlines <= 3 + 2 + 2 * 3, `witness session grew: ${JSON.stringify(report)}`);
      assert.ok(v.maxBytes < 24 * 1024, `victim offer of ${v.maxBytes} bytes`);
      // far fewer renegotiations than toggles: the rest were merged (6 at once, then 2 a second)
      assert.ok(v.offers < toggles / 2, `victim got ${v.offers} offers for ${toggles} toggles`);
      assert.ok(
        a.errors.some((e) => /answer refused: .*SSRCs stay fixed/.test(e)),
        `the attacker was told its SSRC changes are refused: ${a.errors.slice(0, 3).join(' | ')}`,
      );
      assert.ok(server.alive());
      if (process.env.TERTULIA_TEST_REPORT) console.log(report);
    } finally {
      attacker.close();
      witness.close();
      victim.close();
    }
  });
});
