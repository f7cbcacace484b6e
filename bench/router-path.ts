// The bridge's routing path alone, in this process: no sockets, no browsers, no driver. A Bridge (never bound)
// gets a webinar-like conference; decrypted RTP packets are handed to Router.receiveRtp the way every
// transport does. Each receiver keeps its real WebRTC transport (transport-wide numbering, its downlink
// estimator, SRTP protect) and only the socket send is a no-op; with --fake-transport a transport that only
// counts replaces it (the routing alone). It measures what issue 12 changed, the work per forwarded packet
// between decryption and the socket (parsing, routing, simulcast rewriting, numbering, protecting), without
// the kernel's and the driver's noise. CPU time is process.cpuUsage() around the loop; per run: µs per
// forwarded packet.
// --compare DIR: the same measurement of another source tree (DIR/bench/router-path.ts, a copy of this file,
// e.g. in a `git worktree` of an older commit) in the same process, the two alternated run by run, so both
// see the same machine load.
// TERTULIA_NATIVE_SRTP=0 in the environment: SRTP protect with Node's crypto instead of native/srtp.c.
//   node bench/router-path.ts [--receivers 47] [--publishers 3] [--frames 3000] [--runs 5] [--fake-transport] [--audio] [--compare DIR]
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MemoryBus } from '../src/bus/memory-bus.ts';
import { configSchema } from '../src/config/config.ts';
import { createLogger } from '../src/log.ts';
import { Bridge } from '../src/bridge/bridge.ts';
import { createBridgeCertificate } from '../src/bridge/certificate.ts';
import { SrtpSession } from '../src/bridge/packet/srtp.ts';
import { nativeSrtp } from '../src/bridge/native/srtp.ts';
import { createDownlinkEstimator } from '../src/bridge/downlink.ts';
import type { Endpoint } from '../src/bridge/endpoint.ts';
import type { MediaTransport } from '../src/bridge/transport.ts';
import { webrtcOf } from '../src/bridge/webrtc-transport.ts';
import { AUDIO_LEVEL_EXT_ID, AUDIO_PT, RID_EXT_ID, SIMULCAST_RIDS, TWCC_EXT_ID, VIDEO_PT } from '../src/protocol/media-profile.ts';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const RECEIVERS = opt('receivers', 47);
const PUBLISHERS = opt('publishers', 3);
const FRAMES = opt('frames', 3000);
const RUNS = opt('runs', 5);
const FAKE = args.includes('--fake-transport');
const AUDIO = args.includes('--audio');
/** Packets per frame of each layer (q, h, f), as the benchmark's clips cut them. */
const PER_FRAME = [1, 2, 5];
const KEY_EVERY = 90;

let sent = 0;
function countingTransport(): MediaTransport {
  return {
    kind: 'webrtc',
    sendRtp() {
      sent++;
    },
    sendRtcp() {},
    close() {},
  };
}

/** A VP8 packet of layer `layer` (rid extension only in the first frames, as Chrome), 1100 bytes. */
function videoPacket(ssrc: number, layer: number, seq: number, ts: number, pic: number, tl0: number, first: boolean, key: boolean, marker: boolean, withRid: boolean): Buffer {
  const ext = withRid ? 8 : 4; // words: twcc (3 bytes + padding) [+ rid]
  const b = Buffer.alloc(1100);
  b[0] = 0x90;
  b[1] = (marker ? 0x80 : 0) | VIDEO_PT;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.writeUInt16BE(0xbede, 12);
  b.writeUInt16BE(ext / 4, 14);
  let p = 16;
  b[p++] = (TWCC_EXT_ID << 4) | 1;
  b.writeUInt16BE(seq & 0xffff, p);
  p += 2;
  if (withRid) {
    b[p++] = (RID_EXT_ID << 4) | 0;
    b[p++] = SIMULCAST_RIDS[layer].charCodeAt(0);
  }
  p = 16 + ext;
  b[p] = 0x80 | (first ? 0x10 : 0);
  b[p + 1] = 0xe0; // I, L, T
  b[p + 2] = 0x80 | ((pic >> 8) & 0x7f);
  b[p + 3] = pic & 0xff;
  b[p + 4] = tl0 & 0xff;
  b[p + 5] = 0;
  b[p + 6] = key && first ? 0x00 : 0x01;
  if (key && first) {
    // VP8 keyframe header: start code and the layer's size (the bridge reads it): 320x180, 640x360, 1280x720
    b[p + 9] = 0x9d;
    b[p + 10] = 0x01;
    b[p + 11] = 0x2a;
    b.writeUInt16LE(320 << layer, p + 12);
    b.writeUInt16LE(180 << layer, p + 14);
  }
  return b;
}

function audioPacket(ssrc: number, seq: number, ts: number): Buffer {
  const b = Buffer.alloc(12 + 8 + 100);
  b[0] = 0x90;
  b[1] = AUDIO_PT;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.writeUInt16BE(0xbede, 12);
  b.writeUInt16BE(1, 14);
  b[16] = (AUDIO_LEVEL_EXT_ID << 4) | 0;
  b[17] = 0x80 | 30;
  return b;
}

export interface RouterPath {
  /** Forwards `frames` frames of every publisher; returns the CPU µs per forwarded packet. */
  run(frames: number): number;
  close(): Promise<void>;
}

