// Jitsi-compatible JWTs (`?jwt=` in the meeting URL): claims iss, aud, sub, room, exp/nbf and
// context.user.{id,name,email,avatar,moderator} (or a top-level `moderator`). HS256/384/512 with a shared
// secret, RS*/PS*/ES* with PEM public keys. Anything else — `alg: none`, a bad signature, expired, not yet
// valid, another issuer, audience or room — is refused with a reason a person can read.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { roomKey } from '../../protocol/signal-messages.ts';
import { roomKeyOfJitsiName } from '../../protocol/room-name.ts';

export interface TokenSettings {
  /** Our app id: the issuer (`iss`) tokens must have (Jitsi's app_id). */
  appId: string;
  /** More accepted issuers; '*' accepts any. */
  acceptedIssuers: string[];
  /** Accepted audiences (`aud`); '*' accepts any. */
  audiences: string[];
  /** HS256 shared secret; empty: HMAC tokens are refused. */
  secret: string;
  /** PEM public keys (or certificates) for RS256/ES256 tokens, named by file (the name is a `kid`). */
  publicKeys: { kid: string; key: KeyObject }[];
}

export interface TokenIdentity {
  id?: string;
  name?: string;
  email?: string;
  avatar?: string;
  /** true/false when the token says so; undefined when it does not. */
  moderator?: boolean;
  /** context.user.admin (or a top-level `admin`) is true: with room "*", the admin API's Bearer (adminApiJwt). */
  admin?: boolean;
}

export type TokenResult = { ok: true; identity: TokenIdentity } | { ok: false; reason: string };

const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];
const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGS = ['ES256', 'ES384', 'ES512'];
/** Seconds of clock difference tolerated for exp and nbf. */
const CLOCK_TOLERANCE = 10;

/** Reads PEM public keys (SPKI or X.509 certificate) from files; the file name without extension is the key id. */
export function loadPublicKeys(files: string[]): { kid: string; key: KeyObject }[] {
  return files.map((file) => {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`jwtPublicKeys: cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      const key = createPublicKey(pem);
      if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec' && key.asymmetricKeyType !== 'rsa-pss') {
        throw new Error(`a ${key.asymmetricKeyType} key; RSA or EC keys are supported`);
      }
      return { kid: path.basename(file).replace(/\.(pem|crt|key|pub)$/i, ''), key };
    } catch (e) {
      throw new Error(`jwtPublicKeys: ${file} is not a usable PEM public key (${(e as Error).message})`);
    }
  });
}

function claimString(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function claimBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

function describeJoseError(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'the token has expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return 'the token is not valid yet (nbf is in the future)';
    if (e.claim === 'iat') return 'the token was issued in the future (iat)';
    if (e.claim === 'exp') return 'the token has no valid expiry (exp)';
    return `the token's "${e.claim}" claim is invalid`;
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not match';
  if (e instanceof errors.JOSEAlgNotAllowed) return 'the token algorithm is not accepted';
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return 'the token is malformed';
  if (e instanceof errors.JOSENotSupported) return 'the token uses an unsupported algorithm or key';
  return 'the token could not be verified';
}

export class TokenVerifier {
  private settings!: TokenSettings;
  private secret: Uint8Array | undefined;

  constructor(settings: TokenSettings) {
    this.update(settings);
  }

  /** New keys and issuers (a reload): tokens checked from now on use them. */
  update(settings: TokenSettings): void {
    this.settings = settings;
    this.secret = settings.secret ? new TextEncoder().encode(settings.secret) : undefined;
  }

  private keysFor(alg: string, kid: string | undefined): { key: KeyObject | Uint8Array; algorithms: string[] }[] {
    if (HMAC_ALGS.includes(alg)) return this.secret ? [{ key: this.secret, algorithms: HMAC_ALGS }] : [];
    const type = RSA_ALGS.includes(alg) ? ['rsa', 'rsa-pss'] : EC_ALGS.includes(alg) ? ['ec'] : [];
    const algorithms = RSA_ALGS.includes(alg) ? RSA_ALGS : EC_ALGS;
    let keys = this.settings.publicKeys.filter((k) => type.includes(k.key.asymmetricKeyType ?? ''));
    if (kid !== undefined) {
      const named = keys.filter((k) => k.kid === kid);
      if (named.length > 0) keys = named;
    }
    return keys.map((k) => ({ key: k.key, algorithms }));
  }

  /** Verifies `token` for a join of `room`. Never throws. */
  async verify(token: string, room: string): Promise<TokenResult> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return { ok: false, reason: 'the token is malformed' };
    }
    const alg = typeof header.alg === 'string' ? header.alg : '';
    if (alg.toLowerCase() === 'none' || alg === '') return { ok: false, reason: 'unsigned tokens (alg "none") are not accepted' };
    if (![...HMAC_ALGS, ...RSA_ALGS, ...EC_ALGS].includes(alg)) return { ok: false, reason: `the token algorithm "${alg.slice(0, 20)}" is not accepted` };
    const candidates = this.keysFor(alg, typeof header.kid === 'string' ? header.kid : undefined);
    if (candidates.length === 0) {
      return { ok: false, reason: `this server has no key for ${alg} tokens` };
    }
    let payload: JWTPayload | undefined;
    let lastError: unknown;
    for (const c of candidates) {
      try {
        payload = (await jwtVerify(token, c.key, { algorithms: c.algorithms, clockTolerance: CLOCK_TOLERANCE, requiredClaims: ['exp'] })).payload;
        break;
      } catch (e) {
        lastError = e;
        // with several keys, only a signature mismatch means "try the next one"
        if (!(e instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    if (!payload) return { ok: false, reason: describeJoseError(lastError) };
    return this.checkClaims(payload, room);
  }

  private checkClaims(payload: JWTPayload, room: string): TokenResult {
    const issuers = [this.settings.appId, ...this.settings.acceptedIssuers].filter(Boolean);
    if (typeof payload.iss !== 'string') return { ok: false, reason: 'the token has no issuer (iss)' };
    if (!issuers.includes('*') && !issuers.includes(payload.iss)) return { ok: false, reason: 'the token was issued for another application (iss)' };
    const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (aud.length === 0) return { ok: false, reason: 'the token has no audience (aud)' };
    const audiences = this.settings.audiences;
    if (!audiences.includes('*') && !aud.some((a) => audiences.includes(a))) return { ok: false, reason: 'the token is meant for another audience (aud)' };
    const roomClaim = (payload as { room?: unknown }).room;
    if (typeof roomClaim !== 'string' || !roomClaim) return { ok: false, reason: 'the token has no room claim' };
    // the claim may name the room as typed, as its key, or percent-encoded as Jitsi's token generators write it
    if (roomClaim !== '*' && roomKeyOfJitsiName(roomClaim) !== roomKey(room)) return { ok: false, reason: 'the token is for another room' };
    const context = (payload as { context?: unknown }).context;
    const user =
      context && typeof context === 'object' && (context as { user?: unknown }).user && typeof (context as { user?: unknown }).user === 'object'
        ? ((context as { user: Record<string, unknown> }).user)
        : {};
    const identity: TokenIdentity = {
      id: claimString(user.id),
      name: claimString(user.name),
      email: claimString(user.email),
      avatar: claimString(user.avatar),
      moderator: claimBoolean(user.moderator) ?? claimBoolean((payload as { moderator?: unknown }).moderator),
    };
    if ((claimBoolean(user.admin) ?? claimBoolean((payload as { admin?: unknown }).admin)) === true) identity.admin = true;
    return { ok: true, identity };
  }
}
