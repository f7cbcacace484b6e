// A certificate for config.domain from an ACME certificate authority (Let's Encrypt by default), obtained with
// the HTTP-01 challenge answered on the plain-HTTP port, and renewed by itself 30 days before it expires.
// Invariants:
//  - HTTPS always has a certificate: the one kept from last time, else the self-signed one, until a new one
//    arrives; a new one is handed to `onCertificate` (the server swaps its secure context, no restart).
//  - A failure is logged and retried with a growing delay (10 s doubling to 1 h); the old certificate keeps serving.
//  - <dataDir>/acme/ holds the account key, the certificate and its key, each mode 0600; the keys are never logged.
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { acmeCertificatePaths } from '../config/acme-paths.ts';
import tls from 'node:tls';
import * as acme from 'acme-client';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';

/** Renewal this long before the certificate expires. */
export const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const RETRY_FIRST_MS = 10_000;
const RETRY_MAX_MS = 3600_000;
// acme-client's own retries of one request (connection errors, 429, 5xx; it honours Retry-After): few and short,
// since a whole attempt is retried here with a growing delay; and no request hangs an attempt for ever
const acmeSettings = (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
acmeSettings.retryMaxAttempts = 3;
acmeSettings.retryDefaultDelay = 2;
acme.axios.defaults.timeout = 30_000;

/** Longest timer Node keeps (about 24.8 days); a later renewal is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CertificatePair {
  cert: string;
  key: string;
}

/** When a certificate should be renewed: 30 days before it expires, or at 2/3 of its life when that is shorter. */
export function renewalTime(certPem: string): number {
  const x = new X509Certificate(certPem);
  const notBefore = Date.parse(x.validFrom);
  const notAfter = Date.parse(x.validTo);
  return Math.max(notAfter - RENEW_BEFORE_MS, notBefore + ((notAfter - notBefore) * 2) / 3);
}

function writeSecret(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function readIfThere(file: string): string | undefined {
  try {
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

export class AcmeCertificates {
  /** token -> key authorization, while a challenge is open. */
  private readonly challenges = new Map<string, string>();
  private readonly dir: string;
  private readonly certPath: string;
  private readonly keyPath: string;
  private readonly accountKeyPath: string;
  private timer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private running: Promise<void> | undefined;
  private closed = false;
  /** Tests only: renew this long after a certificate was issued instead of near its expiry. */
  private readonly renewAfterMs: number | undefined;

  private readonly config: Pick<Config, 'domain' | 'acmeEmail' | 'acmeDirectoryUrl' | 'dataDir'>;
  private readonly log: Logger;
  private readonly onCertificate: (pair: CertificatePair) => void;

  /** `onCertificate`: a new certificate to serve (the HTTPS server's setSecureContext). */
  constructor(config: Pick<Config, 'domain' | 'acmeEmail' | 'acmeDirectoryUrl' | 'dataDir'>, log: Logger, onCertificate: (pair: CertificatePair) => void) {
    this.config = config;
    this.log = log;
    this.onCertificate = onCertificate;
    this.dir = path.join(config.dataDir, 'acme');
    ({ cert: this.certPath, key: this.keyPath } = acmeCertificatePaths(config.dataDir, config.domain));
    this.accountKeyPath = path.join(this.dir, 'account-key.pem');
    const hook = Number(process.env.TERTULIA_TEST_ACME_RENEW_AFTER_SECONDS);
    this.renewAfterMs = hook > 0 ? hook * 1000 : undefined;
  }

  /** The certificate kept from an earlier start, when it is for this domain, usable and not expired. */
  stored(): CertificatePair | undefined {
    const cert = readIfThere(this.certPath);
    const key = readIfThere(this.keyPath);
    if (!cert || !key) return undefined;
    try {
      tls.createSecureContext({ cert, key });
      const x = new X509Certificate(cert);
      if (Date.parse(x.validTo) <= Date.now() || !x.checkHost(this.config.domain)) return undefined;
      return { cert, key };
    } catch {
      return undefined;
    }
  }

  /** The key authorization for an open challenge's token, for GET /.well-known/acme-challenge/<token>. */
  challengeAnswer(token: string): string | undefined {
    return this.challenges.get(token);
  }

  /** Starts the cycle: at once when there is no usable stored certificate, else when it is due. */
  start(): void {
    const stored = this.stored();
    this.schedule(stored ? this.dueTime(stored.cert) - Date.now() : 0);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private dueTime(certPem: string): number {
    if (this.renewAfterMs !== undefined) return Date.parse(new X509Certificate(certPem).validFrom) + this.renewAfterMs;
    return renewalTime(certPem);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, delayMs);
    this.timer = setTimeout(() => {
      if (wait > MAX_TIMER_MS) return this.schedule(wait - MAX_TIMER_MS);
      this.running ??= this.obtain().finally(() => (this.running = undefined));
    }, Math.min(wait, MAX_TIMER_MS));
    this.timer.unref();
  }

  private async obtain(): Promise<void> {
    const domain = this.config.domain;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      let accountKey = readIfThere(this.accountKeyPath);
      if (!accountKey) {
        accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
        writeSecret(this.accountKeyPath, accountKey);
        this.log.info({ directory: this.config.acmeDirectoryUrl }, 'ACME: made an account key');
      }
      const client = new acme.Client({ directoryUrl: this.config.acmeDirectoryUrl, accountKey });
      const [key, csr] = await acme.crypto.createCsr({ commonName: domain, altNames: [domain] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      this.log.info({ domain, directory: this.config.acmeDirectoryUrl }, 'ACME: asking for a certificate');
      const cert = await client.auto({
        csr,
        email: this.config.acmeEmail || undefined,
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // the CA checks from outside; this machine may not reach its own public name (NAT, port 80 forwarded)
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          this.challenges.set(challenge.token, keyAuthorization);
        },
        challengeRemoveFn: async (_authz, challenge) => {
          this.challenges.delete(challenge.token);
        },
      });
      const pair = { cert, key: key.toString() };
      tls.createSecureContext(pair); // throws when the CA's answer is not a usable certificate for our key
      writeSecret(this.keyPath, pair.key);
      writeSecret(this.certPath, pair.cert);
      this.retryMs = RETRY_FIRST_MS;
      const x = new X509Certificate(cert);
      this.onCertificate(pair);
      const due = this.dueTime(cert);
      this.log.info({ domain, serial: x.serialNumber, expires: new Date(x.validTo).toISOString(), renewal: new Date(due).toISOString() }, 'ACME: certificate obtained and in use');
      this.schedule(due - Date.now());
    } catch (e) {
      this.challenges.clear();
      this.log.warn({ domain, err: (e as Error).message, retryInSeconds: this.retryMs / 1000 }, 'ACME: could not obtain a certificate; the current one keeps serving');
      this.schedule(this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    }
  }
}
