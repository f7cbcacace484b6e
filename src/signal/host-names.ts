// The names this server answers to, for the plain-HTTP redirect: the redirect must not send a browser to
// whatever host a request's Host header names (a forged Host would make this server point people elsewhere).
// Known: the names and addresses in the HTTPS certificate (a certificate's wildcard covers one label), the
// public address, the ACME domain, the listen address, this machine's host name and addresses, localhost. Anything
// else is sent to the canonical host: the ACME domain (config.domain), else the public address, else the certificate's domain name (an admin's own certificate), else the
// listen address, else the machine's first LAN address (what `tertulia start` prints).
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import os from 'node:os';
import type { Config } from '../config/config.ts';

export interface HostNames {
  /** True when `host` (no port; IPv6 with or without brackets; any case) is one of this server's names. */
  known(host: string): boolean;
  /** Where a request with an unknown or malformed Host is sent (an IPv6 address in brackets). */
  canonical: string;
}

function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

/** DNS names and IP addresses of a PEM certificate's subjectAltName; [] when it cannot be read. */
export function certificateNames(certPem: string): { dns: string[]; ips: string[] } {
  const dns: string[] = [];
  const ips: string[] = [];
  try {
    for (const entry of (new X509Certificate(certPem).subjectAltName ?? '').split(/,\s*/)) {
      const m = /^(DNS|IP Address):(.+)$/.exec(entry.trim());
      if (m?.[1] === 'DNS') dns.push(bare(m[2]!));
      else if (m?.[1] === 'IP Address') ips.push(bare(m[2]!));
    }
  } catch {
    // not a certificate we can read: no names from it
  }
  return { dns, ips };
}

function machineAddresses(): { all: string[]; lanIPv4: string[] } {
  const all: string[] = [];
  const lanIPv4: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      all.push(bare(a.address.replace(/%.*$/, '')));
      if ((a.family === 'IPv4' || (a.family as unknown) === 4) && !a.internal) lanIPv4.push(a.address);
    }
  }
  return { all, lanIPv4 };
}

export function hostNames(config: Pick<Config, 'publicAddress' | 'listenAddress'> & { domain?: string }, cert: { pem: string; selfSigned: boolean }): HostNames {
  const fromCert = certificateNames(cert.pem);
  const machine = machineAddresses();
  const wildcardListen = ['', '0.0.0.0', '::'].includes(config.listenAddress);
  const exact = new Set<string>(['localhost', '127.0.0.1', '::1', ...fromCert.dns, ...fromCert.ips, ...machine.all]);
  const hostname = os.hostname().toLowerCase();
  if (/^[a-z0-9.-]+$/.test(hostname)) exact.add(hostname);
  if (config.publicAddress) exact.add(bare(config.publicAddress));
  if (config.domain) exact.add(bare(config.domain));
  if (!wildcardListen) exact.add(bare(config.listenAddress));
  const wildcards = fromCert.dns.filter((d) => d.startsWith('*.')).map((d) => d.slice(1));

  // an admin's certificate: its first full domain name (a bare host name resolves only on the local network)
  const plain = fromCert.dns.filter((d) => !d.includes('*') && d !== 'localhost');
  const certName = cert.selfSigned ? undefined : (plain.find((d) => d.includes('.')) ?? plain[0]);
  // the ACME domain first: its certificate is valid there
  const canonicalBare = bare(config.domain || config.publicAddress || certName || (wildcardListen ? (machine.lanIPv4[0] ?? 'localhost') : config.listenAddress));
  return {
    known(host) {
      const h = bare(host);
      if (exact.has(h)) return true;
      // *.example.org covers a.example.org, not a.b.example.org nor example.org
      return isIP(h) === 0 && wildcards.some((w) => h.endsWith(w) && !h.slice(0, -w.length).includes('.') && h.length > w.length);
    },
    canonical: isIP(canonicalBare) === 6 ? `[${canonicalBare}]` : canonicalBare,
  };
}
