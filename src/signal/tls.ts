// The HTTPS certificate: the admin's own PEM files (config.tlsCert / tlsKey), or a self-signed one that is
// made on first start in <dataDir>/tls and kept for every later start (so browsers that accepted it once
// keep accepting it).
import { webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type * as X509 from '@peculiar/x509';
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';

export interface TlsMaterial {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
  /** True when this start made a new self-signed certificate. */
  created: boolean;
  /** True when the certificate is the self-signed one from dataDir. */
  selfSigned: boolean;
}

export class TlsSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsSetupError';
  }
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new TlsSetupError(`cannot read the TLS ${what} file ${file}: ${(e as Error).message}`);
  }
}

/** Throws a TlsSetupError when the pair is not a usable certificate + matching private key. */
function checkPair(cert: string, key: string, where: string): void {
  try {
    tls.createSecureContext({ cert, key });
  } catch (e) {
    throw new TlsSetupError(`the TLS certificate/key in ${where} are not usable: ${(e as Error).message}`);
  }
}

/** Every non-internal IPv4 address of this machine. */
export function localIPv4Addresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if ((a.family === 'IPv4' || (a.family as unknown) === 4) && !a.internal && !out.includes(a.address)) out.push(a.address);
    }
  }
  return out;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

/** Makes a self-signed ECDSA P-256 certificate for localhost, this host name and every local address. */
export async function createSelfSigned(extraNames: { dns?: string[]; ips?: string[] } = {}): Promise<{ cert: string; key: string }> {
  // loaded only to make a certificate (first start): ~10 MiB a server that reads its stored one never holds
  await import('./reflect-polyfill.ts'); // before @peculiar/x509
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto as unknown as Crypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const dns = new Set<string>(['localhost']);
  const hostname = os.hostname();
  if (hostname && /^[A-Za-z0-9.-]+$/.test(hostname)) dns.add(hostname.toLowerCase());
  for (const d of extraNames.dns ?? []) dns.add(d);
  const ips = new Set<string>(['127.0.0.1', '::1', ...localIPv4Addresses(), ...(extraNames.ips ?? [])]);
  const names: X509.JsonGeneralName[] = [
    ...[...dns].map((value) => ({ type: 'dns' as const, value })),
    ...[...ips].map((value) => ({ type: 'ip' as const, value })),
  ];
  const notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  const notAfter = new Date(notBefore.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const serial = Buffer.from(crypto.getRandomValues(new Uint8Array(16)));
  serial[0] &= 0x7f; // positive
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: `CN=Tertulia self-signed (${hostname || 'localhost'}), O=Tertulia`,
      notBefore,
      notAfter,
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const key = pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { cert: certificate.toString('pem') + '\n', key };
}

function writeAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode); // the umask may have removed bits; make the mode exact
  renameSync(tmp, file);
}

/**
 * Returns the certificate and key to serve HTTPS with. Uses config.tlsCert/tlsKey when set (a clear error when
 * unreadable); otherwise <dataDir>/tls/cert.pem + key.pem, made self-signed on first start.
 */
export async function loadOrCreateTls(config: Pick<Config, 'tlsCert' | 'tlsKey' | 'dataDir' | 'publicAddress'>, log?: Logger): Promise<TlsMaterial> {
  if (config.tlsCert || config.tlsKey) {
    if (!config.tlsCert || !config.tlsKey) {
      throw new TlsSetupError('tlsCert and tlsKey must be set together (both PEM files), or neither for a self-signed certificate');
    }
    const cert = readPem(config.tlsCert, 'certificate');
    const key = readPem(config.tlsKey, 'private key');
    checkPair(cert, key, `${config.tlsCert} / ${config.tlsKey}`);
    return { cert, key, certPath: config.tlsCert, keyPath: config.tlsKey, created: false, selfSigned: false };
  }
  const dir = path.join(config.dataDir, 'tls');
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readPem(certPath, 'certificate');
    const key = readPem(keyPath, 'private key');
    checkPair(cert, key, dir);
    return { cert, key, certPath, keyPath, created: false, selfSigned: true };
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new TlsSetupError(`cannot create ${dir} for the self-signed certificate: ${(e as Error).message}`);
  }
  // publicAddress is an IP address (the configuration refuses anything else)
  const { cert, key } = await createSelfSigned({ ips: config.publicAddress ? [config.publicAddress] : [] });
  try {
    writeAtomic(keyPath, key, 0o600);
    writeAtomic(certPath, cert, 0o644);
  } catch (e) {
    throw new TlsSetupError(`cannot write the self-signed certificate to ${dir}: ${(e as Error).message}`);
  }
  log?.info({ certPath }, 'created a self-signed TLS certificate');
  return { cert, key, certPath, keyPath, created: true, selfSigned: true };
}
