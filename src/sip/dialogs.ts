// Calls as SIP dialogs on the gateway's side (RFC 3261 12, 13.3, 15), both ways: the gateway answers an INVITE
// (180, then 200 with its SDP, sent again at T1 doubling to T2 until the caller's ACK), or takes the dialog of
// its own INVITE once it was answered (`adoptOutgoing`, dial-out.ts); either way it ends a call with BYE (a
// client transaction: sent again until answered, client-transactions.ts), takes the other side's BYE, CANCEL
// before the answer (200 to the CANCEL, 487 to the INVITE), in-dialog OPTIONS/INFO (200) and re-INVITE (answered
// by the call's handler: hold and unhold). What a call does with its media is the caller's business (`onEnded`,
// `onReinvite`); this file only keeps the dialog state right. Requests inside a dialog go back on the path the
// INVITE came in on (its source address over UDP, its connection over TCP): a phone behind NAT gets them; a
// dialog we started uses the path its INVITE went out on (the trunk or its outbound proxy), with the route set
// the 2xx gave.
import { addSessionTimerHeaders, expiryMs, MIN_SESSION_EXPIRES, sessionTimerOf, type SessionTimer } from './session-timer.ts';
import { ClientTransactions } from './client-transactions.ts';
import { parseNameAddr, parseVia } from './headers.ts';
import { responseTo, serializeMessage, type SipRequest, type SipResponse } from './message.ts';
import { buildRequest, newTag, type LocalAddress } from './requests.ts';
import { retransmit, type Respond } from './transactions.ts';
import type { SipSource } from './transport.ts';

/** Dialogs at once at most (each a call). */
export const MAX_DIALOGS = 2000;

export type DialogState = 'early' | 'answered' | 'confirmed' | 'ended';

export interface Dialog {
  /** 'in': a call to the gateway; 'out': the gateway's own call (dial-out). */
  readonly direction: 'in' | 'out';
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** The other side as it named itself: the From of an incoming INVITE, the To of our own. */
  readonly from: string;
  /** The INVITE that made it (theirs, or ours). */
  readonly invite: SipRequest;
  /** Where in-dialog requests go: the path the INVITE came in on, or went out on. */
  readonly source: Pick<SipSource, 'transport' | 'reply'>;
  state: DialogState;
  /** Why it ended: 'bye' (the caller hung up), 'hangup' (we did), 'cancel', 'no-ack', 'closed'. */
  endReason?: string;
  onEnded: (reason: string) => void;
  /** A re-INVITE's SDP; returns the SDP to answer with, or null to refuse it (488). */
  onReinvite: (sdp: string) => string | null;
  /** DTMF by SIP INFO (application/dtmf-relay or application/dtmf): the digit. */
  onInfoDigit: (digit: string) => void;
}

interface DialogEntry extends Dialog {
  /** Our side and theirs as From/To of our requests (without tags), where they go, through which proxies. */
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  routeSet: string[];
  respondInvite: Respond;
  /** Our 200 to the INVITE while it waits for its ACK. */
  answer: Buffer | null;
  /** Stops sending the 200 again. */
  stopResend: () => void;
  localCSeq: number;
  contact: string;
  /** Our Via sent-by for requests of a dialog we started; null: the gateway's contact address. */
  local: LocalAddress | null;
  /** RFC 4028 session timer of a call in (none when the caller does not support it), and its running timeout. */
  timer: SessionTimer | null;
  timerHandle: NodeJS.Timeout | undefined;
}

function key(callId: string, localTag: string): string {
  return `${callId}\n${localTag}`;
}

/** The session timer an INVITE asks for (too small: answered 422 by the call before a dialog is made). */
function timerPlan(invite: SipRequest, minimum: number): SessionTimer | null {
  const plan = sessionTimerOf(invite, minimum);
  return plan && !('tooSmall' in plan) ? plan : null;
}

export class Dialogs {
  private readonly byKey = new Map<string, DialogEntry>();
  /** Early dialogs by the INVITE's branch (a CANCEL finds its INVITE so). */
  private readonly byBranch = new Map<string, DialogEntry>();
  private readonly contact: string;
  private readonly tlsContact: string;
  readonly counters = { answersResent: 0 };
  /** Our requests: BYE here, INVITE/CANCEL in dial-out.ts, REGISTER in registration.ts. */
  readonly transactions = new ClientTransactions();

  /** Our Min-SE (RFC 4028), seconds. */
  readonly minSessionExpires: number;

