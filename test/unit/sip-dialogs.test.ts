// Calls as SIP dialogs (src/sip/dialogs.ts) against sipp, over UDP and TCP: the gateway rings and answers with
// SDP, its 200 is sent again until a late ACK, the caller hangs up (BYE); the gateway hangs up (its BYE,
// answered); the caller cancels while it rings (200 to the CANCEL, 487 to the INVITE, ACKed). Every dialog is
// gone afterwards and says why it ended.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log.ts';
import { parseUri } from '../../src/sip/headers.ts';
import { Dialogs } from '../../src/sip/dialogs.ts';
import { SipServer } from '../../src/sip/sip-server.ts';

const scenarios = fileURLToPath(new URL('../sip/', import.meta.url));
const hasSipp = await new Promise<boolean>((r) => execFile('sipp', ['-v'], (e) => r(!(e && (e as NodeJS.ErrnoException).code === 'ENOENT'))));

function sipp(scenario: string, port: number, transport: 'u1' | 't1'): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'sipp',
      ['-sf', path.join(scenarios, scenario), '-m', '1', '-t', transport, '-i', '127.0.0.1', '-p', '0', '-s', 'room', '-timeout', '40s', '-timeout_error', '-nostdin', `127.0.0.1:${port}`],
      { timeout: 60_000, cwd: os.tmpdir() },
      (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}`.slice(-3000) }),
    );
  });
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

describe('SIP calls as dialogs', { skip: hasSipp ? false : 'sipp (sip-tester) not installed' }, () => {
  let server: SipServer;
  let port = 0;
  const ended: string[] = [];
  const dialogs = new Dialogs('sip:gateway@127.0.0.1:5060');
  before(async () => {
    server = new SipServer({
      address: '127.0.0.1',
      port: 0,
      log: createLogger('silent'),
      onInvite: (req, respond, from) => {
        const d = dialogs.create(req, respond, from);
        if (!d) return;
        d.onEnded = (reason) => ended.push(reason);
        const user = parseUri(req.uri)?.user;
        dialogs.provisional(d);
        if (user === 'ringing') return; // rings until cancelled
        dialogs.answer(d, SDP);
        if (user === 'hangup') setTimeout(() => dialogs.hangUp(d), 1500);
      },
      onDialogRequest: (req, respond) => dialogs.handle(req, respond),
      onResponse: (res) => dialogs.handleResponse(res),
    });
    port = await server.listen();
  });
  after(async () => {
    dialogs.closeAll();
    await server.close();
  });

  for (const transport of ['u1', 't1'] as const) {
    const over = transport === 'u1' ? 'UDP' : 'TCP';
    test(`over ${over}: answered, ${transport === 'u1' ? 'the 200 sent again until a late ACK' : 'ACKed'}, the caller hangs up`, { timeout: 60_000 }, async () => {
      const resent = dialogs.counters.answersResent;
      ended.length = 0;
      const r = await sipp(transport === 'u1' ? 'call-bye.xml' : 'call-bye-prompt-ack.xml', port, transport);
      assert.equal(r.code, 0, r.out);
      if (transport === 'u1') assert.ok(dialogs.counters.answersResent > resent, 'the 200 came again before the ACK');
      assert.deepEqual(ended, ['bye']);
      assert.equal(dialogs.size, 0);
    });
    test(`over ${over}: the gateway hangs up with a BYE the caller answers`, { timeout: 60_000 }, async () => {
      ended.length = 0;
      const r = await sipp('call-gateway-hangs-up.xml', port, transport);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(ended, ['hangup']);
      assert.equal(dialogs.size, 0);
    });
    test(`over ${over}: cancelled while ringing: 200 to the CANCEL, 487 to the INVITE`, { timeout: 60_000 }, async () => {
      ended.length = 0;
      const r = await sipp('call-cancel.xml', port, transport);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(ended, ['cancel']);
      assert.equal(dialogs.size, 0);
    });
  }
});

describe('session timers (RFC 4028) on calls to the gateway', { skip: hasSipp ? false : 'sipp (sip-tester) not installed' }, () => {
  let server: SipServer;
  let port = 0;
  const ended: string[] = [];
  // a Min-SE of 2 s instead of 90, so the sessions expire within the test
  const dialogs = new Dialogs('sip:gateway@127.0.0.1:5060', undefined, { minSessionExpires: 2 });
  before(async () => {
    server = new SipServer({
      address: '127.0.0.1',
      port: 0,
      log: createLogger('silent'),
      onInvite: (req, respond, from) => {
        if (!dialogs.admit(req, respond)) return;
        const d = dialogs.create(req, respond, from);
        if (!d) return;
        d.onEnded = (reason) => ended.push(reason);
        d.onReinvite = () => SDP;
        dialogs.answer(d, SDP);
      },
      onDialogRequest: (req, respond) => dialogs.handle(req, respond),
      onResponse: (res) => dialogs.handleResponse(res),
    });
    port = await server.listen();
  });
  after(async () => {
    dialogs.closeAll();
    await server.close();
  });

  test('the caller refreshes with UPDATE: our 200s carry Session-Expires and Require: timer; the call lasts', { timeout: 60_000 }, async () => {
    ended.length = 0;
    const r = await sipp('call-timer-refresh.xml', port, 'u1');
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(ended, ['bye'], 'ended by the caller, not expired');
  });

  test('the caller does not refresh: the gateway ends the session with a BYE', { timeout: 60_000 }, async () => {
    ended.length = 0;
    const r = await sipp('call-timer-expires.xml', port, 'u1');
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(ended, ['session-expired']);
  });

  test('refresher=uas: the gateway refreshes with an UPDATE at half the interval', { timeout: 60_000 }, async () => {
    ended.length = 0;
    const r = await sipp('call-timer-uas.xml', port, 'u1');
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(ended, ['bye']);
  });

  test('an interval below our Min-SE: 422 with Min-SE, no dialog', { timeout: 60_000 }, async () => {
    const r = await sipp('call-timer-too-small.xml', port, 'u1');
    assert.equal(r.code, 0, r.out);
    assert.equal(dialogs.size, 0);
  });
});
