// Two real bridges joined by a real relay (UDP, SRTP with the keys focus would make), without browsers: alice
// sends a simulcast camera (three rid layers) into bridge A, bob receives it from bridge B. Between the bridges
// a UDP relay of the test's own that counts what crosses and can drop a packet. Checked: only the layer bob's
// tile needs crosses (under its relay SSRC); bob's switch to another layer gets that layer's keyframe from alice
// (the keyframe request crossed back to A); a packet lost between the bridges is NACKed by bob, asked of A by
// B with the layer's own number, resent by A, and reaches bob with the number he asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { configSchema } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { Bridge } from '../../src/bridge/bridge.ts';
import { createBridgeCertificate } from '../../src/bridge/certificate.ts';
import { writeNack, writeRr } from '../../src/bridge/packet/rtcp.ts';
import { isRtcp, rtpSeq, rtpSsrc } from '../../src/bridge/packet/rtp.ts';
import type { MediaSource } from '../../src/protocol/bus-messages.ts';
import { sleep, waitFor } from '../helpers/fake-browser.ts';
import { Camera, L, RIDS, SimulcastBrowser, V, VR } from '../helpers/simulcast-sender.ts';

const CONF = 'conf';
const RS = [0x0e0e0e00, 0x0e0e0e01, 0x0e0e0e02]; // the layers' relay SSRCs (focus draws them)
const CAMERA: MediaSource = { ssrc: V, kind: 'video', rtxSsrc: VR, rids: RIDS, relaySsrcs: RS };

/** A UDP relay between the bridges' relay ports: counts RTP from A by SSRC, drops the packets `drop` says to. */
class Middle {
  readonly sock = dgram.createSocket('udp4');
  aPort = 0;
  bPort = 0;
  readonly fromA = new Map<number, number>();
  drop: (ssrc: number, seq: number) => boolean = () => false;

  async start(): Promise<number> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.sock.on('message', (m, from) => {
      if (from.port === this.aPort) {
        if (!isRtcp(m)) {
          const ssrc = rtpSsrc(m);
          this.fromA.set(ssrc, (this.fromA.get(ssrc) ?? 0) + 1);
          if (this.drop(ssrc, rtpSeq(m))) return;
        }
        if (this.bPort !== 0) this.sock.send(m, this.bPort, '127.0.0.1');
      } else {
        this.bPort = from.port;
        this.sock.send(m, this.aPort, '127.0.0.1');
      }
    });
    return this.sock.address().port;
  }
}

