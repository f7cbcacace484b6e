// The three-machine install of the guide, as three `tertulia start` processes on loopback linked by a real
// nats-server (with a password): machine A's web/signal, its focus, and a bridge machine with its own public
// address. Two headless Chromium participants exchange audio and video through them. Then the NATS server
// dies and comes back: every process logs it, none crashes, and a third participant joins afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, waitUntil, type Participant } from '../helpers/browser.ts';

const NATS_USER = 'tertulia';
const NATS_PASSWORD = 'nats-Pa55word-e2e';
/** The bridge machine's announced address: a loopback alias, so it is clearly this setting in the offer. */
const BRIDGE_PUBLIC_ADDRESS = '127.0.0.2';

describe('three processes over NATS: web/signal, focus, bridge', () => {
  let nats: NatsServer;
  let web: RunningServer;
  let focus: RunningServer;
  let bridge: RunningServer;
  let browser: Browser;
  const people: Participant[] = [];
  const room = 'Tres-Maquinas';

  const processes = () => [
    { name: 'web/signal', server: web },
    { name: 'focus', server: focus },
    { name: 'bridge', server: bridge },
  ];

  before(async () => {
    nats = await startNatsServer({ user: NATS_USER, password: NATS_PASSWORD });
    const common = {
      TERTULIA_NATS_URL: nats.url,
      TERTULIA_NATS_USER: NATS_USER,
      TERTULIA_NATS_PASSWORD: NATS_PASSWORD,
      TERTULIA_LOG_LEVEL: 'info',
    };
    // started in the order machines might come up: bridge first, web last
    bridge = await startServer({ ...common, TERTULIA_PARTS: 'bridge', TERTULIA_BRIDGE_ID: 'bridge-b', TERTULIA_PUBLIC_ADDRESS: BRIDGE_PUBLIC_ADDRESS });
    focus = await startServer({ ...common, TERTULIA_PARTS: 'focus' });
    web = await startServer({ ...common, TERTULIA_PARTS: 'web,signal' });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const p of [web, focus, bridge]) await p?.stop();
    await nats?.stop();
  });

  test('each process says what it runs and what to open', () => {
    assert.match(web.output(), new RegExp(`Parts here: web/signal; connected to NATS at nats://127\\.0\\.0\\.1:${nats.port}\\.`));
    assert.match(web.output(), /media: on the bridge machines/);
    assert.match(focus.output(), /is running: focus\.[\s\S]*No port to open/);
    assert.match(bridge.output(), /is running: bridge \(bridge id bridge-b\)/);
    assert.match(bridge.output(), new RegExp(`${bridge.mediaPort}/udp +media.*announced to browsers as ${BRIDGE_PUBLIC_ADDRESS.replace(/\./g, '\\.')}`));
  });

  test('two participants exchange video and audio through the bridge process', async () => {
    for (const name of ['Ana', 'Ben']) {
      const p = await newParticipant(browser, name);
      people.push(p);
      await joinThroughUi(p, web.baseUrl, room);
    }
    for (const p of people) {
      const other = people.find((o) => o !== p)!.name;
      const stats = await waitUntil(
        `${p.name} to get media from ${other}`,
        () => remoteStats(p.page),
        (s) => (s[other]?.framesDecoded ?? 0) > 5 && (s[other]?.audioPackets ?? 0) > 20,
        45_000,
      );
      assert.ok(stats[other]!.framesDecoded > 5 && stats[other]!.audioPackets > 20);
    }
    assert.match(focus.output(), /"bridge":"bridge-b".*conference started/);
  });

  test("the offer announces the bridge's own public address first", async () => {
    const sdp = await people[0]!.page.evaluate(() => (window as any).__tertulia?.pc?.remoteDescription?.sdp as string | undefined);
    const candidates = (sdp ?? '').split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
    assert.ok(candidates.length > 0, 'the offer has candidates');
    const [, , , , ip, port] = candidates[0]!.split(' ');
    assert.equal(ip, BRIDGE_PUBLIC_ADDRESS);
    assert.equal(Number(port), bridge.mediaPort);
  });

  test('NATS dies and comes back: logged by every process, none crashes, media goes on, a newcomer joins', async () => {
    await nats.kill();
    for (const { name, server } of processes()) {
      await waitUntil(`${name} to log the lost NATS connection`, async () => server.output(), (o) => o.includes('lost the NATS connection'), 20_000);
    }
    // media does not go through NATS: it keeps flowing while the bus is down
    const [ana, ben] = people as [Participant, Participant];
    const before = (await remoteStats(ben.page)).Ana!.framesDecoded;
    await waitUntil("Ben to keep decoding Ana's video", () => remoteStats(ben.page), (s) => s.Ana!.framesDecoded > before + 10, 20_000);

    await nats.restart();
    for (const { name, server } of processes()) {
      await waitUntil(`${name} to reconnect`, async () => server.output(), (o) => o.includes('reconnected to NATS'), 30_000);
      assert.ok(server.alive(), `${name} is still running`);
    }

    const caro = await newParticipant(browser, 'Caro');
    people.push(caro);
    await joinThroughUi(caro, web.baseUrl, room);
    await waitUntil(
      'Caro to get media from Ana and Ben',
      () => remoteStats(caro.page),
      (s) => ['Ana', 'Ben'].every((n) => (s[n]?.framesDecoded ?? 0) > 0 && (s[n]?.audioPackets ?? 0) > 0),
      45_000,
    );
    await waitUntil("Ana to decode Caro's video", () => remoteStats(ana.page), (s) => (s.Caro?.framesDecoded ?? 0) > 0, 30_000);
    for (const { name, server } of processes()) assert.ok(server.alive(), `${name} is still running`);
  });

  test('the NATS password is in no log', () => {
    for (const { name, server } of processes()) assert.ok(!server.output().includes(NATS_PASSWORD), `${name} never printed it`);
  });
});
