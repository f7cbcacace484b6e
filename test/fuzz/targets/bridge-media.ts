// The bridge's media port, UDP and ICE-TCP (src/bridge/udp-transport.ts, tcp-transport.ts and what they hand
// datagrams to: ICE, DTLS, SRTP, the router), with a real bridge on loopback and two fake browsers connected
// through ICE, DTLS and SRTP (test/helpers/fake-browser.ts), one receiving what the other sends. From the
// sending browser's own address (what a forged source address looks like), or over a new ICE-TCP connection:
// STUN Binding requests with that browser's credentials and any other STUN message, DTLS records, RTP and RTCP
// protected with its real SRTP keys or not, raw bytes; built by the test, then mutated. Checked: every datagram
// is taken in (the packet counter grows by what was sent), the packet path never throws (dropError stays 0),
// nobody is disconnected, nothing escapes as an unhandled rejection, and afterwards the browser's ICE check
// still succeeds and its media still reaches the other browser.
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { startBridge } from '../../../src/bridge/index.ts';
import { MAX_FRAME } from '../../../src/bridge/ice-tcp.ts';
import { buildBindingRequest } from '../../../src/bridge/packet/stun.ts';
import { MemoryBus } from '../../../src/bus/memory-bus.ts';
import { configSchema } from '../../../src/config/config.ts';
import { createLogger } from '../../../src/log.ts';
import { bridgeAllocateReplySchema, subjects } from '../../../src/protocol/bus-messages.ts';
import { AUDIO_PT } from '../../../src/protocol/media-profile.ts';
import { FakeBrowser, waitFor } from '../../helpers/fake-browser.ts';
import { freeTcpPort } from '../../helpers/ports.ts';
import { bytes, hexBytes, hexBytesMostlyShort, mutate, mutations, u32, type Mutation } from '../bytes.ts';
import { serverTarget } from '../harness.ts';
import { buildRtcp, buildRtp, rtcpCompoundSpec, rtpSpec, type RtcpPacketSpec, type RtpSpec } from '../packets.ts';
import { buildRecords, recordSpec, type RecordSpec } from './dtls.ts';
import { buildStun, stunSpec, type StunSpec } from './stun.ts';

const BRIDGE = 'fuzz-media';
const CONF = 'fuzz';
/** The sender's declared audio source (fuzzed packets use it) and one only ever sent good packets. */
const A_AUDIO = 0xa1a1a1a1;
const A_PROBE = 0xa1a1a1af;

type Packet =
  | { binding: { priority: number; useCandidate: boolean; controlling: boolean; tid: string } }
  | { stun: StunSpec }
  | { dtls: RecordSpec[] }
  | { rtp: RtpSpec; protect: boolean }
  | { rtcp: RtcpPacketSpec[]; protect: boolean }
  | { raw: string };

export interface BridgeMediaInput {
  /** From the connected browser's own UDP socket, or over a new ICE-TCP connection. */
  via: 'udp' | 'tcp';
  datagrams: { packet: Packet; ops: Mutation[] }[];
}

const packet: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({ binding: fc.record({ priority: u32, useCandidate: fc.boolean(), controlling: fc.boolean(), tid: hexBytes(12, 12) }) }),
  fc.record({ stun: stunSpec }),
  fc.record({ dtls: fc.array(recordSpec, { minLength: 1, maxLength: 3 }) }),
  { arbitrary: fc.record({ rtp: rtpSpec(fc.oneof(fc.constant(A_AUDIO), u32)), protect: fc.boolean() }), weight: 2 },
  fc.record({ rtcp: rtcpCompoundSpec, protect: fc.boolean() }),
  fc.record({ raw: hexBytesMostlyShort(200) }),
);

/** A fake browser that keeps the (still encrypted) RTP the bridge sends it. */
class Receiver extends FakeBrowser {
  readonly rtp: Buffer[] = [];
  protected override onRtp(m: Buffer): void {
    this.rtp.push(m);
  }
}

