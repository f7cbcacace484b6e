// Client transactions (src/sip/client-transactions.ts) against a bare UDP peer that answers when the test says:
// an INVITE is sent again until a response comes and not after a provisional one; a 486 sent again gets our
// ACK again (Timer D) and reaches the caller once; a 2xx sent again reaches the dial-out, which sends its ACK
// again; a non-INVITE's final response sent again is absorbed; no answer at all is a timeout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { ClientTransactions } from '../../src/sip/client-transactions.ts';
import { DialOut } from '../../src/sip/dial-out.ts';
import { parseMessage, responseTo, serializeMessage, type SipRequest } from '../../src/sip/message.ts';
import { buildRequest } from '../../src/sip/requests.ts';
import { openTrunk } from '../../src/sip/trunk.ts';
import { startSipFront, TEST_OFFER } from '../helpers/sipp.ts';

/** A UDP peer that keeps every request it got. */
class Peer {
  readonly socket = dgram.createSocket('udp4');
  readonly got: { req: SipRequest; port: number }[] = [];
  port = 0;
  async start(): Promise<void> {
    this.socket.on('message', (buf, rinfo) => {
      const m = parseMessage(buf);
      if (m.kind === 'request') this.got.push({ req: m, port: rinfo.port });
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.port = this.socket.address().port;
  }
  of(method: string): SipRequest[] {
    return this.got.filter((g) => g.req.method === method).map((g) => g.req);
  }
  async waitFor(what: string, ok: () => boolean): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${this.got.map((g) => g.req.method).join(' ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  reply(req: SipRequest, status: number, to: number, extra: (h: ReturnType<typeof responseTo>) => void = () => {}): void {
    const res = responseTo(req, status, 'peer');
    extra(res);
    this.socket.send(serializeMessage(res), to, '127.0.0.1');
  }
}

describe('SIP client transactions over UDP', () => {
  let front: Awaited<ReturnType<typeof startSipFront>>;
  let peer: Peer;
  before(async () => {
    front = await startSipFront();
    peer = new Peer();
    await peer.start();
  });
  after(async () => {
    await front.close();
    peer.socket.close();
  });

  const branchOf = (r: SipRequest) => /branch=([^;]+)/.exec(r.headers.get('via')!)![1];

  test('INVITE: sent again until a provisional response, a 486 sent again is ACKed again and reported once', { timeout: 90_000 }, async () => {
    const trunk = await openTrunk({ uri: `sip:127.0.0.1:${peer.port}`, proxy: '', user: '', password: '', register: false, from: '' });
    const progress: number[] = [];
    const call = new DialOut({ trunk, dialogs: front.dialogs, path: front.server.udpPath('127.0.0.1', peer.port), local: front.local, target: '5551234', offer: TEST_OFFER, onProgress: (s) => progress.push(s) });
    await peer.waitFor('the INVITE sent again', () => peer.of('INVITE').length >= 2);
    const invites = peer.of('INVITE');
    assert.equal(new Set(invites.map(branchOf)).size, 1, 'the same transaction');
    const invite = invites[0]!;
    const from = front.local.port;
    peer.reply(invite, 180, from);
    await peer.waitFor('the 180 to arrive', () => progress.length === 1);
    const sent = peer.of('INVITE').length;
    peer.reply(invite, 486, from);
    const result = await call.result;
    assert.deepEqual(result, { ok: false, reason: 'busy', status: 486 });
    await peer.waitFor('the ACK', () => peer.of('ACK').length === 1);
    peer.reply(invite, 486, from); // our ACK was "lost"
    await peer.waitFor('the ACK again', () => peer.of('ACK').length === 2);
    const acks = peer.of('ACK');
    assert.equal(branchOf(acks[0]!), branchOf(invite), 'the ACK of a non-2xx is in the INVITE transaction');
    assert.match(acks[0]!.headers.get('to')!, /tag=peer/);
    assert.equal(acks[0]!.headers.get('cseq'), '1 ACK');
    assert.equal(peer.of('INVITE').length, sent, 'no INVITE after the provisional response');
    assert.deepEqual(progress, [180]);
  });

  test('INVITE answered: our ACK (a new branch, to the Contact) goes again when the 200 comes again', { timeout: 90_000 }, async () => {
    peer.got.length = 0;
    const trunk = await openTrunk({ uri: `sip:127.0.0.1:${peer.port}`, proxy: '', user: '', password: '', register: false, from: '+34910000000' });
    const call = new DialOut({ trunk, dialogs: front.dialogs, path: front.server.udpPath('127.0.0.1', peer.port), local: front.local, target: 'sip:bob@example.org', offer: TEST_OFFER });
    await peer.waitFor('the INVITE', () => peer.of('INVITE').length >= 1);
    const invite = peer.of('INVITE')[0]!;
    assert.equal(invite.uri, 'sip:bob@example.org');
    assert.match(invite.headers.get('from')!, /^<sip:%2B34910000000@127\.0\.0\.1:\d+>;tag=/);
    const answer = (res: ReturnType<typeof responseTo>) => {
      res.headers.add('contact', `<sip:bob@127.0.0.1:${peer.port}>`);
      res.headers.add('content-type', 'application/sdp');
      res.body = Buffer.from(TEST_OFFER);
    };
    peer.reply(invite, 200, front.local.port, answer);
    const result = await call.result;
    assert.ok(result.ok);
    await peer.waitFor('the ACK', () => peer.of('ACK').length === 1);
    peer.reply(invite, 200, front.local.port, answer);
    await peer.waitFor('the ACK again', () => peer.of('ACK').length === 2);
    const ack = peer.of('ACK')[0]!;
    assert.equal(ack.uri, `sip:bob@127.0.0.1:${peer.port}`);
    assert.notEqual(branchOf(ack), branchOf(invite));
    front.dialogs.hangUp(result.dialog);
    await peer.waitFor('the BYE', () => peer.of('BYE').length >= 1);
    const bye = peer.of('BYE')[0]!;
    assert.equal(bye.headers.get('cseq'), '2 BYE');
    peer.reply(bye, 200, front.local.port);
  });

  test('non-INVITE: sent again until answered, the final response again absorbed; no answer is a timeout', { timeout: 90_000 }, async () => {
    peer.got.length = 0;
    const tx = new ClientTransactions();
    const options = () =>
      buildRequest({ method: 'OPTIONS', uri: `sip:127.0.0.1:${peer.port}`, from: '<sip:gw@127.0.0.1>;tag=1', to: `<sip:127.0.0.1:${peer.port}>`, callId: `c${Math.random()}`, cseq: 1, local: front.local });
    const statuses: number[] = [];
    // this transaction set is not the front's: its responses are handed to it by hand
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    socket.on('message', (buf) => {
      const m = parseMessage(buf);
      if (m.kind === 'response') tx.handleResponse(m);
    });
    const own = { transport: 'udp' as const, reply: (d: Buffer) => socket.send(d, peer.port, '127.0.0.1') };
    tx.send(options(), own, { onResponse: (r) => statuses.push(r.status), onTimeout: () => statuses.push(0) });
    await peer.waitFor('OPTIONS sent again', () => peer.of('OPTIONS').length >= 2);
    const req = peer.of('OPTIONS')[0]!;
    const to = socket.address().port;
    peer.reply(req, 200, to);
    peer.reply(req, 200, to);
    await peer.waitFor('the answer', () => statuses.length === 1);
    assert.deepEqual(statuses, [200]);
    // nothing listening: Timer F
    const deaf = { transport: 'udp' as const, reply: (d: Buffer) => socket.send(d, 9, '127.0.0.1') };
    let timedOut = false;
    tx.send(options(), deaf, { onResponse: () => {}, onTimeout: () => (timedOut = true) });
    await peer.waitFor('the timeout', () => timedOut);
    assert.ok(tx.counters.resent > 2);
    assert.equal(tx.size, 0, 'both gone: the answered one after Timer K, the other at its timeout');
    socket.close();
  });
});
