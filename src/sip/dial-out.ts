// Calling out through the SIP trunk (dial-out, issue 15): one outgoing INVITE with the SDP offer the caller
// gives, provisional responses reported as they come, a 401/407 answered with digest once per challenge, and an
// end that is one of: answered (ACK sent, the dialog confirmed in Dialogs, the answer SDP handed back) or a
// failure with a plain reason (busy, not found, no answer, declined ...). The caller gives up with `cancel()`:
// CANCEL once the far end has sent a provisional response (RFC 3261 9.1), at once if it already has. A 2xx
// that races our CANCEL is ACKed and the call hung up with BYE.
import type { DialOutFailure } from '../protocol/dial-out-messages.ts';
import type { Dialog, Dialogs } from './dialogs.ts';
import { RequestAuth } from './digest.ts';
import { parseCSeq, parseNameAddr } from './headers.ts';
import { serializeMessage, type SipRequest, type SipResponse } from './message.ts';
import { buildRequest, newBranch, newCallId, newTag, type LocalAddress } from './requests.ts';
import { targetUri, type Trunk } from './trunk.ts';
import type { SipPath } from './client-transactions.ts';

/** How long the far end may ring before we give up (CANCEL): 'no-answer'. */
export const NO_ANSWER_MS = 60_000;

export type { DialOutFailure };

export type DialOutResult =
  | { ok: true; dialog: Dialog; answer: string }
  | { ok: false; reason: DialOutFailure; status?: number };

export interface DialOutOptions {
  trunk: Trunk;
  dialogs: Dialogs;
  /** Where requests go (the trunk's address) and where we say they come from. */
  path: SipPath;
  local: LocalAddress;
  /** A number (digits, +, *, #) or a sip: URI. */
  target: string;
  /** Our SDP offer. */
  offer: string;
  noAnswerMs?: number;
  /** A provisional response (180 ringing, 183 progress). */
  onProgress?: (status: number) => void;
}

/** The plain reason of a final error response. */
export function failureOf(status: number): DialOutFailure {
  if (status === 486 || status === 600) return 'busy';
  if (status === 404 || status === 604) return 'not-found';
  if (status === 408 || status === 480) return 'no-answer';
  if (status === 603) return 'declined';
  if (status === 401 || status === 407 || status === 403) return 'unauthorized';
  if (status === 487) return 'cancelled';
  return 'failed';
}

export class DialOut {
  readonly callId: string;
  /** Settles once: answered, or why not. */
  readonly result: Promise<DialOutResult>;
  private settle!: (r: DialOutResult) => void;
  private readonly o: DialOutOptions;
  private readonly auth: RequestAuth;
  private readonly fromTag = newTag();
  private invite: SipRequest;
  private cseq = 1;
  private ringing = false;
  /** Why we are giving up ('no-answer' or 'cancelled'), once we are. */
  private givingUp: DialOutFailure | null = null;
  private cancelSent = false;
  private done = false;
  private ack: Buffer | null = null;
  private noAnswer: NodeJS.Timeout;

  constructor(o: DialOutOptions) {
    this.o = o;
    this.callId = newCallId(o.local.host);
    this.auth = new RequestAuth(o.trunk.digest);
    this.result = new Promise((r) => (this.settle = r));
    this.invite = this.buildInvite();
    this.noAnswer = setTimeout(() => this.giveUp('no-answer'), o.noAnswerMs ?? NO_ANSWER_MS);
    this.noAnswer.unref();
    this.send();
  }

  /** The moderator gave up before the answer: CANCEL (when it can be sent), then 'cancelled'. */
  cancel(): void {
    this.giveUp('cancelled');
  }

  private buildInvite(): SipRequest {
    const { trunk, local } = this.o;
    const uri = targetUri(this.o.target, trunk);
    const req = buildRequest({
      method: 'INVITE',
      uri,
      from: `${trunk.from};tag=${this.fromTag}`,
      to: `<${uri}>`,
      callId: this.callId,
      cseq: this.cseq,
      local,
      routes: trunk.routes,
      contact: `sip:${encodeURIComponent(trunk.user)}@${local.host}:${local.port};transport=${local.transport}`,
      body: { type: 'application/sdp', text: this.o.offer },
    });
    req.headers.add('allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO');
    this.auth.apply(req);
    return req;
  }

