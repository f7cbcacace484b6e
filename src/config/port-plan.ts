// The ports one process will bind, by the setting that names them, and the check that no two of them collide.
// loadConfig refuses a collision before anything starts: bound later, the second part would fail (or, for coturn,
// fail again every few seconds) blaming "another program", when the other program is this one.
import type { Config } from './config.ts';

export interface PortClaim {
  /** The setting (or the two settings of a range) the admin wrote. */
  setting: string;
  protocol: 'udp' | 'tcp';
  /** The address it binds (a wildcard overlaps every address). */
  address: string;
  min: number;
  max: number;
}

/** Addresses that mean every address (the configuration takes IP addresses without brackets). */
const WILDCARDS = new Set(['', '0.0.0.0', '::']);

/** Whether two bound addresses can clash: the same address, or one of them every address. */
function addressesMeet(a: string, b: string): boolean {
  return WILDCARDS.has(a) || WILDCARDS.has(b) || a === b;
}

/** Whether this process runs coturn (signal runs it unless TURN is off or handed out from another server). */
function runsCoturn(config: Config): boolean {
  return config.parts.includes('signal') && config.turn !== 'off' && config.turnExternalUrls.length === 0;
}

/** The ports this process binds with these settings; ports left to the system (0) are not listed. */
export function portClaims(config: Config): PortClaim[] {
  const claims: PortClaim[] = [];
  const one = (setting: string, protocol: 'udp' | 'tcp', address: string, port: number) => {
    if (port !== 0) claims.push({ setting, protocol, address, min: port, max: port });
  };
  const range = (prefix: string, protocol: 'udp' | 'tcp', address: string, min: number, max: number) => {
    claims.push({ setting: `${prefix}Min..${prefix}Max`, protocol, address, min, max });
  };
  const listen = config.listenAddress;
  const runs = (part: Config['parts'][number]) => config.parts.includes(part);
  if (runs('signal')) {
    one('httpsPort', 'tcp', listen, config.httpsPort);
    one('httpPort', 'tcp', listen, config.httpPort);
  }
  if (runs('bridge')) {
    one('mediaPort', 'udp', listen, config.mediaPort);
    one('tcpMediaPort', 'tcp', listen, config.tcpMediaPort);
    range('plainRtpPort', 'udp', listen, config.plainRtpPortMin, config.plainRtpPortMax);
  }
  if (runs('recorder')) range('recorderPort', 'udp', '0.0.0.0', config.recorderPortMin, config.recorderPortMax);
  if (runs('sip')) {
    one('sipPort', 'udp', config.sipAddress, config.sipPort);
    one('sipPort', 'tcp', config.sipAddress, config.sipPort);
    // SIP over TLS listens only with a certificate (sip/sip-tls.ts)
    if ((config.tlsCert && config.tlsKey) || config.domain) one('sipTlsPort', 'tcp', config.sipAddress, config.sipTlsPort);
    range('sipRtpPort', 'udp', '0.0.0.0', config.sipRtpPortMin, config.sipRtpPortMax);
  }
  if (runsCoturn(config)) {
    one('turnPort', 'udp', listen, config.turnPort);
    one('turnPort', 'tcp', listen, config.turnPort);
    range('turnRelayPort', 'udp', '0.0.0.0', config.turnRelayPortMin, config.turnRelayPortMax);
  }
  if (config.metricsAddress !== '') {
    const colon = config.metricsAddress.lastIndexOf(':');
    // host:port, an IPv6 host in brackets
    one('metricsAddress', 'tcp', config.metricsAddress.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(config.metricsAddress.slice(colon + 1)));
  }
  one('resourcesPort', 'tcp', '127.0.0.1', config.resourcesPort);
  return claims;
}

function describe(c: PortClaim): string {
  const ports = c.min === c.max ? `${c.min}` : `${c.min}-${c.max}`;
  return `${c.setting} (${c.protocol.toUpperCase()} ${ports})`;
}

/** The first two claims that would bind the same port, as a sentence for the admin; undefined when none do. */
export function portCollision(claims: readonly PortClaim[]): string | undefined {
  for (let i = 0; i < claims.length; i++) {
    for (let j = i + 1; j < claims.length; j++) {
      const a = claims[i]!;
      const b = claims[j]!;
      if (a.protocol !== b.protocol || a.max < b.min || b.max < a.min || !addressesMeet(a.address, b.address)) continue;
      return `${describe(a)} and ${describe(b)} would use the same port in this process: choose ports apart`;
    }
  }
  return undefined;
}
