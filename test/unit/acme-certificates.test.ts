// The ACME side that needs no certificate authority: when a certificate is renewed (30 days before it expires, or
// at two thirds of a short life), the plain-HTTP port's answers to challenge requests (before any redirect), and
// the kept certificate of an earlier start (used only when it is for the domain, matches its key and is valid).
// Obtaining and renewing against a real ACME server: test/e2e/certificates-acme.test.ts (pebble).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AcmeCertificates, renewalTime } from '../../src/signal/acme.ts';
import { createRedirectHandler } from '../../src/signal/http.ts';
import { hostNames } from '../../src/signal/host-names.ts';
import { createLogger } from '../../src/log.ts';

const DAY = 24 * 3600 * 1000;

/** A self-signed certificate for `name`, valid `days` from now, written to dir/<file>.cert.pem and .key.pem. */
function certificate(dir: string, file: string, name: string, days: number): { cert: string; key: string } {
  const certFile = path.join(dir, `${file}.cert.pem`);
  const keyFile = path.join(dir, `${file}.key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', String(days), '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

test('renewal: 30 days before expiry, or at two thirds of a shorter life', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-acme-unit-'));
  try {
    const ninety = certificate(dir, 'ninety', 'meet.example.org', 90);
    const due = renewalTime(ninety.cert) - Date.now();
    assert.ok(Math.abs(due - 60 * DAY) < DAY, `90-day certificate renewed after ~60 days, not ${due / DAY}`);
    const six = certificate(dir, 'six', 'meet.example.org', 6);
    const dueShort = renewalTime(six.cert) - Date.now();
    assert.ok(Math.abs(dueShort - 4 * DAY) < DAY, `6-day certificate renewed after ~4 days, not ${dueShort / DAY}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a kept certificate is served only when it is for the domain and valid', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-acme-unit-'));
  try {
    const acmeDir = path.join(dataDir, 'acme');
    mkdirSync(acmeDir);
    const config = { domain: 'meet.example.org', acmeEmail: '', acmeDirectoryUrl: 'https://127.0.0.1:1/dir', dataDir };
    const log = createLogger('silent');
    assert.equal(new AcmeCertificates(config, log, () => {}).stored(), undefined, 'nothing kept yet');
    certificate(acmeDir, 'meet.example.org', 'other.example.org', 30);
    assert.equal(new AcmeCertificates(config, log, () => {}).stored(), undefined, 'a certificate for another name');
    const good = certificate(acmeDir, 'meet.example.org', 'meet.example.org', 30);
    assert.deepEqual(new AcmeCertificates(config, log, () => {}).stored(), good);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the HTTP port answers open challenges, refuses others, and redirects everything else', async () => {
  const challenges = new Map([['tok_EN-123', 'tok_EN-123.thumbprint']]);
  const hosts = hostNames({ publicAddress: '', listenAddress: '0.0.0.0', domain: 'meet.example.org' }, { pem: '', selfSigned: true });
  const server = http.createServer(createRedirectHandler({ httpsPort: () => 443, hosts, acmeChallenge: (t) => challenges.get(t) }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const get = (p: string, host = 'meet.example.org') =>
    new Promise<{ status: number; body: string; location?: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: p, headers: { host }, agent: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
        })
        .on('error', reject);
    });
  try {
    assert.deepEqual(await get('/.well-known/acme-challenge/tok_EN-123'), { status: 200, body: 'tok_EN-123.thumbprint', location: undefined });
    assert.equal((await get('/.well-known/acme-challenge/unknown')).status, 404);
    assert.equal((await get('/.well-known/acme-challenge/../../etc/passwd')).status, 404);
    assert.equal((await get('/.well-known/acme-challenge/')).status, 404);
    const other = await get('/Sala', 'evil.example');
    assert.equal(other.status, 301);
    assert.equal(other.location, 'https://meet.example.org:443/Sala', 'an unknown Host goes to the domain');
  } finally {
    server.close();
  }
});
