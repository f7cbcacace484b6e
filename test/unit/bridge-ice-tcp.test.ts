// ICE-TCP on the bridge: passive TCP candidates in the allocation, and a connectivity check over an RFC 4571
// framed TCP connection answered on that connection, with the client's real address and port mapped; a fake browser
// over ICE-TCP runs DTLS and exchanges SRTP and RTCP with one over UDP, with one thread and with two media workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type dgram from 'node:dgram';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { bridgeAllocateReplySchema, subjects } from '../../src/protocol/bus-messages.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { candidatePriority, gatherCandidates } from '../../src/bridge/candidates.ts';
import { STUN_CLASS_SUCCESS, buildBindingRequest, parseStun, parseXorMappedAddress } from '../../src/bridge/packet/stun.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { FakeBrowser, waitFor } from '../helpers/fake-browser.ts';
import { FMT_PLI, RTCP_PSFB, forEachRtcp } from '../../src/bridge/packet/rtcp.ts';
import { AUDIO_PT } from '../../src/protocol/media-profile.ts';

test('candidates: one tcptype passive host candidate per address, below every UDP one', () => {
  const interfaces = { eth0: [{ address: '10.0.0.5', family: 'IPv4', internal: false }] } as never;
  const c = gatherCandidates({ listenAddress: '0.0.0.0', publicAddress: '203.0.113.9', port: 10000, tcpPort: 4443 }, interfaces);
  assert.deepEqual(
    c.map((x) => `${x.protocol} ${x.ip}:${x.port}${x.tcpType ? ' ' + x.tcpType : ''}`),
    ['udp 203.0.113.9:10000', 'udp 10.0.0.5:10000', 'udp 127.0.0.1:10000', 'tcp 203.0.113.9:4443 passive', 'tcp 10.0.0.5:4443 passive', 'tcp 127.0.0.1:4443 passive'],
  );
  for (let i = 1; i < c.length; i++) assert.ok(c[i - 1].priority > c[i].priority);
  assert.equal(c[3].priority, candidatePriority(126, (4 << 13) + 8191));
  assert.equal(new Set(c.map((x) => x.foundation)).size, c.length);
  assert.ok(gatherCandidates({ listenAddress: '0.0.0.0', publicAddress: '', port: 1, tcpPort: 0 }, interfaces).every((x) => x.protocol === 'udp'));
});

/** Reads RFC 4571 frames from a socket. */
function frames(socket: net.Socket): () => Promise<Buffer> {
  let pending = Buffer.alloc(0);
  const queue: Buffer[] = [];
  let waiting: ((b: Buffer) => void) | null = null;
  socket.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const n = pending.readUInt16BE(0);
      const f = pending.subarray(2, 2 + n);
      pending = pending.subarray(2 + n);
      if (waiting) {
        const w = waiting;
        waiting = null;
        w(f);
      } else queue.push(f);
    }
  });
  return () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((r) => (waiting = r)));
}

test('bridge: a STUN check over ICE-TCP is answered on the connection and makes it the endpoint address', async () => {
  const bus = new MemoryBus();
  const tcpMediaPort = await freeTcpPort();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort });
  const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: 'tcp1' });
  let socket: net.Socket | undefined;
  try {
    assert.equal(bridge.tcpMediaPort, tcpMediaPort);
    const reply = bridgeAllocateReplySchema.parse(await bus.request(subjects.bridgeAllocate('tcp1'), { conferenceId: 'c', endpointId: 'e' }));
    // connected once the allocation gave the candidate, as a browser does (with media workers on demand, the
    // default, the port's placeholder closes a connection that comes before the workers run)
    socket = net.connect(tcpMediaPort, '127.0.0.1');
    const connected = new Promise<void>((resolve, reject) => socket!.once('connect', resolve).once('error', reject));
    const tcp = reply.candidates.filter((c) => c.protocol === 'tcp');
    assert.deepEqual(tcp.map((c) => [c.ip, c.port, c.tcpType]), [['127.0.0.1', tcpMediaPort, 'passive']]);

    await connected;
    const next = frames(socket);
    const req = buildBindingRequest({ username: `${reply.ufrag}:browser`, key: reply.pwd, priority: 1, useCandidate: true, iceControlling: 1n });
    // the length prefix and the message in two writes, split mid-header: the de-framer reassembles
    const framed = Buffer.concat([Buffer.from([req.length >> 8, req.length & 0xff]), req]);
    socket.write(framed.subarray(0, 1));
    socket.write(framed.subarray(1));
    const res = await next();
    const msg = parseStun(res);
    assert.ok(msg !== null && msg.cls === STUN_CLASS_SUCCESS);
    assert.deepEqual(parseXorMappedAddress(res), { address: '127.0.0.1', port: socket.localPort });
    const counters = await bridge.readCounters();
    assert.equal(counters.stunIn, 1);
    assert.equal(counters.stunOut, 1);
  } finally {
    socket?.destroy();
    await bridge.close();
  }
});

