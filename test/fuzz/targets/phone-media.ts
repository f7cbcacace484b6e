// What a phone (or a stranger) sends the SIP gateway's media side. `sip-sdp-offer`: SDP offers built from the
// lines phones write (m-lines of every profile, rtpmaps right and wrong, c= of every kind, directions), then
// mutated as bytes. Checked: PhoneSdp.check/answer either succeed or throw SdpRefused (never anything else);
// an answer parses, has as many m-lines as the offer, exactly one of them open, with our codec; the same offer
// again gives the same answer. `phone-rtp`: RTP packets of any sequence, timestamp, SSRC, payload type and
// length into the jitter buffer, the DTMF receiver and the RTCP reception statistics, with ticks, pops and RTCP
// reports between. Checked: nothing throws, the buffer never holds more than its capacity, pops give a payload
// of a size that was pushed, every report fits its buffer and parses as RTCP.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import sdpTransform from 'sdp-transform';
import { forEachRtcp } from '../../../src/bridge/packet/rtcp.ts';
import { DtmfReceiver } from '../../../src/sip/media/dtmf.ts';
import { CAPACITY, JitterBuffer, MAX_PAYLOAD } from '../../../src/sip/media/jitter-buffer.ts';
import { MAX_REPORT, ReceptionStats, writeReport } from '../../../src/sip/media/rtcp-reports.ts';
import { PhoneSdp, SdpRefused } from '../../../src/sip/media/sdp-offer-answer.ts';
import { mutate, mutations, u16, u32, type Mutation } from '../bytes.ts';
import { pureTarget } from '../harness.ts';

export interface SdpOfferInput {
  /** Starts with a sane session part (o=, s=, c=, t=). */
  base: boolean;
  session: string[];
  media: { type: string; port: number | string; protocol: string; payloads: string; lines: string[] }[];
  lf: boolean;
  ops: Mutation[];
}

const rtpmaps = fc.constantFrom(
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:111 opus/48000/2',
  'a=rtpmap:111 opus/48000',
  'a=rtpmap:96 OPUS/48000/2',
  'a=rtpmap:101 telephone-event/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:101 telephone-event/16000',
  'a=rtpmap:18 G729/8000',
  'a=rtpmap:0 opus/48000/2',
  'a=rtpmap:999 PCMU/8000',
  'a=rtpmap:abc',
  'a=fmtp:101 0-16',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=sendonly',
  'a=recvonly',
  'a=inactive',
  'a=sendrecv',
  'a=ptime:20',
  'a=ptime:-1',
  'c=IN IP4 10.0.0.1',
  'c=IN IP4 0.0.0.0',
  'c=IN IP6 ::1',
  'c=IN IP4 phone.example',
  'c=IN IP4 300.1.1.1',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x',
);
const sessionLines = fc.constantFrom('o=- 1 1 IN IP4 10.0.0.1', 's=-', 't=0 0', 'c=IN IP4 192.168.0.5', 'c=IN IP4 0.0.0.0', 'a=sendonly', 'a=inactive', 'b=AS:64', 'c=');

