// The SIP trunk the gateway calls out through (settings sipTrunk*): its domain (the registrar, and where a
// dialled number is sent: sip:<number>@<domain>), the address our requests go to (the outbound proxy when one
// is set, with a loose Route to it, else the trunk itself), our From, and the digest credentials. Names are
// resolved once, to IPv4, when the trunk is opened (no DNS SRV/NAPTR: give host:port).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DigestClient } from './digest.ts';
import { parseUri } from './headers.ts';

export interface TrunkSettings {
  /** sip:host[:port]: the trunk (its registrar, the domain of dialled numbers). Empty: no dial-out. */
  uri: string;
  /** sip:host[:port] of an outbound proxy every request goes through; empty: none. */
  proxy: string;
  user: string;
  /** A secret: hashed by digest.ts, never logged. */
  password: string;
  /** REGISTER with the trunk (and keep it registered). */
  register: boolean;
  /** Our caller ID: a number or user name (at the trunk's domain) or a sip: URI; empty: the user. */
  from: string;
  /** Optional display name for From. */
  fromName?: string;
}

export interface Trunk {
  /** host[:port] of the trunk URI. */
  domain: string;
  /** sip:<user>@<domain>: our address of record (From of REGISTER, From of calls without a caller ID). */
  aor: string;
  /** From of our calls (without tag). */
  from: string;
  /** Route headers our requests outside a dialog carry (the outbound proxy's, with lr). */
  routes: string[];
  /** Where our requests go. */
  address: string;
  port: number;
  digest: DigestClient | null;
  user: string;
}

export class TrunkError extends Error {}

/** Checks the settings and resolves where requests go; throws TrunkError with a message naming the setting. */
export async function openTrunk(s: TrunkSettings): Promise<Trunk> {
  const uri = parseUri(s.uri);
  if (!uri || uri.scheme !== 'sip' || uri.host === '') throw new TrunkError('sipTrunkUri must be a sip: URI, e.g. sip:sip.example.net:5060');
  if (s.register && s.user.trim() === '') throw new TrunkError('sipTrunkRegister needs sipTrunkUser (the address registered is sip:USER@host)');
  const proxy = s.proxy ? parseUri(s.proxy) : null;
  if (s.proxy && (!proxy || proxy.scheme !== 'sip' || proxy.host === '')) throw new TrunkError('sipTrunkProxy must be a sip: URI, e.g. sip:proxy.example.net:5060');
  const next = proxy ?? uri;
  let address = next.host.replace(/^\[|\]$/g, '');
  if (isIP(address) === 0) {
    try {
      address = (await lookup(address, { family: 4 })).address;
    } catch {
      throw new TrunkError(`the SIP trunk's host ${next.host} does not resolve`);
    }
  }
  const domain = uri.port === undefined ? uri.host : `${uri.host}:${uri.port}`;
  const user = s.user.trim() || 'tertulia';
  const aor = `sip:${encodeURIComponent(user)}@${domain}`;
  const caller = s.from.trim();
  const fromUri = caller === '' ? aor : /^sips?:/i.test(caller) ? caller : `sip:${encodeURIComponent(caller)}@${domain}`;
  const display = s.fromName?.replace(/["\\\r\n]/g, '').slice(0, 64);
  return {
    domain,
    aor,
    from: display ? `"${display}" <${fromUri}>` : `<${fromUri}>`,
    routes: proxy ? [`<sip:${proxy.host}${proxy.port === undefined ? '' : `:${proxy.port}`};lr>`] : [],
    address,
    port: next.port ?? 5060,
    digest: s.user.trim() !== '' && s.password !== '' ? new DigestClient({ user: s.user.trim(), password: s.password }) : null,
    user,
  };
}

/** The Request-URI for a dialled target: a sip: URI as given, a number at the trunk's domain. */
export function targetUri(target: string, trunk: Trunk): string {
  if (/^sips?:/i.test(target)) return target;
  return `sip:${target.replace(/#/g, '%23')}@${trunk.domain}`;
}
