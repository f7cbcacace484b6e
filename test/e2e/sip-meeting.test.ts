// End to end, the meeting's side of a phone call: a server (signal, focus, bridge) over a real NATS, two
// headless Chromium participants whose microphones play a 320 Hz tone, and the SIP gateway's MeetingGateway in
// this process (as a `sip` part elsewhere would run it) putting a caller in the room with a 1 kHz tone as its voice.
// Both browsers list the caller as a phone with its masked number and receive its audio; what the caller hears
// holds the browsers' tone and not its own, at 48 kHz (an Opus phone) and then at 8 kHz both ways (a G.711
// phone: narrowband Opus from 8 kHz, the room mixed at 8 kHz; with an Opus phone in the room too, mixed at 48 kHz
// and brought down for it), the Opus phone hearing the browsers and the G.711 caller; talking alone in narrowband, it takes the speaker
// view's stage (its audio levels reach the bridge); a moderator's mute stops its voice; a moderator's remove ends it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { createLogger } from '../../src/log.ts';
import { MeetingGateway } from '../../src/sip/meeting-gateway.ts';
import type { MeetingLink } from '../../src/sip/meeting-link.ts';
import { openModeratorTools } from '../helpers/access-ui.ts';
import { joinThroughUi, newParticipant, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useTalkingBrowser } from '../helpers/e2e.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { concatFrames, remoteAudio, rosterOf, toneFrame, tonePower } from '../helpers/sip-audio.ts';

const PHONE = 'Phone …1234';

