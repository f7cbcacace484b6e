// End to end: "Invite by phone" in the web app. The server runs over a real NATS server, and this test process
// is the sip part on that bus (the dial-out service of src/sip/ with sipp as the SIP trunk). Ana (moderator)
// finds the field in the participants pane, Ben (participant) does not; a bad number is refused in the page; a
// call with no trunk says so; a busy number is a notice; a ringing call is stopped from the list (CANCEL).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NatsBus } from '../../src/bus/nats-bus.ts';
import { createLogger } from '../../src/log.ts';
import { startDialOut } from '../../src/sip/dial-out-service.ts';
import { joinThroughUi, newParticipant, type Participant } from '../helpers/browser.ts';
import { useServerAndBrowser } from '../helpers/e2e.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { hasSipp, refusedScenario, sippUas, SIPP_PASSWORD, startSipFront, TEST_OFFER } from '../helpers/sipp.ts';


describe('Invite by phone', { skip: hasSipp ? false : 'sipp (sip-tester) not installed' }, () => {
  let nats: NatsServer;
  // everyone is anonymous in open mode: allowed here
  // the server without its own sip part: this test's dial-out service (sipp as the trunk) is the one on the bus
  const env: Record<string, string> = { TERTULIA_SIP_DIAL_OUT_ANONYMOUS: 'true', TERTULIA_PARTS: 'signal,focus,bridge' };
  before(async () => {
    nats = await startNatsServer();
    env.TERTULIA_NATS_URL = nats.url;
  });
  const suite = useServerAndBrowser(env);
  let bus: NatsBus;
  let front: Awaited<ReturnType<typeof startSipFront>>;
  let service: { close(): Promise<void> } | null = null;
  let ana: Participant;
  let ben: Participant;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'phone-invite-e2e-'));

  before(async () => {
    bus = await NatsBus.connect({ url: nats.url, log: createLogger('silent'), name: 'test sip part' });
    front = await startSipFront();
    ana = await newParticipant(suite.browser, 'Ana');
    ben = await newParticipant(suite.browser, 'Ben');
    await joinThroughUi(ana, suite.server.baseUrl, 'Phones');
    await joinThroughUi(ben, suite.server.baseUrl, 'Phones');
    await ana.page.getByRole('button', { name: 'Participants' }).click();
    await ben.page.getByRole('button', { name: 'Participants' }).click();
  });
  after(async () => {
    await service?.close();
    await front?.close();
    await bus?.close();
    await nats?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function serve(trunkPort: number) {
    await service?.close();
    service = await startDialOut({
      bus,
      config: { sipTrunkUri: `sip:127.0.0.1:${trunkPort}`, sipTrunkProxy: '', sipTrunkUser: 'gw', sipTrunkPassword: SIPP_PASSWORD, sipTrunkRegister: false, sipTrunkFrom: '' },
      server: front.server,
      dialogs: front.dialogs,
      local: front.local,
      log: createLogger('silent'),
      media: { offer: async () => TEST_OFFER, answered: () => {}, failed: () => {} },
    });
  }

  const field = (p: Participant) => p.page.getByRole('region', { name: 'Invite by phone' }).getByRole('textbox', { name: 'Phone number or SIP address' });

  test('only the moderator has the field; a bad number is refused in the page', async () => {
    // (the pane, then the field once the page knows Ana moderates: a loaded CI machine takes its time)
    await ana.page.getByRole('complementary', { name: 'Participants' }).waitFor({ timeout: 30_000 });
    await field(ana).waitFor({ timeout: 30_000 });
    await ben.page.getByRole('complementary', { name: 'Participants' }).waitFor({ timeout: 30_000 });
    assert.equal(await ben.page.getByRole('region', { name: 'Invite by phone' }).count(), 0);
    await field(ana).fill('call me');
    await ana.page.getByRole('button', { name: 'Call', exact: true }).click();
    await ana.page.getByRole('alert').getByText('Enter a phone number (digits, +, *, #) or a SIP address (sip:user@host).').waitFor({ timeout: 5000 });
  });

  test('no SIP part on the bus yet: the moderator is told calling phones is not set up', async () => {
    await field(ana).fill('+34 600 111 222');
    await ana.page.getByRole('button', { name: 'Call', exact: true }).click();
    await ana.page.getByRole('alert').getByText('Calling phones is not set up on this server.').waitFor({ timeout: 20_000 });
  });

  test('a busy number: "Could not reach …: busy"', { timeout: 120_000 }, async () => {
    const uas = await sippUas(refusedScenario(tmp, '486'));
    await serve(uas.port);
    await field(ana).fill('+34 600 111 222');
    await ana.page.getByRole('button', { name: 'Call', exact: true }).click();
    await ana.page.getByRole('status').getByText('Could not reach +34600111222: busy').first().waitFor({ timeout: 60_000 });
    assert.equal((await uas.done).code, 0);
  });

  test('a ringing call is stopped from the list: CANCEL, "cancelled"', { timeout: 120_000 }, async () => {
    const uas = await sippUas('dial-out-no-answer.xml');
    await serve(uas.port);
    await field(ana).fill('sip:carla@example.org');
    await ana.page.getByRole('button', { name: 'Call', exact: true }).click();
    await ana.page.getByRole('status').getByText('Calling sip:carla@example.org…').waitFor({ timeout: 20_000 });
    await ana.page.getByRole('button', { name: 'Stop calling sip:carla@example.org' }).click();
    await ana.page.getByRole('status').getByText('Could not reach sip:carla@example.org: cancelled').first().waitFor({ timeout: 60_000 });
    const sipp = await uas.done;
    assert.equal(sipp.code, 0, sipp.out);
  });
});