/** A client TCP connection to the bridge's ICE-TCP port, shaped like the dgram socket FakeBrowser uses (RFC 4571 frames). */
async function framedSocket(port: number): Promise<{ sock: dgram.Socket; socket: net.Socket }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const listeners: Array<(m: Buffer) => void> = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const f = Buffer.from(pending.subarray(2, 2 + pending.readUInt16BE(0)));
      pending = pending.subarray(2 + f.length);
      for (const l of listeners) l(f);
    }
  });
  const sock = {
    address: () => ({ address: '127.0.0.1', family: 'IPv4', port: socket.localPort }),
    send(buf: Buffer) {
      const h = Buffer.alloc(2);
      h.writeUInt16BE(buf.length, 0);
      socket.write(Buffer.concat([h, buf]));
    },
    on(event: string, l: (m: Buffer) => void) {
      if (event === 'message') listeners.push(l);
      return sock;
    },
    close() {
      socket.destroy();
    },
  };
  return { sock: sock as unknown as dgram.Socket, socket };
}

/** Counts the SRTP it can decrypt by SSRC, and the PLIs it is sent. */
class Peer extends FakeBrowser {
  readonly got = new Map<number, number>();
  plis = 0;
  protected override onRtp(m: Buffer): void {
    if (this.srtpIn === null) return;
    const c = Buffer.from(m);
    if (this.srtpIn.unprotectRtp(c, c.length) > 0) this.got.set(c.readUInt32BE(8), (this.got.get(c.readUInt32BE(8)) ?? 0) + 1);
  }
  protected override onRtcp(m: Buffer): void {
    if (this.srtpIn === null) return;
    const c = Buffer.from(m);
    const len = this.srtpIn.unprotectRtcp(c, c.length);
    if (len > 0) forEachRtcp(c, len, (_off, _length, pt, fmt) => void (pt === RTCP_PSFB && fmt === FMT_PLI && this.plis++));
  }
  sendAudio(ssrc: number, seq: number): void {
    const plain = Buffer.alloc(12 + 20, 0x55);
    plain[0] = 0x80;
    plain[1] = AUDIO_PT;
    plain.writeUInt16BE(seq, 2);
    plain.writeUInt32BE(seq * 960, 4);
    plain.writeUInt32BE(ssrc, 8);
    this.send(plain);
  }
}

for (const mediaWorkers of [1, 2]) {
  test(`bridge: a browser over ICE-TCP and one over UDP: DTLS, SRTP both ways, RTCP to the TCP one (media workers: ${mediaWorkers})`, { timeout: 30_000 }, async () => {
    const bus = new MemoryBus();
    const events: Array<{ endpointId: string; event: string }> = [];
    bus.subscribe(subjects.bridgeEvent, (p) => events.push(p as { endpointId: string; event: string }));
    const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: await freeTcpPort(), mediaWorkers, mediaWorkerSpan: 1 });
    // (two workers: alice and bob are placed on different ones, and bob's TCP connection is worker 0's)
    const bridge = await startBridge({ bus, config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), bridgeId: 'tcp2' });
    const peers: Peer[] = [];
    const A_AUDIO = 0xa1a1a1a1;
    const B_AUDIO = 0xb1b1b1b1;
    const B_VIDEO = 0xb2b2b2b2;
    const join = async (p: Peer, sources: Array<{ ssrc: number; kind: 'audio' | 'video' }>) => {
      peers.push(p);
      const alloc = bridgeAllocateReplySchema.parse(await bus.request(subjects.bridgeAllocate('tcp2'), { conferenceId: 'c', endpointId: p.id }));
      await p.iceCheck(alloc.ufrag, alloc.pwd, `${p.id}u`);
      await bus.request(subjects.bridgeConfigure('tcp2'), {
        conferenceId: 'c',
        endpointId: p.id,
        remoteUfrag: `${p.id}u`,
        remotePwd: 'p'.repeat(24),
        remoteFingerprint: { algorithm: 'sha-256', value: p.fingerprint },
        sources,
      });
      await p.connectDtls();
      await waitFor(`${p.id} connected`, () => events.some((e) => e.endpointId === p.id && e.event === 'connected'));
    };
    try {
      const alice = await Peer.create('alice', bridge.mediaPort);
      await join(alice, [{ ssrc: A_AUDIO, kind: 'audio' }]);
      const { sock } = await framedSocket(bridge.tcpMediaPort);
      const bob = new Peer('bob', sock, 0);
      await bob.newDtlsClient();
      await join(bob, [
        { ssrc: B_AUDIO, kind: 'audio' },
        { ssrc: B_VIDEO, kind: 'video' },
      ]);
      await bus.request(subjects.bridgeSubscribe('tcp2'), { conferenceId: 'c', endpointId: 'alice', ssrcs: [B_AUDIO, B_VIDEO] });
      await bus.request(subjects.bridgeSubscribe('tcp2'), { conferenceId: 'c', endpointId: 'bob', ssrcs: [A_AUDIO] });
      // alice's subscription to bob's camera asks bob (over TCP) for a keyframe
      await waitFor('a PLI to bob over TCP', () => bob.plis > 0);
      let seq = 1;
      await waitFor(
        'audio both ways',
        () => {
          alice.sendAudio(A_AUDIO, seq);
          bob.sendAudio(B_AUDIO, seq);
          seq++;
          return (bob.got.get(A_AUDIO) ?? 0) >= 10 && (alice.got.get(B_AUDIO) ?? 0) >= 10;
        },
        10_000,
        20,
      );
      const counters = await bridge.readCounters();
      assert.equal(counters.dropUnknownAddress, 0);
      assert.equal(counters.dropSrtp, 0);
    } finally {
      for (const p of peers) p.close();
      await bridge.close();
      await bus.close();
    }
  });
}
