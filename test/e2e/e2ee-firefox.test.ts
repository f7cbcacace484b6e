// End to end: end-to-end encryption's standard path in Firefox (RTCRtpScriptTransform attached to a live
// connection), with a Chromium participant (whose connection is renewed instead, see e2ee-session.ts).
// - Off: Zoe (Firefox) has nothing attached and decodes Ana.
// - On, turned on by Ana mid-meeting: Zoe's transforms go on her live connection (the same RTCPeerConnection), she
//   encrypts and decrypts, and each decodes the other.
// - Off again: Zoe's transforms are taken off (`transform` back to null), nothing more is encrypted, media flows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page as FirefoxPage } from 'puppeteer-core';
import { joinThroughUi, newParticipant, waitUntil, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { joinInFirefox, launchFirefox } from '../helpers/firefox.ts';
import { videoFrom } from '../helpers/video-stats.ts';

interface Seen {
  e2ee: { enabled: boolean; api: string | null; attached: number; keyed: number; stats: { encrypted: number; decrypted: number } } | null;
  /** Video frames decoded, over every remote camera. */
  framesDecoded: number;
  /** The connection is the one marked before (not a new one). */
  sameConnection: boolean;
  /** Senders and receivers of the live connection with a transform on them. */
  transforms: number;
}

/** What Zoe's Firefox page shows: its E2EE diagnostics, frames decoded, its connection and its transforms. */
async function seen(page: FirefoxPage): Promise<Seen> {
  return await page.evaluate(async () => {
    const t = (window as any).__tertulia;
    const pc = t?.pc as (RTCPeerConnection & { __marked?: boolean }) | null;
    let framesDecoded = 0;
    if (pc) (await pc.getStats()).forEach((s: any) => s.type === 'inbound-rtp' && s.kind === 'video' && (framesDecoded += s.framesDecoded ?? 0));
    const ends = pc ? [...pc.getSenders(), ...pc.getReceivers()] : [];
    const e = t?.e2ee;
    return {
      e2ee: e ? { enabled: e.enabled, api: e.api, attached: e.attached, keyed: e.keyed.length, stats: { encrypted: e.stats.encrypted, decrypted: e.stats.decrypted } } : null,
      framesDecoded,
      sameConnection: pc?.__marked === true,
      transforms: ends.filter((x) => (x as any).transform).length,
    };
  });
}

describe('end-to-end encryption in Firefox (transforms on a live connection)', () => {
  const suite = useServerAndBrowser();
  let firefox: Browser;
  let ana: Participant;
  let zoe: FirefoxPage;
  before(async () => {
    firefox = await launchFirefox();
  });
  after(async () => {
    await firefox?.close();
  });

  test('off: nothing attached in Firefox, media flows', { timeout: 120_000 }, async () => {
    ana = await newParticipant(suite.browser, 'Ana');
    await joinThroughUi(ana, suite.server.baseUrl, 'Zorro');
    zoe = await joinInFirefox(firefox, suite.server.baseUrl, 'Zorro', 'Zoe');
    const s = await waitUntil('Zoe to decode Ana', () => seen(zoe), (v) => v.framesDecoded > 20, 60_000);
    assert.equal(s.e2ee?.api, 'script');
    assert.equal(s.e2ee?.attached, 0);
    assert.equal(s.transforms, 0);
    await waitUntil('Ana to decode Zoe', () => videoFrom(ana.page, 'Zoe'), (v) => (v?.framesDecoded ?? 0) > 20, 60_000);
  });

  test('on mid-meeting: Zoe’s live connection gets the transforms, each decodes the other encrypted', { timeout: 150_000 }, async () => {
    await zoe.evaluate(() => ((window as any).__tertulia.pc.__marked = true));
    await ana.page.getByRole('toolbar').getByRole('button', { name: 'Participants' }).click();
    await ana.page.getByRole('checkbox', { name: 'Enable end-to-end encryption' }).click();
    const z = await waitUntil('Zoe to encrypt and decrypt', () => seen(zoe), (v) => !!v.e2ee && v.e2ee.keyed === 1 && v.e2ee.stats.encrypted > 100 && v.e2ee.stats.decrypted > 100, 60_000);
    assert.ok(z.sameConnection, 'Firefox keeps its connection');
    assert.ok(z.transforms >= 3, `transforms on Zoe's senders and receivers: ${z.transforms}`);
    await waitUntil('Zoe to keep decoding Ana', () => seen(zoe), (v) => v.framesDecoded > z.framesDecoded + 30 && v.e2ee!.stats.decrypted > z.e2ee!.stats.decrypted, 30_000);
    await waitUntil('Ana to decrypt Zoe', () => ana.page.evaluate(() => (window as any).__tertulia?.e2ee?.stats.decrypted as number), (n) => n > 100, 60_000);
    const before = (await videoFrom(ana.page, 'Zoe'))?.framesDecoded ?? 0;
    await waitUntil('Ana to keep decoding Zoe', () => videoFrom(ana.page, 'Zoe'), (v) => (v?.framesDecoded ?? 0) > before + 30, 30_000);
  });

  test('off again: Zoe’s transforms are taken off, media keeps flowing', { timeout: 90_000 }, async () => {
    await ana.page.getByRole('checkbox', { name: 'Enable end-to-end encryption', checked: true }).click();
    const z = await waitUntil('Zoe to take her transforms off', () => seen(zoe), (v) => v.e2ee?.enabled === false && v.transforms === 0, 15_000);
    // the worker's counts come about once a second: read them after a while, then again after more frames
    const later = await waitUntil('Zoe to keep decoding Ana', () => seen(zoe), (v) => v.framesDecoded > z.framesDecoded + 30, 30_000);
    const before = (await videoFrom(ana.page, 'Zoe'))?.framesDecoded ?? 0;
    await waitUntil('Ana to keep decoding Zoe', () => videoFrom(ana.page, 'Zoe'), (v) => (v?.framesDecoded ?? 0) > before + 30, 30_000);
    assert.equal((await seen(zoe)).e2ee?.stats.encrypted, later.e2ee?.stats.encrypted, 'nothing encrypted once off');
    await ana.context.close();
  });
});