  /**
   * `contact`: our URI for UDP and TCP dialogs (sip:gw@host:port;transport=...); `tlsContact`: for dialogs over
   * TLS (its own port); `minSessionExpires`: the shortest session interval taken (tests use a short one).
   */
  constructor(contact: string, tlsContact?: string, opts: { minSessionExpires?: number } = {}) {
    this.contact = contact;
    this.tlsContact = tlsContact ?? contact;
    this.minSessionExpires = opts.minSessionExpires ?? MIN_SESSION_EXPIRES;
  }

  /** Our Contact for a dialog that came over `transport`. */
  private contactFor(transport: string): string {
    return (transport === 'tls' ? this.tlsContact : this.contact).replace(/transport=\w+/, `transport=${transport}`);
  }

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Answers 422 with our Min-SE (RFC 4028) when a new INVITE asks for a session interval below it, so the caller
   * may ask again; true when the INVITE may go on.
   */
  admit(invite: SipRequest, respond: Respond): boolean {
    const plan = sessionTimerOf(invite, this.minSessionExpires);
    if (!plan || !('tooSmall' in plan)) return true;
    const res = responseTo(invite, 422, undefined, 'Session Interval Too Small');
    res.headers.add('min-se', String(plan.minimum));
    respond(res);
    return false;
  }

  /** Makes the dialog of a new INVITE; null when at MAX_DIALOGS (the caller answers 503). */
  create(invite: SipRequest, respond: Respond, source: SipSource): Dialog | null {
    if (this.byKey.size >= MAX_DIALOGS) return null;
    const from = parseNameAddr(invite.headers.get('from') ?? '');
    const callId = invite.headers.get('call-id') ?? '';
    const d: DialogEntry = {
      direction: 'in',
      callId,
      localTag: newTag(),
      remoteTag: from?.params.get('tag') ?? '',
      from: invite.headers.get('from') ?? '',
      invite,
      source,
      localUri: invite.headers.get('to') ?? '',
      remoteUri: invite.headers.get('from') ?? '',
      remoteTarget: parseNameAddr(invite.headers.get('contact') ?? '')?.uri ?? from?.uri ?? 'sip:unknown',
      routeSet: invite.headers.getAll('record-route'),
      state: 'early',
      onEnded: () => {},
      onReinvite: () => null,
      onInfoDigit: () => {},
      respondInvite: respond,
      answer: null,
      stopResend: () => {},
      localCSeq: 1,
      contact: `<${this.contactFor(source.transport)}>`,
      local: null,
      timer: timerPlan(invite, this.minSessionExpires),
      timerHandle: undefined,
    };
    this.byKey.set(key(callId, d.localTag), d);
    const branch = parseVia(invite.headers.get('via') ?? '')?.params.get('branch');
    if (branch) this.byBranch.set(branch, d);
    return d;
  }

  /**
   * The dialog of our own INVITE, answered by `res` (a 2xx, already ACKed by the caller), confirmed at once;
   * `local` says where our in-dialog requests come from. Null when at MAX_DIALOGS (the caller hangs up).
   */
  adoptOutgoing(invite: SipRequest, res: SipResponse, path: Pick<SipSource, 'transport' | 'reply'>, local: LocalAddress): Dialog | null {
    if (this.byKey.size >= MAX_DIALOGS) return null;
    const from = parseNameAddr(invite.headers.get('from') ?? '');
    const to = res.headers.get('to') ?? '';
    const d: DialogEntry = {
      direction: 'out',
      callId: invite.headers.get('call-id') ?? '',
      localTag: from?.params.get('tag') ?? '',
      remoteTag: parseNameAddr(to)?.params.get('tag') ?? '',
      from: to,
      invite,
      source: path,
      localUri: (invite.headers.get('from') ?? '').replace(/;\s*tag=[^;]*/i, ''),
      remoteUri: to,
      remoteTarget: parseNameAddr(res.headers.get('contact') ?? '')?.uri ?? invite.uri,
      routeSet: res.headers.getAll('record-route').reverse(),
      state: 'confirmed',
      onEnded: () => {},
      onReinvite: () => null,
      onInfoDigit: () => {},
      respondInvite: () => {},
      answer: null,
      stopResend: () => {},
      localCSeq: Number(/^\d+/.exec(invite.headers.get('cseq') ?? '1')?.[0] ?? 1),
      contact: `<${this.contactFor(local.transport)}>`,
      local,
      timer: null,
      timerHandle: undefined,
    };
    this.byKey.set(key(d.callId, d.localTag), d);
    return d;
  }

