// Peer-to-peer for two on the signalling server (src/signal/p2p.ts) over real HTTPS + WebSocket: when a P2P
// session starts and ends, who offers, what is relayed to whom, and what is refused.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSignal, type TestSignal, type WsClient } from '../helpers/signal-client.ts';
import { MAX_P2P_SDP } from '../../src/protocol/p2p-messages.ts';

const servers: TestSignal[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function signal(p2p = true): Promise<TestSignal> {
  const s = await startTestSignal({ p2p });
  servers.push(s);
  return s;
}

/** Two clients in `room`; their `p2p-start` messages. */
async function pair(s: TestSignal, room: string): Promise<{ a: WsClient; b: WsClient; aId: string; bId: string; startA: any; startB: any }> {
  const a = s.client();
  const aId = (await a.join(room, 'Ana')).selfId;
  const b = s.client();
  const bId = (await b.join(room, 'Beto')).selfId;
  const [startA, startB] = await Promise.all([a.nextOfType('p2p-start'), b.nextOfType('p2p-start')]);
  return { a, b, aId, bId, startA, startB };
}

const offer = { kind: 'description', type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };

describe('signal p2p', () => {
  test('two browsers get one session; the later joiner offers; signals are relayed only to the peer', async () => {
    const s = await signal();
    const { a, b, aId, bId, startA, startB } = await pair(s, 'P2P one');
    assert.equal(startA.session, startB.session);
    assert.deepEqual([startA.peerId, startA.offerer], [bId, false]);
    assert.deepEqual([startB.peerId, startB.offerer], [aId, true]);
    await b.send({ type: 'p2p-signal', session: startB.session, signal: offer });
    const got = await a.nextOfType('p2p-signal');
    assert.deepEqual(got, { type: 'p2p-signal', session: startA.session, from: bId, signal: offer });
    const candidate = { kind: 'candidate', candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' };
    await a.send({ type: 'p2p-signal', session: startA.session, signal: candidate });
    assert.deepEqual((await b.nextOfType('p2p-signal')).signal, candidate);
    // the sender never gets its own signal back
    assert.ok(await a.nothingLike((m) => m.type === 'p2p-signal'));
  });

  test('bad signals are refused with why; a stranger session is dropped', async () => {
    const s = await signal();
    const { a, b, startA } = await pair(s, 'P2P two');
    const big = await a.expectError({ type: 'p2p-signal', session: startA.session, signal: { ...offer, sdp: 'x'.repeat(MAX_P2P_SDP + 1) } });
    assert.equal(big.code, 'bad-message');
    const kind = await a.expectError({ type: 'p2p-signal', session: startA.session, signal: { kind: 'script', text: 'alert(1)' } });
    assert.equal(kind.code, 'bad-message');
    const session = await a.expectError({ type: 'p2p-signal', session: 'x', signal: offer });
    assert.equal(session.code, 'bad-message');
    await a.send({ type: 'p2p-signal', session: 'AAAAAAAAAAAAAAAA', signal: offer });
    assert.ok(await b.nothingLike((m) => m.type === 'p2p-signal'));
    // not in a room: refused
    const c = s.client();
    assert.equal((await c.expectError({ type: 'p2p-signal', session: startA.session, signal: offer })).code, 'not-joined');
  });

  test('a third participant ends the session; when it leaves, a new one starts', async () => {
    const s = await signal();
    const { a, b, startA } = await pair(s, 'P2P three');
    const c = s.client();
    await c.join('P2P three', 'Carla');
    assert.equal((await a.nextOfType('p2p-stop')).session, startA.session);
    assert.equal((await b.nextOfType('p2p-stop')).session, startA.session);
    // the old session's signals go nowhere now
    await a.send({ type: 'p2p-signal', session: startA.session, signal: offer });
    assert.ok(await b.nothingLike((m) => m.type === 'p2p-signal'));
    assert.ok(await c.nothingLike((m) => m.type.startsWith('p2p-')));
    c.close();
    const [again, againB] = await Promise.all([a.nextOfType('p2p-start'), b.nextOfType('p2p-start')]);
    assert.notEqual(again.session, startA.session);
    assert.equal(again.session, againB.session);
  });

  test('a failed connection keeps the pair on the bridge; a reload (a new member) tries again', async () => {
    const s = await signal();
    const { a, b, startA } = await pair(s, 'P2P fail');
    await a.send({ type: 'p2p-failed', session: startA.session });
    await Promise.all([a.nextOfType('p2p-stop'), b.nextOfType('p2p-stop')]);
    assert.ok(await a.nothingLike((m) => m.type === 'p2p-start'));
    b.close();
    await a.nextOfType('participant-left');
    const b2 = s.client();
    await b2.join('P2P fail', 'Beto');
    const [n1, n2] = await Promise.all([a.nextOfType('p2p-start'), b2.nextOfType('p2p-start')]);
    assert.equal(n1.session, n2.session);
    assert.equal(n2.offerer, true);
  });

  test('signals beyond the burst are refused as rate-limited', async () => {
    const s = await signal();
    const { a, startA } = await pair(s, 'P2P flood');
    for (let i = 0; i < 45; i++) await a.send({ type: 'p2p-signal', session: startA.session, signal: offer });
    assert.equal((await a.nextOfType('error')).code, 'rate-limited');
  });

  test('with p2p off, nobody gets a session', async () => {
    const s = await signal(false);
    const a = s.client();
    await a.join('P2P off', 'Ana');
    const b = s.client();
    await b.join('P2P off', 'Beto');
    assert.ok(await a.nothingLike((m) => m.type === 'p2p-start'));
    assert.ok(await b.nothingLike((m) => m.type === 'p2p-start'));
  });
});
