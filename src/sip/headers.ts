// The structured SIP header values the gateway reads: Via (where to answer), name-addr (From, To, Contact:
// display name, URI, tag), CSeq, and SIP URIs (RFC 3261 19.1). Parsers return null on what they cannot read;
// the caller answers 400 or ignores the header.

export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  /** Unescaped user part ('' when none). */
  user: string;
  host: string;
  port?: number;
  /** URI parameters (lower-case names); a parameter without a value is ''. */
  params: Map<string, string>;
}

export interface NameAddr {
  display: string;
  uri: string;
  /** Header parameters after the URI (tag, expires ...), lower-case names. */
  params: Map<string, string>;
}

export interface Via {
  transport: string;
  host: string;
  port?: number;
  params: Map<string, string>;
}

function params(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of s.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.set(p.toLowerCase(), '');
    else out.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

function unescape(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function hostPort(s: string): { host: string; port?: number } | null {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return null;
  return port === undefined ? { host: m[1]!.toLowerCase() } : { host: m[1]!.toLowerCase(), port };
}

export function parseUri(s: string): SipUri | null {
  const m = /^(sips?|tel):(.*)$/i.exec(s.trim());
  if (!m) return null;
  const scheme = m[1]!.toLowerCase() as SipUri['scheme'];
  let rest = m[2]!;
  const q = rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q); // URI headers: not used
  if (scheme === 'tel') {
    const [num = '', ...ps] = rest.split(';');
    const user = unescape(num);
    if (user === null || user === '') return null;
    return { scheme, user, host: '', params: params(ps.join(';')) };
  }
  const semi = rest.indexOf(';');
  const main = semi < 0 ? rest : rest.slice(0, semi);
  const at = main.lastIndexOf('@');
  let user = '';
  if (at >= 0) {
    const u = unescape(main.slice(0, at).split(':')[0]!);
    if (u === null) return null;
    user = u;
  }
  const hp = hostPort(main.slice(at + 1));
  if (!hp) return null;
  return { scheme, user, ...hp, params: params(semi < 0 ? '' : rest.slice(semi + 1)) };
}

/** `"Ana" <sip:ana@example.org>;tag=1`, `<sip:x@y>`, or `sip:x@y;tag=1` (then the parameters are the header's). */
export function parseNameAddr(s: string): NameAddr | null {
  const v = s.trim();
  const lt = v.indexOf('<');
  if (lt >= 0) {
    const gt = v.indexOf('>', lt);
    if (gt < 0) return null;
    let display = v.slice(0, lt).trim();
    if (display.startsWith('"')) {
      const m = /^"((?:[^"\\]|\\.)*)"$/.exec(display);
      if (!m) return null;
      display = m[1]!.replace(/\\(.)/g, '$1');
    }
    return { display, uri: v.slice(lt + 1, gt).trim(), params: params(v.slice(gt + 1)) };
  }
  const semi = v.indexOf(';');
  const uri = semi < 0 ? v : v.slice(0, semi);
  if (!/^[A-Za-z][A-Za-z0-9+\-.]*:\S+$/.test(uri)) return null;
  return { display: '', uri, params: params(semi < 0 ? '' : v.slice(semi + 1)) };
}

export function parseVia(s: string): Via | null {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+([^;\s]+)\s*(;.*)?$/i.exec(s.trim());
  if (!m) return null;
  const hp = hostPort(m[2]!);
  if (!hp) return null;
  return { transport: m[1]!.toUpperCase(), ...hp, params: params(m[3] ?? '') };
}

export function parseCSeq(s: string): { seq: number; method: string } | null {
  const m = /^(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(s.trim());
  if (!m || Number(m[1]) > 0x7fffffff) return null;
  return { seq: Number(m[1]), method: m[2]! };
}
