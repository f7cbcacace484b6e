// A bare SIP caller over UDP, for tests that check what the gateway answers one INVITE (no media is sent): the
// INVITE is sent again every 500 ms until a response comes (as Timer A would); its final response is ACKed (a
// non-2xx in the INVITE's transaction; a 2xx with its own ACK, then a BYE, so the call ends at once). Resolves
// with the provisional statuses and the final status and reason phrase.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { parseMessage, type SipResponse } from '../../src/sip/message.ts';

/** An SDP offer as phones send it, with this body's lines between the session lines and the end. */
export function sdpOffer(media: string[], connection = 'c=IN IP4 127.0.0.1'): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', connection, 't=0 0', ...media, ''].join('\r\n');
}

export interface CallResult {
  provisional: number[];
  status: number;
  reason: string;
}

/** Calls `uri` at 127.0.0.1:`port` from the number `from` (its user part) with `sdp` as the offer. */
export async function callOnce(port: number, opts: { uri: string; sdp: string; from?: string; headers?: string[]; timeoutMs?: number }): Promise<CallResult> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const local = sock.address().port;
  const id = randomBytes(6).toString('hex');
  const fromHeader = `<sip:${opts.from ?? '+34600119888'}@127.0.0.1>;tag=f${id}`;
  const callId = `${id}@127.0.0.1`;
  const via = (branch: string) => `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${branch};rport`;
  const request = (method: string, uri: string, branch: string, cseq: number, to: string, extra: string[] = [], body = '') =>
    Buffer.from(
      [
        `${method} ${uri} SIP/2.0`,
        via(branch),
        `From: ${fromHeader}`,
        `To: ${to}`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} ${method}`,
        'Max-Forwards: 70',
        ...extra,
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n'),
    );
  const send = (b: Buffer) => sock.send(b, port, '127.0.0.1');
  const inviteBranch = `i${id}`;
  const invite = request('INVITE', opts.uri, inviteBranch, 1, `<${opts.uri}>`, [`Contact: <sip:caller@127.0.0.1:${local}>`, ...(opts.headers ?? []), 'Content-Type: application/sdp'], opts.sdp);
  const provisional: number[] = [];
  try {
    return await new Promise<CallResult>((resolve, reject) => {
      let answered = false;
      const resend = setInterval(() => {
        if (!answered) send(invite);
      }, 500);
      const timeout = setTimeout(() => {
        clearInterval(resend);
        reject(new Error(`no final response to the INVITE of ${opts.uri} (provisional: ${provisional.join(', ') || 'none'})`));
      }, opts.timeoutMs ?? 20_000);
      let final: CallResult | undefined;
      sock.on('message', (buf) => {
        let res: SipResponse;
        try {
          const m = parseMessage(buf);
          if (m.kind !== 'response') return;
          res = m;
        } catch {
          return;
        }
        answered = true;
        const method = res.headers.get('cseq')?.split(/\s+/)[1];
        if (method === 'BYE' && final) {
          clearInterval(resend);
          clearTimeout(timeout);
          return resolve(final);
        }
        if (method !== 'INVITE') return;
        if (res.status < 200) {
          if (!provisional.includes(res.status)) provisional.push(res.status);
          return;
        }
        const to = res.headers.get('to') ?? '';
        if (res.status >= 300) {
          // the ACK of a non-2xx: in the INVITE's transaction (its branch), sent for each retransmission
          send(request('ACK', opts.uri, inviteBranch, 1, to));
          if (final) return;
          final = { provisional, status: res.status, reason: res.reason };
          clearInterval(resend);
          clearTimeout(timeout);
          return resolve(final);
        }
        // a 2xx: ACK it to the Contact, then hang up
        const contact = /<([^>]+)>/.exec(res.headers.get('contact') ?? '')?.[1] ?? opts.uri;
        send(request('ACK', contact, `a${id}`, 1, to));
        if (final) return;
        final = { provisional, status: res.status, reason: res.reason };
        send(request('BYE', contact, `b${id}`, 2, to));
      });
      send(invite);
    });
  } finally {
    sock.close();
  }
}
