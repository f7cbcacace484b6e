// Dial-out through a real SIP proxy and registrar: Debian's kamailio, configured by this test (registrar, digest
// authentication of every REGISTER and INVITE with plain-text passwords, record-routing), on 127.0.0.1. The
// gateway registers through it with digest (401), a baresip that auto-answers registers as 1001, and the
// gateway dials 1001: kamailio challenges the INVITE (407), relays it to baresip, baresip answers with its SDP,
// our ACK and later our BYE reach it through kamailio's route. Then the gateway unregisters.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/log.ts';
import { DialOut } from '../../src/sip/dial-out.ts';
import type { Dialogs } from '../../src/sip/dialogs.ts';
import { Registration } from '../../src/sip/registration.ts';
import type { LocalAddress } from '../../src/sip/requests.ts';
import type { SipServer } from '../../src/sip/sip-server.ts';
import { openTrunk, type Trunk } from '../../src/sip/trunk.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { startSipFront } from '../helpers/sipp.ts';

const has = (cmd: string, arg: string) => new Promise<boolean>((r) => execFile(cmd, [arg], (e) => r(!(e && (e as NodeJS.ErrnoException).code === 'ENOENT'))));
const ready = (await has('kamailio', '-v')) && (await has('baresip', '-h'));
const GW_PASSWORD = 'gw-s3cret';
const CALLEE_PASSWORD = 'callee-s3cret';
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n';

function kamailioConfig(port: number): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=2
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:${port}
alias="127.0.0.1:${port}"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "auth.so"
modparam("usrloc", "db_mode", 0)

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    sl_send_reply("404", "Not here"); exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  if ($fU == "gw") { $var(pw) = "${GW_PASSWORD}"; }
  else if ($fU == "1001") { $var(pw) = "${CALLEE_PASSWORD}"; }
  else { sl_send_reply("403", "Forbidden"); exit; }
  if (!pv_auth_check("tertulia.test", "$var(pw)", "0", "1")) { auth_challenge("tertulia.test", "1"); exit; }
  consume_credentials();
  xlog("L_INFO", "authorised $rm from $fU expires=$hdr(Expires)\\n");
  if (is_method("REGISTER")) { if (!save("location")) { sl_reply_error(); } exit; }
  if (is_method("INVITE")) {
    record_route();
    if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
    t_relay(); exit;
  }
  sl_send_reply("405", "Method Not Allowed");
}
`;
}

function run(cmd: string, args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  return { child, out: () => out };
}

async function waitFor(what: string, ok: () => boolean, out: () => string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${out().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(p: { child: ChildProcess } | undefined, signal: NodeJS.Signals): Promise<void> {
  const child = p?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

describe('SIP trunk through kamailio: registration and a call to a registered baresip', { skip: ready ? false : 'kamailio or baresip not installed' }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sip-kamailio-'));
  let kamailio: ReturnType<typeof run> | undefined;
  let baresip: ReturnType<typeof run> | undefined;
  let front: Awaited<ReturnType<typeof startSipFront>>;
  let server: SipServer;
  let local: LocalAddress;
  let dialogs: Dialogs;
  let trunk: Trunk;
  let registration: Registration;

  before(async () => {
    const kPort = await freeUdpPort();
    writeFileSync(path.join(dir, 'kamailio.cfg'), kamailioConfig(kPort));
    kamailio = run('kamailio', ['-DD', '-E', '-f', path.join(dir, 'kamailio.cfg'), '-w', dir, '-P', path.join(dir, 'kamailio.pid'), '-Y', dir]);
    front = await startSipFront();
    ({ server, local, dialogs } = front);
    trunk = await openTrunk({ uri: `sip:127.0.0.1:${kPort}`, proxy: '', user: 'gw', password: GW_PASSWORD, register: true, from: '' });
    // baresip, registered as 1001, answers every call at once
    const bPort = await freeUdpPort();
    const cfg = path.join(dir, 'baresip');
    mkdirSync(cfg);
    writeFileSync(
      path.join(cfg, 'config'),
      [
        'poll_method poll',
        `sip_listen 127.0.0.1:${bPort}`,
        'module_path /usr/lib/baresip/modules',
        'module g711.so',
        'module aubridge.so',
        'module_app account.so',
        'module_app menu.so',
        // media is not this test's: baresip's source is its own player (aubridge), nothing needs a sound card
        'audio_source aubridge,nowhere',
        'audio_player aubridge,nowhere',
        'audio_alert aubridge,nowhere',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(cfg, 'accounts'), `<sip:1001@127.0.0.1:${kPort}>;auth_pass=${CALLEE_PASSWORD};answermode=auto;regint=600\n`);
    writeFileSync(path.join(cfg, 'contacts'), '');
    baresip = run('baresip', ['-f', cfg]);
  });

  after(async () => {
    await front?.close();
    await stop(baresip, 'SIGINT');
    await stop(kamailio, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const logs = () => `--- kamailio\n${kamailio?.out().slice(-4000)}\n--- baresip\n${baresip?.out().slice(-4000)}`;

  test('the gateway registers through kamailio with digest', { timeout: 120_000 }, async () => {
    registration = new Registration({ trunk, transactions: dialogs.transactions, path: server.udpPath(trunk.address, trunk.port), local, log: createLogger('silent'), retryMs: 500 });
    registration.start();
    await waitFor('the registration', () => registration.state === 'registered', logs);
    await waitFor('kamailio to log the authorised REGISTER', () => /authorised REGISTER from gw expires=3600/.test(kamailio!.out()), logs);
  });

  test('a call to 1001 (baresip, registered there): 407 answered, 200 with its SDP, ACK, our BYE', { timeout: 120_000 }, async () => {
    await waitFor('baresip to register', () => /1001@127\.0\.0\.1.*200 OK/.test(baresip!.out()), logs);
    const progress: number[] = [];
    const call = new DialOut({ trunk, dialogs, path: server.udpPath(trunk.address, trunk.port), local, target: '1001', offer: OFFER, onProgress: (s) => progress.push(s) });
    const result = await call.result;
    assert.ok(result.ok, `${JSON.stringify(result)}\n${logs()}`);
    await waitFor('kamailio to log the authorised INVITE', () => /authorised INVITE from gw/.test(kamailio!.out()), logs);
    assert.match(result.answer, /^v=0\r?\n/);
    assert.match(result.answer, /m=audio \d+ RTP\/AVP (0|8)\b/, 'baresip answered with G.711');
    assert.equal(result.dialog.state, 'confirmed');
    await waitFor('baresip to establish the call (our ACK reached it)', () => /established/i.test(baresip!.out()), logs);
    const ended = new Promise<string>((r) => (result.dialog.onEnded = r));
    dialogs.hangUp(result.dialog);
    assert.equal(await ended, 'hangup');
    await waitFor('baresip to see our BYE', () => /terminated|closed/i.test(baresip!.out()), logs);
    assert.equal(dialogs.size, 0);
  });

  test('the gateway unregisters on stop', { timeout: 120_000 }, async () => {
    await registration.stop();
    assert.equal(registration.state, 'stopped');
    assert.equal(registration.counters.failed, 0);
    await waitFor('kamailio to log the unregistration', () => /authorised REGISTER from gw expires=0/.test(kamailio!.out()), logs);
  });
});
