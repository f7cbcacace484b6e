// Bridge failover and drain with real processes: a nats-server, a web/signal/focus process and three bridge
// processes; two Chromium participants in one meeting. The bridge they are on is killed (SIGKILL, as a crash or
// a pulled cable): focus misses its heartbeat, moves them to another bridge with fresh offers, and each decodes
// the other's video and audio again on a new peer connection, without a reload (the meeting page and its state
// stay), and sees the other's picture (not black, moving) on the new connection's receiver track and in the tile,
// its audio element on the new connection's track too (a tile left on the replaced connection's ended track was
// the black tile of issue 17). Then the bridge they moved to gets SIGTERM: it drains (focus moves them at once to the last bridge)
// and exits by itself with status 0. The times it took are printed (docs/BENCHMARKS.md has the benchmark's).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, waitUntil, type Participant } from '../helpers/browser.ts';
import { decodingAgain, markConnections, startBridgeCluster, type BridgeCluster } from '../helpers/bridge-failover.ts';
import { everyoneSeesEveryone } from '../helpers/video-stats.ts';

describe('bridge failover and drain', () => {
  let cluster: BridgeCluster;
  let browser: Browser;
  const people: Participant[] = [];

  before(async () => {
    cluster = await startBridgeCluster(3);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  /** Each page is still the one it joined with (no reload) and shows the other's tile. */
  async function sameMeetingPages(): Promise<void> {
    for (const p of people) {
      assert.equal(await p.page.evaluate(() => (window as any).__failoverNoReload), true, `${p.name}'s page was not reloaded`);
      for (const o of people) if (o !== p) await p.page.getByRole('group', { name: o.name, exact: true }).waitFor({ timeout: 5000 });
    }
  }

  test('the bridge of a meeting is killed: everyone decodes everyone again on another bridge', { timeout: 240_000 }, async () => {
    for (const name of ['Ana', 'Ben']) {
      const p = await newParticipant(browser, name);
      await joinThroughUi(p, cluster.web.baseUrl, 'Relevo');
      await p.page.evaluate(() => ((window as any).__failoverNoReload = true));
      people.push(p);
    }
    for (const p of people) {
      for (const o of people) {
        if (o === p) continue;
        await waitUntil(`${p.name} to get media from ${o.name}`, () => remoteStats(p.page), (s) => (s[o.name]?.framesDecoded ?? 0) > 10 && (s[o.name]?.audioPackets ?? 0) > 50, 45_000);
      }
    }
    await everyoneSeesEveryone(people, 'at the start');
    const first = cluster.hosting();
    assert.ok(first, 'focus says which bridge the meeting is on');
    await markConnections(people);
    const killedAt = Date.now();
    first.process.kill('SIGKILL');
    const ms = await decodingAgain(people, killedAt, 90_000);
    console.log(`# decoding again ${ms} ms after the bridge was killed`);
    await everyoneSeesEveryone(people, 'after the kill');
    const second = cluster.hosting();
    assert.ok(second && second !== first, 'the meeting is on another bridge now');
    assert.match(cluster.web.output(), /bridge dead: no heartbeat for too long/);
    await sameMeetingPages();
  });

  test('SIGTERM to the bridge of a meeting: it drains (everyone moved to the last bridge) and exits', { timeout: 240_000 }, async () => {
    const draining = cluster.hosting();
    assert.ok(draining);
    await markConnections(people);
    const exited = new Promise<number | null>((r) => draining.process.once('exit', (code) => r(code)));
    const termAt = Date.now();
    draining.process.kill('SIGTERM');
    const ms = await decodingAgain(people, termAt, 90_000);
    console.log(`# decoding again ${ms} ms after SIGTERM to the bridge`);
    await everyoneSeesEveryone(people, 'after the drain');
    assert.equal(await exited, 0, 'the drained bridge exits by itself, with status 0');
    assert.match(draining.output(), /"msg":"drained: no conference left on this bridge"/);
    const last = cluster.hosting();
    assert.ok(last && last !== draining && last.alive(), 'the meeting is on the last bridge');
    await sameMeetingPages();
    for (const p of people) await p.context.close();
  });
});