  /** A provisional response (180 Ringing, 183) in the dialog. */
  provisional(dialog: Dialog, status = 180): void {
    const d = dialog as DialogEntry;
    if (d.state !== 'early') return;
    const res = responseTo(d.invite, status, d.localTag);
    res.headers.add('contact', d.contact);
    d.respondInvite(res);
  }

  /** Answers the call: 200 with `sdp`, sent again until the ACK; no ACK in 32 s ends it ('no-ack', with a BYE). */
  answer(dialog: Dialog, sdp: string): void {
    const d = dialog as DialogEntry;
    if (d.state !== 'early') return;
    const res = responseTo(d.invite, 200, d.localTag);
    res.headers.add('contact', d.contact);
    res.headers.add('allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE');
    res.headers.add('supported', 'timer');
    if (d.timer) addSessionTimerHeaders(res.headers, d.timer);
    res.headers.add('content-type', 'application/sdp');
    res.body = Buffer.from(sdp, 'utf8');
    d.state = 'answered';
    this.forgetBranch(d);
    d.respondInvite(res);
    this.startSessionTimer(d);
    d.answer = serializeMessage(res);
    // sent again over every transport: the ACK may be lost beyond a proxy (13.3.1.4); no ACK: ended with a BYE
    d.stopResend = retransmit(
      () => {
        if (d.state !== 'answered') return false;
        this.counters.answersResent++;
        d.source.reply(d.answer!);
        return true;
      },
      () => this.end(d, 'no-ack', true),
    );
  }

  /** Refuses a call not yet answered with a final error (486 busy, 404 no such room, 480 ...). */
  refuse(dialog: Dialog, status: number, reason?: string): void {
    const d = dialog as DialogEntry;
    if (d.state !== 'early') return;
    d.respondInvite(responseTo(d.invite, status, d.localTag, reason));
    this.end(d, `refused ${status}`, false);
  }

  /** Ends the call from our side: BYE when it was answered, else 480 to the INVITE. */
  hangUp(dialog: Dialog): void {
    const d = dialog as DialogEntry;
    if (d.state === 'early') {
      this.refuse(d, 480);
      return;
    }
    this.end(d, 'hangup', true);
  }

