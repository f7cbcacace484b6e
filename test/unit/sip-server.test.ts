// The SIP gateway's signalling front (src/sip/sip-server.ts) against a real SIP peer, sipp (Debian's
// sip-tester), over UDP and TCP: OPTIONS, an INVITE refused (no call handling in this part yet) with its final
// response retransmitted until the ACK, requests outside any call. Then a burst of malformed requests from a
// raw socket: each that can be answered gets a 400 with the reason, the rest are dropped, and the server still
// answers afterwards. SIP over TLS (Debian's sipp has no TLS) with Node's TLS client and an openssl certificate.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import tls from 'node:tls';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log.ts';
import { SipServer } from '../../src/sip/sip-server.ts';

const scenarios = fileURLToPath(new URL('../sip/', import.meta.url));
const hasSipp = await new Promise<boolean>((r) => execFile('sipp', ['-v'], (e) => r(e === null || (e as { code?: number }).code !== 127 && (e as NodeJS.ErrnoException).code !== 'ENOENT')));

/** Runs one sipp scenario for one call; resolves with its exit code and output (0: every step as written). */
function sipp(scenario: string, port: number, transport: 'u1' | 't1'): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'sipp',
      ['-sf', path.join(scenarios, scenario), '-m', '1', '-t', transport, '-i', '127.0.0.1', '-p', '0', '-s', 'room', '-timeout', '30s', '-timeout_error', '-nostdin', '-trace_err', `127.0.0.1:${port}`],
      { timeout: 60_000, cwd: os.tmpdir() },
      (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}`.slice(-3000) }),
    );
  });
}

describe('SIP signalling front', { skip: hasSipp ? false : 'sipp (sip-tester) not installed' }, () => {
  let server: SipServer;
  let port = 0;
  before(async () => {
    server = new SipServer({ address: '127.0.0.1', port: 0, log: createLogger('silent') });
    port = await server.listen();
  });
  after(() => server.close());

  for (const transport of ['u1', 't1'] as const) {
    const over = transport === 'u1' ? 'UDP' : 'TCP';
    test(`OPTIONS over ${over}: 200 with Allow and Accept`, { timeout: 60_000 }, async () => {
      const r = await sipp('options.xml', port, transport);
      assert.equal(r.code, 0, r.out);
    });
    test(`requests outside any call over ${over}: BYE 481, REGISTER 405, an unknown method 501`, { timeout: 60_000 }, async () => {
      const r = await sipp('out-of-dialog.xml', port, transport);
      assert.equal(r.code, 0, r.out);
    });
  }

  test('an INVITE refused over UDP: the 480 is sent again until the ACK, the ACK is absorbed', { timeout: 60_000 }, async () => {
    const before = server.counters;
    const r = await sipp('invite-refused.xml', port, 'u1');
    assert.equal(r.code, 0, r.out);
    const after = server.counters;
    assert.equal(after.acks, before.acks + 1, 'the transaction layer matched the ACK to its INVITE');
    assert.ok(after.resent >= before.resent + 1, `the 480 was sent again while no ACK came (${after.resent - before.resent} times)`);
    // no more after the ACK
    const stopped = after.resent;
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(server.counters.resent, stopped, 'nothing sent again after the ACK');
  });

  test('malformed requests: 400 with the reason when the reply headers are there, else dropped; the server goes on', { timeout: 30_000 }, async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString('latin1')));
    const headers = (cseq: string, extra: string[] = []) =>
      ['Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbad' + Math.random().toString(16).slice(2), 'From: <sip:a@b>;tag=1', 'To: <sip:x@y>', `Call-ID: ${Math.random()}`, `CSeq: ${cseq}`, ...extra].join('\r\n');
    const answerable = [
      `OPTIONS sip:x@y SIP/2.0\r\n${headers('1 INVITE')}\r\n\r\n`,
      `OPTIONS sip:x@y SIP/2.0\r\n${headers('1 OPTIONS', ['Content-Length: 999'])}\r\n\r\nshort`,
      `OPTIONS sip:x@y SIP/2.0\r\n${headers('1 OPTIONS', ['no colon here'])}\r\n\r\n`,
    ];
    const dropped = [Buffer.from([0x13, 0x37, 0xff, 0, 13, 10, 13, 10]), Buffer.from('INVITE\r\n\r\n'), Buffer.alloc(70_000, 0x41), Buffer.from('SIP/2.0 200 OK\r\n\r\n')];
    const send = (b: Buffer | string) => new Promise<void>((r) => sock.send(typeof b === 'string' ? Buffer.from(b, 'latin1') : b, port, '127.0.0.1', () => r()));
    for (let round = 0; round < 20; round++) {
      for (const d of dropped) await send(d).catch(() => {});
      for (const a of answerable) await send(a);
    }
    const end = Date.now() + 10_000;
    while (replies.length < 60 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(replies.length, 60, 'one 400 for each answerable request, nothing for the rest');
    for (const r of replies) assert.match(r, /^SIP\/2\.0 400 Bad Request \(.+\)\r\n/);
    sock.close();
    // a TCP peer that sends garbage without an end of headers is cut off at 64 KB
    const tcp = net.connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => tcp.on('close', () => r()));
    tcp.on('error', () => {});
    tcp.write(Buffer.alloc(70_000, 0x42));
    await closed;
    const r = await sipp('options.xml', port, 'u1');
    assert.equal(r.code, 0, `still answering after the burst: ${r.out}`);
  });
});

describe('SIP over TLS', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sip-tls-'));
  let server: SipServer;
  let cert = '';
  before(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    server = new SipServer({ address: '127.0.0.1', port: 0, tls: { port: 0, cert, key: readFileSync(path.join(dir, 'key.pem'), 'utf8') }, log: createLogger('silent') });
    await server.listen();
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One request over a TLS connection that trusts the test certificate; resolves with the first response. */
  function overTls(request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: server.tlsPort, ca: cert, servername: '127.0.0.1' }, () => socket.write(request));
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (/\r\n\r\n/.test(got)) {
          socket.end();
          resolve(got);
        }
      });
      socket.on('error', reject);
    });
  }

  const options = (branch: string) =>
    [
      'OPTIONS sip:room@127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK${branch}`,
      'From: <sip:tester@127.0.0.1>;tag=t1',
      'To: <sip:room@127.0.0.1>',
      `Call-ID: ${branch}@test`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');

  test('OPTIONS over TLS on its own port: 200, Via kept as TLS', { timeout: 30_000 }, async () => {
    assert.ok(server.tlsPort > 0);
    const res = await overTls(options('tls1'));
    assert.match(res, /^SIP\/2\.0 200 /);
    assert.match(res, /Via: SIP\/2\.0\/TLS 127\.0\.0\.1:5999;branch=z9hG4bKtls1/i);
  });

  test('plain text or a broken handshake on the TLS port ends that connection only', { timeout: 30_000 }, async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(server.tlsPort, '127.0.0.1', () => s.write(options('plain')));
      s.on('close', () => resolve());
      s.on('error', () => {});
    });
    assert.match(await overTls(options('tls2')), /^SIP\/2\.0 200 /, 'the TLS port still answers');
    // counted, as a malformed message is (tertulia_sip_malformed_messages_total{reason="tlsHandshake"})
    for (let i = 0; i < 50 && server.counters.tlsHandshake < 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.counters.tlsHandshake, 1);
  });
});