test('bridge relay: only the wanted layer crosses, a switch gets its keyframe across, a packet lost between bridges is resent', { timeout: 60_000 }, async (t) => {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1, plainRtpPortMin: 46000, plainRtpPortMax: 46999 });
  const bus = new MemoryBus();
  const [a, b] = await Promise.all(['a', 'b'].map(async (id) => new Bridge({ bus, config, log, bridgeId: id, certificate: await createBridgeCertificate() })));
  const ports = [await a!.udp.bind('127.0.0.1', 0), await b!.udp.bind('127.0.0.1', 0)];
  const middle = new Middle();
  const browsers: SimulcastBrowser[] = [];
  t.after(async () => {
    for (const x of browsers) x.close();
    middle.sock.close();
    await a!.close();
    await b!.close();
    await bus.close();
  });

  async function join(bridge: Bridge, port: number, id: string, sources: MediaSource[]): Promise<SimulcastBrowser> {
    const x = await SimulcastBrowser.create(id, port, [1]);
    browsers.push(x);
    const alloc = bridge.allocate(CONF, id);
    await x.iceCheck(alloc.ufrag, alloc.pwd, `${id}u`);
    bridge.configure({ conferenceId: CONF, endpointId: id, remoteUfrag: `${id}u`, remotePwd: 'p'.repeat(24), remoteFingerprint: { algorithm: 'sha-256', value: x.fingerprint }, sources });
    await x.connectDtls();
    await waitFor(`${id} connected`, () => bridge.conferences.get(CONF)?.endpoints.get(id)?.connected === true);
    return x;
  }
  const alice = await join(a!, ports[0]!, 'alice', [CAMERA]);
  const bob = await join(b!, ports[1]!, 'bob', []);

  // the relay, as focus's relays.ts sets it up: A learns its peer (here the middle) from its first packet
  const keys = { fromA: randomBytes(30).toString('base64'), fromB: randomBytes(30).toString('base64') };
  const onA = await a!.allocatePlain(CONF, 'relay~b', { legs: [{ kind: 'all' }], rtcpMux: true, comedia: true, srtp: true, keys: { local: keys.fromA, remote: keys.fromB }, relay: true }, [], true);
  middle.aPort = onA!.legs[0]!.port;
  const middlePort = await middle.start();
  await b!.allocatePlain(CONF, 'relay~a', { legs: [{ kind: 'all', address: '127.0.0.1', port: middlePort }], rtcpMux: true, comedia: false, srtp: true, keys: { local: keys.fromB, remote: keys.fromA }, relay: true }, [], true);
  b!.setSources(CONF, 'relay~a', [{ ...CAMERA, participantId: 'alice' }]);
  a!.subscribe(CONF, 'relay~b', [V]);
  b!.subscribe(CONF, 'bob', [V]);

  // alice's camera runs at ~33 fps; a keyframe of a layer when a PLI asks for it
  const cam = new Camera(alice);
  let plisSeen = 0;
  const timer = setInterval(() => {
    const asked = alice.plis.slice(plisSeen);
    plisSeen = alice.plis.length;
    cam.frame(L.map((ssrc, i) => (asked.includes(ssrc) ? i : -1)).filter((i) => i >= 0));
  }, 30);
  t.after(() => clearInterval(timer));
  const bobEp = b!.conferences.get(CONF)!.endpoints.get('bob')!;
  const rw = bobEp.downtracks.get(V)!.rewriter!;
  const media = () => bob.rtp.filter((p) => rtpSsrc(p) === V);

  // bob's default tile (1280x720): the top layer, and only it crosses
  await waitFor('bob to play the top layer', () => rw.currentLayer === 2 && media().length > 20, 15_000);
  const relayTrack = a!.conferences.get(CONF)!.endpoints.get('relay~b')!.downtracks.get(V)!;
  assert.equal(relayTrack.relayMask, 0b100, 'A sends B the top layer only');
  const before = new Map(middle.fromA);
  await sleep(500);
  assert.ok((middle.fromA.get(RS[2]!) ?? 0) > (before.get(RS[2]!) ?? 0), 'the top layer crosses');
  for (const i of [0, 1]) assert.equal(middle.fromA.get(RS[i]!) ?? 0, before.get(RS[i]!) ?? 0, `layer ${i} does not cross`);
  for (const ssrc of L) assert.equal(middle.fromA.get(ssrc) ?? 0, 0, 'never under the sender’s own layer SSRCs');

  // one packet of the top layer is lost between the bridges; bob NACKs the number he misses
  let dropped = -1;
  middle.drop = (ssrc, seq) => {
    if (ssrc !== RS[2] || dropped >= 0) return false;
    dropped = seq;
    return true;
  };
  await waitFor('a packet dropped between the bridges', () => dropped >= 0);
  await sleep(200);
  const got = media().map(rtpSeq);
  const missing = got.find((s, i) => i > 0 && s !== ((got[i - 1]! + 1) & 0xffff) && !got.includes((got[i - 1]! + 1) & 0xffff));
  assert.ok(missing !== undefined, `bob misses a packet: ${got.slice(-20)}`);
  const lost = (got[got.indexOf(missing) - 1]! + 1) & 0xffff;
  const nack = Buffer.alloc(64);
  let n = writeRr(nack, 0, 0x0d0d0d0d);
  n += writeNack(nack, n, 0x0d0d0d0d, V, [lost], 1);
  bob.send(nack.subarray(0, n), true);
  await waitFor('the lost packet to reach bob after all', () => media().some((p, i) => i >= got.length && rtpSeq(p) === lost), 5000);
  assert.ok(a!.counters.retransmits >= 1, 'A resent it from its layer buffer');

  // bob's tile shrinks: B wants the lowest layer, its keyframe request crosses to A and alice makes one
  const plisBefore = alice.plis.filter((s) => s === L[0]).length;
  b!.setVideoConstraints(CONF, 'bob', [{ ssrc: V, width: 320, height: 180 }]);
  await waitFor('a keyframe request for the lowest layer at alice', () => alice.plis.filter((s) => s === L[0]).length > plisBefore, 5000);
  await waitFor('bob to play the lowest layer', () => rw.currentLayer === 0, 5000);
  await waitFor('A to send B the lowest layer only', () => relayTrack.relayMask === 0b001, 5000);
});
