// Client transactions (RFC 3261 17.1): the requests the gateway sends (INVITE, CANCEL, BYE, REGISTER) and the
// responses that match them by the top Via's branch and the CSeq method (17.1.3). Over UDP a request is sent
// again (T1 doubling to T2, `retransmit`) until a response comes; no final response in 64*T1 is a timeout
// (Timers B and F). An INVITE stops its retransmissions at the first provisional response and then waits for
// the final one as long as the caller wants (the caller cancels). A non-2xx final response to an INVITE is
// ACKed here, and its retransmissions ACKed again for Timer D; a 2xx is the dialog's to ACK, so its
// retransmissions keep reaching the caller for 64*T1 (RFC 6026). A non-INVITE's retransmitted final response
// is absorbed for Timer K.
import { parseCSeq, parseVia } from './headers.ts';
import { serializeMessage, SipHeaders, type SipRequest, type SipResponse } from './message.ts';
import { retransmit, T1_MS } from './transactions.ts';
import type { SipSource } from './transport.ts';

/** Timers B and F: no final response in this long is a timeout. */
export const TIMEOUT_MS = 64 * T1_MS;
/** Timer D: how long a non-2xx final response to an INVITE is ACKed again (over UDP). */
const TIMER_D_MS = 32_000;
/** Timer K (T4): how long a non-INVITE's final response is absorbed again (over UDP). */
const TIMER_K_MS = 5000;
/** Client transactions at once at most; beyond it `send` throws (the caller's caps keep it far below). */
export const MAX_CLIENT_TRANSACTIONS = 10_000;

/** How a request leaves and comes back: UDP to an address, or a TCP connection. */
export type SipPath = Pick<SipSource, 'transport' | 'reply'>;

export interface ClientHandlers {
  /** Every response that reaches the caller: provisional ones, the final one, a 2xx again (INVITE). */
  onResponse: (res: SipResponse) => void;
  /** No final response in time (Timer B or F), or the transactions were closed. */
  onTimeout: () => void;
}

type State = 'calling' | 'proceeding' | 'completed' | 'accepted';

interface ClientTransaction {
  key: string;
  request: SipRequest;
  path: SipPath;
  handlers: ClientHandlers;
  state: State;
  /** The ACK of a non-2xx final response (INVITE), sent again when that response comes again. */
  ack: Buffer | null;
  stopResend: () => void;
  timer: NodeJS.Timeout | null;
}

export class ClientTransactions {
  private readonly byKey = new Map<string, ClientTransaction>();
  /** Requests sent, sent again, ACKs of non-2xx sent, timeouts, responses matching no transaction. */
  readonly counters = { sent: 0, resent: 0, acks: 0, timeouts: 0, stray: 0 };

  get size(): number {
    return this.byKey.size;
  }

  /** Sends `req` (its top Via must carry an RFC 3261 branch) on `path`; responses go to `handlers`. */
  send(req: SipRequest, path: SipPath, handlers: ClientHandlers): void {
    const branch = parseVia(req.headers.get('via') ?? '')?.params.get('branch');
    if (!branch?.startsWith('z9hG4bK')) throw new Error('a client request needs an RFC 3261 branch');
    if (this.byKey.size >= MAX_CLIENT_TRANSACTIONS) throw new Error('too many SIP client transactions');
    const key = `${branch} ${req.method}`;
    const tx: ClientTransaction = { key, request: req, path, handlers, state: 'calling', ack: null, stopResend: () => {}, timer: null };
    this.byKey.set(key, tx);
    const bytes = serializeMessage(req);
    this.counters.sent++;
    path.reply(bytes);
    const timeout = () => {
      this.counters.timeouts++;
      this.remove(tx);
      handlers.onTimeout();
    };
    if (path.transport === 'udp') {
      tx.stopResend = retransmit(() => {
        this.counters.resent++;
        path.reply(bytes);
        return true;
      }, timeout);
    } else {
      this.expire(tx, TIMEOUT_MS, timeout);
    }
  }

  /** A response from the transport; false when it matches no transaction (a stray, dropped). */
  handleResponse(res: SipResponse): boolean {
    const branch = parseVia(res.headers.get('via') ?? '')?.params.get('branch');
    const method = parseCSeq(res.headers.get('cseq') ?? '')?.method;
    const tx = branch && method ? this.byKey.get(`${branch} ${method}`) : undefined;
    if (!tx) {
      this.counters.stray++;
      return false;
    }
    const invite = tx.request.method === 'INVITE';
    if (res.status < 200) {
      if (tx.state === 'calling' && invite) {
        // RFC 3261 17.1.1.2: no more retransmissions, and no Timer B: the caller decides how long it rings
        tx.stopResend();
        this.clearTimer(tx);
      }
      if (tx.state === 'calling') tx.state = 'proceeding';
      if (tx.state === 'proceeding') tx.handlers.onResponse(res);
      return true;
    }
    if (invite && res.status < 300) {
      // the 2xx and its retransmissions go up: the dialog ACKs each
      if (tx.state === 'completed') return true;
      if (tx.state !== 'accepted') {
        tx.state = 'accepted';
        tx.stopResend();
        this.expire(tx, TIMEOUT_MS, () => this.remove(tx));
      }
      tx.handlers.onResponse(res);
      return true;
    }
    if (tx.state === 'completed' || tx.state === 'accepted') {
      if (tx.ack !== null) tx.path.reply(tx.ack); // the final response again: our ACK was lost
      return true;
    }
    tx.state = 'completed';
    tx.stopResend();
    if (invite) {
      tx.ack = serializeMessage(ackFor(tx.request, res));
      this.counters.acks++;
      tx.path.reply(tx.ack);
    }
    const linger = tx.path.transport === 'udp' ? (invite ? TIMER_D_MS : TIMER_K_MS) : 0;
    this.expire(tx, linger, () => this.remove(tx));
    tx.handlers.onResponse(res);
    return true;
  }

  /** Ends every transaction (the gateway stops): those still waiting for a final response time out. */
  close(): void {
    for (const tx of [...this.byKey.values()]) {
      this.remove(tx);
      if (tx.state === 'calling' || tx.state === 'proceeding') tx.handlers.onTimeout();
    }
  }

  private expire(tx: ClientTransaction, ms: number, then: () => void): void {
    this.clearTimer(tx);
    tx.timer = setTimeout(then, ms);
    tx.timer.unref();
  }

  private clearTimer(tx: ClientTransaction): void {
    if (tx.timer !== null) clearTimeout(tx.timer);
    tx.timer = null;
  }

  private remove(tx: ClientTransaction): void {
    tx.stopResend();
    this.clearTimer(tx);
    if (this.byKey.get(tx.key) === tx) this.byKey.delete(tx.key);
  }
}

/** The ACK of a non-2xx final response (RFC 3261 17.1.1.3): the INVITE's branch, URI and Route, the response's To. */
function ackFor(invite: SipRequest, res: SipResponse): SipRequest {
  const h = new SipHeaders();
  h.add('via', invite.headers.get('via') ?? '');
  h.add('max-forwards', '70');
  for (const r of invite.headers.getAll('route')) h.add('route', r);
  h.add('from', invite.headers.get('from') ?? '');
  h.add('to', res.headers.get('to') ?? '');
  h.add('call-id', invite.headers.get('call-id') ?? '');
  h.add('cseq', `${parseCSeq(invite.headers.get('cseq') ?? '')?.seq ?? 1} ACK`);
  return { kind: 'request', method: 'ACK', uri: invite.uri, headers: h, body: Buffer.alloc(0) };
}
