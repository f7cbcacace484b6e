// The bridge's ICE candidates: host candidates on the one media port (RFC 8445 §5.1.2 priorities).
import os from 'node:os';
import type { Candidate } from '../protocol/bus-messages.ts';

const HOST_TYPE_PREFERENCE = 126;
const COMPONENT_RTP = 1;

export function candidatePriority(typePreference: number, localPreference: number, componentId = COMPONENT_RTP): number {
  return typePreference * 2 ** 24 + localPreference * 2 ** 8 + (256 - componentId);
}

/** True for a wildcard bind address (all interfaces). */
export function isWildcard(address: string): boolean {
  return address === '' || address === '0.0.0.0' || address === '::';
}

/**
 * Candidate addresses in priority order: the public address (when set) first, then the machine's
 * non-internal IPv4 addresses (or only the listen address when it is not a wildcard), then 127.0.0.1
 * last so a browser on the same machine can connect.
 */
export function candidateAddresses(
  opts: { listenAddress: string; publicAddress: string },
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): string[] {
  const out: string[] = [];
  const add = (a: string) => {
    if (a && !out.includes(a)) out.push(a);
  };
  if (opts.publicAddress) add(opts.publicAddress.trim());
  const wildcard = isWildcard(opts.listenAddress);
  if (wildcard) {
    for (const infos of Object.values(interfaces)) {
      for (const info of infos ?? []) {
        if (info.family === 'IPv4' && !info.internal && info.address !== '127.0.0.1') add(info.address);
      }
    }
    add('127.0.0.1');
  } else {
    add(opts.listenAddress);
  }
  return out;
}

/**
 * UDP host candidates on `port`, then (when `tcpPort` is set) one ICE-TCP passive host candidate per address
 * (RFC 6544 §4.2: local preference = direction preference (passive 4) << 13 + address preference), all below
 * every UDP candidate so browsers prefer UDP.
 */
export function gatherCandidates(
  opts: { listenAddress: string; publicAddress: string; port: number; tcpPort?: number },
  interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>,
): Candidate[] {
  const addresses = candidateAddresses(opts, interfaces);
  const out: Candidate[] = addresses.map((ip, i) => ({
    foundation: String(i + 1),
    ip,
    port: opts.port,
    protocol: 'udp' as const,
    priority: candidatePriority(HOST_TYPE_PREFERENCE, 65535 - i),
    type: 'host' as const,
  }));
  if (opts.tcpPort) {
    addresses.forEach((ip, i) =>
      out.push({
        foundation: String(addresses.length + i + 1),
        ip,
        port: opts.tcpPort!,
        protocol: 'tcp' as const,
        priority: candidatePriority(HOST_TYPE_PREFERENCE, (4 << 13) + Math.max(0, 8191 - i)),
        type: 'host' as const,
        tcpType: 'passive' as const,
      }),
    );
  }
  return out;
}
