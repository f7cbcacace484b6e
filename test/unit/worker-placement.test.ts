// Placing endpoints on media workers: a small conference on one worker, a big one spread; a connectivity
// check that the kernel hands to another worker goes to the endpoint's worker, which opens a socket connected
// to the check's address before answering, so that address's datagrams reach it from then on (real sockets
// sharing one port with SO_REUSEPORT, a real WorkerBridge).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { createBridgeCertificate } from '../../src/bridge/certificate.ts';
import { buildBindingRequest, parseStun, STUN_CLASS_SUCCESS } from '../../src/bridge/packet/stun.ts';
import { connectedSocketsWork } from '../../src/bridge/udp-transport.ts';
import { WorkerPlacement } from '../../src/bridge/workers/placement.ts';
import { WorkerBridge, type PeerUpdate } from '../../src/bridge/workers/worker-bridge.ts';
import { webrtcOf } from '../../src/bridge/webrtc-transport.ts';
import { sleep, waitFor } from '../helpers/fake-browser.ts';

test('placement: a conference stays on its worker up to the span, then spreads; new conferences go to the least loaded', () => {
  const p = new WorkerPlacement(2, 3);
  assert.deepEqual([p.place('a'), p.place('a'), p.place('a')], [0, 0, 0], 'a small conference on one worker');
  assert.equal(p.place('b'), 1, 'the next conference on the other (least loaded) worker');
  // 'a' reached the span: its next endpoints go where the load is lowest
  assert.deepEqual([p.place('a'), p.place('a'), p.place('a')], [1, 1, 0]);
  assert.deepEqual(p.loads, [4, 3]);
  assert.equal(p.place('b'), 1, "'b' is below the span: its home, however loaded");
  for (let i = 0; i < 3; i++) p.remove('a', 0);
  p.remove('a', 1);
  p.remove('a', 1);
  p.remove('a', 0);
  assert.deepEqual(p.loads, [0, 2]);
  assert.equal(p.place('a'), 0, 'a conference whose endpoints all left starts anew, on the least loaded worker');
  assert.equal(p.place('c'), 0);
  assert.deepEqual(p.loads, [2, 2]);
});

test('placement: a span of 1 alternates the endpoints of one conference over the workers', () => {
  const p = new WorkerPlacement(3, 1);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(() => p.place('x')), [0, 1, 2, 0, 1, 2]);
});

test('connected sockets of a shared port are used on Linux 5.3 and later only', () => {
  assert.equal(connectedSocketsWork('6.18.44-fc-v782', 'linux'), true);
  assert.equal(connectedSocketsWork('5.3.0', 'linux'), true);
  assert.equal(connectedSocketsWork('5.2.21', 'linux'), false);
  assert.equal(connectedSocketsWork('4.19.0-27-amd64', 'linux'), false);
  assert.equal(connectedSocketsWork('23.1.0', 'darwin'), false);
  assert.equal(connectedSocketsWork('garbage', 'linux'), false);
});

const PWD = 'p'.repeat(24);

async function udpSocket(port: number, reusePort: boolean): Promise<dgram.Socket> {
  return await new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: 'udp4', reusePort });
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve(s));
  });
}

/** Worker 1 of two: alice is placed on it, bob on worker 0. */
async function worker1(updates: PeerUpdate[]): Promise<WorkerBridge> {
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 2, nativeSend: false });
  const wb = new WorkerBridge({
    bus: new MemoryBus(),
    config,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    bridgeId: 'w',
    certificate: await createBridgeCertificate(),
    workerIndex: 1,
    workerCount: 2,
    rtcpIndexes: new Int32Array(16),
    rings: [null, null],
    sendPeerUpdate: (u) => updates.push(u),
  });
  wb.allocateNumbered({ conferenceId: 'c', endpointId: 'alice', ufrag: 'alice-ufrag', pwd: PWD, conferenceNum: 1, endpointNum: 0, worker: 1 });
  wb.allocateNumbered({ conferenceId: 'c', endpointId: 'bob', ufrag: 'bob-ufrag', pwd: PWD, conferenceNum: 1, endpointNum: 1, worker: 0 });
  return wb;
}

function check(ufrag: string): Buffer {
  return buildBindingRequest({ username: `${ufrag}:remote`, key: PWD, priority: 1, useCandidate: true, iceControlling: 1n });
}

