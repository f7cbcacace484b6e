// Where the ACME certificate of a domain and its key are kept in the data directory: written by signal
// (signal/acme.ts), read by the SIP gateway's TLS (sip/sip-tls.ts), which may run in another process.
import path from 'node:path';

export function acmeCertificatePaths(dataDir: string, domain: string): { cert: string; key: string } {
  const dir = path.join(dataDir, 'acme');
  const file = domain.replace(/[^a-z0-9.-]/g, '_');
  return { cert: path.join(dir, `${file}.cert.pem`), key: path.join(dir, `${file}.key.pem`) };
}
