// The certificate SIP over TLS serves (sipTlsPort): the configured one (tlsCert/tlsKey), else the ACME
// certificate of `domain` once signal has obtained it (acme.ts keeps it in the data directory; a renewal is
// picked up within a minute). Without either there is no TLS: phones use UDP or TCP (a self-signed certificate
// would be refused by phones anyway).
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Config } from '../config/config.ts';
import { acmeCertificatePaths } from '../config/acme-paths.ts';

export interface CertificateFiles {
  cert: string;
  key: string;
  /** ACME's: renewed in place, so watched. */
  renewed: boolean;
}

export function sipCertificateFiles(config: Pick<Config, 'tlsCert' | 'tlsKey' | 'domain' | 'dataDir'>): CertificateFiles | undefined {
  if (config.tlsCert && config.tlsKey) return { cert: config.tlsCert, key: config.tlsKey, renewed: false };
  if (config.domain) return { ...acmeCertificatePaths(config.dataDir, config.domain), renewed: true };
  return undefined;
}

/** The pair, or undefined when a file is missing or unreadable (ACME's before the first certificate). */
export function readCertificate(files: CertificateFiles): { cert: string; key: string } | undefined {
  try {
    return { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
  } catch {
    return undefined;
  }
}

/** Calls `onChange` with the pair each time the certificate file changes (checked once a minute); returns the stop. */
export function watchCertificate(files: CertificateFiles, onChange: (pair: { cert: string; key: string }) => void): () => void {
  const listener = (now: { mtimeMs: number }, before: { mtimeMs: number }) => {
    if (now.mtimeMs === before.mtimeMs) return;
    const pair = readCertificate(files);
    if (pair) onChange(pair);
  };
  watchFile(files.cert, { interval: 60_000, persistent: false }, listener);
  return () => unwatchFile(files.cert, listener);
}
