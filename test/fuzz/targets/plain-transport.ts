// The plain RTP/RTCP transport's receive path (src/bridge/plain-transport.ts) with a real bridge and real
// sockets on loopback: a plain endpoint (rtcp-mux, no SRTP) and one with SDES-keyed SRTP and separate RTCP
// ports both publish (comedia: the bridge learned their address from a first good packet), a third subscribes
// to them all. Datagrams built by the test (RTP of the endpoint's own SSRCs or any, with extensions and VP8 or
// Opus payload types; RTCP compounds of every type; raw bytes), protected with the right key for the SRTP
// endpoint, then mutated, go to their legs' ports. Checked: the bridge takes in every datagram (its packet
// counter grows by what was sent), its packet path never throws (dropError stays 0: an exception there is a
// bug), and it keeps forwarding: a good packet sent afterwards reaches the subscriber.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fc from 'fast-check';
import { startBridge } from '../../../src/bridge/index.ts';
import { SrtpSession } from '../../../src/bridge/packet/srtp.ts';
import { MemoryBus } from '../../../src/bus/memory-bus.ts';
import { configSchema } from '../../../src/config/config.ts';
import { createLogger } from '../../../src/log.ts';
import { bridgeAllocatePlainReplySchema, subjects } from '../../../src/protocol/bus-messages.ts';
import { AUDIO_PT, VIDEO_PT } from '../../../src/protocol/media-profile.ts';
import { bytes, hexBytesMostlyShort, mutate, mutations, u32, type Mutation } from '../bytes.ts';
import { serverTarget } from '../harness.ts';
import { buildRtcp, buildRtp, rtcpCompoundSpec, rtpSpec, type RtcpPacketSpec, type RtpSpec } from '../packets.ts';

const BRIDGE = 'fuzz-plain';
const CONF = 'fuzz';
/** The SSRCs the two publishing endpoints declared (fuzzed packets use these). */
const PLAIN_SSRCS = [0x11110001, 0x11110002];
const SECURE_SSRCS = [0x22220001, 0x22220002];
/** One more audio source of each, only ever sent good packets: what shows the bridge still forwards. */
const PLAIN_PROBE = 0x1111000f;
const SECURE_PROBE = 0x2222000f;

type Leg = 'plain' | 'secure-audio' | 'secure-audio-rtcp' | 'secure-video' | 'secure-video-rtcp';

interface Datagram {
  packet: { rtp: RtpSpec } | { rtcp: RtcpPacketSpec[] } | { raw: string };
  /** Protect with the endpoint's SRTP key before the damage (the SRTP legs only). */
  protect: boolean;
  ops: Mutation[];
}

export interface PlainTransportInput {
  leg: Leg;
  datagrams: Datagram[];
}

const ssrcs = fc.oneof({ arbitrary: fc.constantFrom(...PLAIN_SSRCS, ...SECURE_SSRCS), weight: 4 }, { arbitrary: u32, weight: 1 });
const datagram: fc.Arbitrary<Datagram> = fc.record({
  packet: fc.oneof(
    { arbitrary: fc.record({ rtp: rtpSpec(ssrcs).map((s) => ({ ...s, pt: [AUDIO_PT, VIDEO_PT].includes(s.pt) ? s.pt : s.pt % 2 ? AUDIO_PT : s.pt })) }), weight: 4 },
    { arbitrary: fc.record({ rtcp: rtcpCompoundSpec }), weight: 2 },
    { arbitrary: fc.record({ raw: hexBytesMostlyShort(200) }), weight: 1 },
  ),
  protect: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
  ops: fc.oneof({ arbitrary: fc.constant<Mutation[]>([]), weight: 2 }, { arbitrary: mutations, weight: 1 }),
});

