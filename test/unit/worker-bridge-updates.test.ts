// What media workers tell each other about endpoints and sources (PeerUpdate, worker-bridge.ts), applied to a
// real WorkerBridge (no sockets): a simulcast layer learned elsewhere is known here (Chrome sends the rid only
// in a stream's first packets), the DTLS worker becomes the egress worker, a provisional ICE address
// (not nominated) never replaces a known one, the media timers run only on threads with media, and the audio
// levels heard go to the speaker worker with the media clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { createBridgeCertificate } from '../../src/bridge/certificate.ts';
import { WorkerBridge, type PeerUpdate } from '../../src/bridge/workers/worker-bridge.ts';
import { Bridge } from '../../src/bridge/bridge.ts';
import { webrtcOf } from '../../src/bridge/webrtc-transport.ts';

const V = 0x1000;
const LAYERS = [0x2000, 0x2001, 0x2002];

async function workerBridge(workerIndex: number, updates: PeerUpdate[]): Promise<WorkerBridge> {
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 2 });
  const wb = new WorkerBridge({
    bus: new MemoryBus(),
    config,
    log: createLogger('silent'),
    bridgeId: 'w',
    certificate: await createBridgeCertificate(),
    workerIndex,
    workerCount: 2,
    rtcpIndexes: new Int32Array(16),
    rings: [null, null],
    sendPeerUpdate: (u) => updates.push(u),
  });
  for (const [n, id] of ['alice', 'bob'].entries()) {
    wb.allocateNumbered({ conferenceId: 'c', endpointId: id, ufrag: `${id}-ufrag`, pwd: 'p'.repeat(24), conferenceNum: 1, endpointNum: n, worker: n % 2 });
  }
  wb.configure({
    conferenceId: 'c',
    endpointId: 'alice',
    remoteUfrag: 'au',
    remotePwd: 'p'.repeat(24),
    remoteFingerprint: { algorithm: 'sha-256', value: 'AA:'.repeat(31) + 'AA' },
    sources: [{ ssrc: V, kind: 'video', rids: ['q', 'h', 'f'] }],
  });
  return wb;
}

test('a simulcast layer learned by another worker is known here; this worker tells the others what it learns', async () => {
  const updates: PeerUpdate[] = [];
  const wb = await workerBridge(1, updates);
  try {
    const conference = wb.conferences.get('c')!;
    wb.applyPeerUpdate({ kind: 'layer', conferenceId: 'c', ssrc: V, index: 2, layerSsrc: LAYERS[2] });
    const layer = conference.sources.get(LAYERS[2]);
    assert.ok(layer !== undefined, 'the top layer is known by its SSRC');
    assert.equal(layer.parent, conference.sources.get(V));
    assert.equal(layer.layerIndex, 2);
    // the same again, an unknown source, or a source without simulcast change nothing
    wb.applyPeerUpdate({ kind: 'layer', conferenceId: 'c', ssrc: V, index: 2, layerSsrc: LAYERS[2] });
    wb.applyPeerUpdate({ kind: 'layer', conferenceId: 'c', ssrc: 0x9999, index: 0, layerSsrc: LAYERS[0] });
    wb.applyPeerUpdate({ kind: 'layer', conferenceId: 'nope', ssrc: V, index: 0, layerSsrc: LAYERS[0] });
    assert.equal(conference.sources.has(LAYERS[0]), false);

    // learning a layer itself (the router's hook), it tells the others
    const parent = conference.sources.get(V)!;
    const own = conference.addLayer(parent, 0, LAYERS[0], false)!;
    wb.layerLearned(own);
    assert.deepEqual(updates.at(-1), { kind: 'layer', conferenceId: 'c', ssrc: V, index: 0, layerSsrc: LAYERS[0] });
  } finally {
    await wb.close();
  }
});

test('the DTLS worker becomes the egress worker; a provisional address never replaces a known one', async () => {
  const wb = await workerBridge(1, []);
  try {
    const bob = wb.conferences.get('c')!.endpoints.get('bob')!;
    assert.equal(wb.egressWorker(bob), -1, 'at first: endpoint number 1 of 2 workers is sent from worker 1 (this one)');
    const keys = {
      profile: 'AES_CM_128_HMAC_SHA1_80' as const,
      localKey: Buffer.alloc(16),
      localSalt: Buffer.alloc(14),
      remoteKey: Buffer.alloc(16),
      remoteSalt: Buffer.alloc(14),
    };
    wb.applyPeerUpdate({ kind: 'address', conferenceId: 'c', endpointId: 'bob', address: '10.0.0.2', port: 5000, nominated: true });
    wb.applyPeerUpdate({ kind: 'srtp', conferenceId: 'c', endpointId: 'bob', address: '10.0.0.2', port: 5000, keys, worker: 0 });
    assert.equal(wb.egressWorker(bob), 0, 'worker 0 ran DTLS: it sends to bob');
    assert.equal(bob.connected, true);
    wb.applyPeerUpdate({ kind: 'address', conferenceId: 'c', endpointId: 'bob', address: '10.0.0.9', port: 6000, nominated: false });
    assert.deepEqual([webrtcOf(bob)!.address, webrtcOf(bob)!.port], ['10.0.0.2', 5000], 'a late provisional address is ignored');
    wb.applyPeerUpdate({ kind: 'address', conferenceId: 'c', endpointId: 'bob', address: '10.0.0.3', port: 7000, nominated: true });
    assert.deepEqual([webrtcOf(bob)!.address, webrtcOf(bob)!.port], ['10.0.0.3', 7000], 'a nominated one is taken');
    assert.equal(wb.egressWorker(bob), 0, 'and the egress worker stays');
  } finally {
    await wb.close();
  }
});

