// Server transactions (RFC 3261 17.2): a retransmitted request gets the last response again instead of
// reaching the gateway twice; over UDP an INVITE's non-2xx final response is retransmitted (T1 doubling up
// to T2) until its ACK or Timer H, and the ACK is absorbed here. Matching by the RFC 3261 branch (magic
// cookie z9hG4bK), sent-by and method (an ACK finds its INVITE). Capped: beyond MAX_TRANSACTIONS new
// requests get 503. A 2xx to an INVITE ends the transaction at once: its retransmission until the ACK is
// the dialog's job (13.3.1.4), and that ACK is a new request for the core.
import { parseVia } from './headers.ts';
import { responseTo, serializeMessage, type SipRequest, type SipResponse } from './message.ts';
import type { SipSource } from './transport.ts';

export const T1_MS = 500;
export const T2_MS = 4000;
const TIMER_H_MS = 64 * T1_MS;
/** How long a finished non-INVITE (and a confirmed INVITE) transaction absorbs retransmissions over UDP. */
const LINGER_MS = 64 * T1_MS;
export const MAX_TRANSACTIONS = 10_000;

/**
 * Sends something again at T1, 2*T1, ... capped at T2 (RFC 3261 17.1.1.2, 13.3.1.4) until stopped or for
 * Timer H/F (64*T1); `resend` returns false to stop, `onGiveUp` runs when the time is up. Returns the stopper.
 */
export function retransmit(resend: () => boolean, onGiveUp: () => void = () => {}): () => void {
  let interval = T1_MS;
  const started = Date.now();
  let timer: NodeJS.Timeout | null = null;
  const again = () => {
    if (Date.now() - started >= TIMER_H_MS) {
      timer = null;
      onGiveUp();
      return;
    }
    if (!resend()) return;
    interval = Math.min(interval * 2, T2_MS);
    timer = setTimeout(again, interval);
    timer.unref();
  };
  timer = setTimeout(again, interval);
  timer.unref();
  return () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
}

/** How the core answers a request: any number of provisional responses, then one final. */
export type Respond = (res: SipResponse) => void;

interface ServerTransaction {
  key: string;
  method: string;
  source: SipSource;
  last: Buffer | null;
  final: boolean;
  /** Stops sending the final response again (INVITE over UDP). */
  stopResend: () => void;
  /** Removal timer. */
  expiry: NodeJS.Timeout | null;
}

export class ServerTransactions {
  private readonly byKey = new Map<string, ServerTransaction>();
  /** Retransmitted requests absorbed, final responses sent again (Timer G), ACKs matched, requests refused for the cap. */
  readonly counters = { retransmissions: 0, resent: 0, acks: 0, refused: 0 };

  get size(): number {
    return this.byKey.size;
  }

  /**
   * A request from the transport: a retransmission or the ACK of a non-2xx is handled here (returns null);
   * otherwise a new transaction is made and `respond` for it returned (send responses through it).
   */
  receive(req: SipRequest, source: SipSource): Respond | null {
    const key = transactionKey(req);
    if (req.method === 'ACK') {
      const tx = key === null ? undefined : this.byKey.get(key.replace(/ ACK$/, ' INVITE'));
      if (tx !== undefined && tx.final) {
        // the ACK of a non-2xx final response: stop retransmitting, linger a while for retransmitted ACKs
        this.counters.acks++;
        this.stopRetransmit(tx);
        return null;
      }
      return () => {}; // the ACK of a 2xx: the core's (no response to an ACK ever)
    }
    if (key !== null) {
      const tx = this.byKey.get(key);
      if (tx !== undefined) {
        this.counters.retransmissions++;
        if (tx.last !== null) tx.source.reply(tx.last);
        return null;
      }
    }
    if (this.byKey.size >= MAX_TRANSACTIONS) {
      this.counters.refused++;
      const res = responseTo(req, 503, undefined);
      res.headers.add('retry-after', '5');
      source.reply(serializeMessage(res));
      return null;
    }
    if (key === null) {
      // an RFC 2543 peer (no magic cookie): answered, but retransmissions are not recognised
      return (res) => source.reply(serializeMessage(res));
    }
    const tx: ServerTransaction = { key, method: req.method, source, last: null, final: false, stopResend: () => {}, expiry: null };
    this.byKey.set(key, tx);
    // a transaction the core never answers does not stay forever
    tx.expiry = setTimeout(() => this.remove(tx), TIMER_H_MS + LINGER_MS);
    tx.expiry.unref();
    return (res) => this.send(tx, res);
  }

  close(): void {
    for (const tx of this.byKey.values()) this.remove(tx);
  }

  private send(tx: ServerTransaction, res: SipResponse): void {
    if (tx.final) return; // one final response per transaction
    const bytes = serializeMessage(res);
    tx.last = bytes;
    tx.source.reply(bytes);
    if (res.status < 200) return;
    tx.final = true;
    if (tx.method === 'INVITE' && res.status < 300) {
      this.remove(tx); // 2xx: the dialog retransmits it until the ACK
      return;
    }
    if (tx.method === 'INVITE' && tx.source.transport === 'udp') {
      tx.stopResend = retransmit(() => {
        this.counters.resent++;
        tx.source.reply(bytes);
        return true;
      });
    }
    this.linger(tx, tx.method === 'INVITE' ? TIMER_H_MS : tx.source.transport === 'udp' ? LINGER_MS : 0);
  }

  private stopRetransmit(tx: ServerTransaction): void {
    tx.stopResend();
    this.linger(tx, tx.source.transport === 'udp' ? T2_MS + T1_MS : 0);
  }

  private linger(tx: ServerTransaction, ms: number): void {
    if (tx.expiry !== null) clearTimeout(tx.expiry);
    tx.expiry = setTimeout(() => this.remove(tx), ms);
    tx.expiry.unref();
  }

  private remove(tx: ServerTransaction): void {
    tx.stopResend();
    if (tx.expiry !== null) clearTimeout(tx.expiry);
    if (this.byKey.get(tx.key) === tx) this.byKey.delete(tx.key);
  }
}

/** branch + sent-by + method, or null when the branch is not RFC 3261's (no z9hG4bK cookie). */
export function transactionKey(req: SipRequest): string | null {
  const top = req.headers.get('via');
  const via = top === undefined ? null : parseVia(top);
  const branch = via?.params.get('branch');
  if (!via || !branch || !branch.startsWith('z9hG4bK') || branch.length > 256) return null;
  return `${branch} ${via.host}:${via.port ?? 5060} ${req.method}`;
}
