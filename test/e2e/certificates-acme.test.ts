// Certificates by ACME (`--domain`), against a real ACME server: Debian's pebble. The server starts while pebble
// is down (it logs the failure, keeps serving its self-signed certificate and retries), gets a certificate once
// pebble is up (HTTP-01 answered on its plain-HTTP port), serves it without a restart (an HTTPS request that
// verifies against pebble's root for the domain), renews it by itself (the served serial changes; pebble 2.4
// issues 5-year certificates, so the renewal is brought forward by the test hook
// TERTULIA_TEST_ACME_RENEW_AFTER_SECONDS), keeps its files 0600, and serves the kept certificate at the next start.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { preparePebble, type Pebble } from '../helpers/pebble.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { waitUntil } from '../helpers/browser.ts';

const DOMAIN = 'meet.tertulia.test';
const RENEW_AFTER_SECONDS = 10;

interface Served {
  /** Null when the certificate does not verify against `ca` for DOMAIN. */
  serial: string | null;
  error?: string;
}

/** One fresh TLS connection to 127.0.0.1 naming DOMAIN; the served certificate's serial when it verifies against `ca`. */
function servedCertificate(port: number, ca: string): Promise<Served> {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, servername: DOMAIN, ca, agent: false, path: '/healthz', headers: { host: DOMAIN } }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      res.resume();
      res.on('end', () => resolve({ serial: res.statusCode === 200 ? serial : null }));
    });
    req.on('error', (e) => resolve({ serial: null, error: e.message }));
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}

function plainGet(port: number, urlPath: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers: { host: DOMAIN }, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      })
      .on('error', reject);
  });
}

describe('certificates by ACME (pebble)', () => {
  let pebble: Pebble;
  let server: RunningServer | undefined;
  let httpPort: number;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tertulia-acme-'));

  const env = () => ({
    TERTULIA_DOMAIN: DOMAIN,
    TERTULIA_ACME_EMAIL: 'admin@tertulia.test',
    TERTULIA_ACME_DIRECTORY_URL: pebble.directoryUrl,
    TERTULIA_HTTP_PORT: String(httpPort),
    TERTULIA_DATA_DIR: dataDir,
    TERTULIA_LOG_LEVEL: 'info',
    NODE_EXTRA_CA_CERTS: pebble.listenerCaFile,
  });

  before(async () => {
    httpPort = await freeTcpPort();
    pebble = await preparePebble({ httpPort });
  });

  after(async () => {
    await server?.stop();
    await pebble?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('pebble down at first: retried; then obtained, served and renewed without a restart', async () => {
    server = await startServer({ ...env(), TERTULIA_TEST_ACME_RENEW_AFTER_SECONDS: String(RENEW_AFTER_SECONDS) });
    await waitUntil('the failed first attempt in the log', async () => server!.output(), (o) => o.includes('could not obtain a certificate'), 90_000);
    // meanwhile HTTPS works with the self-signed certificate, and the redirect goes to the domain
    const redirect = await plainGet(httpPort, '/Sala');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.location, `https://${DOMAIN}:${server.httpsPort}/Sala`);
    assert.equal((await plainGet(httpPort, '/.well-known/acme-challenge/no-such-token')).status, 404);

    await pebble.start();
    const root = await pebble.root();
    const first = await waitUntil('a certificate from pebble served for the domain', () => servedCertificate(server!.httpsPort, root), (s) => s.serial !== null, 60_000);
    assert.match(server.output(), /certificate obtained and in use/);

    // kept in the data directory, readable by the server's user only
    const files = readdirSync(path.join(dataDir, 'acme')).filter((f) => f.endsWith('.pem'));
    assert.deepEqual(files.sort(), ['account-key.pem', `${DOMAIN}.cert.pem`, `${DOMAIN}.key.pem`]);
    for (const f of files) assert.equal(statSync(path.join(dataDir, 'acme', f)).mode & 0o777, 0o600, f);
    assert.doesNotMatch(server.output(), /BEGIN [A-Z ]*PRIVATE KEY/, 'no key in the log');

    // the renewal, by itself: the same process serves a new certificate
    const renewed = await waitUntil('a renewed certificate (another serial)', () => servedCertificate(server!.httpsPort, root), (s) => s.serial !== null && s.serial !== first.serial, 90_000);
    assert.notEqual(renewed.serial, first.serial);
    assert.ok(server.alive());
    await server.stop();
    server = undefined;

    // the next start serves the kept certificate at once, pebble or not
    await pebble.stop();
    server = await startServer(env());
    const kept = await servedCertificate(server.httpsPort, root);
    assert.notEqual(kept.serial, null, kept.error ?? "the kept certificate did not verify");
  });
});
