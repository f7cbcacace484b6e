// End to end, a phone call into a meeting: Debian's baresip dials `sip:Llamada@127.0.0.1:<sip port>` (G.711,
// saying a 1 kHz tone) while two headless Chromium participants whose microphones play a 320 Hz tone are in the
// room. With every part in one process: both browsers list the caller as a phone with its masked number and
// receive its audio, baresip hears the browsers (and not its own tone), and its hang-up takes it out of the
// room. The caller's *6 (SIP INFO, from sipp, the room in X-Room-Name) mutes and unmutes it. A call that names no
// room gets the PIN menu: keys by SIP INFO (sipp: a wrong PIN, then the right one) and by RFC 4733 from baresip's
// keypad. Invite by phone: the gateway calls a baresip that answers, which joins the room. With the sip part in
// its own process over NATS: killing that process mid-call takes the caller out
// (its lease at signal runs out) and the meeting goes on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerWithBaresip, callWithBaresip, toneWav, type Baresip } from '../helpers/baresip.ts';
import { joinThroughUi, newParticipant, remoteStats, sleep, waitUntil, type Participant } from '../helpers/browser.ts';
import { useTalkingBrowser } from '../helpers/e2e.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { remoteAudio, rosterOf, tonePower } from '../helpers/sip-audio.ts';
import { freeTcpPort, freeUdpPort } from '../helpers/ports.ts';
import { scrapeLocalMetrics } from '../helpers/prometheus-text.ts';

/** The gateway's calls as /metrics says (the server started with TERTULIA_METRICS_ADDRESS on 127.0.0.1:port). */
async function sipCalls(metricsPort: number, direction: 'in' | 'out'): Promise<{ active: number; total: number }> {
  const m = await scrapeLocalMetrics(metricsPort);
  const one = (name: string) => m.series(name).find((x) => x.labels.direction === direction)?.value ?? NaN;
  return { active: one('tertulia_sip_calls_active'), total: one('tertulia_sip_calls_total') };
}

const PHONE = 'Phone …1234';

async function seesTheCaller(p: Participant): Promise<void> {
  await waitUntil(`${p.name} to list the caller`, () => rosterOf(p.page), (r) => r.some((x) => x.displayName === PHONE && x.phone === true), 30_000);
  await p.page.getByRole('group', { name: PHONE, exact: true }).getByRole('img', { name: 'Phone' }).waitFor({ timeout: 10_000 });
  const audio = await waitUntil(`${p.name} to hear the caller`, () => remoteAudio(p.page), (a) => (a[PHONE]?.energy ?? 0) > 0.01 && (a[PHONE]?.packets ?? 0) > 50, 45_000);
  assert.ok(audio[PHONE]!.energy > 0.01, `audio energy from the caller: ${audio[PHONE]!.energy}`);
}

/** The room's PIN, as the invite dialog gets it (Jitsi's /conferenceMapper). */
function pinOf(server: RunningServer, room: string): Promise<string> {
  const path = `/conferenceMapper?conference=${encodeURIComponent(room)}@conference.meet.example.org`;
  return new Promise((resolve, reject) =>
    https
      .get({ host: '127.0.0.1', port: server.httpsPort, path, rejectUnauthorized: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(String((JSON.parse(body) as { id: number }).id)));
      })
      .on('error', reject),
  );
}

