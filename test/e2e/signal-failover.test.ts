// Several signal instances (issue 17): two `--parts web` processes behind a real HAProxy, focus and a bridge in
// a third process, linked by a nats-server with JetStream. Two Chromium participants meet; the signal process
// their sockets are on is killed (SIGKILL): both pages say "Reconnecting…", get back in through the other
// instance without a reload, as the same participants (Ana still moderator), decode each other again on a new
// peer connection, and the chat said before is still the room's history (a late joiner is given it). Then the
// killed instance is started again and the other one killed: the meeting moves back. Last, two people of one room
// on different instances (the proxy pins them by a test cookie) see and decode each other, and when one instance
// dies its participant comes back through the other while the one there stays in the meeting.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { startHaProxy, type HaProxy } from '../helpers/haproxy.ts';
import { joinThroughUi, launchBrowser, newParticipant, remoteStats, waitUntil, type Participant } from '../helpers/browser.ts';

const ROOM = 'Sala de Relevo';
const CHAT = 'dicho antes del corte';

/** Marks the page (a reload would lose the mark), remembers its peer connection, and notes any "Reconnecting…". */
async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    w.__beforeKill = true;
    w.__oldPc = w.__tertulia?.pc;
    w.__sawReconnecting = false;
    const seen = () => {
      for (const el of document.querySelectorAll('[role="status"]')) if (el.textContent === 'Reconnecting…') w.__sawReconnecting = true;
    };
    new MutationObserver(seen).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
}

async function pageState(page: Page): Promise<{ marked: boolean; sawReconnecting: boolean; reconnectingNow: boolean; newPc: boolean; selfId: string | null }> {
  return await page.evaluate(() => {
    const w = window as any;
    const now = [...document.querySelectorAll('[role="status"]')].some((el) => el.textContent === 'Reconnecting…');
    return { marked: w.__beforeKill === true, sawReconnecting: w.__sawReconnecting === true, reconnectingNow: now, newPc: !!w.__tertulia?.pc && w.__tertulia.pc !== w.__oldPc, selfId: w.__tertulia?.selfId ?? null };
  });
}

const joinsOn = (s: RunningServer) => (s.output().match(/"msg":"participant joined"/g) ?? []).length;

