// Calls as SIP dialogs on the gateway's side (RFC 3261 12, 13.3, 15): the gateway answers an INVITE (180, then
// 200 with its SDP, sent again at T1 doubling to T2 until the caller's ACK), ends a call with BYE (a client
// transaction: sent again until answered), takes the caller's BYE, CANCEL before the answer (200 to the
// CANCEL, 487 to the INVITE), in-dialog OPTIONS/INFO (200) and re-INVITE (answered by the call's handler: hold
// and unhold). What a call does with its media is the caller's business (`onEnded`, `onReinvite`); this file
// only keeps the dialog state right. Requests inside a dialog go back on the path the INVITE came in on (its
// source address over UDP, its connection over TCP): a phone behind NAT gets them.
import { randomBytes } from 'node:crypto';
import { parseCSeq, parseNameAddr, parseVia } from './headers.ts';
import { responseTo, serializeMessage, SipHeaders, type SipRequest, type SipResponse } from './message.ts';
import { retransmit, type Respond } from './transactions.ts';
import type { SipSource } from './transport.ts';

/** Dialogs at once at most (each a call). */
export const MAX_DIALOGS = 2000;

export type DialogState = 'early' | 'answered' | 'confirmed' | 'ended';

export interface Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** The caller as it named itself (From). */
  readonly from: string;
  /** The INVITE that made it. */
  readonly invite: SipRequest;
  readonly source: SipSource;
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
  respondInvite: Respond;
  /** Our 200 to the INVITE while it waits for its ACK. */
  answer: Buffer | null;
  /** Stops sending the 200 again. */
  stopResend: () => void;
  localCSeq: number;
  contact: string;
}

function key(callId: string, localTag: string): string {
  return `${callId}\n${localTag}`;
}

export class Dialogs {
  private readonly byKey = new Map<string, DialogEntry>();
  /** Early dialogs by the INVITE's branch (a CANCEL finds its INVITE so). */
  private readonly byBranch = new Map<string, DialogEntry>();
  private readonly contact: string;
  private readonly tlsContact: string;
  readonly counters = { answersResent: 0, byesResent: 0 };

  /** `contact`: the gateway's own URI for Contact (sip:gw@host:port;transport=...). */
  /** `contact`: our address for UDP and TCP dialogs; `tlsContact`: for dialogs over TLS (its own port). */
  constructor(contact: string, tlsContact?: string) {
    this.contact = contact;
    this.tlsContact = tlsContact ?? contact;
  }

  /** Our Contact for a dialog that came over `transport`. */
  private contactFor(transport: string): string {
    return (transport === 'tls' ? this.tlsContact : this.contact).replace(/transport=\w+/, `transport=${transport}`);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Makes the dialog of a new INVITE; null when at MAX_DIALOGS (the caller answers 503). */
  create(invite: SipRequest, respond: Respond, source: SipSource): Dialog | null {
    if (this.byKey.size >= MAX_DIALOGS) return null;
    const from = parseNameAddr(invite.headers.get('from') ?? '');
    const callId = invite.headers.get('call-id') ?? '';
    const d: DialogEntry = {
      callId,
      localTag: randomBytes(6).toString('hex'),
      remoteTag: from?.params.get('tag') ?? '',
      from: invite.headers.get('from') ?? '',
      invite,
      source,
      state: 'early',
      onEnded: () => {},
      onReinvite: () => null,
      onInfoDigit: () => {},
      respondInvite: respond,
      answer: null,
      stopResend: () => {},
      localCSeq: 1,
      contact: `<${this.contactFor(source.transport)}>`,
    };
    this.byKey.set(key(callId, d.localTag), d);
    const branch = parseVia(invite.headers.get('via') ?? '')?.params.get('branch');
    if (branch) this.byBranch.set(branch, d);
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
    res.headers.add('allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO');
    res.headers.add('content-type', 'application/sdp');
    res.body = Buffer.from(sdp, 'utf8');
    d.state = 'answered';
    this.forgetBranch(d);
    d.respondInvite(res);
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
      case 'INVITE': {
        const sdp = req.body.toString('utf8');
        const answer = d.state === 'ended' ? null : d.onReinvite(sdp);
        if (answer === null) {
          respond(responseTo(req, 488, d.localTag));
          return true;
        }
        const res = responseTo(req, 200, d.localTag);
        res.headers.add('contact', d.contact);
        res.headers.add('content-type', 'application/sdp');
        res.body = Buffer.from(answer, 'utf8');
        respond(res);
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
    this.byKey.delete(key(d.callId, d.localTag));
    this.forgetBranch(d);
    if (sendBye && wasAnswered) this.sendBye(d);
    d.onEnded(reason);
  }

  /** BYE as a client transaction: sent again (T1 doubling to T2) until a response comes, for 32 s at most. */
  private sendBye(d: DialogEntry): void {
    const h = new SipHeaders();
    const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
    h.add('via', `SIP/2.0/${d.source.transport.toUpperCase()} ${this.contactFor(d.source.transport).replace(/^sip:[^@]*@/, '').replace(/;.*$/, '')};branch=${branch};rport`);
    h.add('max-forwards', '70');
    // From and To swap: we are the To of the INVITE
    h.add('from', `${d.invite.headers.get('to') ?? ''};tag=${d.localTag}`);
    h.add('to', d.from);
    h.add('call-id', d.callId);
    h.add('cseq', `${++d.localCSeq} BYE`);
    const target = parseNameAddr(d.invite.headers.get('contact') ?? '')?.uri ?? parseNameAddr(d.from)?.uri ?? 'sip:unknown';
    const bytes = serializeMessage({ kind: 'request', method: 'BYE', uri: target, headers: h, body: Buffer.alloc(0) });
    d.source.reply(bytes);
    if (d.source.transport !== 'udp') return;
    const stop = retransmit(
      () => {
        this.counters.byesResent++;
        d.source.reply(bytes);
        return true;
      },
      () => this.pendingByes.delete(branch),
    );
    this.pendingByes.set(branch, stop);
  }

  /** Our BYEs waiting for their response (UDP), by branch: the stopper of their retransmissions. */
  private readonly pendingByes = new Map<string, () => void>();

  /** A response from a peer (SipServer passes responses): a BYE's ends its retransmissions. */
  handleResponse(res: SipResponse): boolean {
    const branch = parseVia(res.headers.get('via') ?? '')?.params.get('branch');
    const cseq = parseCSeq(res.headers.get('cseq') ?? '');
    const stop = branch ? this.pendingByes.get(branch) : undefined;
    if (!stop || cseq?.method !== 'BYE') return false;
    if (res.status >= 200) {
      stop();
      this.pendingByes.delete(branch!);
    }
    return true;
  }
}