export const sdpOfferTarget = pureTarget<SdpOfferInput>({
  name: 'sip-sdp-offer',
  about: "a phone's SDP offer: an answer with one open audio line and our codec, or SdpRefused",
  ciRuns: 300,
  input: fc.record({
    base: fc.boolean(),
    session: fc.array(sessionLines, { maxLength: 6 }),
    media: fc.array(
      fc.record({
        type: fc.oneof({ weight: 4, arbitrary: fc.constant('audio') }, { weight: 1, arbitrary: fc.constantFrom('video', 'application', 'AUDIO') }),
        port: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 70000 }) }, { weight: 1, arbitrary: fc.constantFrom('x', '-1', '5000/2') }),
        protocol: fc.oneof({ weight: 4, arbitrary: fc.constant('RTP/AVP') }, { weight: 1, arbitrary: fc.constantFrom('RTP/AVPF', 'RTP/SAVP', 'UDP/TLS/RTP/SAVPF', 'udp', 'rtp/avp') }),
        payloads: fc.array(fc.oneof(fc.constantFrom('0', '8', '111', '96', '101', '110', '18'), fc.nat({ max: 300 }).map(String)), { maxLength: 8 }).map((p) => p.join(' ')),
        lines: fc.array(rtpmaps, { maxLength: 8 }),
      }),
      { maxLength: 4 },
    ),
    lf: fc.boolean(),
    ops: fc.oneof({ weight: 3, arbitrary: fc.constant([] as Mutation[]) }, { weight: 1, arbitrary: mutations }),
  }),
  check(input) {
    const lines = ['v=0', ...(input.base ? ['o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 192.168.0.5', 't=0 0'] : []), ...input.session];
    for (const m of input.media) lines.push(`m=${m.type} ${m.port} ${m.protocol} ${m.payloads}`, ...m.lines);
    const eol = input.lf ? '\n' : '\r\n';
    const text = mutate(Buffer.from(lines.join(eol) + eol, 'latin1'), input.ops).toString('latin1');
    const sdp = new PhoneSdp('192.0.2.1');
    let answer;
    try {
      PhoneSdp.check(text);
      answer = sdp.answer(text, 42000);
    } catch (e) {
      assert.ok(e instanceof SdpRefused, `only SdpRefused may come out: ${(e as Error).stack}`);
      return;
    }
    const offered = sdpTransform.parse(text).media;
    const parsed = sdpTransform.parse(answer.sdp);
    assert.equal(parsed.media.length, offered.length, 'one answer m-line per offer m-line');
    const open = parsed.media.filter((m) => m.port !== 0);
    assert.ok(open.length <= 1);
    if (open.length === 1) {
      assert.equal(open[0]!.type, 'audio');
      assert.ok(['opus', 'pcmu', 'pcma'].includes(String(open[0]!.rtp[0]?.codec).toLowerCase()));
    }
    assert.ok(['opus', 'pcmu', 'pcma'].includes(answer.plan.codec.name));
    assert.equal(sdp.answer(text, 42000).sdp, answer.sdp, 'the same offer, the same answer');
  },
});

export interface RtpStepsInput {
  steps: ({ push: { ssrc: number; seq: number; ts: number; pt: number; marker: boolean; length: number; arrival: number } } | { tick: number })[];
}

export const phoneRtpTarget = pureTarget<RtpStepsInput>({
  name: 'phone-rtp',
  about: "a phone's RTP into the jitter buffer, DTMF receiver and RTCP statistics: nothing throws, bounded, reports parse",
  ciRuns: 300,
  input: fc.record({
    steps: fc.array(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({
            push: fc.record({
              ssrc: fc.constantFrom(1, 1, 1, 2, 0xffffffff),
              seq: fc.oneof(u16, fc.integer({ min: 0, max: 40 })),
              ts: fc.oneof(u32, fc.integer({ min: 0, max: 40 }).map((n) => n * 160)),
              pt: fc.constantFrom(0, 101, 13, 127),
              marker: fc.boolean(),
              length: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constantFrom(MAX_PAYLOAD, MAX_PAYLOAD + 1)),
              arrival: fc.oneof(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.constant(Number.NaN)),
            }),
          }),
        },
        { weight: 1, arbitrary: fc.record({ tick: fc.integer({ min: 1, max: 60 }) }) },
      ),
      { maxLength: 300 },
    ),
  }),
  check(input) {
    const jb = new JitterBuffer({ frameTicks: 160 });
    const dtmf = new DtmfReceiver(() => {});
    const reception = new ReceptionStats();
    const report = Buffer.alloc(MAX_REPORT);
    const payload = new Uint8Array(MAX_PAYLOAD + 1);
    for (const step of input.steps) {
      if ('push' in step) {
        const p = step.push;
        const body = payload.subarray(0, p.length);
        if (p.pt === 101) dtmf.push(body, p.ts);
        else reception.packet(p.ssrc, p.seq, p.ts, p.arrival, 8000);
        jb.push(p.ssrc, p.seq, p.ts, p.pt, p.marker, body, p.arrival);
      } else {
        const n = writeReport(report, 1, step.tick % 2 === 0 ? { ssrc: 1, packets: step.tick, octets: 160 * step.tick, rtpTimestamp: 0 } : null, reception, 'tertulia-1', 1.7e12, step.tick * 20);
        assert.ok(n <= MAX_REPORT && n % 4 === 0);
        assert.ok(forEachRtcp(report, n, () => {}), 'a report parses as RTCP');
        for (let t = 0; t < step.tick; t++) {
          jb.tick();
          for (let i = 0; i < 4; i++) {
            const r = jb.pop();
            if (r === 'empty') break;
            if (r === 'packet') assert.ok(jb.payload.length <= MAX_PAYLOAD);
          }
        }
      }
      assert.ok(jb.size <= CAPACITY && jb.size >= 0);
      assert.ok(jb.targetFrames >= 2 && jb.targetFrames <= 10, `target ${jb.targetFrames}`);
    }
  },
});