test('media timers run only on threads with media: the speaker worker, a worker receiving or sending, never the control thread', async () => {
  const timers = (b: { resourceCounts(): Record<string, number> }) => b.resourceCounts()['bridge.timers'];
  const keys = { profile: 'AES_CM_128_HMAC_SHA1_80' as const, localKey: Buffer.alloc(16), localSalt: Buffer.alloc(14), remoteKey: Buffer.alloc(16), remoteSalt: Buffer.alloc(14) };
  // worker 1 of 2: alice (endpoint 0) is worker 0's, bob (endpoint 1) is sent from here
  const w1 = await workerBridge(1, []);
  const w0 = await workerBridge(0, []);
  const control = new Bridge({
    bus: new MemoryBus(),
    config: configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 2 }),
    log: createLogger('silent'),
    bridgeId: 'w',
    certificate: await createBridgeCertificate(),
    controlPlaneOnly: true,
  });
  try {
    assert.equal(timers(w1), 1, "worker 1 sends to bob: its media clock runs (feedback, speakers' slots, layers)");
    // bob's DTLS ran on worker 0: worker 0 receives from and sends to him, worker 1 has nothing left to time
    w1.applyPeerUpdate({ kind: 'srtp', conferenceId: 'c', endpointId: 'bob', address: '10.0.0.2', port: 5000, keys, worker: 0 });
    assert.equal(w1.egressWorker(w1.conferences.get('c')!.endpoints.get('bob')!), 0);
    assert.equal(timers(w1), 0, 'a worker whose endpoints all live on another one is not woken');
    // worker 0 hears the levels of every conference: it keeps timing speakers whoever it sends to
    w0.applyPeerUpdate({ kind: 'srtp', conferenceId: 'c', endpointId: 'alice', address: '10.0.0.3', port: 5000, keys, worker: 1 });
    w0.applyPeerUpdate({ kind: 'srtp', conferenceId: 'c', endpointId: 'bob', address: '10.0.0.2', port: 5000, keys, worker: 1 });
    assert.equal(timers(w0), 1, 'the speaker worker');
    // a new endpoint homed on worker 1 wakes its timers again; its expiry stops them
    w1.allocateNumbered({ conferenceId: 'c', endpointId: 'cai', ufrag: 'cai-ufrag', pwd: 'p'.repeat(24), conferenceNum: 1, endpointNum: 3, worker: 1 });
    assert.equal(timers(w1), 1);
    w1.expire('c', 'cai');
    assert.equal(timers(w1), 0);
    // the control thread checks requests and mirrors endpoints, never media
    control.allocate('c', 'alice', { ufrag: 'alice-ufrag', pwd: 'p'.repeat(24) });
    assert.equal(control.resourceCounts()['bridge.endpoints'], 1);
    assert.equal(timers(control), 0);
  } finally {
    await Promise.all([w1.close(), w0.close(), control.close()]);
  }
});

test('the levels a worker hears go to the speaker worker with its media clock, batched every other tick', async () => {
  const updates: PeerUpdate[] = [];
  const w1 = await workerBridge(1, updates); // bob (endpoint 1) is this worker's: its media clock runs
  try {
    w1.configure({
      conferenceId: 'c',
      endpointId: 'bob',
      remoteUfrag: 'bu',
      remotePwd: 'p'.repeat(24),
      remoteFingerprint: { algorithm: 'sha-256', value: 'BB:'.repeat(31) + 'BB' },
      sources: [{ ssrc: 0x3000, kind: 'audio' }],
    });
    const conference = w1.conferences.get('c')!;
    const bob = conference.endpoints.get('bob')!;
    const audio = conference.sources.get(0x3000)!;
    const now = performance.now();
    w1.audioLevel(bob, audio, 30, now);
    w1.audioLevel(bob, audio, 40, now + 20);
    assert.equal(updates.filter((u) => u.kind === 'levels').length, 0, 'not sent at once');
    const deadline = Date.now() + 2000;
    while (!updates.some((u) => u.kind === 'levels') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const sent = updates.filter((u) => u.kind === 'levels');
    assert.equal(sent.length, 1, 'one batch');
    assert.deepEqual(sent[0], { kind: 'levels', samples: [1, 0x3000, 30, now, 1, 0x3000, 40, now + 20] });
  } finally {
    await w1.close();
  }
});