describe('signal instances behind a load balancer: a killed instance, browsers reconnect to the other', () => {
  let nats: NatsServer;
  let media: RunningServer;
  const signals: RunningServer[] = [];
  let proxy: HaProxy;
  let browser: Browser;
  let ana: Participant;
  let ben: Participant;
  const common = (nats: NatsServer) => ({ TERTULIA_NATS_URL: nats.url, TERTULIA_LOG_LEVEL: 'info' });

  before(async () => {
    nats = await startNatsServer({ jetstream: true });
    media = await startServer({ ...common(nats), TERTULIA_PARTS: 'focus,bridge' });
    for (let i = 0; i < 2; i++) signals.push(await startServer({ ...common(nats), TERTULIA_PARTS: 'web' }));
    proxy = await startHaProxy(signals.map((s) => s.httpsPort), { pinByCookie: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const s of signals) await s.stop();
    await media?.stop();
    await proxy?.stop();
    await nats?.stop();
  });

  const decodeEachOther = async (what: string) => {
    for (const [p, other] of [
      [ana, ben],
      [ben, ana],
    ] as const) {
      await waitUntil(`${p.name} to decode ${other.name} (${what})`, () => remoteStats(p.page), (s) => (s[other.name]?.framesDecoded ?? 0) > 5 && (s[other.name]?.audioPackets ?? 0) > 20, 60_000);
    }
  };

  /** Kills the instance holding the meeting; both come back through `survivor` as themselves. */
  const killAndReconnect = async (victim: RunningServer, survivor: RunningServer) => {
    const ids = [await pageState(ana.page), await pageState(ben.page)].map((s) => s.selfId);
    for (const p of [ana, ben]) await markPage(p.page);
    const before = joinsOn(survivor);
    victim.process.kill('SIGKILL');
    for (const [i, p] of [ana, ben].entries()) {
      const s = await waitUntil(`${p.name} to show Reconnecting… and get back in`, () => pageState(p.page), (v) => v.sawReconnecting && !v.reconnectingNow && v.newPc, 60_000);
      assert.ok(s.marked, `${p.name}'s page was not reloaded`);
      assert.equal(s.selfId, ids[i], `${p.name} is the same participant`);
    }
    await waitUntil('both sockets on the surviving instance', async () => joinsOn(survivor) - before, (n) => n === 2, 20_000);
    assert.match(survivor.output(), /"resumed":true/);
    await decodeEachOther('after the failover');
    // Ana started the meeting: still its moderator; Ben is not
    await ana.page.getByRole('button', { name: 'Moderator tools' }).waitFor({ timeout: 20_000 });
    assert.equal(await ben.page.getByRole('button', { name: 'Moderator tools' }).count(), 0);
  };

  test('a meeting survives the death of its signal instance, twice', async () => {
    ana = await newParticipant(browser, 'Ana');
    ben = await newParticipant(browser, 'Ben');
    await joinThroughUi(ana, proxy.baseUrl, ROOM);
    await joinThroughUi(ben, proxy.baseUrl, ROOM);
    await decodeEachOther('at the start');
    await ana.page.getByRole('button', { name: 'Open chat' }).click();
    await ana.page.getByRole('textbox', { name: 'Type a message' }).fill(CHAT);
    await ana.page.getByRole('button', { name: 'Send' }).click();
    await ben.page.getByRole('button', { name: 'Open chat' }).click();
    await ben.page.getByRole('log', { name: 'Chat' }).getByText(CHAT).waitFor({ timeout: 10_000 });

    // the room's two sockets are on one instance (the proxy's stick table)
    await waitUntil('both joins logged', async () => signals.map(joinsOn), (v) => v[0]! + v[1]! === 2, 20_000);
    const holder = signals.find((s) => joinsOn(s) === 2);
    assert.ok(holder, `one instance has both joins: ${signals.map(joinsOn).join(', ')}`);
    const other = signals.find((s) => s !== holder)!;
    await killAndReconnect(holder, other);

    // the chat said on the dead instance is the room's history on the other one
    const caro = await newParticipant(browser, 'Caro');
    await joinThroughUi(caro, proxy.baseUrl, ROOM, { stopCamera: true, muteMic: true });
    await caro.page.getByRole('button', { name: 'Open chat' }).click();
    await caro.page.getByRole('log', { name: 'Chat' }).getByText(CHAT).waitFor({ timeout: 20_000 });
    await caro.context.close();

    // the killed instance comes back (same port); now the other one dies: the meeting moves back
    const index = signals.indexOf(holder);
    signals[index] = await startServer({ ...common(nats), TERTULIA_PARTS: 'web', TERTULIA_HTTPS_PORT: String(holder.httpsPort), TERTULIA_HTTP_PORT: String(holder.httpPort) });
    await holder.stop(); // its data directory
    // (until the proxy's health check sees it up, the browsers' attempts get 503 and they try again)
    await killAndReconnect(other, signals[index]!);
    for (const p of [ana, ben]) await p.context.close();
    // both instances up again for the next test, and the proxy sending to both
    const ups = proxy.upCount(2 - index);
    signals[1 - index] = await startServer({ ...common(nats), TERTULIA_PARTS: 'web', TERTULIA_HTTPS_PORT: String(other.httpsPort), TERTULIA_HTTP_PORT: String(other.httpPort) });
    await other.stop();
    await waitUntil('the proxy to see the restarted instance up', async () => proxy.upCount(2 - index), (n) => n > ups, 30_000);
  });

  test('two people of one room on different instances meet; one instance dies, the meeting goes on', async () => {
    const room = 'Dos Instancias';
    ana = await newParticipant(browser, 'Ana');
    ben = await newParticipant(browser, 'Ben');
    for (const [p, pin] of [
      [ana, 'signal1'],
      [ben, 'signal2'],
    ] as const) {
      await p.context.addCookies([{ name: 'tertulia_test_pin', value: pin, url: proxy.baseUrl }]);
    }
    const joins = signals.map(joinsOn);
    await joinThroughUi(ana, proxy.baseUrl, room);
    await joinThroughUi(ben, proxy.baseUrl, room);
    // (their log lines may come a moment after the pages show the meeting)
    await waitUntil('one join on each instance', async () => signals.map((s, i) => joinsOn(s) - joins[i]!), (v) => v[0] === 1 && v[1] === 1, 20_000);
    await decodeEachOther('across instances');
    await ben.page.getByRole('button', { name: 'Open chat' }).click();
    await ben.page.getByRole('textbox', { name: 'Type a message' }).fill('desde la otra');
    await ben.page.getByRole('button', { name: 'Send' }).click();
    await ana.page.getByRole('status', { name: '1 unread message' }).waitFor({ timeout: 10_000 });

    // Ana's instance dies: she is back through Ben's; Ben never left
    const anaId = (await pageState(ana.page)).selfId;
    for (const p of [ana, ben]) await markPage(p.page);
    signals[0]!.process.kill('SIGKILL');
    const s = await waitUntil('Ana to show Reconnecting… and get back in', () => pageState(ana.page), (v) => v.sawReconnecting && !v.reconnectingNow && v.newPc, 60_000);
    assert.ok(s.marked);
    assert.equal(s.selfId, anaId);
    const benState = await pageState(ben.page);
    assert.ok(benState.marked && !benState.sawReconnecting && !benState.newPc, 'Ben stayed connected');
    await waitUntil('Ana to decode Ben again', () => remoteStats(ana.page), (v) => (v['Ben']?.framesDecoded ?? 0) > 5, 60_000);
    const before = (await remoteStats(ben.page))['Ana']?.framesDecoded ?? 0;
    await waitUntil("Ben to decode Ana's new stream", () => remoteStats(ben.page), (v) => (v['Ana']?.framesDecoded ?? 0) > before + 10, 60_000);
    // Ana's chat came from the history of the instance she is on now
    await ana.page.getByRole('button', { name: 'Open chat' }).click();
    await ana.page.getByRole('log', { name: 'Chat' }).getByText('desde la otra').waitFor({ timeout: 20_000 });
    for (const p of [ana, ben]) await p.context.close();
  });
});