/** A bridge with the conference set up, layers selected and a keyframe through, ready to measure. */
export async function prepare(): Promise<RouterPath> {
  const bus = new MemoryBus();
  const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1 });
  const bridge = new Bridge({ bus, config, log: createLogger('warn'), bridgeId: 'router-path', certificate: await createBridgeCertificate() });
  // the socket: every datagram counted, none sent
  bridge.udp.send = () => {
    sent++;
  };
  const CONF = 'c';
  const key = Buffer.alloc(16, 7);
  const salt = Buffer.alloc(14, 9);
  const eps: Endpoint[] = [];
  const total = PUBLISHERS + RECEIVERS;
  for (let i = 0; i < total; i++) {
    const id = `p${i}`;
    bridge.allocate(CONF, id);
    const pub = i < PUBLISHERS;
    const sources = pub
      ? AUDIO
        ? [{ ssrc: 5000 + i, kind: 'audio' as const }]
        : [{ ssrc: 1000 + i, kind: 'video' as const, rtxSsrc: 2000 + i, rids: [...SIMULCAST_RIDS] }]
      : [];
    bridge.configure({ conferenceId: CONF, endpointId: id, remoteUfrag: 'u', remotePwd: 'p'.repeat(24), remoteFingerprint: { algorithm: 'sha-256', value: 'AB:CD' }, sources });
    const ep = bridge.conferences.get(CONF)!.endpoints.get(id)!;
    ep.connected = true;
    const t = webrtcOf(ep)!;
    t.address = '127.0.0.1';
    t.port = 40000 + i;
    t.srtpOut = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key, salt);
    if (FAKE) ep.transport = countingTransport();
    eps.push(ep);
  }
  for (let i = 0; i < total; i++) {
    const others: number[] = [];
    for (let k = 0; k < PUBLISHERS; k++) if (k !== i) others.push(AUDIO ? 5000 + k : 1000 + k);
    bridge.subscribe(CONF, `p${i}`, others);
  }

  const seqs = new Array(PUBLISHERS * 3).fill(0).map((_, i) => i * 7000);
  let frame = 0;
  const scratch = Buffer.alloc(1500);
  const feed = (ep: Endpoint, pkt: Buffer) => {
    pkt.copy(scratch, 0, 0, pkt.length);
    bridge.router.receiveRtp(ep, scratch, pkt.length);
  };
  // the packets of one frame of every publisher, made once per key/delta and layer, renumbered in place
  const runFrames = (n: number) => {
    for (let f = 0; f < n; f++, frame++) {
      for (let p = 0; p < PUBLISHERS; p++) {
        const ep = eps[p];
        if (AUDIO) {
          feed(ep, audioPacket(5000 + p, frame, frame * 960));
          continue;
        }
        const key = frame % KEY_EVERY === 0;
        for (let l = 0; l < 3; l++) {
          const count = PER_FRAME[l];
          for (let k = 0; k < count; k++) {
            const s = p * 3 + l;
            const pkt = videoPacket(10_000 + p * 10 + l, l, seqs[s]++, frame * 3000, frame & 0x7fff, frame, k === 0, key, k === count - 1, frame < 10);
            feed(ep, pkt);
          }
        }
      }
    }
  };
  // layers learned, rates measured, every receiver's target the top layer (no estimate: Infinity), then a keyframe
  runFrames(60);
  bridge.allocateLayers();
  // each receiver's downlink estimate sees what is sent to it (made after the allocation: its start value
  // would pick lower layers)
  for (const ep of eps) ep.bwe = createDownlinkEstimator();
  // the bridge's timers stay out of it (they would re-allocate from those estimates and probe between runs)
  bridge.allocateLayers = () => {};
  bridge.sendTransportFeedback = () => {};
  runFrames(KEY_EVERY * 2);

  return {
    run(frames: number): number {
      sent = 0;
      const before = process.cpuUsage();
      runFrames(frames);
      const cpu = process.cpuUsage(before);
      if (process.env.ROUTER_PATH_DEBUG) console.log(`  ${sent} packets forwarded`);
      return (cpu.user + cpu.system) / sent;
    },
    async close() {
      await bridge.close();
      await bus.close();
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const srtp = nativeSrtp() !== null ? 'SRTP in the native module' : "SRTP with Node's crypto";
  const what = `${FAKE ? 'routing only' : `WebRTC transport with ${srtp}, no socket`}, ${AUDIO ? 'audio' : 'simulcast video'}, ${PUBLISHERS} publishers, ${RECEIVERS} receivers`;
  const ci = args.indexOf('--compare');
  const other: RouterPath | null =
    ci < 0 ? null : await ((await import(pathToFileURL(`${args[ci + 1]}/bench/router-path.ts`).href)) as { prepare(): Promise<RouterPath> }).prepare();
  const here = await prepare();
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    if (other !== null) {
      theirs.push(other.run(FRAMES));
      console.log(`run ${r + 1} ${args[ci + 1]}: ${theirs[r].toFixed(3)} µs CPU per forwarded packet`);
    }
    mine.push(here.run(FRAMES));
    console.log(`run ${r + 1} this tree: ${mine[r].toFixed(3)} µs CPU per forwarded packet`);
  }
  if (other !== null) console.log(`median ${median(theirs).toFixed(3)} µs per forwarded packet in ${args[ci + 1]} (${what})`);
  console.log(`median ${median(mine).toFixed(3)} µs per forwarded packet in this tree (${what})`);
  await other?.close();
  await here.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) void main();