function connectTcp(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

export const bridgeMediaTarget = serverTarget<BridgeMediaInput>({
  name: 'bridge-media',
  about: "the bridge's media port (UDP, ICE-TCP) from a connected browser's address: STUN/DTLS/SRTP/RTP/RTCP, all counted, no exception, media still flows",
  input: fc.record({
    via: fc.constantFrom('udp' as const, 'udp' as const, 'tcp' as const),
    datagrams: fc.array(fc.record({ packet, ops: fc.oneof({ arbitrary: fc.constant<Mutation[]>([]), weight: 2 }, { arbitrary: mutations, weight: 1 }) }), { minLength: 1, maxLength: 8 }),
  }),
  ciRuns: 40,
  async open() {
    const bus = new MemoryBus();
    const events: { endpointId: string; event: string }[] = [];
    bus.subscribe(subjects.bridgeEvent, (p) => events.push(p as { endpointId: string; event: string }));
    const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: await freeTcpPort(), mediaWorkers: 1 });
    const bridge = await startBridge({ bus, config, log: createLogger('silent'), bridgeId: BRIDGE });
    const escaped: unknown[] = [];
    const onEscape = (e: unknown) => escaped.push(e);
    process.on('unhandledRejection', onEscape);

    const join = async (id: string, sources: { ssrc: number; kind: 'audio' }[]) => {
      const b = await Receiver.create(id, bridge.mediaPort);
      const alloc = bridgeAllocateReplySchema.parse(await bus.request(subjects.bridgeAllocate(BRIDGE), { conferenceId: CONF, endpointId: id }));
      await b.iceCheck(alloc.ufrag, alloc.pwd, `${id}u`);
      await bus.request(subjects.bridgeConfigure(BRIDGE), {
        conferenceId: CONF,
        endpointId: id,
        remoteUfrag: `${id}u`,
        remotePwd: 'p'.repeat(24),
        remoteFingerprint: { algorithm: 'sha-256', value: b.fingerprint },
        sources,
      });
      await b.connectDtls();
      await waitFor(`${id} connected`, () => events.some((e) => e.endpointId === id && e.event === 'connected'));
      return { b, alloc };
    };
    const { b: a, alloc: aAlloc } = await join('alice', [
      { ssrc: A_AUDIO, kind: 'audio' },
      { ssrc: A_PROBE, kind: 'audio' },
    ]);
    const { b: r, alloc: rAlloc } = await join('bob', []);
    await bus.request(subjects.bridgeSubscribe(BRIDGE), { conferenceId: CONF, endpointId: 'bob', ssrcs: [A_AUDIO, A_PROBE] });
    const counters = bridge.counters;
    let seq = 0;
    /** Alice's probe source sends a few good packets; Bob must decrypt at least one of them. */
    const mediaFlows = async (what: string) => {
      r.rtp.length = 0;
      for (let i = 0; i < 3; i++) {
        seq++;
        a.send(buildRtp({ padding: 0, marker: false, pt: AUDIO_PT, seq: seq & 0xffff, timestamp: seq * 960, ssrc: A_PROBE, csrcs: [], extension: null, payload: 'f8fffe' }).buf);
      }
      await waitFor(`${what}: alice's media at bob`, () => r.rtp.some((m) => r.srtpIn!.unprotectRtp(Buffer.from(m), m.length) > 0), 5000);
    };
    await mediaFlows('before fuzzing');

    const datagram = (p: Packet): Buffer => {
      if ('binding' in p) {
        return buildBindingRequest({
          transactionId: bytes(p.binding.tid),
          username: `${aAlloc.ufrag}:aliceu`,
          key: aAlloc.pwd,
          priority: p.binding.priority,
          useCandidate: p.binding.useCandidate,
          ...(p.binding.controlling ? { iceControlling: 7n } : {}),
        });
      }
      if ('stun' in p) return buildStun(p.stun);
      if ('dtls' in p) return buildRecords(p.dtls);
      if ('raw' in p) return bytes(p.raw);
      const clear = 'rtp' in p ? buildRtp(p.rtp).buf : buildRtcp(p.rtcp).buf;
      if (!p.protect) return clear;
      const out = Buffer.alloc(clear.length + 32);
      const n = 'rtp' in p ? a.srtpOut!.protectRtp(clear, clear.length, out) : a.srtpOut!.protectRtcp(clear, clear.length, out);
      return n > 0 ? out.subarray(0, n) : clear;
    };

    return {
      async check(input) {
        escaped.length = 0;
        // over TCP a datagram is 1..MAX_FRAME bytes (a longer frame closes the connection, an empty one is skipped)
        const bufs = input.datagrams.map((d) => {
          const b = mutate(datagram(d.packet), d.ops);
          return b.length === 0 ? Buffer.from([0]) : input.via === 'tcp' ? b.subarray(0, MAX_FRAME) : b;
        });
        const before = counters.packetsIn;
        if (input.via === 'udp') for (const b of bufs) a.sock.send(b, bridge.mediaPort, '127.0.0.1');
        else {
          const s = await connectTcp(bridge.tcpMediaPort);
          for (const b of bufs) {
            const h = Buffer.alloc(2);
            h.writeUInt16BE(b.length, 0);
            s.write(Buffer.concat([h, b]));
          }
          s.end();
        }
        await waitFor(`the bridge to take in ${bufs.length} datagrams`, () => counters.packetsIn >= before + bufs.length, 5000, 2);
        await new Promise((res) => setTimeout(res, 5));
        assert.equal(counters.dropError, 0, 'an exception in the packet path');
        assert.deepEqual(events.filter((e) => e.event === 'disconnected'), [], 'a participant was disconnected');
        assert.deepEqual(escaped.map(String), [], 'an unhandled rejection');
        // alice's own ICE check (from her UDP address, nominating it again) and media still work; bob's check
        // keeps his consent fresh (a browser checks every few seconds; the bridge drops a silent one after 30 s)
        await a.iceCheck(aAlloc.ufrag, aAlloc.pwd, 'aliceu');
        await r.iceCheck(rAlloc.ufrag, rAlloc.pwd, 'bobu');
        await mediaFlows('after the fuzzed datagrams');
      },
      async close() {
        process.off('unhandledRejection', onEscape);
        a.close();
        r.close();
        await bridge.close();
        await bus.close();
      },
    };
  },
});
