// No single focus (issue 17), with real processes: a nats-server with JetStream, one bridge process, a web/signal
// process and two focus processes (`--parts focus`). One focus leads (the leader lease in the JetStream bucket);
// two Chromium participants meet. The leading focus is killed (SIGKILL): the other takes the lease over, reads the
// conference back from the bucket and offers both afresh on the endpoints they have; they keep decoding each other
// on the SAME peer connection all along (the bridge holds the media; focus is only the control plane). Then a third
// participant joins and everyone decodes everyone: the new focus runs the meeting. The takeover time is printed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, sleep, waitUntil, type Participant, type RemoteStats } from '../helpers/browser.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const ROOM = 'Relevo de foco';

describe('focus takeover', () => {
  let nats: NatsServer;
  let bridge: RunningServer;
  let web: RunningServer;
  const focuses: RunningServer[] = [];
  let browser: Browser;
  const people: Participant[] = [];

  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    const common = { TERTULIA_NATS_URL: nats.url, TERTULIA_LOG_LEVEL: 'info' };
    bridge = await startServer({ ...common, TERTULIA_PARTS: 'bridge', TERTULIA_BRIDGE_ID: 'bridge-1' });
    focuses.push(await startServer({ ...common, TERTULIA_PARTS: 'focus' }));
    focuses.push(await startServer({ ...common, TERTULIA_PARTS: 'focus' }));
    web = await startServer({ ...common, TERTULIA_PARTS: 'web,signal' });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const p of [web, ...focuses, bridge]) await p?.stop();
    await nats?.stop();
  });

  const leading = () => focuses.filter((f) => f.alive() && f.output().includes('"msg":"this focus leads'));

  /** Every one of `people` decodes every other one's video and receives their audio: counters grow between two reads. */
  async function everyoneDecodesEveryone(timeoutMs: number): Promise<void> {
    const read = async () => new Map(await Promise.all(people.map(async (p) => [p.name, await remoteStats(p.page)] as const)));
    const deadline = Date.now() + timeoutMs;
    let previous = await read();
    for (;;) {
      await sleep(500);
      const now = await read();
      const stuck: string[] = [];
      for (const p of people) {
        for (const o of people) {
          if (o === p) continue;
          const x: RemoteStats | undefined = now.get(p.name)?.[o.name];
          const y: RemoteStats | undefined = previous.get(p.name)?.[o.name];
          if (!x || !y || x.framesDecoded <= y.framesDecoded || x.audioPackets <= y.audioPackets) stuck.push(`${p.name}<-${o.name}`);
        }
      }
      if (stuck.length === 0) return;
      if (Date.now() > deadline) throw new Error(`not decoding: ${stuck.join(', ')}: ${JSON.stringify(Object.fromEntries(now))}`);
      previous = now;
    }
  }

  const peerConnections = () => Promise.all(people.map((p) => p.page.evaluate(() => ((window as any).__takeoverPc = (window as any).__tertulia?.pc) !== undefined)));
  const samePeerConnections = () => Promise.all(people.map((p) => p.page.evaluate(() => (window as any).__takeoverPc === (window as any).__tertulia?.pc)));

  test('the leading focus is killed: the meeting goes on, and a later join works', { timeout: 240_000 }, async () => {
    await waitUntil('one focus to lead', async () => leading().length, (n) => n === 1, 20_000);
    for (const name of ['Ana', 'Ben']) {
      const p = await newParticipant(browser, name);
      await joinThroughUi(p, web.baseUrl, ROOM);
      people.push(p);
    }
    await everyoneDecodesEveryone(60_000);
    await peerConnections();

    const [leader] = leading();
    const standby = focuses.find((f) => f !== leader)!;
    const killedAt = Date.now();
    leader!.process.kill('SIGKILL');
    // media keeps flowing while no focus runs and while the other takes over
    await everyoneDecodesEveryone(10_000);
    await waitUntil('the other focus to take the conference over', async () => standby.output(), (o) => o.includes('"msg":"conferences taken over from the store"'), 30_000);
    console.log(`# the other focus took the conference over ${Date.now() - killedAt} ms after the leader was killed`);
    assert.match(standby.output(), /"msg":"focus lease taken over: its holder stopped renewing it"/);
    assert.match(standby.output(), /"conferences":1,"participants":2,"missingBridges":\[\],"msg":"conferences taken over from the store"/);
    // the fresh offers are answered on the same connections; the media never stopped
    await sleep(2000);
    await everyoneDecodesEveryone(20_000);
    assert.deepEqual(await samePeerConnections(), [true, true], 'nobody reconnected');

    const cai = await newParticipant(browser, 'Caí');
    await joinThroughUi(cai, web.baseUrl, ROOM);
    people.push(cai);
    await everyoneDecodesEveryone(60_000);
    assert.match(standby.output(), /"msg":"participant joined the conference"/);
    for (const p of people) await p.context.close();
  });
});
