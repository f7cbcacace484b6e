// The SIP gateway's signalling front (issue 15): the transports, the server transactions, and the answers
// every SIP peer expects whatever the call: OPTIONS (keep-alives, capability queries) 200 with what is
// supported; a request without a transaction it belongs to (BYE, CANCEL) 481; a method the gateway does not
// take 405 with Allow (a known one) or 501; Max-Forwards 0 483; a Require it does not support 420. INVITEs go to
// `onInvite` (the call handling), which owns the dialog from there.
// Logs: a refused call at info (`refused`, also for the call handling), what does not parse at warn, each with the
// peer's address and the reason, through ThrottledLog: at most a few lines per address a minute, so a flood of
// INVITEs or garbage cannot fill the disk (the transport's counters count every one; /metrics shows them).
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { responseTo, type SipMessage, type SipRequest, type SipResponse } from './message.ts';
import { ServerTransactions, type Respond } from './transactions.ts';
import { ThrottledLog } from './throttled-log.ts';
import { SipTransport, type SipProblem, type SipSource } from './transport.ts';

export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE'] as const;
/** Methods of RFC 3261 and its usual extensions: answered 405 (not 501, which means "unknown"). */
const KNOWN_METHODS = new Set([...ALLOWED_METHODS, 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PRACK', 'PUBLISH']);
const SUPPORTED: readonly string[] = ['timer'];
/** Lines about refused calls per minute, per address (a trunk carries many callers) and in all (ThrottledLog). */
const REFUSAL_LINES = { perAddress: 30, total: 120 };
/** Lines about malformed messages: one per address a minute, and in all. */
const MALFORMED_LINES = { perAddress: 1, total: 20 };

export interface SipServerOptions {
  address: string;
  port: number;
  /** SIP over TLS on its own port with this certificate (transport.ts); none: UDP and TCP only. */
  tls?: { port: number; cert: string; key: string };
  log: Logger;
  /**
   * A new INVITE outside a dialog; respond through `respond` (provisional responses, then one final). Without
   * a handler, calls are refused with 480.
   */
  onInvite?: (req: SipRequest, respond: Respond, from: SipSource) => void;
  /** A request inside a dialog the call handling knows (BYE, re-INVITE, INFO, ACK of a 2xx); false: not ours. */
  onDialogRequest?: (req: SipRequest, respond: Respond, from: SipSource) => boolean;
  /** A response to a request the gateway sent (a BYE); false: not ours (dropped). */
  onResponse?: (res: SipResponse) => boolean;
}

export class SipServer {
  private readonly transport: SipTransport;
  readonly transactions = new ServerTransactions();
  private readonly opts: SipServerOptions;
  private readonly log: Logger;
  /** Our tag for responses outside a dialog (OPTIONS, errors). */
  private readonly tag = randomBytes(6).toString('hex');
  private readonly refusals: ThrottledLog;
  private readonly problems: ThrottledLog;

  constructor(opts: SipServerOptions) {
    this.opts = opts;
    this.log = opts.log;
    this.refusals = new ThrottledLog(this.log, { level: 'info', ...REFUSAL_LINES, what: 'refused SIP calls' });
    this.problems = new ThrottledLog(this.log, { level: 'warn', ...MALFORMED_LINES, what: 'malformed SIP messages' });
    this.transport = new SipTransport({
      address: opts.address,
      port: opts.port,
      ...(opts.tls ? { tls: opts.tls } : {}),
      onMessage: (m, from) => this.onMessage(m, from),
      onProblem: (p) => this.onProblem(p),
    });
  }

  /**
   * A call refused (its final response sent or about to be): an info line with the status, the reason and the
   * caller's address, bounded per address and in all. `fields` must hold no secret (no PIN, no password).
   */
  refused(from: Pick<SipSource, 'transport' | 'address'>, status: number, reason: string, fields: Record<string, unknown> = {}): void {
    this.refusedByStatus.set(status, (this.refusedByStatus.get(status) ?? 0) + 1);
    this.refusals.note(from.address, { ...fields, status, reason, transport: from.transport }, 'call refused');
  }

  /** Calls refused since the start, by SIP status (a few codes: this file's and call.ts's), for /metrics. */
  readonly refusedByStatus = new Map<number, number>();

  private onProblem(p: SipProblem): void {
    if (p.reason === 'tcpRefused') this.problems.note(p.address, { transport: p.transport, reason: p.detail }, 'SIP connection refused (connection caps)');
    else this.problems.note(p.address, { transport: p.transport, reason: p.detail, kind: p.reason }, 'malformed SIP message dropped');
  }

  get counters() {
    return { ...this.transport.counters, ...this.transactions.counters };
  }

  async listen(): Promise<number> {
    const port = await this.transport.listen();
    this.log.info({ port, ...(this.transport.tlsPort ? { tlsPort: this.transport.tlsPort } : {}) }, this.transport.tlsPort ? 'SIP listening (UDP, TCP and TLS)' : 'SIP listening (UDP and TCP)');
    return port;
  }

  /** A renewed certificate for TLS. */
  setCertificate(pair: { cert: string; key: string }): void {
    this.transport.setCertificate(pair);
  }

  /** The TLS port, 0 without TLS. */
  get tlsPort(): number {
    return this.transport.tlsPort;
  }

  /** Where our own requests to address:port go over UDP (from the listening port: responses come back there). */
  udpPath(address: string, port: number): { transport: 'udp'; reply: (data: Buffer) => void } {
    return { transport: 'udp', reply: (data) => this.transport.sendUdp(data, address, port) };
  }

  async close(): Promise<void> {
    this.transactions.close();
    await this.transport.close();
    this.refusals.close();
    this.problems.close();
  }

  private onMessage(m: SipMessage, from: SipSource): void {
    if (m.kind === 'response') {
      this.opts.onResponse?.(m);
      return;
    }
    const respond = this.transactions.receive(m, from);
    if (respond === null) return; // a retransmission, or an ACK the transaction layer absorbed
    try {
      this.onRequest(m, respond, from);
    } catch (e) {
      this.log.error({ err: (e as Error).message, method: m.method }, 'SIP request handling failed');
      if (m.method !== 'ACK') respond(responseTo(m, 500, this.tag));
    }
  }

  private onRequest(req: SipRequest, respond: Respond, from: SipSource): void {
    const method = req.method;
    if (method === 'ACK') {
      this.opts.onDialogRequest?.(req, respond, from);
      return; // never answered
    }
    const maxForwards = req.headers.get('max-forwards');
    if (maxForwards !== undefined && (!/^\d{1,3}$/.test(maxForwards) || Number(maxForwards) === 0) && method !== 'OPTIONS') {
      if (method === 'INVITE') this.refused(from, 483, 'Max-Forwards is 0 or unreadable (a loop?)');
      respond(responseTo(req, 483, this.tag));
      return;
    }
    const unsupported = req.headers.getAll('require').filter((o) => !SUPPORTED.includes(o.toLowerCase()));
    if (unsupported.length > 0 && method !== 'CANCEL') {
      if (method === 'INVITE') this.refused(from, 420, `requires extensions we do not support: ${unsupported.join(', ').slice(0, 100)}`);
      const res = responseTo(req, 420, this.tag);
      res.headers.add('unsupported', unsupported.join(', '));
      respond(res);
      return;
    }
    const inDialog = /;\s*tag=/i.test(req.headers.get('to') ?? '');
    if (inDialog || method === 'CANCEL') {
      if (this.opts.onDialogRequest?.(req, respond, from)) return;
      if (method !== 'OPTIONS') {
        respond(responseTo(req, 481, this.tag));
        return;
      }
    }
    switch (method) {
      case 'OPTIONS': {
        const res = responseTo(req, 200, this.tag);
        res.headers.add('allow', ALLOWED_METHODS.join(', '));
        res.headers.add('accept', 'application/sdp');
        res.headers.add('supported', SUPPORTED.join(', '));
        respond(res);
        return;
      }
      case 'INVITE':
        if (this.opts.onInvite) this.opts.onInvite(req, respond, from);
        else {
          this.refused(from, 480, 'no calls taken here');
          respond(responseTo(req, 480, this.tag, 'Temporarily Unavailable (no calls taken here)'));
        }
        return;
      case 'BYE':
      case 'INFO':
      case 'UPDATE':
        respond(responseTo(req, 481, this.tag));
        return;
      default: {
        const res = responseTo(req, KNOWN_METHODS.has(method) ? 405 : 501, this.tag);
        res.headers.add('allow', ALLOWED_METHODS.join(', '));
        respond(res);
      }
    }
  }
}