describe('a phone caller in a meeting (the meeting side)', () => {
  const talking = useTalkingBrowser();
  let nats: NatsServer;
  let server: RunningServer;
  let bus: NatsBus;
  let gateway: MeetingGateway;
  let link: MeetingLink;
  let ana: Participant;
  let ben: Participant;
  let pacer: NodeJS.Timeout | undefined;
  const heard: Int16Array[] = [];
  const room = 'Llamada';

  before(async () => {
    nats = await startNatsServer();
    server = await startServer({ TERTULIA_NATS_URL: nats.url, TERTULIA_PARTS: 'signal,focus,bridge' });
    bus = await NatsBus.connect({ url: nats.url, log: createLogger('warn'), name: 'sip test' });
    gateway = new MeetingGateway({ bus, log: createLogger('warn'), gatewayId: 'test-gw', mediaAddress: '127.0.0.1' });
  });

  after(async () => {
    clearInterval(pacer);
    await gateway?.close();
    await bus?.close();
    await server?.stop();
    await nats?.stop();
  });

  test('the caller is in the room: listed as a phone with its masked number, heard by both browsers', { timeout: 180_000 }, async () => {
    ana = await newParticipant(talking.browser, 'Ana');
    ben = await newParticipant(talking.browser, 'Ben');
    await joinThroughUi(ana, server.baseUrl, room);
    await joinThroughUi(ben, server.baseUrl, room);
    link = await gateway.join({ room, callerId: '+34 600 111 234' });
    assert.equal(link.displayName, PHONE);
    link.onHear = (f) => heard.push(f.slice());
    let n = 0;
    // talk-like: the tone 0.7 s of every second (a steady tone is background noise to speaker detection)
    const silence = new Int16Array(960);
    pacer = setInterval(() => link.send(n++ % 50 < 35 ? toneFrame(1000, n) : silence), 20);
    for (const p of [ana, ben]) {
      await waitUntil(`${p.name} to list the caller`, () => rosterOf(p.page), (r) => r.some((x) => x.displayName === PHONE && x.phone === true), 20_000);
      await p.page.getByRole('group', { name: PHONE, exact: true }).getByRole('img', { name: 'Phone' }).waitFor({ timeout: 10_000 });
      const audio = await waitUntil(`${p.name} to hear the caller`, () => remoteAudio(p.page), (a) => (a[PHONE]?.energy ?? 0) > 0.01 && (a[PHONE]?.packets ?? 0) > 50, 45_000);
      assert.ok(audio[PHONE]!.energy > 0.01, `audio energy from the caller: ${audio[PHONE]!.energy}`);
    }
  });

  test("what the caller hears is the browsers' tone, without its own", { timeout: 60_000 }, async (t) => {
    // three seconds of the room after the browsers' audio reached the mix
    await waitUntil('the mix to carry the browsers', async () => heard.length, () => heard.slice(-50).some((f) => tonePower(f, 320) > 1e-4), 30_000);
    const from = heard.length;
    await waitUntil('three more seconds heard', async () => heard.length, (len) => len >= from + 150, 30_000);
    const room = concatFrames(heard.slice(from, from + 150));
    const browsers = tonePower(room, 320);
    const own = tonePower(room, 1000);
    assert.ok(browsers > 1e-4, `the browsers' 320 Hz in the mix: ${browsers}`);
    assert.ok(own < browsers / 100, `the caller's own 1 kHz left out: ${own} vs ${browsers}`);
    t.diagnostic(`the caller heard 320 Hz at ${browsers.toExponential(2)}, its own 1 kHz at ${own.toExponential(2)}`);
  });

  test('as a G.711 caller (8 kHz both ways) it hears the browsers at 8 kHz, without its own voice', { timeout: 60_000 }, async (t) => {
    clearInterval(pacer);
    let n = 0;
    const silence = new Int16Array(160);
    pacer = setInterval(() => link.send(n++ % 50 < 35 ? toneFrame(1000, n, 8000, 8000) : silence), 20);
    link.hearRate = 8000;
    const narrow = () => heard.filter((f) => f.length === 160);
    await waitUntil('the mix at 8 kHz to carry the browsers', async () => narrow(), (f) => f.slice(-50).some((x) => tonePower(x, 320, 8000) > 1e-4), 30_000);
    const from = narrow().length;
    await waitUntil('three more seconds heard', async () => narrow().length, (len) => len >= from + 150, 30_000);
    const room = concatFrames(narrow().slice(from, from + 150));
    const browsers = tonePower(room, 320, 8000);
    const own = tonePower(room, 1000, 8000);
    assert.ok(browsers > 1e-4, `the browsers' 320 Hz in the 8 kHz mix: ${browsers}`);
    assert.ok(own < browsers / 100, `the caller's own 1 kHz left out: ${own} vs ${browsers}`);
    t.diagnostic(`at 8 kHz the caller heard 320 Hz at ${browsers.toExponential(2)}, its own 1 kHz at ${own.toExponential(2)}`);
  });

  test('with an Opus caller in the room too (mixed at 48 kHz), the G.711 caller still hears the browsers at 8 kHz; the Opus caller hears both', { timeout: 60_000 }, async () => {
    const other = await gateway.join({ room, callerId: '+34 600 222 567' });
    try {
      const wide: Int16Array[] = [];
      other.onHear = (f) => wide.push(f.slice());
      const narrow = () => heard.filter((f) => f.length === 160);
      await waitUntil('the Opus caller to hear the room', async () => wide.length, () => wide.slice(-50).some((f) => tonePower(f, 320) > 1e-4), 30_000);
      const from = narrow().length;
      const wideFrom = wide.length;
      await waitUntil('three more seconds heard', async () => [narrow().length, wide.length], ([n, w]) => n! >= from + 150 && w! >= wideFrom + 150, 30_000);
      assert.ok(wide.every((f) => f.length === 960), 'the Opus caller hears 48 kHz frames');
      const g711 = concatFrames(narrow().slice(from, from + 150));
      assert.ok(tonePower(g711, 320, 8000) > 1e-4, `the browsers' 320 Hz in the G.711 caller's mix: ${tonePower(g711, 320, 8000)}`);
      assert.ok(tonePower(g711, 1000, 8000) < tonePower(g711, 320, 8000) / 100, 'its own voice still left out');
      const opus = concatFrames(wide.slice(wideFrom, wideFrom + 150));
      assert.ok(tonePower(opus, 320) > 1e-4, `the browsers' 320 Hz for the Opus caller: ${tonePower(opus, 320)}`);
      assert.ok(tonePower(opus, 1000) > 1e-4, `the G.711 caller's narrowband 1 kHz for the Opus caller: ${tonePower(opus, 1000)}`);
    } finally {
      await other.close();
    }
  });

  test('the caller takes the stage of the speaker view when it is the one talking (narrowband)', { timeout: 60_000 }, async () => {
    for (const p of [ana, ben]) await p.page.getByRole('button', { name: 'Mute microphone' }).click();
    await ben.page.getByRole('button', { name: 'Speaker view' }).click();
    const width = async (name: string) => (await ben.page.getByRole('group', { name, exact: true }).boundingBox())?.width ?? 0;
    await waitUntil('the caller on the stage', async () => [await width(PHONE), await width('Ana')], ([phone, a]) => phone > a * 2, 30_000);
  });

  test("a moderator's mute stops the caller's voice; a remove ends the call", { timeout: 90_000 }, async () => {
    const muted = new Promise<boolean>((r) => (link.onMuted = r));
    await openModeratorTools(ana.page);
    await ana.page.getByRole('button', { name: `Mute ${PHONE}` }).click();
    assert.equal(await muted, true);
    await ana.page.getByRole('group', { name: PHONE, exact: true }).getByLabel('Microphone muted').waitFor({ timeout: 10_000 });
    await sleep(1500); // what was in flight arrives
    const before = (await remoteAudio(ben.page))[PHONE]!.packets;
    await sleep(3000);
    assert.equal((await remoteAudio(ben.page))[PHONE]!.packets, before, 'no audio from the muted caller');
    assert.ok(link.counters.droppedMuted > 100, `frames held back while muted: ${link.counters.droppedMuted}`);

    const removed = new Promise<string>((r) => (link.onRemoved = r));
    await ana.page.getByRole('button', { name: `Remove ${PHONE}` }).click();
    await ana.page.getByRole('group', { name: `Remove ${PHONE} from the meeting?` }).getByRole('button', { name: 'Remove', exact: true }).click();
    assert.match(await removed, /removed by Ana/);
    for (const p of [ana, ben]) await p.page.getByRole('group', { name: PHONE, exact: true }).waitFor({ state: 'detached', timeout: 15_000 });
    await waitUntil('the gateway to forget the call', async () => gateway.calls, (c) => c === 0, 15_000);
    await ana.context.close();
    await ben.context.close();
  });
});