  private send(): void {
    const invite = this.invite;
    try {
      this.o.dialogs.transactions.send(invite, this.o.path, {
        onResponse: (res) => this.onResponse(invite, res),
        onTimeout: () => this.finish({ ok: false, reason: this.givingUp ?? 'no-answer', status: 408 }),
      });
    } catch {
      this.finish({ ok: false, reason: 'failed' });
    }
  }

  private onResponse(invite: SipRequest, res: SipResponse): void {
    if (invite !== this.invite) return; // an earlier, challenged INVITE
    if (res.status < 200) {
      if (res.status > 100 && !this.done) this.o.onProgress?.(res.status);
      if (!this.ringing) {
        this.ringing = true;
        if (this.givingUp !== null) this.sendCancel();
      }
      return;
    }
    if (res.status < 300) {
      this.answered(res);
      return;
    }
    if ((res.status === 401 || res.status === 407) && this.givingUp === null && this.auth.accept(res)) {
      this.cseq++;
      this.ringing = false;
      this.invite = this.buildInvite();
      this.send();
      return;
    }
    this.finish({ ok: false, reason: res.status === 487 && this.givingUp !== null ? this.givingUp : failureOf(res.status), status: res.status });
  }

  private answered(res: SipResponse): void {
    if (this.ack !== null) {
      this.o.path.reply(this.ack); // the 2xx again: our ACK was lost
      return;
    }
    const toTag = parseNameAddr(res.headers.get('to') ?? '')?.params.get('tag');
    const target = parseNameAddr(res.headers.get('contact') ?? '')?.uri;
    const ack = buildRequest({
      method: 'ACK',
      uri: target ?? this.invite.uri,
      from: this.invite.headers.get('from') ?? '',
      to: res.headers.get('to') ?? '',
      callId: this.callId,
      cseq: parseCSeq(res.headers.get('cseq') ?? '')?.seq ?? this.cseq,
      local: this.o.local,
      routes: res.headers.getAll('record-route').reverse(),
      branch: newBranch(),
    });
    this.ack = serializeMessage(ack);
    this.o.path.reply(this.ack);
    const dialog = toTag ? this.o.dialogs.adoptOutgoing(this.invite, res, this.o.path, this.o.local) : null;
    const answer = res.body.toString('utf8');
    if (dialog === null || this.givingUp !== null || this.done || !/^v=0/.test(answer)) {
      // too late (cancelled, or at the dialogs' cap), or no SDP answer to our offer: hung up at once
      if (dialog !== null) this.o.dialogs.hangUp(dialog);
      this.finish({ ok: false, reason: this.givingUp ?? 'failed', status: res.status });
      return;
    }
    this.finish({ ok: true, dialog, answer });
  }

  private giveUp(reason: DialOutFailure): void {
    if (this.done || this.givingUp !== null) return;
    this.givingUp = reason;
    if (this.ringing) this.sendCancel();
    // no provisional response yet: the CANCEL goes when one comes, or the INVITE times out (Timer B)
  }

  private sendCancel(): void {
    if (this.cancelSent) return;
    this.cancelSent = true;
    const branch = /;branch=([^;]+)/.exec(this.invite.headers.get('via') ?? '')?.[1];
    const cancel = buildRequest({
      method: 'CANCEL',
      uri: this.invite.uri,
      from: this.invite.headers.get('from') ?? '',
      to: this.invite.headers.get('to') ?? '',
      callId: this.callId,
      cseq: this.cseq,
      local: this.o.local,
      routes: this.o.trunk.routes,
      branch,
    });
    try {
      // its 200 says nothing we need: the INVITE's 487 (or a timeout) ends the call
      this.o.dialogs.transactions.send(cancel, this.o.path, { onResponse: () => {}, onTimeout: () => {} });
    } catch {
      this.o.path.reply(serializeMessage(cancel));
    }
  }

  private finish(r: DialOutResult): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.noAnswer);
    this.settle(r);
  }
}
