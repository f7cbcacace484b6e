// Requests the gateway starts (RFC 3261 8.1.1): new branches, tags and Call-IDs, and one builder for every
// request it sends (INVITE, ACK, CANCEL, BYE, REGISTER), in or out of a dialog, with its Via (rport asked
// for, RFC 3581), Max-Forwards, Route set and Contact. What the request carries beyond that is the caller's.
import { randomBytes } from 'node:crypto';
import { SipHeaders, type SipRequest } from './message.ts';

/** An RFC 3261 branch (magic cookie z9hG4bK). */
export function newBranch(): string {
  return `z9hG4bK${randomBytes(8).toString('hex')}`;
}

export function newTag(): string {
  return randomBytes(6).toString('hex');
}

export function newCallId(host: string): string {
  return `${randomBytes(12).toString('hex')}@${host}`;
}

/** Where our requests say they come from: the Via sent-by and the Contact's host:port. */
export interface LocalAddress {
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
}

export interface RequestFields {
  method: string;
  uri: string;
  /** From and To as written (name-addr with their tags). */
  from: string;
  to: string;
  callId: string;
  cseq: number;
  local: LocalAddress;
  /** Route headers, in order (a loose-routing outbound proxy, a dialog's route set). */
  routes?: readonly string[];
  /** The Contact URI (without <>); none for CANCEL and ACK. */
  contact?: string;
  branch?: string;
  body?: { type: string; text: string };
}

export function buildRequest(f: RequestFields): SipRequest {
  const h = new SipHeaders();
  h.add('via', `SIP/2.0/${f.local.transport.toUpperCase()} ${f.local.host}:${f.local.port};branch=${f.branch ?? newBranch()};rport`);
  h.add('max-forwards', '70');
  for (const r of f.routes ?? []) h.add('route', r);
  h.add('from', f.from);
  h.add('to', f.to);
  h.add('call-id', f.callId);
  h.add('cseq', `${f.cseq} ${f.method}`);
  if (f.contact !== undefined) h.add('contact', `<${f.contact}>`);
  h.add('user-agent', 'Tertulia');
  let body = Buffer.alloc(0);
  if (f.body) {
    h.add('content-type', f.body.type);
    body = Buffer.from(f.body.text, 'utf8');
  }
  return { kind: 'request', method: f.method, uri: f.uri, headers: h, body };
}