  /**
   * A request that may belong to a dialog (SipServer's onDialogRequest): ACK, BYE, CANCEL, re-INVITE, INFO,
   * OPTIONS. Returns false when it belongs to none here.
   */
  handle(req: SipRequest, respond: Respond): boolean {
    if (req.method === 'CANCEL') {
      const branch = parseVia(req.headers.get('via') ?? '')?.params.get('branch');
      const d = branch ? this.byBranch.get(branch) : undefined;
      if (!d) return false;
      respond(responseTo(req, 200, d.localTag));
      if (d.state === 'early') {
        d.respondInvite(responseTo(d.invite, 487, d.localTag));
        this.end(d, 'cancel', false);
      }
      return true;
    }
    const to = parseNameAddr(req.headers.get('to') ?? '');
    const localTag = to?.params.get('tag');
    const d = localTag ? this.byKey.get(key(req.headers.get('call-id') ?? '', localTag)) : undefined;
    if (!d) return false;
    switch (req.method) {
      case 'ACK':
        if (d.state === 'answered') {
          d.state = 'confirmed';
          d.stopResend();
        }
        return true;
      case 'BYE':
        respond(responseTo(req, 200, d.localTag));
        this.end(d, 'bye', false);
        return true;
      case 'INVITE':
      case 'UPDATE': {
        // a re-INVITE or an UPDATE: a session refresh (RFC 4028), with a new offer or none (UPDATE: RFC 3311)
        const plan = sessionTimerOf(req, this.minSessionExpires);
        if (plan && 'tooSmall' in plan) {
          const r = responseTo(req, 422, d.localTag, 'Session Interval Too Small');
          r.headers.add('min-se', String(plan.minimum));
          respond(r);
          return true;
        }
        const sdp = req.body.toString('utf8');
        const answer = d.state === 'ended' ? null : req.method === 'UPDATE' && sdp.trim() === '' ? '' : d.onReinvite(sdp);
        if (answer === null) {
          respond(responseTo(req, 488, d.localTag));
          return true;
        }
        const res = responseTo(req, 200, d.localTag);
        res.headers.add('contact', d.contact);
        if (plan) {
          d.timer = plan;
          addSessionTimerHeaders(res.headers, plan);
        }
        if (answer !== '') {
          res.headers.add('content-type', 'application/sdp');
          res.body = Buffer.from(answer, 'utf8');
        }
        respond(res);
        this.startSessionTimer(d);
        return true;
      }
      case 'INFO': {
        const digit = /(?:^|\n)\s*Signal\s*=\s*([0-9*#A-D])/i.exec(req.body.toString('latin1'))?.[1] ?? (/^\s*([0-9*#A-D])\s*$/.exec(req.body.toString('latin1'))?.[1] ?? null);
        respond(responseTo(req, 200, d.localTag));
        if (digit !== null) d.onInfoDigit(digit.toUpperCase());
        return true;
      }
      default:
        respond(responseTo(req, 200, d.localTag));
        return true;
    }
  }

  /** Ends every dialog (the gateway stops): BYE to the answered ones. */
  closeAll(): void {
    for (const d of [...this.byKey.values()]) {
      if (d.state === 'early') this.refuse(d, 480);
      else this.end(d, 'closed', true);
    }
  }

  private forgetBranch(d: DialogEntry): void {
    for (const [b, x] of this.byBranch) if (x === d) this.byBranch.delete(b);
  }

  private end(d: DialogEntry, reason: string, sendBye: boolean): void {
    if (d.state === 'ended') return;
    const wasAnswered = d.state === 'answered' || d.state === 'confirmed';
    d.state = 'ended';
    d.endReason = reason;
    d.stopResend();
    clearTimeout(d.timerHandle);
    this.byKey.delete(key(d.callId, d.localTag));
    this.forgetBranch(d);
    if (sendBye && wasAnswered) this.sendBye(d);
    d.onEnded(reason);
  }

  /**
   * The session timer, from the 2xx or a refresh: the caller refreshes ('uac'): no refresh before the interval
   * less a third (at most 32 s) ends the call with a BYE; we refresh ('uas'): an UPDATE at half the interval, and
   * if that fails the call ends when the session does.
   */
  private startSessionTimer(d: DialogEntry): void {
    clearTimeout(d.timerHandle);
    const t = d.timer;
    if (!t || d.state === 'ended') return;
    const expire = () => this.end(d, 'session-expired', true);
    if (t.refresher === 'uac') {
      d.timerHandle = setTimeout(expire, expiryMs(t));
    } else {
      d.timerHandle = setTimeout(() => {
        d.timerHandle = setTimeout(expire, expiryMs(t) - (t.interval * 1000) / 2);
        this.sendRequest(d, 'UPDATE', (res) => {
          if (res.status >= 200 && res.status < 300) this.startSessionTimer(d);
        });
      }, (t.interval * 1000) / 2);
    }
    d.timerHandle.unref?.();
  }

  /** BYE as a client transaction: sent again (T1 doubling to T2, over UDP) until a response comes, for 32 s at most. */
  private sendBye(d: DialogEntry): void {
    this.sendRequest(d, 'BYE', () => {});
  }

  /** A request of ours in the dialog (BYE, UPDATE) as a client transaction; `onFinal` gets its final response. */
  private sendRequest(d: DialogEntry, method: 'BYE' | 'UPDATE', onFinal: (res: SipResponse) => void): void {
    let local = d.local;
    if (local === null) {
      const hp = /^sips?:(?:[^@]*@)?([^;:>]+)(?::(\d+))?/.exec(this.contactFor(d.source.transport));
      local = { transport: d.source.transport, host: hp?.[1] ?? '127.0.0.1', port: Number(hp?.[2] ?? 5060) };
    }
    const req = buildRequest({
      method,
      uri: d.remoteTarget,
      from: `${d.localUri};tag=${d.localTag}`,
      to: d.remoteUri,
      callId: d.callId,
      cseq: ++d.localCSeq,
      local,
      routes: d.routeSet,
      ...(method === 'UPDATE' ? { contact: d.contact.replace(/^<|>$/g, '') } : {}),
    });
    if (method === 'UPDATE' && d.timer) {
      req.headers.add('supported', 'timer');
      addSessionTimerHeaders(req.headers, d.timer);
    }
    try {
      this.transactions.send(req, d.source, { onResponse: (res) => res.status >= 200 && onFinal(res), onTimeout: () => {} });
    } catch {
      d.source.reply(serializeMessage(req)); // at the transactions' cap: sent once
    }
  }

  /** A response from a peer (SipServer passes responses): one to our BYE, INVITE, CANCEL or REGISTER. */
  handleResponse(res: SipResponse): boolean {
    return this.transactions.handleResponse(res);
  }
}
