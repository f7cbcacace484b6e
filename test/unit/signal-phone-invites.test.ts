// "Invite by phone" end to end below the browser: a moderator's `invite-by-phone` over real HTTPS + WebSocket,
// signal's `sip.dial` on the bus, the sip part's dial-out service (dial-out-service.ts) calling out through a
// trunk that is sipp. Answered: the moderator is told, the call's media gets the dialog and the answer SDP.
// Busy: told "busy". Ringing: the moderator stops it (CANCEL). A participant is refused, a bad number too, and a
// server without a sip part or without a trunk says so. Anonymous moderators only with sipDialOutAnonymous.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/log.ts';
import { startDialOut } from '../../src/sip/dial-out-service.ts';
import type { Dialog } from '../../src/sip/dialogs.ts';
import { startTestSignal, type TestSignal } from '../helpers/signal-client.ts';
import { hasSipp, refusedScenario, sippUas, SIPP_PASSWORD, startSipFront, TEST_OFFER } from '../helpers/sipp.ts';


describe('Invite by phone', { skip: hasSipp ? false : 'sipp (sip-tester) not installed' }, () => {
  let s: TestSignal;
  let front: Awaited<ReturnType<typeof startSipFront>>;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'phone-invites-'));
  let service: { close(): Promise<void> } | null = null;
  const media: { answered: { room: string; dialog: Dialog; answer: string }[]; failed: string[]; offers: string[] } = { answered: [], failed: [], offers: [] };

  before(async () => {
    s = await startTestSignal({ sipDialOutAnonymous: true });
    front = await startSipFront();
  });
  afterEach(async () => {
    await service?.close();
    service = null;
  });
  after(async () => {
    await front.close();
    await s.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** The sip part's dial-out, its trunk at `trunkPort` (0: no trunk configured). */
  async function serve(trunkPort: number) {
    service = await startDialOut({
      bus: s.bus,
      config: { sipTrunkUri: trunkPort ? `sip:127.0.0.1:${trunkPort}` : '', sipTrunkProxy: '', sipTrunkUser: 'gw', sipTrunkPassword: SIPP_PASSWORD, sipTrunkRegister: false, sipTrunkFrom: '' },
      server: front.server,
      dialogs: front.dialogs,
      local: front.local,
      log: createLogger('silent'),
      media: {
        offer: async (room) => {
          media.offers.push(room);
          return TEST_OFFER;
        },
        answered: (room, _id, dialog, answer) => media.answered.push({ room, dialog, answer }),
        failed: (room) => media.failed.push(room),
      },
    });
  }

  test('by default a moderator who did not sign in may not: calls may cost money', async () => {
    const strict = await startTestSignal();
    try {
      const mod = strict.client();
      const joined = await mod.join('phones-strict', 'Mod');
      assert.equal(joined.phoneInvites, undefined, 'its joined says it may not (the page offers no form)');
      assert.equal((await mod.expectError({ type: 'invite-by-phone', target: '1001' })).code, 'dial-out-sign-in');
      assert.ok(await mod.nothingLike((m) => m.type === 'phone-invite'));
      mod.close();
    } finally {
      await strict.stop();
    }
  });

  test('no sip part on the bus: the moderator is told calling phones is not set up', async () => {
    const mod = s.client();
    await mod.join('phones-none', 'Mod');
    await mod.send({ type: 'invite-by-phone', target: '+34 600 111 222' });
    assert.equal((await mod.nextOfType('error')).code, 'dial-out-unavailable');
    const invite = await mod.next((m) => m.type === 'phone-invite' && m.state === 'failed');
    assert.equal(invite.target, '+34600111222', 'spaces dropped');
    mod.close();
  });

  test('a sip part without a trunk: the same clear error', async () => {
    await serve(0);
    const mod = s.client();
    await mod.join('phones-no-trunk', 'Mod');
    await mod.send({ type: 'invite-by-phone', target: '1001' });
    assert.equal((await mod.nextOfType('error')).code, 'dial-out-unavailable');
    mod.close();
  });

  test('a participant may not; a bad number or address is refused with why', async () => {
    await serve(0);
    const mod = s.client();
    assert.equal((await mod.join('phones-rules', 'Mod')).phoneInvites, true, 'sipDialOutAnonymous: its joined says it may');
    const guest = s.client();
    await guest.join('phones-rules', 'Guest');
    assert.equal((await guest.expectError({ type: 'invite-by-phone', target: '1001' })).code, 'not-moderator');
    for (const target of ['12ab', '', 'sip:', 'sip:a@b c', 'tel:123', 'x'.repeat(300), '1'.repeat(40), 'sip:<a@b>', 'sip:a@b\r\nVia: x']) {
      const e = await mod.expectError({ type: 'invite-by-phone', target });
      assert.equal(e.code, 'bad-message', target);
    }
    assert.ok(await mod.nothingLike((m) => m.type === 'phone-invite'));
    mod.close();
    guest.close();
  });

  test('answered through the trunk (digest challenge answered): the moderator is told, the media gets the dialog and the answer', { timeout: 90_000 }, async () => {
    const uas = await sippUas('dial-out-auth.xml');
    await serve(uas.port);
    const mod = s.client();
    await mod.join('Phones-Answer', 'Mod');
    await mod.send({ type: 'invite-by-phone', target: '+34600111222' });
    const calling = await mod.next((m) => m.type === 'phone-invite' && m.state === 'calling');
    assert.match(calling.id, /^dial-[0-9a-f]{16}$/);
    const answered = await mod.next((m) => m.type === 'phone-invite' && m.id === calling.id && m.state !== 'calling', 60_000);
    assert.equal(answered.state, 'answered');
    const leg = media.answered.at(-1)!;
    assert.equal(leg.room, 'Phones-Answer');
    assert.match(leg.answer, /^v=0/);
    assert.equal(leg.dialog.direction, 'out');
    const sipp = await uas.done; // the far end hangs up
    assert.equal(sipp.code, 0, sipp.out);
    mod.close();
  });

  test('busy: the moderator is told "busy"', { timeout: 90_000 }, async () => {
    const uas = await sippUas(refusedScenario(tmp, '486'));
    await serve(uas.port);
    const mod = s.client();
    await mod.join('phones-busy', 'Mod');
    await mod.send({ type: 'invite-by-phone', target: 'sip:ana@example.org' });
    const failed = await mod.next((m) => m.type === 'phone-invite' && m.state === 'failed', 60_000);
    assert.equal(failed.reason, 'busy');
    assert.equal((await uas.done).code, 0);
    mod.close();
  });

  test('the moderator stops a call that rings: CANCEL, told "cancelled"', { timeout: 90_000 }, async () => {
    const uas = await sippUas('dial-out-no-answer.xml');
    await serve(uas.port);
    const mod = s.client();
    await mod.join('phones-cancel', 'Mod');
    await mod.send({ type: 'invite-by-phone', target: '*21#' });
    const calling = await mod.next((m) => m.type === 'phone-invite' && m.state === 'calling');
    // the far end has rung once sipp's scenario got the INVITE; cancelling before is fine too (sent after the 180)
    await mod.send({ type: 'cancel-phone-invite', id: calling.id });
    const ended = await mod.next((m) => m.type === 'phone-invite' && m.state === 'failed', 60_000);
    assert.equal(ended.reason, 'cancelled');
    const sipp = await uas.done;
    assert.equal(sipp.code, 0, sipp.out);
    assert.equal((await mod.expectError({ type: 'cancel-phone-invite', id: calling.id })).code, 'not-found');
    mod.close();
  });
});
