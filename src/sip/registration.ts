// Keeps the gateway registered with its SIP trunk (RFC 3261 10): REGISTER to the trunk's domain with our
// Contact, digest answered (digest.ts), then again at half the time the registrar granted (its Contact's
// expires, else Expires); 423 Interval Too Brief is retried with the Min-Expires it names; a failure (refused,
// no answer) is retried with a backoff doubling from 5 s to 5 minutes. `stop()` unregisters (Expires: 0).
// One Call-ID for the registration's life, CSeq counting up (10.2.4). The password never reaches a log.
import type { Logger } from '../log.ts';
import type { ClientTransactions, SipPath } from './client-transactions.ts';
import { RequestAuth } from './digest.ts';
import { parseNameAddr, parseUri } from './headers.ts';
import type { SipResponse } from './message.ts';
import { buildRequest, newCallId, newTag, type LocalAddress } from './requests.ts';
import type { Trunk } from './trunk.ts';

export const DEFAULT_EXPIRES_S = 3600;
const RETRY_MIN_MS = 5000;
const RETRY_MAX_MS = 300_000;

export type RegistrationState = 'idle' | 'registering' | 'registered' | 'failed' | 'stopped';

export interface RegistrationOptions {
  trunk: Trunk;
  transactions: ClientTransactions;
  path: SipPath;
  local: LocalAddress;
  log: Logger;
  /** The Expires we ask for (seconds). */
  expires?: number;
  /** The first retry after a failure (doubling up to 5 minutes). */
  retryMs?: number;
  onState?: (state: RegistrationState, detail: { status?: number; expires?: number }) => void;
}

export class Registration {
  state: RegistrationState = 'idle';
  /** REGISTERs answered 2xx, refused or unanswered. */
  readonly counters = { registered: 0, failed: 0 };
  private readonly o: RegistrationOptions;
  private readonly callId: string;
  private readonly tag = newTag();
  private readonly contact: string;
  private cseq = 0;
  private expires: number;
  private timer: NodeJS.Timeout | null = null;
  private retryMs: number;

  constructor(o: RegistrationOptions) {
    this.o = o;
    this.callId = newCallId(o.local.host);
    this.contact = `sip:${encodeURIComponent(o.trunk.user)}@${o.local.host}:${o.local.port};transport=${o.local.transport}`;
    this.expires = o.expires ?? DEFAULT_EXPIRES_S;
    this.retryMs = o.retryMs ?? RETRY_MIN_MS;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.register(this.expires, new RequestAuth(this.o.trunk.digest));
  }

  /** Stops refreshing and unregisters; resolves when the registrar answered (or did not, in 32 s). */
  stop(): Promise<void> {
    this.clearTimer();
    const was = this.state;
    this.setState('stopped', {});
    if (was !== 'registered' && was !== 'registering') return Promise.resolve();
    return new Promise((resolve) => this.register(0, new RequestAuth(this.o.trunk.digest), resolve));
  }

  private register(expires: number, auth: RequestAuth, unregistered?: () => void): void {
    const { trunk, local } = this.o;
    const req = buildRequest({
      method: 'REGISTER',
      uri: `sip:${trunk.domain}`,
      from: `<${trunk.aor}>;tag=${this.tag}`,
      to: `<${trunk.aor}>`,
      callId: this.callId,
      cseq: ++this.cseq,
      local,
      routes: trunk.routes,
      contact: this.contact,
    });
    req.headers.add('expires', String(expires));
    auth.apply(req);
    if (unregistered === undefined) this.setState('registering', {});
    const done = (res: SipResponse | null) => {
      if (unregistered !== undefined) {
        if (res !== null && (res.status === 401 || res.status === 407) && auth.accept(res)) return this.register(0, auth, unregistered);
        this.o.log.info({ registrar: trunk.domain, status: res?.status }, 'SIP trunk: unregistered');
        unregistered();
        return;
      }
      if (this.state === 'stopped') return;
      if (res !== null && (res.status === 401 || res.status === 407) && auth.accept(res)) return this.register(expires, auth);
      if (res !== null && res.status === 423) {
        const min = Number(res.headers.get('min-expires'));
        if (Number.isInteger(min) && min > expires && min <= 86_400) return this.register(min, new RequestAuth(trunk.digest));
      }
      if (res !== null && res.status >= 200 && res.status < 300) return this.registered(res, expires);
      this.failed(res?.status);
    };
    try {
      this.o.transactions.send(req, this.o.path, {
        onResponse: (res) => {
          if (res.status >= 200) done(res);
        },
        onTimeout: () => done(null),
      });
    } catch {
      done(null);
    }
  }

  private registered(res: SipResponse, asked: number): void {
    let granted = asked;
    const ours = parseUri(this.contact);
    for (const c of res.headers.getAll('contact')) {
      const na = parseNameAddr(c);
      const u = na ? parseUri(na.uri) : null;
      if (u && ours && u.user === ours.user && u.host === ours.host && (u.port ?? 5060) === ours.port) {
        const e = Number(na!.params.get('expires'));
        if (Number.isFinite(e) && na!.params.has('expires')) granted = e;
      }
    }
    if (granted === asked && res.headers.has('expires')) {
      const e = Number(res.headers.get('expires'));
      if (Number.isFinite(e)) granted = e;
    }
    granted = Math.max(1, Math.min(granted, 86_400));
    this.counters.registered++;
    this.retryMs = this.o.retryMs ?? RETRY_MIN_MS;
    this.o.log.info({ registrar: this.o.trunk.domain, user: this.o.trunk.user, expires: granted }, 'SIP trunk: registered');
    this.setState('registered', { status: res.status, expires: granted });
    // refreshed at half the granted time (at least one second from now)
    this.schedule(Math.max(1000, (granted * 1000) / 2), () => this.register(this.expires, new RequestAuth(this.o.trunk.digest)));
  }

  private failed(status: number | undefined): void {
    this.counters.failed++;
    this.o.log.warn({ registrar: this.o.trunk.domain, user: this.o.trunk.user, status: status ?? 'no answer', retryInMs: this.retryMs }, 'SIP trunk: registration failed');
    this.setState('failed', status === undefined ? {} : { status });
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.schedule(wait, () => this.register(this.expires, new RequestAuth(this.o.trunk.digest)));
  }

  private schedule(ms: number, then: () => void): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state !== 'stopped') then();
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private setState(state: RegistrationState, detail: { status?: number; expires?: number }): void {
    this.state = state;
    this.o.onState?.(state, detail);
  }
}