describe('phone calls into a meeting (baresip)', () => {
  const talking = useTalkingBrowser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-sip-calls-'));
  const wav = path.join(dir, 'caller.wav');
  let phone: Baresip | undefined;

  before(() => toneWav(wav, 1000, 300));
  after(async () => {
    await phone?.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every part in one process: the browsers hear the caller, the caller hears the browsers, its hang-up ends it', { timeout: 240_000 }, async (t) => {
    const server = await startServer();
    try {
      assert.ok(server.sipPort, `the startup message names the SIP port:\n${server.output()}`);
      const ana = await newParticipant(talking.browser, 'Ana');
      const ben = await newParticipant(talking.browser, 'Ben');
      await joinThroughUi(ana, server.baseUrl, 'Llamada');
      await joinThroughUi(ben, server.baseUrl, 'Llamada');
      phone = callWithBaresip(path.join(dir, 'one'), `sip:Llamada@127.0.0.1:${server.sipPort}`, wav);
      for (const p of [ana, ben]) await seesTheCaller(p);
      // four seconds of the room heard by the phone (8 kHz)
      const from = phone.heard().length;
      await waitUntil('baresip to hear four seconds', async () => phone!.heard().length, (n) => n >= from + 32_000, 30_000);
      const heard = phone.heard().subarray(from, from + 32_000);
      const browsers = tonePower(heard, 320, 8000);
      const own = tonePower(heard, 1000, 8000);
      assert.ok(browsers > 1e-4, `the browsers' 320 Hz in what the phone heard: ${browsers}\n${phone.output().slice(-2000)}`);
      assert.ok(own < browsers / 20, `the caller's own 1 kHz left out: ${own} vs ${browsers}`);
      t.diagnostic(`the phone heard 320 Hz at ${browsers.toExponential(2)}, its own 1 kHz at ${own.toExponential(2)}`);
      // the caller hangs up: gone for everyone
      await phone.quit();
      assert.match(phone.output(), /Call established/);
      for (const p of [ana, ben]) await p.page.getByRole('group', { name: PHONE, exact: true }).waitFor({ state: 'detached', timeout: 20_000 });
      await ana.context.close();
      await ben.context.close();
    } finally {
      await server.stop();
    }
  });

  test("the caller's *6 (SIP INFO from sipp; the room in X-Room-Name) mutes and unmutes it for everyone; /metrics counts the call", { timeout: 120_000 }, async () => {
    const metricsPort = await freeTcpPort();
    const server = await startServer({ TERTULIA_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
    try {
      const ana = await newParticipant(talking.browser, 'Ana');
      await joinThroughUi(ana, server.baseUrl, 'Teclas');
      const scenario = fileURLToPath(new URL('../sip/call-star6.xml', import.meta.url));
      const sipp = new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          'sipp',
          ['-sf', scenario, '-m', '1', '-t', 'u1', '-i', '127.0.0.1', '-p', '0', '-s', 'Teclas', '-timeout', '60s', '-timeout_error', '-nostdin', `127.0.0.1:${server.sipPort}`],
          { timeout: 90_000, cwd: dir },
          (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}`.slice(-3000) }),
        ),
      );
      const tile = ana.page.getByRole('group', { name: 'sipp', exact: true });
      await tile.getByRole('img', { name: 'Phone' }).waitFor({ timeout: 30_000 });
      // the tile shows as the gateway's join is answered, the call counts once its media is set up
      await waitUntil('the call in /metrics', () => sipCalls(metricsPort, 'in'), (c) => c.active === 1 && c.total === 1, 10_000);
      await tile.getByLabel('Microphone muted').waitFor({ timeout: 20_000 });
      await tile.getByLabel('Microphone muted').waitFor({ state: 'detached', timeout: 20_000 });
      await tile.waitFor({ state: 'detached', timeout: 30_000 });
      const r = await sipp;
      assert.equal(r.code, 0, r.out);
      await waitUntil('the call to end in /metrics', () => sipCalls(metricsPort, 'in'), (c) => c.active === 0, 10_000);
      assert.deepEqual(await sipCalls(metricsPort, 'in'), { active: 0, total: 1 });
      assert.deepEqual(await sipCalls(metricsPort, 'out'), { active: 0, total: 0 });
      await ana.context.close();
    } finally {
      await server.stop();
    }
  });

  test('a call that names no room: the PIN menu; a wrong PIN is said so, the right one (SIP INFO keys from sipp) joins the room', { timeout: 120_000 }, async () => {
    const server = await startServer();
    try {
      const ana = await newParticipant(talking.browser, 'Ana');
      await joinThroughUi(ana, server.baseUrl, 'Clave');
      const pin = await pinOf(server, 'Clave');
      assert.match(pin, /^\d{9}$/);
      const wrong = pin === '111111111' ? '222222222' : '111111111';
      // one INFO per key: a wrong PIN and #, a pause (the menu says it is not valid), the right PIN and #
      let cseq = 2;
      const info = (key: string) => `  <send retrans="500">
    <![CDATA[
      INFO sip:+34910000000@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:+34910000000@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: ${cseq++} INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=${key}
      Duration=160
    ]]>
  </send>
  <recv response="200" />
  <pause milliseconds="150"/>
`;
      const keys = [...wrong, '#'].map(info).join('') + '  <pause milliseconds="1500"/>\n' + [...pin, '#'].map(info).join('');
      const template = readFileSync(fileURLToPath(new URL('../sip/call-pin.xml', import.meta.url)), 'utf8');
      const scenario = path.join(dir, 'call-pin.xml');
      writeFileSync(scenario, template.replace('  <!-- KEYS -->\n', keys).replace('BYE_CSEQ', String(cseq)));
      const sipp = new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          'sipp',
          ['-sf', scenario, '-m', '1', '-t', 'u1', '-i', '127.0.0.1', '-p', '0', '-timeout', '90s', '-timeout_error', '-nostdin', `127.0.0.1:${server.sipPort}`],
          { timeout: 100_000, cwd: dir },
          (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}`.slice(-3000) }),
        ),
      );
      // in the room once the right PIN is in, gone when it hangs up
      const tile = ana.page.getByRole('group', { name: 'sipp', exact: true });
      await tile.getByRole('img', { name: 'Phone' }).waitFor({ timeout: 60_000 });
      await tile.waitFor({ state: 'detached', timeout: 30_000 });
      const r = await sipp;
      assert.equal(r.code, 0, r.out);
      assert.ok(server.output().split('\n').filter((l) => l.includes('a caller left the PIN menu')).length === 0, 'the caller was not sent away');
      await ana.context.close();
    } finally {
      await server.stop();
    }
  });

  test('the PIN typed on baresip\'s keypad (RFC 4733) joins the room the PIN names', { timeout: 150_000 }, async () => {
    const server = await startServer();
    const ctrlPort = await freeTcpPort();
    let caller: Baresip | undefined;
    try {
      const ana = await newParticipant(talking.browser, 'Ana');
      await joinThroughUi(ana, server.baseUrl, 'Teclado');
      const pin = await pinOf(server, 'Teclado');
      // a dialled number names no room: the PIN menu answers, then the keys
      caller = callWithBaresip(path.join(dir, 'keypad'), `sip:+34910000000@127.0.0.1:${server.sipPort}`, wav, ctrlPort);
      await waitUntil('the call to be answered', async () => caller!.output(), (o) => /Call established/.test(o), 30_000);
      await sleep(1500);
      await caller.sendDigits(`${pin}#`);
      await seesTheCaller(ana);
      await caller.quit();
      await ana.page.getByRole('group', { name: PHONE, exact: true }).waitFor({ state: 'detached', timeout: 20_000 });
      await ana.context.close();
    } finally {
      await caller?.quit();
      await server.stop();
    }
  });

  test('Invite by phone: the gateway calls out through the trunk (baresip answers); the callee is heard and hears the room', { timeout: 180_000 }, async () => {
    const bPort = await freeUdpPort();
    const metricsPort = await freeTcpPort();
    const server = await startServer({ TERTULIA_SIP_TRUNK_URI: `sip:127.0.0.1:${bPort}`, TERTULIA_SIP_DIAL_OUT_ANONYMOUS: 'true', TERTULIA_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
    const callee = answerWithBaresip(path.join(dir, 'callee'), '600111234', bPort, wav);
    try {
      const ana = await newParticipant(talking.browser, 'Ana');
      await joinThroughUi(ana, server.baseUrl, 'Saliente');
      await ana.page.getByRole('button', { name: 'Participants' }).click();
      await ana.page.getByRole('region', { name: 'Invite by phone' }).getByRole('textbox', { name: 'Phone number or SIP address' }).fill('600111234');
      await ana.page.getByRole('button', { name: 'Call', exact: true }).click();
      // the callee is a phone participant named by the number's last digits, heard in the room
      const name = 'Phone …1234';
      await waitUntil('Ana to list the callee', () => rosterOf(ana.page), (r) => r.some((x) => x.displayName === name && x.phone === true), 60_000);
      await waitUntil('the call in /metrics', () => sipCalls(metricsPort, 'out'), (c) => c.active === 1 && c.total === 1, 10_000);
      const audio = await waitUntil('Ana to hear the callee', () => remoteAudio(ana.page), (a) => (a[name]?.energy ?? 0) > 0.01 && (a[name]?.packets ?? 0) > 50, 45_000);
      assert.ok(audio[name]!.energy > 0.01);
      // and the callee hears Ana's 320 Hz
      const from = callee.heard().length;
      await waitUntil('the callee to hear three seconds', async () => callee.heard().length, (n) => n >= from + 24_000, 30_000);
      const heard = callee.heard().subarray(from, from + 24_000);
      assert.ok(tonePower(heard, 320, 8000) > 1e-4, `Ana's 320 Hz in what the callee heard: ${tonePower(heard, 320, 8000)}\n${callee.output().slice(-1500)}`);
      // the callee hangs up: gone from the room
      await callee.quit();
      await ana.page.getByRole('group', { name, exact: true }).waitFor({ state: 'detached', timeout: 20_000 });
      await ana.context.close();
    } finally {
      await callee.quit();
      await server.stop();
    }
  });

  test('the sip part in its own process: killed mid-call, the caller leaves the room and the meeting goes on', { timeout: 240_000 }, async () => {
    let nats: NatsServer | undefined;
    let main: RunningServer | undefined;
    let gateway: RunningServer | undefined;
    try {
      nats = await startNatsServer();
      main = await startServer({ TERTULIA_NATS_URL: nats.url, TERTULIA_PARTS: 'signal,focus,bridge' });
      gateway = await startServer({ TERTULIA_NATS_URL: nats.url, TERTULIA_PARTS: 'sip' });
      assert.ok(gateway.sipPort, `the sip process names its SIP port:\n${gateway.output()}`);
      const ana = await newParticipant(talking.browser, 'Ana');
      const ben = await newParticipant(talking.browser, 'Ben');
      await joinThroughUi(ana, main.baseUrl, 'Cortada');
      await joinThroughUi(ben, main.baseUrl, 'Cortada');
      phone = callWithBaresip(path.join(dir, 'two'), `sip:Cortada@127.0.0.1:${gateway.sipPort}`, wav);
      for (const p of [ana, ben]) await seesTheCaller(p);

      gateway.process.kill('SIGKILL');
      for (const p of [ana, ben]) await p.page.getByRole('group', { name: PHONE, exact: true }).waitFor({ state: 'detached', timeout: 60_000 });
      // Ana and Ben still hear each other
      const before = await remoteStats(ana.page);
      await waitUntil('Ana to keep receiving Ben', () => remoteStats(ana.page), (s) => (s.Ben?.audioPackets ?? 0) > (before.Ben?.audioPackets ?? 0) + 50, 20_000);
      assert.ok(main.alive(), 'the meeting server is up');
      await phone.quit();
      await ana.context.close();
      await ben.context.close();
    } finally {
      await gateway?.stop();
      await main?.stop();
      await nats?.stop();
    }
  });
});