function bindLoopback(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const plainTransportTarget = serverTarget<PlainTransportInput>({
  name: 'plain-transport',
  about: 'plain RTP/RTCP (and SDES-SRTP) receive path of a real bridge over loopback: every datagram counted, no exception, still forwarding',
  input: fc.record({
    leg: fc.constantFrom<Leg>('plain', 'plain', 'secure-audio', 'secure-audio-rtcp', 'secure-video', 'secure-video-rtcp'),
    datagrams: fc.array(datagram, { minLength: 1, maxLength: 10 }),
  }),
  ciRuns: 60,
  async open() {
    const bus = new MemoryBus();
    const config = configSchema.parse({ listenAddress: '127.0.0.1', mediaPort: 0, tcpMediaPort: 0, mediaWorkers: 1, plainRtpPortMin: 44000, plainRtpPortMax: 44999 });
    const bridge = await startBridge({ bus, config, log: createLogger('silent'), bridgeId: BRIDGE });
    const allocate = async (endpointId: string, req: object) =>
      bridgeAllocatePlainReplySchema.parse(await bus.request(subjects.bridgeAllocatePlain(BRIDGE), { conferenceId: CONF, endpointId, ...req }));
    const sink = await bindLoopback();
    let delivered = 0;
    sink.on('message', () => delivered++);
    const plain = await allocate('plain', {
      legs: [{ kind: 'all' }],
      rtcpMux: true,
      comedia: true,
      srtp: false,
      sources: [
        { ssrc: PLAIN_SSRCS[0], kind: 'audio' },
        { ssrc: PLAIN_SSRCS[1], kind: 'video' },
        { ssrc: PLAIN_PROBE, kind: 'audio' },
      ],
    });
    const secure = await allocate('secure', {
      legs: [{ kind: 'audio' }, { kind: 'video' }],
      rtcpMux: false,
      comedia: true,
      srtp: true,
      sources: [
        { ssrc: SECURE_SSRCS[0], kind: 'audio' },
        { ssrc: SECURE_SSRCS[1], kind: 'video' },
        { ssrc: SECURE_PROBE, kind: 'audio' },
      ],
    });
    await allocate('sink', { legs: [{ kind: 'all', address: '127.0.0.1', port: sink.address().port }], rtcpMux: true, comedia: false, srtp: false, sources: [] });
    await bus.request(subjects.bridgeSubscribe(BRIDGE), { conferenceId: CONF, endpointId: 'sink', ssrcs: [...PLAIN_SSRCS, ...SECURE_SSRCS, PLAIN_PROBE, SECURE_PROBE] });
    const key = Buffer.from(secure.srtp!.remoteKey, 'base64');
    const srtp = new SrtpSession('AES_CM_128_HMAC_SHA1_80', key.subarray(0, 16), key.subarray(16));
    const client = await bindLoopback();
    const secureAudio = secure.legs.find((l) => l.kind === 'audio')!;
    const secureVideo = secure.legs.find((l) => l.kind === 'video')!;
    const ports: Record<Leg, number> = {
      plain: plain.legs[0]!.port,
      'secure-audio': secureAudio.port,
      'secure-audio-rtcp': secureAudio.rtcpPort,
      'secure-video': secureVideo.port,
      'secure-video-rtcp': secureVideo.rtcpPort,
    };
    const counters = bridge.counters;
    let seq = 0;
    /** A good audio packet of `ssrc` (protected when the leg is SRTP). */
    const good = (ssrc: number, protect: boolean): Buffer => {
      const b = buildRtp({ padding: 0, marker: false, pt: AUDIO_PT, seq: ++seq & 0xffff, timestamp: seq * 960, ssrc, csrcs: [], extension: null, payload: 'f8ff' }).buf;
      if (!protect) return b;
      const out = Buffer.alloc(b.length + 16);
      return out.subarray(0, srtp.protectRtp(b, b.length, out));
    };
    const send = async (bufs: Buffer[], port: number) => {
      const before = counters.packetsIn;
      for (const b of bufs) client.send(b, port, '127.0.0.1');
      await until(`the bridge to take in ${bufs.length} datagrams`, () => counters.packetsIn >= before + bufs.length);
    };
    // comedia: the bridge learns where each publisher sends from with a first good packet; RTCP first on the
    // separate RTCP ports (once RTP taught the address, RTCP is only taken from the RTP port + 1)
    const rr = buildRtcp([{ type: 'rr', ssrc: SECURE_PROBE, blocks: [] }]).buf;
    for (const leg of ['secure-audio-rtcp', 'secure-video-rtcp'] as const) {
      const out = Buffer.alloc(rr.length + 32);
      await send([out.subarray(0, srtp.protectRtcp(rr, rr.length, out))], ports[leg]);
    }
    await send([good(PLAIN_PROBE, false)], ports.plain);
    await send([good(SECURE_PROBE, true)], ports['secure-audio']);
    await send([good(SECURE_SSRCS[1]!, true)], ports['secure-video']);
    await until('the first packets to reach the subscriber', () => delivered >= 3);
    assert.equal(counters.dropError, 0);

    return {
      async check(input) {
        const secureLeg = input.leg !== 'plain';
        const bufs = input.datagrams.map((d) => {
          const p = d.packet;
          let b = 'rtp' in p ? buildRtp(p.rtp).buf : 'rtcp' in p ? buildRtcp(p.rtcp).buf : bytes(p.raw);
          if (secureLeg && d.protect && b.length >= 12) {
            const out = Buffer.alloc(b.length + 32);
            const n = 'rtcp' in p ? srtp.protectRtcp(b, b.length, out) : srtp.protectRtp(b, b.length, out);
            if (n > 0) b = out.subarray(0, n);
          }
          const m = mutate(b, d.ops);
          // a zero-length datagram is not counted by the socket layer the same way everywhere
          return m.length > 0 ? m : Buffer.from([0]);
        });
        await send(bufs, ports[input.leg]);
        assert.equal(counters.dropError, 0, 'an exception in the packet path');
        // still forwarding: a good packet of each publisher reaches the subscriber
        const before = delivered;
        await send([good(PLAIN_PROBE, false)], ports.plain);
        await send([good(SECURE_PROBE, true)], ports['secure-audio']);
        await until('a good packet to be forwarded after the fuzzed ones', () => delivered >= before + 2);
      },
      async close() {
        client.close();
        sink.close();
        await bridge.close();
        await bus.close();
      },
    };
  },
});
