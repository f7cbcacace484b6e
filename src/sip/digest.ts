// Digest authentication, the client's side (RFC 2617, RFC 7616 and RFC 8760 for SIP): answers a 401's
// WWW-Authenticate or a 407's Proxy-Authenticate with an Authorization or Proxy-Authorization header. MD5 and
// SHA-256 (SHA-256 preferred when the server offers both), qop=auth (auth-int when it is all the server offers),
// a fresh cnonce per answer and nc counted per nonce. The password is only ever hashed here.
import { createHash, randomBytes } from 'node:crypto';
import type { SipRequest } from './message.ts';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: 'MD5' | 'SHA-256';
  /** The qop chosen from the server's list; none: the RFC 2069 form. */
  qop?: 'auth' | 'auth-int';
  /** The nonce went stale: the same credentials are fine with the new nonce. */
  stale: boolean;
  /** Proxy-Authenticate (407), answered with Proxy-Authorization. */
  proxy: boolean;
}

const ALGORITHMS: Record<string, DigestChallenge['algorithm']> = { md5: 'MD5', 'sha-256': 'SHA-256' };

/** The auth-params of one challenge (`Digest realm="x", nonce="y", ...`), or null when it is not Digest. */
function authParams(value: string): Map<string, string> | null {
  const m = /^\s*Digest\s+(.*)$/is.exec(value);
  if (!m) return null;
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  const rest = m[1]!;
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) {
    out.set(p[1]!.toLowerCase(), p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!);
  }
  return out;
}

/** The best challenge a server sent (its WWW-Authenticate or Proxy-Authenticate values), or null when none can be answered. */
export function pickChallenge(values: readonly string[], proxy: boolean): DigestChallenge | null {
  let best: DigestChallenge | null = null;
  for (const v of values) {
    const p = authParams(v);
    const realm = p?.get('realm');
    const nonce = p?.get('nonce');
    if (!p || realm === undefined || !nonce || nonce.length > 1024 || realm.length > 1024) continue;
    const algorithm = ALGORITHMS[(p.get('algorithm') ?? 'MD5').toLowerCase()];
    if (!algorithm) continue; // -sess variants and unknown ones: not answered
    const offered = (p.get('qop') ?? '').split(',').map((q) => q.trim().toLowerCase());
    const qop = offered.includes('auth') ? 'auth' : offered.includes('auth-int') ? 'auth-int' : undefined;
    if (p.has('qop') && qop === undefined) continue;
    const c: DigestChallenge = { realm, nonce, algorithm, stale: p.get('stale')?.toLowerCase() === 'true', proxy };
    if (p.has('opaque')) c.opaque = p.get('opaque')!;
    if (qop) c.qop = qop;
    if (best === null || (best.algorithm === 'MD5' && algorithm === 'SHA-256')) best = c;
  }
  return best;
}

export interface Credentials {
  user: string;
  password: string;
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/** Answers challenges; keeps the nonce count per nonce, so one Digest answers every request of a registration. */
export class DigestClient {
  private readonly counts = new Map<string, number>();
  /** A private field: no log line or JSON of a trunk can show the password. */
  readonly #creds: Credentials;

  constructor(creds: Credentials) {
    this.#creds = creds;
  }

  /** The header (name and value) that answers `c` for a request of `method` to `uri` with `body` (`cnonce`: for tests). */
  authorize(c: DigestChallenge, method: string, uri: string, body: Buffer = Buffer.alloc(0), cnonce = randomBytes(8).toString('hex')): { name: string; value: string } {
    const h = (s: string | Buffer) => createHash(c.algorithm === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
    const ha1 = h(`${this.#creds.user}:${c.realm}:${this.#creds.password}`);
    const ha2 = h(c.qop === 'auth-int' ? `${method}:${uri}:${h(body)}` : `${method}:${uri}`);
    const fields = [`username=${quote(this.#creds.user)}`, `realm=${quote(c.realm)}`, `nonce=${quote(c.nonce)}`, `uri=${quote(uri)}`];
    let response: string;
    if (c.qop) {
      if (this.counts.size > 16) this.counts.clear(); // old nonces are not reused
      const nc = (this.counts.get(c.nonce) ?? 0) + 1;
      this.counts.set(c.nonce, nc);
      const ncHex = nc.toString(16).padStart(8, '0');
      response = h(`${ha1}:${c.nonce}:${ncHex}:${cnonce}:${c.qop}:${ha2}`);
      fields.push(`response=${quote(response)}`, `algorithm=${c.algorithm}`, `cnonce=${quote(cnonce)}`, `qop=${c.qop}`, `nc=${ncHex}`);
    } else {
      response = h(`${ha1}:${c.nonce}:${ha2}`);
      fields.push(`response=${quote(response)}`, `algorithm=${c.algorithm}`);
    }
    if (c.opaque !== undefined) fields.push(`opaque=${quote(c.opaque)}`);
    return { name: c.proxy ? 'proxy-authorization' : 'authorization', value: `Digest ${fields.join(', ')}` };
  }
}

/** The challenge of a 401 or 407 response, or null when it has none this client answers. */
export function challengeOf(res: { status: number; headers: { getAll(n: string): string[] } }): DigestChallenge | null {
  if (res.status === 401) return pickChallenge(res.headers.getAll('www-authenticate'), false);
  if (res.status === 407) return pickChallenge(res.headers.getAll('proxy-authenticate'), true);
  return null;
}

/**
 * The challenges one request met, answered on each re-send of it: a 401 and a 407 each once, and once more
 * when the server says the nonce went stale. Anything else is a refusal (wrong user or password).
 */
export class RequestAuth {
  private readonly challenges = new Map<'www' | 'proxy', DigestChallenge>();
  private staleRetries = 0;
  private readonly digest: DigestClient | null;

  constructor(digest: DigestClient | null) {
    this.digest = digest;
  }

  /** After a 401 or 407: true when the request is to be sent again (with `apply`). */
  accept(res: { status: number; headers: { getAll(n: string): string[] } }): boolean {
    const c = this.digest === null ? null : challengeOf(res);
    if (c === null) return false;
    const kind = c.proxy ? 'proxy' : 'www';
    if (this.challenges.has(kind) && !(c.stale && this.staleRetries++ === 0)) return false;
    this.challenges.set(kind, c);
    return true;
  }

  /** Adds the answers to the challenges met so far to a new copy of the request. */
  apply(req: SipRequest): void {
    if (this.digest === null) return;
    for (const c of this.challenges.values()) {
      const { name, value } = this.digest.authorize(c, req.method, req.uri, req.body);
      req.headers.set(name, value);
    }
  }
}