test("a check received by another worker is answered by the endpoint's worker, which then receives that address", { skip: !connectedSocketsWork() && 'needs Linux 5.3 or later' }, async (t) => {
  const updates: PeerUpdate[] = [];
  const wb = await worker1(updates);
  const port = await wb.udp.bind('127.0.0.1', 0);
  // worker 0's socket on the same port (it counts what the kernel gives it)
  const other = await udpSocket(port, true);
  let atOther = 0;
  other.on('message', () => atOther++);
  // a client whose datagrams the kernel hashes to the other socket
  const tried: dgram.Socket[] = [];
  t.after(async () => {
    other.close();
    for (const s of tried) s.close();
    await wb.close();
  });
  let client: dgram.Socket | null = null;
  while (client === null && tried.length < 64) {
    const s = await udpSocket(0, false);
    tried.push(s);
    const seen = { wb: wb.counters.dropUnknownType, other: atOther };
    s.send(Buffer.from([0xff]), port, '127.0.0.1');
    await waitFor('the probe', () => wb.counters.dropUnknownType + atOther > seen.wb + seen.other);
    if (atOther > seen.other) client = s;
  }
  assert.ok(client !== null, 'a client that hashes to the other socket');
  atOther = 0;
  const answers: Buffer[] = [];
  client.on('message', (m) => answers.push(m));
  const clientPort = client.address().port;
  const alice = wb.conferences.get('c')!.endpoints.get('alice')!;

  // worker 0 got alice's check and passed it on: worker 1 opens a socket connected to the client, then answers
  const req = check('alice-ufrag');
  wb.applyPeerUpdate({ kind: 'stun', to: 1, from: 0, packet: new Uint8Array(req), address: '127.0.0.1', port: clientPort, force: false });
  await waitFor('the answer', () => answers.length === 1);
  const answer = parseStun(answers[0]);
  assert.equal(answer?.cls, STUN_CLASS_SUCCESS);
  assert.equal(answer?.transactionId.toString('hex'), req.subarray(8, 20).toString('hex'));
  assert.equal(webrtcOf(alice)!.address, '127.0.0.1');
  assert.equal(webrtcOf(alice)!.port, clientPort);
  assert.equal(alice.local, true, 'worker 1 receives alice now');
  assert.ok(updates.some((u) => u.kind === 'address' && u.endpointId === 'alice'), 'and tells the others her address');

  // every datagram from that address reaches worker 1 now, none the other socket of the port
  const before = wb.counters.dropUnknownType;
  for (let i = 0; i < 50; i++) client.send(Buffer.from([0xff, i]), port, '127.0.0.1');
  await waitFor('50 datagrams at worker 1', () => wb.counters.dropUnknownType === before + 50);
  await sleep(30);
  assert.equal(atOther, 0);

  // the same check again (a retransmission, or consent) is answered without another socket
  wb.applyPeerUpdate({ kind: 'stun', to: 1, from: 0, packet: new Uint8Array(check('alice-ufrag')), address: '127.0.0.1', port: clientPort, force: false });
  await waitFor('the second answer', () => answers.length === 2);

  // alice disconnects (consent lost): her connected socket closes, the port's hash decides again
  wb.disconnect(alice, 'test');
  const spread = { wb: wb.counters.dropUnknownType, other: atOther };
  for (let i = 0; i < 50; i++) client.send(Buffer.from([0xff, i]), port, '127.0.0.1');
  await waitFor('50 datagrams somewhere', () => wb.counters.dropUnknownType - spread.wb + atOther - spread.other === 50);
});

test("a check for another worker's endpoint goes to it unanswered; bad checks open nothing", { skip: !connectedSocketsWork() && 'needs Linux 5.3 or later' }, async (t) => {
  const updates: PeerUpdate[] = [];
  const wb = await worker1(updates);
  const port = await wb.udp.bind('127.0.0.1', 0);
  const client = await udpSocket(0, false);
  const answers: Buffer[] = [];
  client.on('message', (m) => answers.push(m));
  t.after(async () => {
    client.close();
    await wb.close();
  });
  const clientPort = client.address().port;

  // bob is placed on worker 0: his check goes there, as it came, and worker 1 answers nothing
  const req = check('bob-ufrag');
  wb.onStun(req, '127.0.0.1', clientPort);
  const sent = updates.filter((u) => u.kind === 'stun');
  assert.equal(sent.length, 1);
  const u = sent[0] as Extract<PeerUpdate, { kind: 'stun' }>;
  assert.deepEqual([u.to, u.from, u.address, u.port, u.force], [0, 1, '127.0.0.1', clientPort, false]);
  assert.deepEqual(Buffer.from(u.packet), req);

  // a forwarded check with the wrong password: no answer (nothing is reflected), no socket, alice unknown at
  // that address
  const bad = buildBindingRequest({ username: 'alice-ufrag:remote', key: 'x'.repeat(24), priority: 1, useCandidate: true });
  const dropped = wb.counters.dropStun;
  wb.applyPeerUpdate({ kind: 'stun', to: 1, from: 0, packet: new Uint8Array(bad), address: '127.0.0.1', port: clientPort, force: false });
  await waitFor('the bad check dropped', () => wb.counters.dropStun === dropped + 1);
  await sleep(30);
  assert.equal(answers.length, 0);
  assert.equal(webrtcOf(wb.conferences.get('c')!.endpoints.get('alice')!)!.address, null);

  // no socket can be opened (say, out of file descriptors): the check goes back to worker 0, to answer itself
  wb.udp.connectTo = () => Promise.reject(new Error('EMFILE'));
  updates.length = 0;
  wb.applyPeerUpdate({ kind: 'stun', to: 1, from: 0, packet: new Uint8Array(check('alice-ufrag')), address: '127.0.0.1', port: clientPort, force: false });
  await waitFor('the check sent back', () => updates.some((x) => x.kind === 'stun'));
  const back = updates.find((x) => x.kind === 'stun') as Extract<PeerUpdate, { kind: 'stun' }>;
  assert.deepEqual([back.to, back.from, back.force], [0, 1, true]);
  await sleep(30);
  assert.equal(answers.length, 0, 'worker 1 did not answer it');

  // sent back to it (force), a worker answers a check whatever the endpoint's placement
  wb.applyPeerUpdate({ kind: 'stun', to: 1, from: 0, packet: new Uint8Array(check('bob-ufrag')), address: '127.0.0.1', port: clientPort, force: true });
  await waitFor('the answer', () => answers.length === 1);
  assert.equal(parseStun(answers[0])?.cls, STUN_CLASS_SUCCESS);
  assert.equal(wb.conferences.get('c')!.endpoints.get('bob')!.local, true);
});
