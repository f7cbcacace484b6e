// Dial-out and registration (src/sip/dial-out.ts, registration.ts, client-transactions.ts) against sipp acting as
// the trunk: a 401 digest challenge sipp checks with the password, then 180, 200 with SDP, our ACK and the far
// end's BYE; a 407 (SHA-256) and our BYE; 486, 404 and 603 as plain reasons; ringing with no answer ends in
// CANCEL and 487; a registrar that challenges and grants 2 s sees the refresh and the unregistration.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/log.ts';
import { DialOut, type DialOutResult } from '../../src/sip/dial-out.ts';
import type { Dialogs } from '../../src/sip/dialogs.ts';
import { Registration } from '../../src/sip/registration.ts';
import type { LocalAddress } from '../../src/sip/requests.ts';
import type { SipServer } from '../../src/sip/sip-server.ts';
import { openTrunk, type Trunk } from '../../src/sip/trunk.ts';
import { hasSipp, refusedScenario, sippUas, SIPP_PASSWORD, startSipFront, TEST_OFFER } from '../helpers/sipp.ts';

const PASSWORD = SIPP_PASSWORD;
const OFFER = TEST_OFFER;

describe('SIP dial-out through a trunk (sipp as the trunk)', { skip: hasSipp ? false : 'sipp (sip-tester) not installed' }, () => {
  let front: Awaited<ReturnType<typeof startSipFront>>;
  let server: SipServer;
  let local: LocalAddress;
  let dialogs: Dialogs;
  const ended: string[] = [];
  before(async () => {
    front = await startSipFront();
    ({ server, local, dialogs } = front);
  });
  after(() => front.close());

  const trunkAt = (port: number, extra: { proxy?: string } = {}): Promise<Trunk> =>
    openTrunk({ uri: `sip:127.0.0.1:${port}`, proxy: extra.proxy ?? '', user: 'gw', password: PASSWORD, register: false, from: '+34910000000' });

  async function dial(scenario: string, keys: Record<string, string> = {}, then?: (r: DialOutResult, call: DialOut) => void, noAnswerMs?: number) {
    const uas = await sippUas(scenario, keys);
    const trunk = await trunkAt(uas.port);
    const progress: number[] = [];
    const call = new DialOut({ trunk, dialogs, path: server.udpPath(trunk.address, trunk.port), local, target: '+34600111222', offer: OFFER, noAnswerMs, onProgress: (s) => progress.push(s) });
    const result = await call.result;
    then?.(result, call);
    const sipp = await uas.done;
    return { result, sipp, progress };
  }

  test('401 digest challenge, answered once; 180, 200, ACK; the far end hangs up', { timeout: 90_000 }, async () => {
    ended.length = 0;
    const { result, sipp, progress } = await dial('dial-out-auth.xml', {}, (r) => {
      if (r.ok) r.dialog.onEnded = (why) => ended.push(why);
    });
    assert.equal(sipp.code, 0, sipp.out);
    assert.ok(result.ok, JSON.stringify(result));
    assert.match(result.answer, /^v=0\r\n[\s\S]*m=audio \d+ RTP\/AVP 0/);
    assert.equal(result.dialog.direction, 'out');
    assert.deepEqual(progress, [180]);
    assert.deepEqual(ended, ['bye']);
    assert.equal(dialogs.size, 0);
  });

  test('a wrong password: the digest answer is refused (403), reported as unauthorized', { timeout: 90_000 }, async () => {
    const { result, sipp } = await dial('dial-out-auth.xml', { password: 'not-the-password' });
    assert.equal(sipp.code, 0, sipp.out);
    assert.deepEqual(result, { ok: false, reason: 'unauthorized', status: 403 });
  });

  test('407 proxy challenge (SHA-256 chosen); the gateway hangs up with BYE', { timeout: 90_000 }, async () => {
    ended.length = 0;
    const { result, sipp } = await dial('dial-out-proxy-auth.xml', {}, (r) => {
      if (!r.ok) return;
      r.dialog.onEnded = (why) => ended.push(why);
      dialogs.hangUp(r.dialog);
    });
    assert.equal(sipp.code, 0, sipp.out);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(ended, ['hangup']);
    assert.equal(dialogs.size, 0);
  });

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sip-dial-out-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  for (const [status, reason] of [
    ['486', 'busy'],
    ['600', 'busy'],
    ['404', 'not-found'],
    ['603', 'declined'],
    ['480', 'no-answer'],
    ['500', 'failed'],
  ] as const) {
    test(`${status} from the far end: "${reason}", the final response ACKed`, { timeout: 90_000 }, async () => {
      const acks = dialogs.transactions.counters.acks;
      const { result, sipp } = await dial(refusedScenario(tmp, status));
      assert.equal(sipp.code, 0, sipp.out);
      assert.deepEqual(result, { ok: false, reason, status: Number(status) });
      assert.ok(dialogs.transactions.counters.acks > acks);
    });
  }

  test('no answer: it rings until the gateway gives up with CANCEL; 487 ACKed: "no-answer"', { timeout: 90_000 }, async () => {
    const { result, sipp, progress } = await dial('dial-out-no-answer.xml', {}, undefined, 1500);
    assert.equal(sipp.code, 0, sipp.out);
    assert.deepEqual(progress, [180]);
    assert.deepEqual(result, { ok: false, reason: 'no-answer', status: 487 });
  });

  test('the moderator gives up while it rings: CANCEL, "cancelled"', { timeout: 90_000 }, async () => {
    const uas = await sippUas('dial-out-no-answer.xml');
    const trunk = await trunkAt(uas.port);
    const call = new DialOut({ trunk, dialogs, path: server.udpPath(trunk.address, trunk.port), local, target: 'sip:someone@example.org', offer: OFFER, onProgress: () => call.cancel() });
    assert.deepEqual(await call.result, { ok: false, reason: 'cancelled', status: 487 });
    const sipp = await uas.done;
    assert.equal(sipp.code, 0, sipp.out);
  });

  test('REGISTER with digest, refreshed before the granted 2 s expire, unregistered on stop', { timeout: 90_000 }, async () => {
    const uas = await sippUas('register.xml');
    const trunk = await trunkAt(uas.port);
    const states: string[] = [];
    const reg = new Registration({
      trunk,
      transactions: dialogs.transactions,
      path: server.udpPath(trunk.address, trunk.port),
      local,
      log: createLogger('silent'),
      expires: 60,
      onState: (s, d) => states.push(d.expires === undefined ? s : `${s} ${d.expires}`),
    });
    reg.start();
    const deadline = Date.now() + 60_000;
    while (reg.counters.registered < 3 && reg.counters.failed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(reg.counters.failed, 0, states.join(', '));
    assert.ok(reg.counters.registered >= 3, states.join(', '));
    assert.ok(states.includes('registered 2'), 'the expiry the registrar granted is used');
    await reg.stop();
    assert.equal(reg.state, 'stopped');
    const sipp = await uas.done;
    assert.equal(sipp.code, 0, sipp.out);
  });
});
